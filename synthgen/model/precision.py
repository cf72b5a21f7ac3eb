"""`--precision auto`: the faster of float32 and bfloat16 for a model's sampling step, measured on the machine that
runs it. Which is faster depends on the CPU (its caches, bf16 and AMX units: on one 2-core AVX-512 machine bf16
sampled 1.7x faster, on another float32 did), so the first time a model of a given size runs on a machine, a probe
times PROBE_STEPS cached-decoder steps in each precision (about 0.1 s for the shipped size), and the choice is kept in
the user's cache folder (`files.user_cache`, precision.json), keyed by the CPU's model, its cores, torch's version
and threads, and the model's size. A GPU always takes bfloat16.

    dtype = auto_dtype(model)                 # torch.float32 or torch.bfloat16
    machine_description()                     # the CPU and the flags that matter, as the bench prints them
"""

from __future__ import annotations

import json
import os
import platform
import time

import torch

from synthgen.files import user_cache, write_text_atomic
from synthgen.model.cached_decoder import CachedDecoder
from synthgen.model.lm import CodecLM

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}
PROBE_STEPS, PROBE_WARMUP, PROBE_ROWS, PROBE_PREFIX = 8, 2, 2, 16
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")  # what decides bf16's speed on x86


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo ({} where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            block = f.read().split("\n\n")[0]
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.splitlines())}


def machine_description() -> str:
    """The CPU's model, cores, the flags of FLAGS it has, and torch's version and threads."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    name = info.get("model name") or platform.processor() or platform.machine()
    return (f"{name}, {os.cpu_count()} cores, flags: {' '.join(f for f in FLAGS if f in flags) or 'none of ' + '/'.join(FLAGS)}, "
            f"cache {info.get('cache size', '?')}, torch {torch.__version__} on {torch.get_num_threads()} threads")


def probe_key(model: CodecLM) -> str:
    """What the choice depends on: the machine (`machine_description`) and the model's size."""
    config = model.decoder.config
    return (f"{machine_description()} | {config.num_hidden_layers}x{config.hidden_size}, ffn {config.ffn_dim}, "
            f"{model.num_codebooks}x{model.cardinality}")


def step_seconds(model: CodecLM, dtype: torch.dtype) -> float:
    """The median time of one sampling step (PROBE_ROWS rows after a PROBE_PREFIX-long prefix) in `dtype`."""
    width = model.decoder.config.hidden_size
    decoder = CachedDecoder(model, PROBE_ROWS, PROBE_PREFIX + PROBE_WARMUP + PROBE_STEPS, dtype)
    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        decoder(torch.randn(PROBE_ROWS, PROBE_PREFIX, width, generator=generator).to(model.device))
        times = []
        for _ in range(PROBE_WARMUP + PROBE_STEPS):
            states = torch.randn(PROBE_ROWS, 1, width, generator=generator).to(model.device)
            began = time.perf_counter()
            decoder(states)
            times.append(time.perf_counter() - began)
    times = sorted(times[PROBE_WARMUP:])
    return times[len(times) // 2]


def auto_dtype(model: CodecLM) -> torch.dtype:
    """bfloat16 on a GPU; on a CPU the precision whose step measured faster here (measured once, then cached on disk
    and in the process)."""
    if model.device.type == "cuda":
        return torch.bfloat16
    key = probe_key(model)
    if key not in _CHOSEN:
        _CHOSEN[key] = _choose(key, model)
    return _CHOSEN[key]


_CHOSEN: dict[str, torch.dtype] = {}  # this process's choices, by probe_key


def _choose(key: str, model: CodecLM) -> torch.dtype:
    """The cached choice for `key`, or a new probe's (written to the cache)."""
    path = user_cache("precision") / "precision.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        seconds = {name: step_seconds(model, dtype) for name, dtype in PRECISIONS.items()}
        known[key] = dict(choice=min(seconds, key=seconds.get), step_seconds=seconds)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(known, indent=1))
        except OSError:  # a read-only cache: measure again next time
            pass
    return PRECISIONS.get(known[key].get("choice"), torch.float32)
