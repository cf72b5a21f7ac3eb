"""Audio probes: measurements of a stem that a prompt can be checked against.

Audio is mono float [N]. Frames are 2048 samples with a hop of 512 unless said otherwise.
"""

from __future__ import annotations

import numpy as np

from synthgen.dsp import stft_magnitude


def spectral_centroid(x: np.ndarray, sr: int) -> float:
    """Energy-weighted mean spectral centroid in Hz over the frames that are not silent."""
    mag = stft_magnitude(x)
    freqs = np.fft.rfftfreq(2048, 1 / sr)
    energy = (mag**2).sum(axis=1)
    loud = energy > energy.max() * 1e-4
    if not loud.any():
        return 0.0
    centroids = (mag[loud] * freqs).sum(axis=1) / mag[loud].sum(axis=1)
    return float(np.average(centroids, weights=energy[loud]))


def attack_time(x: np.ndarray, sr: int, onsets: list[float], max_seconds: float = 1.5) -> float:
    """Median rise time in seconds of the notes: from where each note's level starts to rise to where
    it reaches 90 % of its peak.

    The level is an RMS envelope in 5 ms hops; each note is looked at from its detected onset until the
    next onset (at most `max_seconds`), and its rise starts at the lowest level before the peak. Timing
    the rise rather than the distance from the onset keeps an onset detected early (in the release of
    the previous note) from reading as a slow attack. Notes too quiet to measure are skipped; returns
    nan when none remain.
    """
    hop = max(1, int(0.005 * sr))
    usable = len(x) // hop * hop
    envelope = np.sqrt((np.asarray(x[:usable], dtype=np.float64).reshape(-1, hop) ** 2).mean(axis=1))
    starts = sorted(set(onsets))
    loudest = envelope.max() if envelope.size else 0.0
    times = []
    for i, onset in enumerate(starts):
        end = min(onset + max_seconds, starts[i + 1] if i + 1 < len(starts) else onset + max_seconds)
        segment = envelope[int(onset * sr) // hop : int(end * sr) // hop]
        if segment.size < 2 or segment.max() < 0.05 * loudest:
            continue
        peak = int(np.argmax(segment))
        lowest = int(np.argmin(segment[: peak + 1]))
        times.append(np.argmax(segment[lowest:] >= 0.9 * segment[peak]) * hop / sr)
    return float(np.median(times)) if times else float("nan")


def frame_comb_share(x: np.ndarray, sr: int, frame_rate: float, fmax: float = 4000.0, tolerance: float = 0.5) -> float:
    """Share of the energy below `fmax` that lies within `tolerance` Hz of a multiple of `frame_rate`
    (whole-signal spectrum, Hann window; 0 for silence). A codec decoder that repeats a waveform every
    frame puts its energy on those lines (every 50 Hz for EnCodec at 32 kHz); music has a few percent
    there by chance (3 % for noise with 2 s of audio)."""
    x = np.asarray(x, dtype=np.float64)
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    band = (freqs > frame_rate / 2) & (freqs < fmax)
    distance = np.abs(freqs - frame_rate * np.round(freqs / frame_rate))
    total = power[band].sum()
    return float(power[band & (distance <= tolerance)].sum() / total) if total > 0 else 0.0
