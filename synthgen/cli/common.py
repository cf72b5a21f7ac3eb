"""Helpers the command modules share."""

from __future__ import annotations

import argparse

from synthgen.generation_settings import GenerationSettings
from synthgen.options import config_from


def device(choice: str) -> str:
    import torch

    return ("cuda" if torch.cuda.is_available() else "cpu") if choice == "auto" else choice


def generation_settings(args: argparse.Namespace):
    return config_from(GenerationSettings, args)
