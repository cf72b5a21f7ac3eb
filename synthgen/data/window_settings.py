"""How tracks are cut into windows for training and evaluation (no heavy imports: the command line builds
`prepare`'s options from it). The cutting itself is in `data/windows.py`."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.options import check_bounds, option


@dataclass(frozen=True)
class WindowSettings:
    window: float = option("window length in seconds", 10.0, above=0)
    hop: float = option("seconds between window starts", 5.0, above=0)
    tail: str = option("what to do with a short last window", "pad", choices=["pad", "drop"])

    def __post_init__(self):
        """Refuse windows that cannot be cut, before any file is written."""
        check_bounds(self)
