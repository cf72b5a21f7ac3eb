"""Generation speed: our cached sampling loop against transformers' MusicgenMelodyForConditionalGeneration.generate()
on the same weights and settings, the whole shipped pipeline, the README command's start-up and generation memory
against input length.

    python bench/generate.py [--device cpu|cuda] [--presets tiny,small,musicgen-melody] [--batch 1,8]
                             [--precision bf16,fp32] [--seconds 10] [--pipeline-seconds 30] [--startup 3]
                             [--memory-minutes 1,10] [--markdown FILE]

Both loops: the same decoder, text encoder, projections and codec; the time-aligned mix codes off (generate()
cannot take it); chroma and text prefix; classifier-free guidance 3 (two rows per variation); top-k 250;
the same number of steps; the same precision (generate() under torch.autocast for bf16). generate() always
decodes its codes to audio, so its LM time is its total minus our measured decode time of the same codes.
`musicgen-melody` is the 1.5B decoder of facebook/musicgen-melody (48 layers, 1536 wide, 4 x 2048 codes)
with random weights and the MiniLM text encoder in place of T5 (run once per window, so speed is the
decoder's). The floor is the memory-bandwidth bound of one step: the bytes of the decoder's weights in
the loop's precision plus its mean key/value cache, over the copy bandwidth measured here.
The start-up runs the README's commands in fresh processes (from the repository root).
Goals (issue #20): ours >= 2x generate(); the small pipeline >= 10x real time on 2 CPU cores; the README's main
command's overhead beyond generation <= 2 s and `synthgen --help` <= 0.5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from transformers import (AutoModel, EncodecConfig, EncodecModel, MusicgenMelodyConfig, MusicgenMelodyDecoderConfig,
                          MusicgenMelodyForCausalLM, MusicgenMelodyForConditionalGeneration)
from transformers.utils import logging

from synthgen.audio import write_audio
from synthgen.chroma import chroma, dominant_pitch_class
from synthgen.codec import EncodecCodec
from synthgen.generate import sample_window
from synthgen.generation_settings import RENDERERS, GenerationSettings
from synthgen.job import Job
from synthgen.model import CodecLM, CodecLMConfig, build_model
from synthgen.model.minilm import minilm_directory
from synthgen.model.precision import PRECISIONS, auto_dtype, machine_description, step_seconds
from synthgen.model.text import TextEncoder
from synthgen.pipeline import SynthGen

# facebook/musicgen-melody's decoder and EnCodec 32 kHz, by their published configs.
MUSICGEN_MELODY_DECODER = dict(hidden_size=1536, num_hidden_layers=48, num_attention_heads=24, ffn_dim=6144,
                               vocab_size=2048, num_codebooks=4, pad_token_id=2048, bos_token_id=2048)
ENCODEC_32KHZ = dict(sampling_rate=32000, audio_channels=1, num_filters=64, hidden_size=128, codebook_size=2048,
                     codebook_dim=128, upsampling_ratios=[8, 5, 4, 4], num_lstm_layers=2, normalize=False,
                     target_bandwidths=[2.2])
PROMPT = "a bright saw lead carrying the melody"


def build(preset: str) -> tuple[CodecLM, EncodecCodec]:
    """A randomly initialised model and EnCodec of a preset (the mix codes off, as generate() has none)."""
    torch.manual_seed(0)
    if preset == "musicgen-melody":
        codec = EncodecCodec(EncodecModel(EncodecConfig(**ENCODEC_32KHZ)), name="encodec_32khz (random)")
        config = CodecLMConfig(decoder=dict(MUSICGEN_MELODY_DECODER), chroma_length=235, use_mix_codes=False, preset=preset)
        return CodecLM(config, TextEncoder.load("minilm")).eval(), codec
    codec = EncodecCodec.from_preset(preset)
    model = build_model(preset, codec.num_codebooks, codec.cardinality).eval()
    model.config.use_mix_codes = False
    return model, codec


def reference_model(model: CodecLM, codec: EncodecCodec) -> MusicgenMelodyForConditionalGeneration:
    """transformers' MusicGen-Melody with our model's weights: its decoder and MiniLM (as BertModel) take our
    tensors by name; the codec and projections are our modules."""
    text = AutoModel.from_pretrained(str(minilm_directory())).to(model.device)
    decoder = MusicgenMelodyForCausalLM(MusicgenMelodyDecoderConfig(**asdict(model.decoder.config))).to(model.device)
    decoder.load_state_dict(model.decoder.state_dict())
    config = MusicgenMelodyConfig(text_encoder=text.config.to_dict(), audio_encoder=codec.model.config.to_dict(),
                                  decoder=decoder.config.to_dict(), chroma_length=model.config.chroma_length)
    reference = MusicgenMelodyForConditionalGeneration(config, text_encoder=text, audio_encoder=codec.model,
                                                       decoder=decoder)
    reference.enc_to_dec_proj = model.text_proj
    reference.audio_enc_to_dec_proj = model.chroma_proj
    return reference.eval()


def best_of(repeats: int, fn, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def copy_bandwidth(device: torch.device) -> float:
    """Bytes per second a large tensor copy moves on `device`, counting bytes read and written."""
    source = torch.empty(1 << 28, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    target.copy_(source)
    seconds = best_of(5, lambda: target.copy_(source), device)
    return 2 * source.numel() / seconds


def step_bytes(model: CodecLM, rows: int, steps: int, dtype: torch.dtype) -> float:
    """Bytes one sampling step must read: the decoder's matrices in `dtype` and its mean float32 key/value cache."""
    decoder = model.decoder
    matrices = sum(p.numel() for name, p in decoder.named_parameters() if p.dim() == 2 and "embed" not in name)
    config = decoder.config
    cache = config.num_hidden_layers * 2 * rows * config.hidden_size * (steps / 2) * 4
    return matrices * torch.finfo(dtype).bits / 8 + cache


