"""The `synthgen` command line. Each subcommand's options are documented in the README."""

from __future__ import annotations

import argparse
import os
import sys

from synthgen.errors import SynthGenError


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
    config = SynthStemsConfig(seconds=args.seconds, sample_rate=args.sample_rate, seed=args.seed)
    written = generate_dataset(args.out_dir, args.tracks, config, args.splits, workers=args.workers)
    elapsed = time.perf_counter() - start
    speed = f", {written * args.seconds / elapsed:.0f}x real time" if written else ""
    print(f"{args.out_dir}: {args.tracks} tracks, {written} written now in {elapsed:.1f} s{speed}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthgen", description="Generate a synth track that fits a mix.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('synthgen').__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    synth.add_argument("--sample-rate", type=int, default=32000)
    synth.set_defaults(run=_cmd_data_synth)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except SynthGenError as err:
        print(f"synthgen: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthgen: interrupted", file=sys.stderr)
        return 130
