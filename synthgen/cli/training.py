"""`synthgen train`, `synthgen train-codec` and `synthgen train-planner`."""

from __future__ import annotations

import argparse

from synthgen.errors import SynthGenError
from synthgen.options import add_options, config_from
from synthgen.training.codec_config import TRAIN_CONFIGS
from synthgen.training.lm_config import TrainConfig
from synthgen.training.planner_config import PlannerTrainConfig


def add_commands(commands: argparse._SubParsersAction) -> None:
    """`train`, `train-codec` and `train-planner`."""
    parser = commands.add_parser("train", help="train a model on a token cache (use `accelerate launch -m synthgen "
                                 "train` to scale out)")
    add_options(parser, TrainConfig, required=("data", "out"))
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.set_defaults(run=train)

    parser = commands.add_parser("train-codec", help="train a codec (spectral or EnCodec) on the audio of a data folder",
                                 description="Options a kind does not have are refused; defaults are the kind's own.")
    parser.add_argument("--kind", default="spectral", choices=list(TRAIN_CONFIGS), help="codec kind (default spectral)")
    add_options(parser, *TRAIN_CONFIGS.values(), required=("data", "out"), defaults=False)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.set_defaults(run=train_codec)

    parser = commands.add_parser("train-planner", help="train the note planner on data folders with their mixes and "
                                 "parts (true scores where they have them, transcribed stems elsewhere)")
    add_options(parser, PlannerTrainConfig, required=("data", "out"))
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.set_defaults(run=train_planner)


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


def train_planner(args: argparse.Namespace) -> int:
    from synthgen.training.planner import train_planner

    out = train_planner(config_from(PlannerTrainConfig, args), resume=args.resume)
    print(f"note planner saved in {out}")
    return 0
