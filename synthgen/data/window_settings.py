"""How tracks are cut into windows for training and evaluation, from which splits, and which mix a window holds
(no heavy imports: the command line builds its options from it). The cutting itself is in `data/windows.py`."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.options import check_bounds, option

MODES = ("accompaniment", "extract")  # the mix: the mixture without the target (the default), or all of it
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class WindowSettings:
    window: float = option("window length in seconds", 10.0, above=0)
    hop: float = option("seconds between window starts", 5.0, above=0)
    tail: str = option("what to do with a short last window", "pad", choices=["pad", "drop"])

    def __post_init__(self):
        """Refuse windows that cannot be cut, before any file is written."""
        check_bounds(self)
