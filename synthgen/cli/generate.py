"""`synthgen generate` and `synthgen ui`: the main job."""

from __future__ import annotations

import argparse
import sys

from synthgen.cli.common import device, generation_settings
from synthgen.errors import SynthGenError


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def generate(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    import os

    from synthgen.analysis import describe_mix
    from synthgen.jobs import check_jobs, my_share, plan_jobs, process_share

    if not args.prompt.strip():
        raise SynthGenError("--prompt is empty: describe the synth you want")
    settings = generation_settings(args)
    jobs = plan_jobs(args.mix, args.out, settings.variations, args.mix_out, args.midi)
    for warning in check_jobs(jobs, args.max_seconds):
        print(f"synthgen: warning: {warning}", file=sys.stderr)
    rank, world, local_world = process_share()
    jobs = my_share(jobs, rank, world, args.resume)
    if not jobs:
        return 0
    import torch

    from synthgen.pipeline import Pipeline  # after the checks: loading the model is the slow part

    target = device(args.device)
    if world > 1 and target == "cuda":
        target = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    elif world > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))  # the cores shared out
    pipeline = Pipeline.from_pretrained(args.model).to(target)
    for job in tqdm(jobs, desc="files", unit="file", disable=len(jobs) == 1):
        start = time.perf_counter()
        rendered = pipeline.render_file(job.mix, args.prompt, settings, job.stems, job.previews, job.midis,
                                        args.mix_gain_db, progress=True)
        seconds = time.perf_counter() - start
        if rendered.silent:
            print(f"synthgen: warning: {job.mix}: the mix is silent; the synth follows the prompt alone", file=sys.stderr)
        print(f"{job.mix} -> {', '.join(map(str, job.stems + job.previews + job.midis))}: {rendered.seconds:.1f} s at "
              f"{rendered.sample_rate} Hz, {rendered.channels} ch, {describe_mix(rendered.key, rendered.bpm)}; "
              f"{seconds:.1f} s to generate, {rendered.seconds / seconds:.2f}x real time")
    return 0


def ui(args: argparse.Namespace) -> int:
    from synthgen.ui import serve

    if args.host not in LOOPBACK and args.auth is None:
        raise SynthGenError(f"--host {args.host} lets other machines reach the page: give --auth USER:PASSWORD")
    serve(args.model, args.host, args.port, args.max_upload_mb, args.max_seconds, args.concurrency, args.auth)
    return 0
