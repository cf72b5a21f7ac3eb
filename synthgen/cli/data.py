"""`synthgen prepare`, `synthgen data synth` and `synthgen data resound`: token caches and data sets."""

from __future__ import annotations

import argparse
import os

from synthgen.cli.common import add_mode_option
from synthgen.data.window_settings import WindowSettings
from synthgen.files import CODEC_FOLDER, DEFAULT_MODEL
from synthgen.options import add_options, bounded, config_from


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants I/N (e.g. 0/4), got '{text}'") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard I/N needs 0 <= I < N, got '{text}'")
    return index, count


def _parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"--splits wants TRAIN,VALID,TEST fractions (e.g. 0.9,0.05,0.05), got '{text}'")
    return parts


def add_commands(commands: argparse._SubParsersAction) -> None:
    """`prepare`, and `data` with its kinds `synth` and `resound`."""
    parser = commands.add_parser("prepare", help="encode a stem data set into a token cache")
    parser.add_argument("src", help="data folder (seed, MUSDB18-HQ, MUSDB18 .stem.mp4 or per-track layout)")
    parser.add_argument("--out", required=True, help="cache folder to create or resume")
    parser.add_argument("--source", default="auto", choices=["auto", "seed", "musdb", "musdb-stems", "tracks"])
    parser.add_argument("--target", default="other", help="MUSDB stem to generate (default: other)")
    add_mode_option(parser)
    parser.add_argument("--codec", default=str(DEFAULT_MODEL / CODEC_FOLDER),
                        help="codec directory (save_pretrained), preset name (e.g. tiny) or Hugging Face Hub id (e.g. "
                             "facebook/encodec_32khz) (default: the shipped model's codec)")
    add_options(parser, WindowSettings)
    parser.add_argument("--shard", type=_parse_shard, default=None, metavar="I/N",
                        help="encode only shard I of N (0-based); all shards write one cache")
    parser.add_argument("--batch-size", type=bounded(int, at_least=1), default=8, help="windows encoded at once")
    parser.set_defaults(run=prepare)

    kinds = commands.add_parser("data", help="make data sets").add_subparsers(dest="data_command", required=True,
                                                                            metavar="KIND")
    parser = kinds.add_parser("synth", help="SynthStems: procedural backing tracks with a synth part and its description")
    parser.add_argument("out_dir", help="folder to write <split>/<track>/ into (resumes if it exists)")
    parser.add_argument("--tracks", type=bounded(int, at_least=1), required=True, help="number of tracks")
    parser.add_argument("--seconds", type=bounded(float, at_least=1), default=30.0, help="length of each track")
    parser.add_argument("--seed", type=bounded(int, at_least=0), default=0, help="the same seed gives byte-identical tracks")
    parser.add_argument("--workers", type=bounded(int, at_least=1), default=os.cpu_count() or 1, help="parallel processes")
    parser.add_argument("--splits", type=_parse_fractions, default=(0.9, 0.05, 0.05), metavar="TRAIN,VALID,TEST",
                        help="split fractions (default 0.9,0.05,0.05)")
    parser.add_argument("--sample-rate", type=bounded(int, at_least=8000, at_most=192000), default=None,
                        help="sample rate of the files (default: SynthGen's own)")
    parser.add_argument("--style", choices=("record", "classic"), default="record",
                        help="record: songs with sections, a sampled band and a stereo mix (SynthStems 2); classic: the "
                             "first SynthStems (mono, built-in instruments)")
    parser.add_argument("--ood", action="store_true",
                        help="the out-of-distribution set: bands from TimGM6mb (never in training) and a synth with a "
                             "deep, fast vibrato training never uses (record style)")
    parser.set_defaults(run=data_synth)

    parser = kinds.add_parser("resound", help="SynthStems with the backing played by a General MIDI SoundFont (an "
                              "out-of-distribution test set with true stems)")
    parser.add_argument("src", help="a SynthStems folder (`data synth`)")
    parser.add_argument("out_dir", help="folder to write <split>/<track>/ into (resumes if it exists)")
    parser.add_argument("--soundfont", default=None,
                        help="SoundFont (.sf2/.sf3) to play the backing (default: Debian's TimGM6mb, never used "
                             "in training)")
    parser.add_argument("--splits", default="test", help="comma-separated splits to re-sound (default test)")
    parser.set_defaults(run=data_resound)


def prepare(args: argparse.Namespace) -> int:
    from synthgen.codec import load_codec
    from synthgen.data.cache import missing_tracks, prepare_cache
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
        windows=config_from(WindowSettings, args),
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


def data_synth(args: argparse.Namespace) -> int:
    import time

    from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset

    start = time.perf_counter()
    rate = {"sample_rate": args.sample_rate} if args.sample_rate else {}
    config = SynthStemsConfig(seconds=args.seconds, seed=args.seed, style=args.style, ood=args.ood, **rate)
    written = generate_dataset(args.out_dir, args.tracks, config, args.splits, workers=args.workers)
    elapsed = time.perf_counter() - start
    speed = f", {written * args.seconds / elapsed:.0f}x real time" if written else ""
    print(f"{args.out_dir}: {args.tracks} tracks, {written} written now in {elapsed:.1f} s{speed}")
    return 0


def data_resound(args: argparse.Namespace) -> int:
    from synthgen.data.synthstems.resound import DEFAULT_SOUNDFONT, resound_dataset

    soundfont = args.soundfont or DEFAULT_SOUNDFONT
    written = resound_dataset(args.src, args.out_dir, soundfont, tuple(args.splits.split(",")))
    print(f"{args.out_dir}: {written} tracks written now, their backing played by {soundfont}")
    return 0
