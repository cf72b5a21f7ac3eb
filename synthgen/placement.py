"""Where a generated stem sits in its mix: the placement rule of every stem and preview SynthGen writes.

A mono stem [N] becomes the output's audio [C, N] in three steps:
1. spread: for a stereo mix a mono-compatible stereo image (`stereo_spread`; centred with mono=True); for any
   other channel count the stem in every channel;
2. level: `loudness` LUFS when given, else `level_db` LU against the mix's integrated loudness (FALLBACK_LUFS
   for a mix too quiet or short to measure);
3. ceiling: lowered where its peak would pass CEILING_DBFS.
A preview, the mix with a placed stem added at a gain (`with_stem`), is scaled down as a whole to stay under
CEILING_DBFS (`ceiling_gain`, `mix_preview`).

    placement = StemPlacement.for_mix(mix, sample_rate, settings)  # or StemPlacement(C, rate, mix LUFS, settings)
    placement.place(stem)                                          # a whole stem [N] -> [C, N]
    gain = placement.gain(placement.spread(blocks))                # a stem that arrives in blocks: measure,
    for block in placement.spread(blocks): write(block * gain)     # then write (the same audio as `place`)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from synthgen.generation_settings import GenerationSettings
from synthgen.iir import Biquad, rbj_biquad
from synthgen.loudness import LoudnessMeter, integrated_loudness

CEILING_DBFS = -1.0  # no stem or preview SynthGen writes peaks above this
FALLBACK_LUFS = -20.0  # a stem's loudness when its mix is too quiet or short to measure
SPREAD_DELAY_MS, SPREAD_WIDTH, SPREAD_LOW_CUT_HZ = 12.0, 0.35, 250.0  # stereo_spread's side signal


def ceiling_gain(peak: float, ceiling_dbfs: float = CEILING_DBFS) -> float:
    """The gain (at most 1) that brings a linear `peak` down to `ceiling_dbfs`."""
    ceiling = 10 ** (ceiling_dbfs / 20)
    return min(1.0, ceiling / peak) if peak > 0 else 1.0


def limit_peak(audio: np.ndarray, ceiling_dbfs: float = CEILING_DBFS) -> np.ndarray:
    """Scale audio down (never up) so that its peak is at most `ceiling_dbfs`; the dtype is kept."""
    gain = ceiling_gain(float(np.abs(audio).max()) if audio.size else 0.0, ceiling_dbfs)
    return (audio * gain).astype(audio.dtype, copy=False) if gain < 1 else audio


def stereo_spread(stem: np.ndarray, sample_rate: int) -> np.ndarray:
    """A mono stem [N] as a mono-compatible stereo image [2, N]: mid = the stem, side = the stem delayed by
    SPREAD_DELAY_MS, high-passed at SPREAD_LOW_CUT_HZ (the bass stays centred) and scaled by SPREAD_WIDTH. The
    fold-down (L + R) / 2 is the stem itself, so mono playback has no comb filtering and the same level."""
    return StereoSpreader(sample_rate)(stem)


class StereoSpreader:
    """`stereo_spread` of a stem that arrives block by block: call it on consecutive [n] blocks -> [2, n]."""

    def __init__(self, sample_rate: int):
        self.delay_line = np.zeros(int(SPREAD_DELAY_MS * sample_rate / 1000), np.float32)
        self.high_pass = Biquad(*rbj_biquad("high_pass", SPREAD_LOW_CUT_HZ, 1 / np.sqrt(2), sample_rate), channels=1)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        line = np.concatenate([self.delay_line, block.astype(np.float32)])
        delayed, self.delay_line = line[: len(block)], line[len(block) :]
        side = self.high_pass(delayed[None])[0] * SPREAD_WIDTH
        return np.stack([block + side, block - side]).astype(np.float32)


class StemPlacement:
    """The placement rule for the stems of one mix with `channels` at `sample_rate`, whose integrated loudness is
    `mix_loudness` (LUFS; unused when settings.loudness is given), for the settings' level_db, loudness and mono."""

    def __init__(self, channels: int, sample_rate: int, mix_loudness: float | None, settings: GenerationSettings):
        self.channels, self.sample_rate = channels, sample_rate
        self.stereo = channels == 2 and not settings.mono
        if settings.loudness is not None:
            self.lufs = settings.loudness
        else:
            self.lufs = mix_loudness + settings.level_db if np.isfinite(mix_loudness) else FALLBACK_LUFS

    @classmethod
    def for_mix(cls, mix: np.ndarray, sample_rate: int, settings: GenerationSettings) -> "StemPlacement":
        """The rule for a whole mix [C, N] (its loudness measured only when the settings need it)."""
        loudness = integrated_loudness(mix, sample_rate) if settings.loudness is None else None
        return cls(mix.shape[0], sample_rate, loudness, settings)

    def spread(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Step 1 on consecutive blocks of one stem [n] -> [C, n]."""
        spreader = StereoSpreader(self.sample_rate) if self.stereo else None
        for block in blocks:
            block = block.astype(np.float32)
            yield spreader(block) if spreader else np.repeat(block[None], self.channels, axis=0)

    def gain(self, spread: Iterable[np.ndarray]) -> float:
        """Steps 2 and 3: the gain of a spread stem, given as its consecutive blocks [C, n]."""
        meter, peak = LoudnessMeter(self.sample_rate, self.channels), 0.0
        for audio in spread:
            meter.add(audio)
            peak = max(peak, float(np.abs(audio).max()))
        measured = meter.integrated()
        gain = 10 ** ((self.lufs - measured) / 20) if np.isfinite(measured) else 1.0
        return gain * ceiling_gain(peak * gain)

    def place(self, stem: np.ndarray) -> np.ndarray:
        """The three steps on a whole stem [N] -> [C, N]."""
        audio = next(self.spread([stem]))
        return (audio * self.gain([audio])).astype(np.float32)


def with_stem(mix: np.ndarray, stem: np.ndarray, gain_db: float) -> np.ndarray:
    """The mix [C, n] with a placed stem [C, n] added at gain_db, before the ceiling."""
    return mix + stem * 10 ** (gain_db / 20)


def mix_preview(mix: np.ndarray, stem: np.ndarray, gain_db: float) -> np.ndarray:
    """The mix [C, N] with a placed stem [C, N] at gain_db (`with_stem`), scaled down if it would pass CEILING_DBFS."""
    return limit_peak(with_stem(mix, stem, gain_db))
