"""Beats of a mix from its onset envelope: the tempo, then the beat times by dynamic programming.

    estimate_period(onset [T], frame_rate) -> frames per beat (None without onsets)
    track_beats(onset [T], frame_rate, period) -> beat frames [B] (fractional, one per beat)
    tempo_map(beat_times [B]) -> [(seconds, BPM)] where the tempo changes by more than TEMPO_STEP

The period is where the onset envelope best repeats itself (its autocorrelation, with the evidence of the
double and half period added, so a beat whose off-beats are as loud as it is still wins; weighted by a
one-octave log-normal prior around PRIOR_BPM). The beats are the path through the envelope that collects the
most onset strength while keeping each beat-to-beat interval near the period (Ellis, "Beat tracking by dynamic
programming", 2007): a tempo that drifts is followed, a wrong interval costs `TIGHTNESS * log(interval /
period)^2`.
"""

from __future__ import annotations

import numpy as np

BPM_RANGE = (50.0, 200.0)  # the beat periods considered
PRIOR_BPM = 110.0
TIGHTNESS = 120.0
TEMPO_STEP = 0.04  # a tempo map marks a change of more than 4 %


def _autocorrelation(onset: np.ndarray) -> np.ndarray:
    """Unbiased autocorrelation of the centred envelope [T] -> [T]."""
    centred = onset - onset.mean()
    spectrum = np.fft.rfft(centred, 2 * len(centred))
    lagged = np.fft.irfft(np.abs(spectrum) ** 2)[: len(centred)]
    return lagged / np.arange(len(centred), 0, -1)


def estimate_period(onset: np.ndarray, frame_rate: float) -> float | None:
    """The beat period in frames of an onset envelope [T] at `frame_rate` frames/s; None when it holds no
    onsets or is shorter than four slow beats."""
    longest = frame_rate * 60 / BPM_RANGE[0]
    if len(onset) < 4 * longest or not np.ptp(onset) > 0:
        return None
    ac = _autocorrelation(onset)
    lags = np.arange(int(frame_rate * 60 / BPM_RANGE[1]), int(longest) + 1)
    at = lambda lag: np.interp(lag, np.arange(len(ac)), ac)  # noqa: E731
    evidence = at(lags) + 0.5 * at(lags / 2)
    prior = np.exp(-0.5 * np.log2(60 * frame_rate / lags / PRIOR_BPM) ** 2)
    best = int(lags[np.argmax(evidence * prior)])
    a, b, c = ac[best - 1 : best + 2]
    if a - 2 * b + c < 0:  # a peak: interpolate between frames
        return best + 0.5 * (a - c) / (a - 2 * b + c)
    return float(best)


def track_beats(onset: np.ndarray, frame_rate: float, period: float) -> np.ndarray:
    """Beat frames [B] of an onset envelope [T] given the beat period in frames (Ellis's dynamic programme)."""
    strength = onset / max(onset.std(), 1e-9)
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
