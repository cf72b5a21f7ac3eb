"""How tracks are cut into windows for training and evaluation (no heavy imports: the command line builds
`prepare`'s options from it). The cutting itself is in `data/windows.py`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from synthgen.errors import SynthGenError
from synthgen.options import option


@dataclass(frozen=True)
class WindowSettings:
    window: float = option("window length in seconds", 10.0)
    hop: float = option("seconds between window starts", 5.0)
    tail: str = option("what to do with a short last window", "pad", choices=["pad", "drop"])

    def __post_init__(self):
        """Refuse windows that cannot be cut, before any file is written."""
        if not (math.isfinite(self.window) and self.window > 0):
            raise SynthGenError(f"--window must be a positive number of seconds, got {self.window}")
        if not (math.isfinite(self.hop) and self.hop > 0):
            raise SynthGenError(f"--hop must be a positive number of seconds, got {self.hop}")
