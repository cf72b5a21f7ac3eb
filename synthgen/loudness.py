"""Integrated loudness (ITU-R BS.1770-4, measured as pyloudnorm measures it) of audio that arrives block by block,
so that a song of any length is measured in bounded memory:

    meter = LoudnessMeter(44100, channels=2)
    for block in blocks:          # [C, n] float, any n
        meter.add(block)
    meter.integrated()            # LUFS; -inf when shorter than one 400 ms gating block or silent

K-weighting (pyloudnorm's two biquads, `iir.Biquad`, their state carried across blocks), mean squares over 100 ms hops,
400 ms gating blocks with 75 % overlap built from four hops, then the absolute (-70 LUFS) and relative
(-10 LU) gates.
"""

from __future__ import annotations

import numpy as np

from synthgen.iir import Biquad, rbj_biquad

BLOCK_SECONDS, HOPS_PER_BLOCK = 0.4, 4
ABSOLUTE_GATE, RELATIVE_GATE = -70.0, -10.0
CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs; further channels count 1.0
K_WEIGHTING = (("high_shelf", 1500.0, 1 / np.sqrt(2), 4.0), ("high_pass", 38.0, 0.5, 0.0))  # (kind, Hz, Q, gain dB)


class LoudnessMeter:
    def __init__(self, sample_rate: int, channels: int):
        self.sample_rate = sample_rate
        self.filters = [Biquad(*rbj_biquad(kind, hz, q, sample_rate, gain), channels) for kind, hz, q, gain in K_WEIGHTING]
        self.hop = max(1, round(BLOCK_SECONDS / HOPS_PER_BLOCK * sample_rate))  # every block ends in finite steps
        self.gains = np.array([CHANNEL_GAINS[i] if i < len(CHANNEL_GAINS) else 1.0 for i in range(channels)])
        self.hop_energy: list[np.ndarray] = []  # per finished hop: the sum of squares of each channel [C]
        self.partial = np.zeros(channels)  # the unfinished hop's sum of squares
        self.partial_length = 0
        self.samples = 0

    def add(self, block: np.ndarray) -> None:
        """Measure the next [C, n] samples."""
        x = np.asarray(block, dtype=np.float64)
        for k_filter in self.filters:
            x = k_filter(x)
        self.samples += x.shape[1]
        squares = x * x
        while squares.shape[1]:
            take = min(self.hop - self.partial_length, squares.shape[1])
            self.partial += squares[:, :take].sum(axis=1)
            self.partial_length += take
            squares = squares[:, take:]
            if self.partial_length == self.hop:
                self.hop_energy.append(self.partial)
                self.partial, self.partial_length = np.zeros_like(self.partial), 0

    def integrated(self) -> float:
        """The gated integrated loudness of everything added, in LUFS."""
        block = BLOCK_SECONDS * self.sample_rate
        if self.samples < block:
            return float("-inf")
        hops = np.array(self.hop_energy + [self.partial])  # [H, C]
        count = int(np.round((self.samples / self.sample_rate - BLOCK_SECONDS) / (BLOCK_SECONDS / HOPS_PER_BLOCK))) + 1
        padded = np.concatenate([hops, np.zeros((count + HOPS_PER_BLOCK, hops.shape[1]))])
        z = sum(padded[i : i + count] for i in range(HOPS_PER_BLOCK)) / block  # [J, C] mean squares per gating block
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(z @ self.gains)
            above = loudness >= ABSOLUTE_GATE
            if not above.any():
                return float("-inf")
            relative = -0.691 + 10 * np.log10(z[above].mean(axis=0) @ self.gains) + RELATIVE_GATE
            gated = (loudness > relative) & (loudness > ABSOLUTE_GATE)
            return float(-0.691 + 10 * np.log10(z[gated].mean(axis=0) @ self.gains)) if gated.any() else float("-inf")


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of [C, N] audio in LUFS; -inf when too short or quiet."""
    meter = LoudnessMeter(sample_rate, audio.shape[0])
    meter.add(audio)
    return meter.integrated()