@torch.inference_mode()
def compare(model: CodecLM, codec: EncodecCodec, seconds: float, batch: int, precision: str, repeats: int,
            device: torch.device) -> dict:
    frames = round(seconds * codec.frame_rate)
    audio = torch.randn(1, round(seconds * codec.sample_rate), device=device) * 0.1
    features = chroma(audio, codec.sample_rate)
    mix_codes = torch.zeros(1, codec.num_codebooks, frames, dtype=torch.long, device=device)
    settings = GenerationSettings(guidance_text=3.0, guidance_mix=1.0, top_k=250, variations=batch, precision=precision)

    def ours_once():
        return sample_window(model, PROMPT, mix_codes, features, settings, torch.Generator(device=device).manual_seed(0))[0]

    codes = ours_once()
    ours = best_of(repeats, ours_once, device)
    codec.decode(codes)  # warm-up
    decode = best_of(repeats, lambda: codec.decode(codes), device)

    reference = reference_model(model, codec)
    ids, mask = (x.to(device) for x in model.text_encoder.tokenize([PROMPT] * batch))
    kwargs = dict(input_ids=ids, attention_mask=mask,
                  input_features=dominant_pitch_class(features).expand(batch, -1, -1), do_sample=True, top_k=250,
                  guidance_scale=3.0, max_new_tokens=frames + codec.num_codebooks - 1)
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext())

    def theirs_once():
        with autocast:
            reference.generate(**kwargs)

    theirs_once()
    theirs_total = best_of(repeats, theirs_once, device)
    steps = frames + codec.num_codebooks - 1
    floor = steps * step_bytes(model, 2 * batch, steps, torch.bfloat16 if precision == "bf16" else torch.float32)
    return dict(steps=steps, ours=ours, theirs=max(theirs_total - decode, 1e-9), theirs_total=theirs_total,
                decode=decode, floor_bytes=floor)


