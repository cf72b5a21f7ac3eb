"""`synthgen generate` and `synthgen ui`: the main job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthgen.cli.common import device, generation_settings
from synthgen.errors import SynthGenError


def generation_jobs(mix: str, out: str) -> list[tuple[Path, Path]]:
    """(input, output) pairs: one file, or every audio file of a folder into an output folder."""
    from synthgen.audio import AUDIO_EXTENSIONS

    mix_path, out_path = Path(mix), Path(out)
    if mix_path.is_dir():
        files = sorted(p for p in mix_path.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
        if not files:
            raise SynthGenError(f"{mix_path}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) in this folder")
        return [(f, out_path / f"{f.stem}.wav") for f in files]
    return [(mix_path, out_path)]


def generate(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from synthgen.audio import check_duration, is_silent, mix_preview, write_wav
    from synthgen.pipeline import Pipeline

    jobs = generation_jobs(args.mix, args.out)
    for path, _ in jobs:
        if not path.exists():
            raise SynthGenError(f"{path}: no such file")
        check_duration(path, args.max_seconds)
    pipeline = Pipeline.from_pretrained(args.model).to(device(args.device))
    settings = generation_settings(args)
    for path, out in tqdm(jobs, desc="files", unit="file", disable=len(jobs) == 1):
        start = time.perf_counter()
        audio, sr, stems = pipeline.render_file(path, args.prompt, settings, args.loudness, progress=True)
        seconds = time.perf_counter() - start
        if is_silent(audio):
            print(f"synthgen: warning: {path}: the mix is silent; the synth follows the prompt alone", file=sys.stderr)
        outputs = [out] if len(stems) == 1 else [out.with_name(f"{out.stem}_{i + 1}{out.suffix}") for i in range(len(stems))]
        for i, (placed, target) in enumerate(zip(stems, outputs)):
            write_wav(target, placed, sr, subtype="PCM_24")
            if args.mix_out:
                preview = Path(args.mix_out) if len(jobs) == 1 else Path(args.mix_out) / f"{path.stem}.wav"
                if len(stems) > 1:
                    preview = preview.with_name(f"{preview.stem}_{i + 1}{preview.suffix}")
                write_wav(preview, mix_preview(audio, placed, args.mix_gain_db), sr, subtype="PCM_24")
        duration = audio.shape[1] / sr
        print(f"{path} -> {', '.join(map(str, outputs))}: {duration:.1f} s at {sr} Hz, {audio.shape[0]} ch; "
              f"{seconds:.1f} s to generate, {duration / seconds:.2f}x real time")
    return 0


def ui(args: argparse.Namespace) -> int:
    from synthgen.ui import serve

    serve(args.model, args.host, args.port, args.max_upload_mb, args.max_seconds, args.concurrency)
    return 0
