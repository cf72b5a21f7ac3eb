"""Chords per beat: beat-synchronous chroma matched against chord templates, smoothed by a Viterbi path.

    beat_chroma(features, beat_times [B]) -> (treble [B, 12], bass [B, 12]) unit chroma per beat
    template_log_probabilities(treble, bass) -> [B, len(CHORDS)]   (or chord_model.ChordModel's, when shipped)
    decode_chords(log_probabilities [B, len(CHORDS)], change [B]) -> (chord index [B], confidence [B])
    CHORDS[i].label -> "A:min7" (Harte's syntax, as mir_eval and MIREX .lab files write it), .name -> "Am7"

Each beat's chroma (power summed over the beat, square-rooted, unit length) is scored against every chord of
VOCABULARY in all twelve roots: the cosine with the chord's tones, plus BASS_WEIGHT times the bass chroma's share
on the root (an inversion still scores on its tones). "N" (no chord) scores NO_CHORD_SCORE, so silence and drums
alone read as N. The scores become probabilities (a softmax of SHARPNESS * score) and a Viterbi path through the
beats keeps a chord unless the music moves on: leaving a chord costs log(change[b]), the chance of a change at
beat b, higher on a downbeat than inside a bar (`meter.change_chances`). The confidence of a beat is its chord's
share of the softmax there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.analysis.features import MixFeatures, unit_chroma
from synthgen.analysis.key import PITCH_NAMES

VOCABULARY = {  # Harte shorthand -> (intervals above the root, the suffix of a chord symbol)
    "maj": ((0, 4, 7), ""), "min": ((0, 3, 7), "m"), "7": ((0, 4, 7, 10), "7"), "maj7": ((0, 4, 7, 11), "maj7"),
    "min7": ((0, 3, 7, 10), "m7"), "sus2": ((0, 2, 7), "sus2"), "sus4": ((0, 5, 7), "sus4"),
    "dim": ((0, 3, 6), "dim"),
}
BASS_WEIGHT = 0.3
NO_CHORD_SCORE = 0.45
SHARPNESS = 12.0


@dataclass(frozen=True)
class Chord:
    root: int | None  # pitch class, C = 0; None for N
    quality: str = ""  # a VOCABULARY key

    @property
    def label(self) -> str:
        return "N" if self.root is None else f"{PITCH_NAMES[self.root]}:{self.quality}"

    @property
    def name(self) -> str:
        return "N.C." if self.root is None else PITCH_NAMES[self.root] + VOCABULARY[self.quality][1]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return () if self.root is None else tuple((self.root + i) % 12 for i in VOCABULARY[self.quality][0])


CHORDS = (Chord(None),) + tuple(Chord(root, quality) for quality in VOCABULARY for root in range(12))


def _templates() -> np.ndarray:
    """Unit templates of every chord but N -> [len(CHORDS) - 1, 12]."""
    rows = np.zeros((len(CHORDS) - 1, 12))
    for row, chord in zip(rows, CHORDS[1:]):
        row[list(chord.pitch_classes)] = 1
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


TEMPLATES = _templates()
ROOTS = np.array([chord.root for chord in CHORDS[1:]])


def beat_chroma(features: MixFeatures, beat_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit chroma of each beat [B, 12] (treble, bass): the chroma frames whose centres fall between a beat and
    the next (the last beat: one median beat long), summed."""
    times = features.chroma_times
    ends = np.append(beat_times[1:], beat_times[-1] + np.median(np.diff(beat_times)) if len(beat_times) > 1 else np.inf)
    first = np.searchsorted(times, beat_times)
    last = np.maximum(np.searchsorted(times, ends), first + 1)

    def per_beat(power: np.ndarray) -> np.ndarray:
        cumulative = np.pad(np.cumsum(power, axis=0), ((1, 0), (0, 0)))
        return unit_chroma(cumulative[np.minimum(last, len(power))] - cumulative[np.minimum(first, len(power))])

    return per_beat(features.treble), per_beat(features.bass)


def chord_scores(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """How well each chord of CHORDS fits each beat -> [B, len(CHORDS)] (N first)."""
    fits = treble @ TEMPLATES.T + BASS_WEIGHT * bass[:, ROOTS] ** 2
    silent = ~treble.any(axis=1)
    no_chord = np.where(silent, 1.0, NO_CHORD_SCORE)[:, None]
    return np.concatenate([no_chord, np.where(silent[:, None], 0.0, fits)], axis=1)


def template_log_probabilities(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """Log-probability of every chord of CHORDS at each beat from the templates -> [B, len(CHORDS)]: a softmax of
    SHARPNESS times the scores."""
    logits = SHARPNESS * chord_scores(treble, bass)
    logits -= logits.max(axis=1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def decode_chords(log_probabilities: np.ndarray, change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The likeliest chord of each beat [B] (indices into CHORDS) and its confidence [B], given each beat's
    log-probabilities of the chords [B, S] and the chance of a chord change at each beat `change` [B] (0..1)."""
    emission = np.maximum(log_probabilities, np.log(1e-12))
    states = emission.shape[1]
    stay, move = np.log(1 - change), np.log(change / (states - 1))
    score, links = emission[0].copy(), np.zeros(emission.shape, dtype=int)
    for b in range(1, len(emission)):
        best = int(np.argmax(score))
        moved = score[best] + move[b]
        kept = score + stay[b]
        links[b] = np.where(kept >= moved, np.arange(states), best)
        score = np.maximum(kept, moved) + emission[b]
    path = np.zeros(len(emission), dtype=int)
    path[-1] = int(np.argmax(score))
    for b in range(len(emission) - 1, 0, -1):
        path[b - 1] = links[b, path[b]]
    return path, np.exp(log_probabilities[np.arange(len(path)), path])