class Stages:
    """Wall time spent in named functions while a block runs (they are wrapped, then restored)."""

    def __init__(self, targets: dict[str, tuple[object, str]], device: torch.device):
        self.targets, self.device, self.seconds = targets, device, dict.fromkeys(targets, 0.0)

    def __enter__(self):
        self.originals = {name: getattr(owner, attr) for name, (owner, attr) in self.targets.items()}
        for name, (owner, attr) in self.targets.items():
            setattr(owner, attr, self.timed(name, self.originals[name]))
        return self

    def timed(self, name: str, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            if self.device.type == "cuda":
                torch.cuda.synchronize()
            self.seconds[name] += time.perf_counter() - start
            return result
        return wrapper

    def __exit__(self, *exc):
        for name, (owner, attr) in self.targets.items():
            setattr(owner, attr, self.originals[name])


def pipeline(seconds: float, device: torch.device, repeats: int, renderer: str) -> dict:
    """The shipped pipeline end to end on a stereo 44.1 kHz file (`SynthGen.generate_file`: read, analyse, plan,
    render with `renderer`: encode, sample with the default guidance and decode, or the synth; place and write),
    with the time of each stage: the fastest of `repeats` runs."""
    import synthgen.generate as generation
    import synthgen.streaming as streaming
    import synthgen.renderers.synth as synth_renderer

    pipe = SynthGen.from_pretrained().to(device)
    stages = {"analysis": (streaming, "analyze_features"), "plan": (streaming, "part_notes")}
    if renderer == "neural":
        stages |= {"sampling": (generation, "sample_window"), "encode": (pipe.codec, "encode"),
                   "decode": (pipe.codec, "decode"), "chroma": (generation, "chroma_features")}
    else:
        stages |= {"synth": (synth_renderer, "render_part")}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "song.wav"
        t = np.arange(round(seconds * 44100)) / 44100
        write_audio(source, np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)]), 44100)
        for _ in range(repeats):
            with Stages(stages, device) as timer:
                start = time.perf_counter()
                pipe.generate_file(Job(source, "a soft dark pad holding the chords", (Path(tmp) / "synth.wav",),
                                       GenerationSettings(renderer=renderer)))
                elapsed = time.perf_counter() - start
            parts = dict(timer.seconds)
            parts["the rest (read, resample, loudness, place, write)"] = elapsed - sum(parts.values())
            runs.append(dict(seconds=seconds, elapsed=elapsed, parts=parts))
    return min(runs, key=lambda r: r["elapsed"])


FIRST_STEP_PROBE = """
import sys, time
import synthgen.model.cached_decoder as cached
step = cached.CachedDecoder.__call__
def first(self, *args, **kwargs):
    if not getattr(cached, "stepped", False):
        cached.stepped = True
        print(f"\\nfirst step at {time.time():.6f}", file=sys.stderr, flush=True)
    return step(self, *args, **kwargs)
cached.CachedDecoder.__call__ = first
from synthgen.cli import run
run()  # the console command's own ending (a fast exit after generate)
"""


