"""`synthgen data synth` and `synthgen prepare`: data sets and token caches."""

from __future__ import annotations

import argparse
import os

from synthgen.options import config_from


def prepare(args: argparse.Namespace) -> int:
    from synthgen.codec import load_codec
    from synthgen.data.cache import missing_tracks, prepare_cache
    from synthgen.data.window_settings import WindowSettings
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
