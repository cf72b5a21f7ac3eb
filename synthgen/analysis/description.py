"""What each beat of a mix sounds like, for the note planner: the chord posteriors, the chroma, the onsets at
each tick of the beat and the loudness.

    description = describe_beats(features, beats [B], chord_log_probabilities [B, C])
    description.chord_probabilities [B, C], .treble [B, 12], .bass [B, 12], .onsets [B, 2, TICKS], .loudness [B]

A beat is cut into TICKS ticks (12: sixteenths are 3 ticks, triplet eighths 4, a compound beat's eighths 4), the
grid the planner writes its notes on; the onset envelopes (all bands, and the kick-and-bass band) are read at
each tick, scaled by the song's own 95th percentile, so the planner sees the groove, not the mix's level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.analysis.features import MixFeatures

TICKS = 12  # grid positions per counted beat
LOUDNESS_RANGE_DB = 30.0  # a beat this much under the song's loudest is called silent (-1)


@dataclass
class BeatDescription:
    chord_probabilities: np.ndarray  # [B, len(CHORDS)] posterior of each chord (N first)
    treble: np.ndarray  # [B, 12] unit chroma
    bass: np.ndarray  # [B, 12] unit chroma
    onsets: np.ndarray  # [B, 2, TICKS] onset strength (all bands, low band) at each tick, about 0..1
    loudness: np.ndarray  # [B] the beat's chroma power in dB relative to the song's loudest beat, / 30, in [-1, 0]


def tick_times(beats: np.ndarray, seconds: float) -> np.ndarray:
    """The seconds of every tick of every beat [B, TICKS]; the last beat lasts as long as the one before."""
    if len(beats) == 0:
        return np.zeros((0, TICKS))
    interval = float(np.median(np.diff(beats))) if len(beats) > 1 else max(seconds, 1e-3)
    ends = np.append(beats[1:], beats[-1] + interval)
    return beats[:, None] + (ends - beats)[:, None] * np.arange(TICKS) / TICKS


def _beat_power_db(features: MixFeatures, beats: np.ndarray) -> np.ndarray:
    times = features.chroma_times
    power = features.treble.sum(axis=1) + features.bass.sum(axis=1)
    cumulative = np.pad(np.cumsum(power), (1, 0))
    ends = np.append(beats[1:], features.seconds)
    first = np.minimum(np.searchsorted(times, beats), len(power))
    last = np.minimum(np.maximum(np.searchsorted(times, ends), first + 1), len(power))
    mean = (cumulative[last] - cumulative[first]) / np.maximum(last - first, 1)
    return 10 * np.log10(np.maximum(mean, 1e-12))


def describe_beats(features: MixFeatures, beats: np.ndarray, treble: np.ndarray, bass: np.ndarray,
                   chord_log_probabilities: np.ndarray) -> BeatDescription:
    """The BeatDescription of beats [B] (seconds) from the mix's features, the beats' unit chroma [B, 12] each
    and their chord log-probabilities [B, C]."""
    frames = features.onset_frames(tick_times(beats, features.seconds).ravel())
    onsets = []
    for envelope in (features.onset, features.low_onset):
        scale = max(float(np.percentile(envelope, 95)) if len(envelope) else 0.0, 1e-9)
        at_ticks = np.interp(frames, np.arange(len(envelope)), envelope) if len(envelope) else np.zeros(len(frames))
        onsets.append(np.minimum(at_ticks / scale, 2.0).reshape(len(beats), TICKS))
    power_db = _beat_power_db(features, beats) if len(beats) else np.zeros(0)
    loudness = np.clip((power_db - power_db.max()) / LOUDNESS_RANGE_DB, -1.0, 0.0) if len(beats) else power_db
    return BeatDescription(np.exp(chord_log_probabilities).astype(np.float32), treble.astype(np.float32),
                           bass.astype(np.float32), np.stack(onsets, axis=1).astype(np.float32),
                           loudness.astype(np.float32))
