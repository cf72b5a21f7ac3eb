"""The `synthgen` command line. Each subcommand's options are documented in the README."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from synthgen.errors import SynthGenError
from synthgen.generation_settings import SAMPLING_OPTIONS, GenerationSettings
from synthgen.options import add_options, config_from
from synthgen.training.codec_config import TRAIN_CONFIGS
from synthgen.training.lm_config import TrainConfig


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants I/N (e.g. 0/4), got '{text}'") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard I/N needs 0 <= I < N, got '{text}'")
    return index, count


def _cmd_prepare(args: argparse.Namespace) -> int:
    from synthgen.codec import load_codec
    from synthgen.data.cache import WindowSettings, missing_tracks, prepare_cache
    from synthgen.data.sources import list_tracks

    distributed = args.shard is None and int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:  # started by `accelerate launch`: one shard per process
        import torch
        from accelerate import PartialState

        state = PartialState(cpu=not torch.cuda.is_available())
        shard, num_shards = state.process_index, state.num_processes
    else:
        shard, num_shards = args.shard or (0, 1)
    tracks = list_tracks(args.src, args.source, args.target)
    codec = load_codec(args.codec)
    encoded = prepare_cache(
        tracks, args.out, codec,
        windows=WindowSettings(args.window, args.hop, args.tail),
        mode=args.mode, source=args.source, target=args.target,
        shard=shard, num_shards=num_shards, batch_size=args.batch_size,
    )
    if distributed:
        state.wait_for_everyone()
        if not state.is_main_process:
            return 0
    missing = missing_tracks(args.out)
    status = "complete" if not missing else f"{len(missing)} tracks left for other shards"
    print(f"{args.out}: {len(tracks)} tracks, {encoded} encoded now; cache {status}")
    return 0


def _parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"--splits wants TRAIN,VALID,TEST fractions (e.g. 0.9,0.05,0.05), got '{text}'")
    return parts


def _cmd_data_synth(args: argparse.Namespace) -> int:
    import time

    from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset

    if args.tracks < 1 or args.seconds <= 0:
        raise SynthGenError("--tracks must be at least 1 and --seconds positive")
    start = time.perf_counter()
    rate = {"sample_rate": args.sample_rate} if args.sample_rate else {}
    config = SynthStemsConfig(seconds=args.seconds, seed=args.seed, **rate)
    written = generate_dataset(args.out_dir, args.tracks, config, args.splits, workers=args.workers)
    elapsed = time.perf_counter() - start
    speed = f", {written * args.seconds / elapsed:.0f}x real time" if written else ""
    print(f"{args.out_dir}: {args.tracks} tracks, {written} written now in {elapsed:.1f} s{speed}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from synthgen.training.lm import run_training

    run_training(config_from(TrainConfig, args), resume=args.resume)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from synthgen.eval.codes import evaluate_codes, markdown_table, write_report
    from synthgen.pipeline import Pipeline

    pipeline = Pipeline.from_pretrained(args.model)
    report = evaluate_codes(pipeline.model, pipeline.codec, args.data, args.split, args.batch_size)
    out = Path(args.out) if args.out else Path(args.model) / f"eval_{args.split}.json"
    write_report(report, out)
    print(markdown_table(report), end="")
    print(f"written: {out} and {out.with_suffix('.md')}")
    return 0


def _cmd_eval_audio(args: argparse.Namespace) -> int:
    from synthgen.audio import SAMPLE_RATE, write_wav
    from synthgen.eval.metrics import codec_embedding, load_embedding
    from synthgen.eval.renderers import load_renderer
    from synthgen.eval.suite import eval_windows, markdown_table, run_suite, write_report
    from synthgen.plots import waveforms_and_spectrograms

    settings = _generation_settings(args)
    user_embedding = load_embedding(args.embedding) if args.embedding else None  # a bad name stops before any work
    renderers = [load_renderer(spec, settings, _device(args.device)) for spec in (args.model or [None])]
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
            write_wav(out / "audio" / f"window_{i}_{row}.flac", audio[None], sample_rate)
    print(markdown_table(report), end="")
    print(f"written: {out}/report.json, report.md, metrics.png and {len(kept)} window plots with audio")
    return 0


def _cmd_eval_codec(args: argparse.Namespace) -> int:
    import json

    from synthgen.codec import load_codec
    from synthgen.data.audio_pool import held_out_audio
    from synthgen.eval.codec import codec_table, evaluate_codec, example_audio, plot_reconstructions, truth_through_codec
    from synthgen.files import write_text_atomic

    codecs = [load_codec(spec).to(_device(args.device)) for spec in args.codec]  # every name checked before work
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


def _cmd_train_codec(args: argparse.Namespace) -> int:
    from synthgen.training.codec import train_codec
    from synthgen.training.codec_config import kind_options

    for other in TRAIN_CONFIGS.keys() - {args.kind}:
        foreign = sorted(kind_options(other) - kind_options(args.kind) & vars(args).keys())
        if foreign:
            raise SynthGenError(f"--{foreign[0].replace('_', '-')} is an option of --kind {other}, not {args.kind}")
    out = train_codec(config_from(TRAIN_CONFIGS[args.kind], args), resume=args.resume)
    print(f"codec saved in {out}")
    return 0


def _generation_jobs(mix: str, out: str) -> list[tuple[Path, Path]]:
    """(input, output) pairs: one file, or every audio file of a folder into an output folder."""
    from synthgen.audio import AUDIO_EXTENSIONS

    mix_path, out_path = Path(mix), Path(out)
    if mix_path.is_dir():
        files = sorted(p for p in mix_path.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
        if not files:
            raise SynthGenError(f"{mix_path}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) in this folder")
        return [(f, out_path / f"{f.stem}.wav") for f in files]
    return [(mix_path, out_path)]


def _device(choice: str) -> str:
    import torch

    return ("cuda" if torch.cuda.is_available() else "cpu") if choice == "auto" else choice


def _generation_settings(args: argparse.Namespace):
    return config_from(GenerationSettings, args)


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    add_options(parser, GenerationSettings, skip=tuple(f for f in GenerationSettings.__dataclass_fields__ if f not in SAMPLING_OPTIONS))
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


def _cmd_generate(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    from synthgen.audio import check_duration, is_silent, mix_preview, write_wav
    from synthgen.pipeline import Pipeline

    jobs = _generation_jobs(args.mix, args.out)
    for path, _ in jobs:
        if not path.exists():
            raise SynthGenError(f"{path}: no such file")
        check_duration(path, args.max_seconds)
    pipeline = Pipeline.from_pretrained(args.model).to(_device(args.device))
    settings = _generation_settings(args)
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


def _cmd_ui(args: argparse.Namespace) -> int:
    from synthgen.ui import serve

    serve(args.model, args.host, args.port, args.max_upload_mb, args.max_seconds, args.concurrency)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthgen", description="Generate a synth track that fits a mix.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('synthgen').__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", help="write a synth stem that fits a mix")
    generate.add_argument("mix", help="the mix (wav, flac, ogg, mp3), or a folder of them")
    generate.add_argument("--prompt", required=True, help='the synth you want, e.g. "a soft dark pad holding the chords"')
    generate.add_argument("--out", required=True, help="output WAV (or folder when MIX is a folder)")
    generate.add_argument("--model", default=None, help="model directory or run folder (default: the shipped model)")
    generate.add_argument("--mix-out", default=None, help="also write the mix with the synth added (file or folder)")
    generate.add_argument("--mix-gain-db", type=float, default=0.0, help="gain of the synth in --mix-out")
    _add_sampling_options(generate)
    add_options(generate, GenerationSettings, skip=SAMPLING_OPTIONS)
    generate.add_argument("--loudness", type=float, default=None, help="target loudness of the stem in LUFS")
    generate.add_argument("--max-seconds", type=float, default=600.0, help="refuse longer inputs")
    generate.set_defaults(run=_cmd_generate)

    ui = commands.add_parser("ui", help="a local web page: upload a mix, describe the synth, hear and see the result")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    ui.add_argument("--port", type=int, default=7860)
    ui.add_argument("--model", default=None, help="model directory or run folder (default: the shipped model)")
    ui.add_argument("--max-upload-mb", type=float, default=100.0, help="refuse larger uploads")
    ui.add_argument("--max-seconds", type=float, default=600.0, help="refuse longer mixes")
    ui.add_argument("--concurrency", type=int, default=1, help="generations run at once; others wait in a queue")
    ui.set_defaults(run=_cmd_ui)

    prepare = commands.add_parser("prepare", help="encode a stem data set into a token cache")
    prepare.add_argument("src", help="data folder (seed, MUSDB18-HQ, MUSDB18 .stem.mp4 or per-track layout)")
    prepare.add_argument("--out", required=True, help="cache folder to create or resume")
    prepare.add_argument("--source", default="auto", choices=["auto", "seed", "musdb", "musdb-stems", "tracks"])
    prepare.add_argument("--target", default="other", help="MUSDB stem to generate (default: other)")
    prepare.add_argument("--mode", default="accompaniment", choices=["accompaniment", "extract"],
                         help="context = mixture minus target (accompaniment) or the full mixture (extract)")
    prepare.add_argument("--codec", default="tiny", help="codec preset name or a save_pretrained directory")
    prepare.add_argument("--window", type=float, default=10.0, help="window length in seconds")
    prepare.add_argument("--hop", type=float, default=5.0, help="seconds between window starts")
    prepare.add_argument("--tail", default="pad", choices=["pad", "drop"], help="what to do with a short last window")
    prepare.add_argument("--shard", type=_parse_shard, default=None, metavar="I/N",
                         help="encode only shard I of N (0-based); all shards write one cache")
    prepare.add_argument("--batch-size", type=int, default=8, help="windows encoded at once")
    prepare.set_defaults(run=_cmd_prepare)

    train = commands.add_parser("train", help="train a model on a token cache (use `accelerate launch -m synthgen train` to scale out)")
    add_options(train, TrainConfig, required=("data", "out"))
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.set_defaults(run=_cmd_train)

    codec = commands.add_parser("train-codec", help="train a codec (spectral or EnCodec) on the audio of a data folder",
                                description="Options a kind does not have are refused; defaults are the kind's own.")
    codec.add_argument("--kind", default="spectral", choices=list(TRAIN_CONFIGS), help="codec kind (default spectral)")
    add_options(codec, *TRAIN_CONFIGS.values(), required=("data", "out"), defaults=False)
    codec.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    codec.set_defaults(run=_cmd_train_codec)

    codec_eval = commands.add_parser("eval-codec", help="a codec's reconstruction of held-out audio (what train-codec reports)")
    codec_eval.add_argument("--codec", required=True, action="append",
                            help="codec directory (save_pretrained) or preset; repeat to compare codecs in one table")
    codec_eval.add_argument("--data", required=True, help="data folder (any layout `prepare` reads)")
    codec_eval.add_argument("--split", default="valid", choices=["train", "valid", "test"])
    codec_eval.add_argument("--segments", type=int, default=32, help="2 s segments (the same ones train-codec reports on)")
    codec_eval.add_argument("--suite-windows", type=int, default=0, metavar="N",
                            help="also measure eval-audio's truth and truth-codec rows on N test windows (harmony, attack, role)")
    codec_eval.add_argument("--out", help="also write the numbers to this JSON file (and the table beside it as .md)")
    codec_eval.add_argument("--plots", metavar="DIR", help="also write spectrograms of a lead, a pad and a mixture "
                            "through each codec into DIR")
    codec_eval.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    codec_eval.set_defaults(run=_cmd_eval_codec)

    evaluate = commands.add_parser("eval", help="cross-entropy per codebook against unigram and unconditioned references")
    evaluate.add_argument("--model", required=True, help="run folder or exported model directory")
    evaluate.add_argument("--data", required=True, help="token cache")
    evaluate.add_argument("--split", default="test", choices=["train", "valid", "test"])
    evaluate.add_argument("--batch-size", type=int, default=16)
    evaluate.add_argument("--out", help="report JSON path (default: MODEL/eval_SPLIT.json, with a .md beside it)")
    evaluate.set_defaults(run=_cmd_eval)

    audio_eval = commands.add_parser("eval-audio", help="generate for held-out windows and measure fit, prompt adherence and closeness")
    audio_eval.add_argument("--model", action="append", help="model directory or run folder; repeat to compare "
                            "(default: the shipped model)")
    audio_eval.add_argument("--data", required=True, help="data folder with descriptions (e.g. SynthStems)")
    audio_eval.add_argument("--split", default="test", choices=["train", "valid", "test"])
    audio_eval.add_argument("--out", default="eval-audio", help="report folder (report.json, report.md, PNGs, audio/)")
    audio_eval.add_argument("--mode", default="accompaniment", choices=["accompaniment", "extract"])
    audio_eval.add_argument("--window", type=float, default=10.0, help="window length in seconds")
    audio_eval.add_argument("--windows", type=int, default=None, help="evaluate at most this many windows")
    audio_eval.add_argument("--steering", action="store_true", help="also render bright/dark and pad/pluck prompt pairs")
    audio_eval.add_argument("--embedding", default=None, help="module:function giving (audio, sr) -> frames [T, D] "
                            "for the Fréchet distance (default: the codec's latents)")
    audio_eval.add_argument("--plots", type=int, default=3, help="windows to plot and keep audio of")
    _add_sampling_options(audio_eval)
    audio_eval.set_defaults(run=_cmd_eval_audio)

    data = commands.add_parser("data", help="make data sets").add_subparsers(dest="data_command", required=True,
                                                                           metavar="KIND")
    synth = data.add_parser("synth", help="SynthStems: procedural backing tracks with a synth part and its description")
    synth.add_argument("out_dir", help="folder to write <split>/<track>/ into (resumes if it exists)")
    synth.add_argument("--tracks", type=int, required=True, help="number of tracks")
    synth.add_argument("--seconds", type=float, default=30.0, help="length of each track")
    synth.add_argument("--seed", type=int, default=0, help="the same seed gives byte-identical tracks")
    synth.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel processes")
    synth.add_argument("--splits", type=_parse_fractions, default=(0.9, 0.05, 0.05), metavar="TRAIN,VALID,TEST",
                       help="split fractions (default 0.9,0.05,0.05)")
    synth.add_argument("--sample-rate", type=int, default=None, help="sample rate of the files (default: SynthGen's own)")
    synth.set_defaults(run=_cmd_data_synth)
    return parser


def _quiet_libraries() -> None:
    """Keep transformers' loading bars and config warnings out of the user's terminal."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    try:
        return args.run(args)
    except SynthGenError as err:
        print(f"synthgen: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthgen: interrupted", file=sys.stderr)
        return 130
