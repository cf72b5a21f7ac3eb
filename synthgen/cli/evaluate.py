"""`synthgen eval`, `eval-audio`, `eval-codec` and `eval-notes`."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthgen.cli.common import (add_device_option, add_mode_option, add_sampling_options, add_split_option, device,
                                 generation_settings)
from synthgen.data.window_settings import WindowSettings
from synthgen.errors import SynthGenError
from synthgen.generation_settings import GenerationSettings
from synthgen.options import add_options, bounded, config_from
from synthgen.planner.settings import PlanSettings


def add_commands(commands: argparse._SubParsersAction) -> None:
    """`eval-codec`, `eval`, `eval-audio` and `eval-notes`."""
    parser = commands.add_parser("eval-codec", help="a codec's reconstruction of held-out audio (what train-codec reports)")
    parser.add_argument("--codec", required=True, action="append",
                        help="codec directory (save_pretrained) or preset; repeat to compare codecs in one table")
    parser.add_argument("--data", required=True, help="data folder (any layout `prepare` reads)")
    add_split_option(parser, "valid")
    parser.add_argument("--segments", type=bounded(int, at_least=1), default=32,
                        help="2 s segments (the same ones train-codec reports on)")
    parser.add_argument("--suite-windows", type=bounded(int, at_least=0), default=0, metavar="N",
                        help="also measure eval-audio's truth and truth-codec rows on N test windows (harmony, attack, "
                             "role)")
    parser.add_argument("--out", help="also write the numbers to this JSON file (and the table beside it as .md)")
    parser.add_argument("--plots", metavar="DIR", help="also write spectrograms of a lead, a pad and a mixture "
                        "through each codec into DIR")
    add_device_option(parser)
    parser.set_defaults(run=eval_codec)

    parser = commands.add_parser("eval", help="cross-entropy per codebook against unigram and unconditioned references")
    parser.add_argument("--model", required=True, help="run folder or exported model directory")
    parser.add_argument("--data", required=True, help="token cache")
    add_split_option(parser, "test")
    parser.add_argument("--batch-size", type=bounded(int, at_least=1), default=16)
    parser.add_argument("--out", help="report JSON path (default: MODEL/eval_SPLIT.json, with a .md beside it)")
    parser.set_defaults(run=evaluate)

    parser = commands.add_parser("eval-audio", help="generate for held-out windows and measure fit, prompt adherence "
                                 "and closeness")
    parser.add_argument("--model", action="append", help="model directory or run folder; repeat to compare "
                        "(default: the shipped model)")
    parser.add_argument("--data", required=True, help="data folder with descriptions (e.g. SynthStems)")
    add_split_option(parser, "test")
    parser.add_argument("--out", default="eval-audio", help="report folder (report.json, report.md, PNGs, audio/)")
    add_mode_option(parser)
    parser.add_argument("--window", type=bounded(float, at_least=1), default=WindowSettings.window,
                        help="window length in seconds")
    parser.add_argument("--windows", type=bounded(int, at_least=1), default=None, help="evaluate at most this many windows")
    parser.add_argument("--steering", action="store_true", help="also generate for bright/dark and pad/pluck prompt pairs")
    parser.add_argument("--embedding", default=None, help="module:function giving (audio, sr) -> frames [T, D] "
                        "for the Fréchet distance (default: the codec's latents)")
    parser.add_argument("--plots", type=bounded(int, at_least=0), default=3, help="windows to plot and keep audio of")
    add_sampling_options(parser)
    add_options(parser, GenerationSettings, only=("renderer",))
    parser.add_argument("--true-notes", action="store_true", help="the models play each window's true part (SynthStems' "
                        "score) instead of a plan: the renderer measured apart from the planner")
    parser.set_defaults(run=eval_audio)

    parser = commands.add_parser("eval-notes", help="plan parts for held-out SynthStems songs and measure how they play "
                                 "to the true chords and beats, against the true parts and rule baselines")
    parser.add_argument("--data", required=True, nargs="+", help="SynthStems folders (each gets its own table)")
    parser.add_argument("--planner", help="note planner folder or run folder (default: the shipped one)")
    parser.add_argument("--no-planner", action="store_true", help="measure the truth and the rules only")
    add_split_option(parser, "test")
    parser.add_argument("--tracks", type=bounded(int, at_least=1), default=None, help="at most this many tracks per folder")
    parser.add_argument("--seed", type=bounded(int, at_least=0), default=0, help="seed of the first track's plan")
    add_options(parser, PlanSettings)
    parser.add_argument("--out", default="eval-notes", help="report folder (notes.json, notes.md, rolls/)")
    parser.set_defaults(run=eval_notes)


def evaluate(args: argparse.Namespace) -> int:
    from synthgen.eval.codes import evaluate_codes, markdown_table, write_report
    from synthgen.pipeline import SynthGen

    pipeline = SynthGen.from_pretrained(args.model)
    report = evaluate_codes(pipeline.model, pipeline.codec, args.data, args.split, args.batch_size)
    out = Path(args.out) if args.out else Path(args.model) / f"eval_{args.split}.json"
    write_report(report, out)
    print(markdown_table(report), end="")
    print(f"written: {out} and {out.with_suffix('.md')}")
    return 0


def eval_audio(args: argparse.Namespace) -> int:
    from synthgen.audio import SAMPLE_RATE, write_audio
    from synthgen.eval.metrics import codec_embedding, load_embedding
    from synthgen.eval.generators import load_generator
    from synthgen.eval.suite import eval_windows, markdown_table, run_suite, write_report
    from synthgen.plots import waveforms_and_spectrograms

    settings = generation_settings(args)
    user_embedding = load_embedding(args.embedding) if args.embedding else None  # a bad name stops before any work
    generators = [load_generator(spec, settings, device(args.device), args.true_notes) for spec in (args.model or [None])]
    if len({g.name for g in generators}) < len(generators):
        raise SynthGenError("--model: two models have the same folder name; the report could not tell them apart")
    sample_rate = SAMPLE_RATE
    windows = eval_windows(args.data, args.split, sample_rate, args.window, args.mode, args.windows)
    codecs = [g.codec for g in generators if getattr(g, "codec", None) is not None]
    embedding = user_embedding or (codec_embedding(codecs[0]) if codecs else None)
    out = Path(args.out)
    kept: dict[int, dict] = {}

    def keep(row: str, i: int, stem) -> None:
        if i < args.plots:
            kept.setdefault(i, {})[row] = stem

    report = run_suite(generators, windows, sample_rate, args.mode, embedding, args.steering, args.seed, keep,
                       codec=codecs[0] if codecs else None)
    report["settings"].update(data=str(args.data), split=args.split, windows=len(windows),
                              embedding=args.embedding or "codec latents")
    write_report(report, out)
    for i, stems in kept.items():
        tracks = {"mix": windows[i].mix, **stems}
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


def eval_notes(args: argparse.Namespace) -> int:
    from synthgen.eval.notes import evaluate_notes, markdown_table, write_report
    from synthgen.planner.plan import load_planner

    planner = None if args.no_planner else load_planner(args.planner)
    settings = config_from(PlanSettings, args)
    out = Path(args.out)
    report = dict(planner=None if args.no_planner else Path(args.planner).name if args.planner else "shipped",
                  settings=dict(vars(settings), split=args.split, tracks=args.tracks, seed=args.seed), sets={})
    for folder in args.data:
        result = evaluate_notes(folder, planner, settings, args.split, args.tracks, args.seed, out / "rolls")
        report["sets"][Path(folder).name] = result
        print(f"{folder} ({result['tracks']} tracks)\n" + markdown_table(result["rows"]))
    write_report(report, out / "notes.json")
    print(f"written: {out}/notes.json, notes.md and piano rolls in {out}/rolls")
    return 0
