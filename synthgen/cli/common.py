"""What the command modules share: the options several commands take, and helpers."""

from __future__ import annotations

import argparse

from synthgen.data.window_settings import MODES, SPLITS
from synthgen.generation_settings import SAMPLING_OPTIONS, GenerationSettings
from synthgen.options import add_options, bounded, config_from

DEVICES = ("auto", "cpu", "cuda")


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="model directory, run folder or Hugging Face Hub id, e.g. "
                        "facebook/musicgen-melody (default: the shipped model)")


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=DEVICES[0], choices=DEVICES)


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """GenerationSettings' sampling and guidance options, and --device."""
    add_options(parser, GenerationSettings, only=SAMPLING_OPTIONS)
    add_device_option(parser)


def add_split_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--split", default=default, choices=SPLITS)


def add_mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", default=MODES[0], choices=MODES,
                        help="the mix a model is given: the mixture without the target (accompaniment) or all of it "
                             "(extract)")


def device(choice: str) -> str:
    import torch

    return ("cuda" if torch.cuda.is_available() else "cpu") if choice == "auto" else choice


def generation_settings(args: argparse.Namespace) -> GenerationSettings:
    return config_from(GenerationSettings, args)


def add_correction_options(parser: argparse.ArgumentParser) -> None:
    """What a producer knows of their song, replacing what the analysis would read (`analysis.corrections`)."""
    group = parser.add_argument_group("what you know of the song (replaces what is read)")
    group.add_argument("--key", help='the key, e.g. "B minor", "F# major", "D dorian"')
    group.add_argument("--bpm", type=bounded(float, above=0, at_most=400), help="the tempo, in counted beats per minute")
    group.add_argument("--meter", choices=("4/4", "3/4", "6/8"), help="the meter")
    group.add_argument("--downbeat", type=bounded(float, at_least=0), metavar="SECONDS", help="where the first bar starts")
    group.add_argument("--chords", metavar="FILE.lab|.json", help="the chords (a MIREX .lab, as `analyze --out` writes)")


def corrections(args: argparse.Namespace):
    """The analysis.corrections.Corrections the options give."""
    from synthgen.analysis.corrections import given_values

    return given_values(args.key, args.bpm, args.meter, args.downbeat, args.chords)
