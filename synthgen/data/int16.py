"""Audio held in memory as int16, half the memory of float32, for the data sets that keep their audio in RAM."""

from __future__ import annotations

import numpy as np


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 (clipped)."""
    return np.clip(audio * 32767, -32768, 32767).astype(np.int16)


def from_int16(audio: np.ndarray) -> np.ndarray:
    """int16 audio -> float32 in [-1, 1]."""
    return audio.astype(np.float32) / 32767
