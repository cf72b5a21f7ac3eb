"""`synthgen train` and `synthgen train-codec`."""

from __future__ import annotations

import argparse

from synthgen.errors import SynthGenError
from synthgen.options import config_from
from synthgen.training.codec_config import TRAIN_CONFIGS
from synthgen.training.lm_config import TrainConfig


def train(args: argparse.Namespace) -> int:
    from synthgen.training.lm import run_training

    run_training(config_from(TrainConfig, args), resume=args.resume)
    return 0


def train_codec(args: argparse.Namespace) -> int:
    from synthgen.training.codec import train_codec
    from synthgen.training.codec_config import kind_options

    for other in TRAIN_CONFIGS.keys() - {args.kind}:
        foreign = sorted(kind_options(other) - kind_options(args.kind) & vars(args).keys())
        if foreign:
            raise SynthGenError(f"--{foreign[0].replace('_', '-')} is an option of --kind {other}, not {args.kind}")
    out = train_codec(config_from(TRAIN_CONFIGS[args.kind], args), resume=args.resume)
    print(f"codec saved in {out}")
    return 0