def startup(repeats: int) -> dict:
    """The README's commands as a user runs them, each in a fresh process (best of `repeats`): `synthgen --help`,
    and the main command's wall time, the time to its first decoder step, and its overhead beyond the generation it
    reports ("N s to generate": reading, generating, decoding and writing the file)."""
    command = ["generate", "examples/backing.flac", "--prompt", "a soft dark pad holding the chords"]
    helps, runs = [], []
    for _ in range(repeats):
        began = time.time()
        subprocess.run(["synthgen", "--help"], check=True, capture_output=True)
        helps.append(time.time() - began)
        with tempfile.TemporaryDirectory() as tmp:
            began = time.time()
            done = subprocess.run([sys.executable, "-c", FIRST_STEP_PROBE, *command, "--out", f"{tmp}/synth.wav"],
                                  check=True, capture_output=True, text=True)
            wall = time.time() - began
        first = float(re.search(r"first step at ([0-9.]+)", done.stderr).group(1)) - began
        generating = float(re.search(r"([0-9.]+) s to generate", done.stdout).group(1))
        runs.append(dict(wall=wall, first_step=first, generating=generating, overhead=wall - generating))
    return dict(help=min(helps), **min(runs, key=lambda r: r["overhead"]))


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    return machine_description()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--presets", default="tiny,small", help="comma-separated: tiny, small, musicgen-melody")
    parser.add_argument("--batch", default="1", help="comma-separated variations per run (rows = 2 x batch)")
    parser.add_argument("--precision", default="bf16,fp32", help="comma-separated: bf16, fp32")
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length of the loop comparison")
    parser.add_argument("--pipeline-seconds", type=float, default=30.0, help="0 skips the pipeline")
    parser.add_argument("--startup", type=int, default=3, help="fresh runs of the README's commands; 0 skips them")
    parser.add_argument("--memory-minutes", default="1,10", help="mix lengths for peak memory (bench/generate_memory.py); "
                                                                  "empty skips it")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many timings (this shared machine is noisy)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    bandwidth = copy_bandwidth(device)
    lines = [f"{machine(device)}; copy bandwidth {bandwidth / 1e9:.1f} GB/s; {args.seconds:.0f} s of audio "
             f"({round(args.seconds * 50)} frames), guidance 3, top-k 250", "",
             "| preset | decoder | batch | precision | ours fr/s | generate() fr/s | speed-up | floor fr/s | ours / floor | ours RTF |",
             "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    print(lines[0])
    for preset in args.presets.split(","):
        model, codec = build(preset)
        model.to(device)
        codec.to(device)
        params = sum(p.numel() for p in model.decoder.parameters())
        if device.type == "cpu":
            steps = {name: step_seconds(model, dtype) for name, dtype in PRECISIONS.items()}
            line = (f"{preset}: `--precision auto` chooses {'bf16' if auto_dtype(model) == torch.bfloat16 else 'fp32'} "
                    f"(cached probe; this run's probe: " + ", ".join(f"{k} {v * 1e3:.2f} ms a step" for k, v in steps.items()) + ")")
            lines.insert(1, line)
            print(line, flush=True)
        for batch in map(int, args.batch.split(",")):
            for precision in args.precision.split(","):
                r = compare(model, codec, args.seconds, batch, precision, args.repeats, device)
                floor = r["steps"] * bandwidth / r["floor_bytes"]
                line = (f"| {preset} | {params / 1e6:.2f}M | {batch} | {precision} | {r['steps'] / r['ours']:.0f} | "
                        f"{r['steps'] / r['theirs']:.0f} | {r['theirs'] / r['ours']:.2f}x | {floor:.0f} | "
                        f"{r['steps'] / r['ours'] / floor:.0%} | {args.seconds / r['ours']:.1f}x |")
                lines.append(line)
                print(line, flush=True)
        del model, codec
    for renderer in RENDERERS if args.pipeline_seconds > 0 else ():
        p = pipeline(args.pipeline_seconds, device, min(args.repeats, 3), renderer)
        rtf = p["seconds"] / p["elapsed"]
        lines += ["", f"shipped pipeline, `--renderer {renderer}` (best of {min(args.repeats, 3)}): {p['seconds']:.0f} s stereo 44.1 kHz "
                      f"file -> stem in {p['elapsed']:.1f} s = {rtf:.2f}x real time (goal >= 10x on 2 CPU cores): "
                      f"{'PASS' if rtf >= 10 else 'FAIL'}", "", "| stage | seconds | share |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {t:.2f} | {t / p['elapsed']:.0%} |" for name, t in p["parts"].items()]
        print("\n".join(lines[-len(p["parts"]) - 5 :]))
    if args.startup > 0:
        r = startup(args.startup)
        lines += ["", f"start-up (best of {args.startup} fresh processes): `synthgen --help` {r['help']:.2f} s (goal <= 0.5 s); "
                      f"the README's main command {r['wall']:.2f} s, its first decoder step at {r['first_step']:.2f} s, "
                      f"{r['generating']:.1f} s generating, overhead {r['overhead']:.2f} s (goal <= 2 s): "
                      f"{'PASS' if r['overhead'] <= 2 and r['help'] <= 0.5 else 'FAIL'}"]
        print(lines[-1])
    if args.memory_minutes:
        # from a small process of its own: a child forked from this one (models loaded) counts this one's memory
        # in its peak RSS
        memory = subprocess.run([sys.executable, str(Path(__file__).with_name("generate_memory.py")), "--minutes",
                                 args.memory_minutes], check=True, capture_output=True, text=True).stdout.splitlines()
        lines += ["", "generation memory against input length (`synthgen generate` with `--mix-out`, fresh processes):", ""]
        lines += [f"- {line}" for line in memory]
        print("\n".join(lines[-len(memory) :]))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
