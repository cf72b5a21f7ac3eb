"""Random audio segments for codec training and the fixed held-out segments codecs are measured on.

Segments are [count, 1, length] float at the codec's rate, drawn from every stem (mixture and target) of a
data folder's split, held in memory as int16.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from synthgen.data.int16 import from_int16, to_int16
from synthgen.data.sources import list_tracks, load_pair
from synthgen.errors import SynthGenError


class AudioPool:
    """Every stem (mixture and target) of a data folder's split, mono at `sample_rate`."""

    def __init__(self, root: str, sample_rate: int, split: str, progress: bool = True):
        tracks = [t for t in list_tracks(root) if t.split == split]
        if not tracks:
            raise SynthGenError(f"{root}: no '{split}' tracks for codec training")
        self.stems = []
        for track in tqdm(tracks, desc=f"loading {split} audio", unit="track", disable=not progress):
            mixture, target = load_pair(track, sample_rate, 1, "extract")
            for audio in (mixture, target):
                self.stems.append(to_int16(audio[0]))

    def segments(self, count: int, length: int, generator: np.random.Generator) -> torch.Tensor:
        """`count` random segments [count, 1, length] (float), from random stems at random starts."""
        out = np.zeros((count, 1, length), np.float32)
        for i in range(count):
            stem = self.stems[generator.integers(len(self.stems))]
            start = generator.integers(max(1, len(stem) - length))
            piece = from_int16(stem[start : start + length])
            out[i, 0, : len(piece)] = piece
        return torch.from_numpy(out)


def held_out_audio(root: str, sample_rate: int, count: int, split: str = "valid", progress: bool = True) -> torch.Tensor:
    """The fixed held-out audio codecs are measured on: `count` segments of 2 s [count, 1, N] from the
    split's stems (always the same ones for the same data)."""
    pool = AudioPool(root, sample_rate, split, progress)
    return pool.segments(count, sample_rate * 2, np.random.default_rng(12345))
