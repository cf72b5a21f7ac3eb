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

    from synthgen.analysis import describe_mix, estimate_key, estimate_tempo
    from synthgen.audio import is_silent, mix_preview, write_audio
    from synthgen.jobs import check_jobs, plan_jobs
    from synthgen.transcribe import write_part_midi

    if not args.prompt.strip():
        raise SynthGenError("--prompt is empty: describe the synth you want")
    settings = generation_settings(args)
    jobs = plan_jobs(args.mix, args.out, settings.variations, args.mix_out, args.midi)
    for warning in check_jobs(jobs, args.max_seconds):
        print(f"synthgen: warning: {warning}", file=sys.stderr)
    from synthgen.pipeline import Pipeline  # after the checks: loading the model is the slow part

    pipeline = Pipeline.from_pretrained(args.model).to(device(args.device))
    for job in tqdm(jobs, desc="files", unit="file", disable=len(jobs) == 1):
        start = time.perf_counter()
        audio, sr, stems = pipeline.render_file(job.mix, args.prompt, settings, progress=True)
        seconds = time.perf_counter() - start
        if is_silent(audio):
            print(f"synthgen: warning: {job.mix}: the mix is silent; the synth follows the prompt alone", file=sys.stderr)
        for placed, target in zip(stems, job.stems):
            write_audio(target, placed, sr)
        for placed, preview in zip(stems, job.previews):
            write_audio(preview, mix_preview(audio, placed, args.mix_gain_db), sr)
        mono = audio.mean(axis=0)
        key, bpm = estimate_key(mono, sr), estimate_tempo(mono, sr)
        for placed, midi in zip(stems, job.midis):
            write_part_midi(placed, sr, midi, bpm)
        duration = audio.shape[1] / sr
        print(f"{job.mix} -> {', '.join(map(str, job.stems + job.midis))}: {duration:.1f} s at {sr} Hz, "
              f"{audio.shape[0]} ch, {describe_mix(key, bpm)}; "
              f"{seconds:.1f} s to generate, {duration / seconds:.2f}x real time")
    return 0


def ui(args: argparse.Namespace) -> int:
    from synthgen.ui import serve

    if args.host not in LOOPBACK and args.auth is None:
        raise SynthGenError(f"--host {args.host} lets other machines reach the page: give --auth USER:PASSWORD")
    serve(args.model, args.host, args.port, args.max_upload_mb, args.max_seconds, args.concurrency, args.auth)
    return 0
