"""`synthgen eval`, `eval-audio` and `eval-codec`."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthgen.cli.common import device, generation_settings
from synthgen.errors import SynthGenError


def evaluate(args: argparse.Namespace) -> int:
    from synthgen.eval.codes import evaluate_codes, markdown_table, write_report
    from synthgen.pipeline import Pipeline

    pipeline = Pipeline.from_pretrained(args.model)
    report = evaluate_codes(pipeline.model, pipeline.codec, args.data, args.split, args.batch_size)
    out = Path(args.out) if args.out else Path(args.model) / f"eval_{args.split}.json"
    write_report(report, out)
    print(markdown_table(report), end="")
    print(f"written: {out} and {out.with_suffix('.md')}")
    return 0


def eval_audio(args: argparse.Namespace) -> int:
    from synthgen.audio import SAMPLE_RATE, write_audio
    from synthgen.eval.metrics import codec_embedding, load_embedding
    from synthgen.eval.renderers import load_renderer
    from synthgen.eval.suite import eval_windows, markdown_table, run_suite, write_report
    from synthgen.plots import waveforms_and_spectrograms

    settings = generation_settings(args)
    user_embedding = load_embedding(args.embedding) if args.embedding else None  # a bad name stops before any work
    renderers = [load_renderer(spec, settings, device(args.device)) for spec in (args.model or [None])]
    if len({r.name for r in renderers}) < len(renderers):
        raise SynthGenError("--model: two models have the same folder name; the report could not tell them apart")
    sample_rate = SAMPLE_RATE
    windows = eval_windows(args.data, args.split, sample_rate, args.window, args.mode, args.windows)
    codecs = [r.codec for r in renderers if getattr(r, "codec", None) is not None]
    embedding = user_embedding or (codec_embedding(codecs[0]) if codecs else None)
    out = Path(args.out)
    kept: dict[int, dict] = {}

    def keep(row: str, i: int, stem) -> None:
        if i < args.plots:
            kept.setdefault(i, {})[row] = stem

    report = run_suite(renderers, windows, sample_rate, args.mode, embedding, args.steering, args.seed, keep,
                       codec=codecs[0] if codecs else None)
    report["settings"].update(data=str(args.data), split=args.split, windows=len(windows),
                              embedding=args.embedding or "codec latents")
    write_report(report, out)
    for i, stems in kept.items():
        tracks = {"context": windows[i].context, **stems}
        waveforms_and_spectrograms(tracks, sample_rate, out / f"window_{i}.png")
        for row, audio in tracks.items():
            write_audio(out / "audio" / f"window_{i}_{row}.flac", audio[None], sample_rate)
    print(markdown_table(report), end="")
    print(f"written: {out}/report.json, report.md, metrics.png and {len(kept)} window plots with audio")
    return 0


def eval_codec(args: argparse.Namespace) -> int:
    import json

    from synthgen.codec import load_codec
    from synthgen.data.audio_pool import held_out_audio
    from synthgen.eval.codec import codec_table, evaluate_codec, example_audio, plot_reconstructions, truth_through_codec
    from synthgen.files import write_text_atomic

    codecs = [load_codec(spec).to(device(args.device)) for spec in args.codec]  # every name checked before work
    audio = held_out_audio(args.data, codecs[0].sample_rate, args.segments, args.split)
    rows = [dict(codec=str(spec), kind=codec.kind, **evaluate_codec(codec, audio.to(codec.device)))
            for spec, codec in zip(args.codec, codecs)]
    if args.suite_windows:
        for row, codec in zip(rows, codecs):
            row["suite"] = truth_through_codec(codec, args.data, "test", args.suite_windows)
    table = codec_table(rows)
    if args.plots:
        Path(args.plots).mkdir(parents=True, exist_ok=True)
        examples = example_audio(args.data, codecs[0].sample_rate)
        for path in plot_reconstructions({f"{spec} ({c.kind})": c for spec, c in zip(args.codec, codecs)}, examples, args.plots):
            print(f"written: {path}")
    if args.out:
        write_text_atomic(Path(args.out), json.dumps(dict(data=str(args.data), split=args.split, codecs=rows), indent=1) + "\n")
        write_text_atomic(Path(args.out).with_suffix(".md"), table)
    print(table, end="")
    return 0
