"""Cutting tracks into fixed-length training windows (10 s long, 5 s apart by default).

Tail rule:
  pad   windows start every `hop` samples until one reaches the end of the track; that last window
        (and the only window of a track shorter than `length`) is zero-padded, and its `valid` length
        says how many samples are real audio. Nothing of the track is lost.
  drop  only windows that lie wholly inside the track; a shorter tail (or a short track) is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TAIL_RULES = ("pad", "drop")


@dataclass(frozen=True)
class Window:
    start: int  # first sample
    valid: int  # samples of real audio; the rest of the window is zero padding


def window_starts(num_samples: int, length: int, hop: int, tail: str = "pad") -> list[Window]:
    """The windows of a track of `num_samples` samples."""
    if length <= 0 or hop <= 0:
        raise ValueError("window length and hop must be positive")
    if tail not in TAIL_RULES:
        raise ValueError(f"unknown tail rule '{tail}' (choose from {', '.join(TAIL_RULES)})")
    if tail == "drop":
        starts = range(0, num_samples - length + 1, hop)
    else:
        starts = [0]
        while starts[-1] + length < num_samples:
            starts.append(starts[-1] + hop)
    return [Window(s, min(length, num_samples - s)) for s in starts]


def cut(audio: np.ndarray, window: Window, length: int) -> np.ndarray:
    """Window of [C, N] audio -> [C, length], zero-padded past the end of the track."""
    out = np.zeros((audio.shape[0], length), dtype=audio.dtype)
    out[:, : window.valid] = audio[:, window.start : window.start + window.valid]
    return out
