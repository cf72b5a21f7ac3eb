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
