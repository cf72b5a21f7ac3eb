"""Beats of a mix from its onset envelope: the tempo, then the beat times by dynamic programming.

    estimate_period(envelopes {onset, low_onset, novelty: [T]}, frame_rate) -> frames per beat (None without onsets)
    track_beats(beat_strength(envelopes) [T], frame_rate, period) -> beat frames [B] (one per beat)
    tempo_map(beat_times [B]) -> [(seconds, BPM)] where the tempo changes by more than TEMPO_STEP

The period is chosen among every candidate between 50 and 200 BPM by a small learned scorer of how the onsets,
the low band's onsets and the harmonic change repeat at multiples of it (`lag_features`; trained on SynthStems'
true beats by `synthgen.training.analysis`): a beat whose off-beats are as loud as it is, a half-time groove or
6/8's triplet eighths are told from the counted beat by the company its period keeps. The beats are the path
through the envelope that collects the most onset strength while keeping each beat-to-beat interval near the
period (Ellis, "Beat tracking by dynamic programming", 2007): a tempo that drifts is followed, a wrong interval
costs `TIGHTNESS * log(interval / period)^2`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.analysis.weights import LearnedPart

BPM_RANGE = (50.0, 200.0)  # the beat periods considered
TIGHTNESS = 120.0
TEMPO_STEP = 0.04  # a tempo map marks a change of more than 4 %
MULTIPLES = {  # envelope -> the multiples of a candidate period whose self-similarity describes it
    "onset": (1, 2, 3, 4, 1 / 2, 1 / 3, 2 / 3, 3 / 2),
    "low_onset": (1, 2, 1 / 2, 1 / 3),
    "novelty": (1, 2, 3, 4, 6, 8),
}


def _autocorrelation(envelope: np.ndarray) -> np.ndarray:
    """Unbiased autocorrelation of the centred envelope [T], divided by its value at lag 0 -> [T]."""
    centred = envelope - envelope.mean()
    spectrum = np.fft.rfft(centred, 2 * len(centred))
    lagged = np.fft.irfft(np.abs(spectrum) ** 2)[: len(centred)] / np.arange(len(centred), 0, -1)
    return lagged / max(lagged[0], 1e-12)


def lag_features(envelopes: dict[str, np.ndarray], frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate beat period in BPM_RANGE (whole frames) [L] and what describes it [L, F]: its tempo (log2 of
    BPM / 120, and its square) and the self-similarity of each envelope at MULTIPLES of it."""
    lags = np.arange(int(frame_rate * 60 / BPM_RANGE[1]), int(frame_rate * 60 / BPM_RANGE[0]) + 1).astype(float)
    octaves = np.log2(60 * frame_rate / lags / 120)
    columns = [octaves, octaves**2]
    for name, multiples in MULTIPLES.items():
        ac = _autocorrelation(envelopes[name])
        columns += [np.interp(m * lags, np.arange(len(ac)), ac, right=0.0) for m in multiples]
    return lags, np.stack(columns, axis=1)


@dataclass(frozen=True)
class PeriodScorer(LearnedPart):
    """A small network shared by every candidate period: features [L, F] -> scores [L]."""

    PART = "tempo"

    w1: np.ndarray  # [F, H]
    b1: np.ndarray  # [H]
    w2: np.ndarray  # [H]

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return np.maximum(features @ self.w1 + self.b1, 0) @ self.w2



def estimate_period(envelopes: dict[str, np.ndarray], frame_rate: float) -> float | None:
    """The beat period in frames: the candidate the learned scorer rates highest, refined between frames; None
    when the onsets are flat or shorter than four slow beats. `envelopes` holds `onset`, `low_onset` and `novelty`
    [T] each."""
    onset = envelopes["onset"]
    if len(onset) < 4 * frame_rate * 60 / BPM_RANGE[0] or not np.ptp(onset) > 0:
        return None
    lags, features = lag_features(envelopes, frame_rate)
    best = int(lags[np.argmax(PeriodScorer.shipped()(features))])
    ac = _autocorrelation(onset)
    a, b, c = ac[best - 1 : best + 2]
    if a - 2 * b + c < 0:  # a peak: interpolate between frames
        return best + 0.5 * (a - c) / (a - 2 * b + c)
    return float(best)


def beat_strength(envelopes: dict[str, np.ndarray]) -> np.ndarray:
    """How likely a beat is at each onset frame [T]: the onsets and the harmonic change, each in units of its own
    spread (chords change on beats, off-beat hats do not move the harmony)."""
    return sum(envelopes[name] / max(envelopes[name].std(), 1e-9) for name in ("onset", "novelty"))


def track_beats(strength: np.ndarray, frame_rate: float, period: float) -> np.ndarray:
    """Beat frames [B] of a beat strength envelope [T] given the beat period in frames (Ellis's dynamic
    programme)."""
    width = max(1, int(round(period / 16)))
    strength = np.convolve(strength, np.hanning(2 * width + 1), mode="same")
    offsets = np.arange(-int(round(2 * period)), -int(round(period / 2)) + 1)
    penalty = -TIGHTNESS * np.log(-offsets / period) ** 2
    score, link = np.zeros(len(strength)), np.full(len(strength), -1)
    for t in range(len(strength)):
        candidates = t + offsets
        valid = candidates >= 0
        if valid.any():
            options = score[candidates[valid]] + penalty[valid]
            best = int(np.argmax(options))
            if options[best] > 0:
                score[t], link[t] = strength[t] + options[best], candidates[valid][best]
                continue
        score[t] = strength[t]
    last = max(0, len(score) - int(round(period)))
    beats = [last + int(np.argmax(score[last:]))]  # the last beat lies within the last period
    while link[beats[-1]] >= 0:
        beats.append(int(link[beats[-1]]))
    return np.array(beats[::-1], dtype=float)


def tempo_map(beat_times: np.ndarray) -> list[tuple[float, float]]:
    """[(seconds, BPM)]: the tempo at the first beat, and wherever the median of eight beat intervals moves more
    than TEMPO_STEP from the last tempo marked."""
    if len(beat_times) < 2:
        return []
    intervals = np.diff(beat_times)
    half = 4
    local = np.array([np.median(intervals[max(0, i - half) : i + half]) for i in range(len(intervals))])
    marks = [(float(beat_times[0]), 60.0 / float(np.median(intervals[: 2 * half])))]
    for i, interval in enumerate(local):
        bpm = 60.0 / interval
        if abs(bpm / marks[-1][1] - 1) > TEMPO_STEP:
            marks.append((float(beat_times[i]), bpm))
    return marks
