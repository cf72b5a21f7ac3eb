"""What a SynthStems set is made with: its style, length, sample rate and seed."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.audio import SAMPLE_RATE
from synthgen.errors import SynthGenError

STYLES = ("record", "classic")


@dataclass(frozen=True)
class SynthStemsConfig:
    seconds: float = 30.0
    sample_rate: int = SAMPLE_RATE
    seed: int = 0
    style: str = "record"  # STYLES
    ood: bool = False  # record style only: the out-of-distribution set (`make_record_track`)

    def __post_init__(self):
        if self.style not in STYLES:
            raise SynthGenError(f"unknown SynthStems style '{self.style}' (choose from {', '.join(STYLES)})")
        if self.ood and self.style != "record":
            raise SynthGenError("the out-of-distribution set (--ood) is made in the record style")
