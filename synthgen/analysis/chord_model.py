"""A small learned chord classifier: each beat's chroma, turned to each of the twelve roots, through a two-layer
network shared by all roots, to a score per chord quality; N has a learned constant score.

    ChordModel.shipped() -> the model shipped with the analysis (`weights`)
    model.log_probabilities(treble [B, 12], bass [B, 12]) -> [B, len(CHORDS)] (N first, then quality by quality)

Trained on SynthStems' true chords at their true beats (`synthgen.training.chords`), it learns what templates
miss: a bass's harmonics that add a false third, voicings that leave out the fifth, a layer an octave up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.analysis.chords import VOCABULARY
from synthgen.analysis.weights import LearnedPart


def rotated(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """Each beat's chroma seen from each root: [B, 12 roots, 24] (treble then bass, the root first)."""
    index = (np.arange(12)[:, None] + np.arange(12)[None, :]) % 12  # [root, interval] -> pitch class
    return np.concatenate([treble[:, index], bass[:, index]], axis=2)


@dataclass
class ChordModel(LearnedPart):
    PART = "chords"

    w1: np.ndarray  # [24, H]
    b1: np.ndarray  # [H]
    w2: np.ndarray  # [H, Q] one score per VOCABULARY quality
    b2: np.ndarray  # [Q]
    no_chord: np.ndarray  # [] N's score


    def log_probabilities(self, treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
        """Log-probability of every chord of CHORDS at each beat -> [B, 1 + 12 * Q] (N, then each quality's 12 roots)."""
        hidden = np.maximum(rotated(treble, bass) @ self.w1 + self.b1, 0)  # [B, 12, H]
        scores = (hidden @ self.w2 + self.b2).transpose(0, 2, 1).reshape(len(treble), -1)  # [B, Q * 12]
        logits = np.concatenate([np.full((len(treble), 1), float(self.no_chord)), scores], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


QUALITIES = tuple(VOCABULARY)
