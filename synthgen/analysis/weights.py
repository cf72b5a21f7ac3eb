"""The learned parts of the analysis, shipped in one file beside this one (analysis.npz, a few kB).

    part("chords") -> {"w1": ..., ...}   one part's arrays; save_parts(path, {"chords": {...}, "tempo": {...}, ...})
    class ChordModel(LearnedPart): PART = "chords" ...   ChordModel.shipped(), model.arrays()

Written by `synthgen.training.analysis`; each array is stored under "<part>/<name>".
"""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np

SHIPPED = Path(__file__).with_name("analysis.npz")


@lru_cache(maxsize=1)
def _arrays(path: Path = SHIPPED) -> dict[str, np.ndarray]:
    with np.load(path) as saved:
        return {name: saved[name] for name in saved.files}


def part(name: str) -> dict[str, np.ndarray]:
    """The arrays of one learned part of the shipped analysis."""
    return {key.split("/", 1)[1]: value for key, value in _arrays().items() if key.startswith(name + "/")}


def save_parts(path: Path, parts: dict[str, dict[str, np.ndarray]]) -> None:
    """Write every part's arrays into one .npz."""
    np.savez(path, **{f"{name}/{key}": value for name, arrays in parts.items() for key, value in arrays.items()})


class LearnedPart:
    """A dataclass of arrays stored as one part of the shipped file: `PART` names it."""

    PART: ClassVar[str]

    def arrays(self) -> dict[str, np.ndarray]:
        return asdict(self)

    @classmethod
    def shipped(cls):
        """The part as shipped (read once)."""
        return _shipped(cls)


@lru_cache(maxsize=None)
def _shipped(cls: type) -> LearnedPart:
    return cls(**part(cls.PART))
