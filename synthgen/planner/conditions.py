"""What the note planner knows of each beat of the mix, from its MixAnalysis (computed from the audio, never from
a generator's true chords) -> conditions [B, FEATURES] float32.

Per beat: the chord posterior as a pitch-class profile, root and quality distributions and the chance of no chord;
the treble and bass chroma; the decoded chord (pitch classes, root), whether it changed at this beat, how many
beats since and until a change, and the next beat's chord; the onsets at each of the beat's ticks (all bands and
the kick-and-bass band) and its loudness; its place in the bar, the meter, the tempo and the key's scale.
Pitch-class groups (ROLLED) turn with a transposition: `transpose(conditions, k)` is the song k semitones up.
"""

from __future__ import annotations

import numpy as np

from synthgen.analysis.chords import CHORDS, VOCABULARY
from synthgen.analysis.description import TICKS
from synthgen.analysis.meter import MAX_PLACES, METERS
from synthgen.analysis.mix import MixAnalysis

GROUPS = (  # name, width, turns with a transposition
    ("profile", 12, True), ("root", 12, True), ("quality", len(VOCABULARY), False), ("no_chord", 1, False),
    ("treble", 12, True), ("bass", 12, True), ("chord", 12, True), ("chord_root", 12, True),
    ("changes", 3, False), ("next_chord", 12, True), ("onsets", 2 * TICKS, False), ("loudness", 1, False),
    ("place", MAX_PLACES, False), ("meter", len(METERS), False), ("tempo", 1, False), ("scale", 12, True),
)
FEATURES = sum(width for _, width, _ in GROUPS)
CHANGE_HORIZON = 8  # beats since and until a chord change are counted up to this, then / this
_PITCH_CLASSES = np.array([[pc in chord.pitch_classes for pc in range(12)] for chord in CHORDS], dtype=np.float32)


def _slices() -> dict[str, slice]:
    slices, start = {}, 0
    for name, width, _ in GROUPS:
        slices[name] = slice(start, start + width)
        start += width
    return slices


SLICES = _slices()
ROLLED = [SLICES[name] for name, _, rolled in GROUPS if rolled]


def _since_change(changed: np.ndarray) -> np.ndarray:
    since, count = np.zeros(len(changed)), CHANGE_HORIZON
    for b, change in enumerate(changed):
        count = 0 if change else min(count + 1, CHANGE_HORIZON)
        since[b] = count
    return since / CHANGE_HORIZON


def beat_conditions(analysis: MixAnalysis) -> np.ndarray:
    """The planner's conditions of every beat of a mix [B, FEATURES]."""
    description, beats = analysis.description, len(analysis.beats)
    out = np.zeros((beats, FEATURES), np.float32)
    if beats == 0 or description is None:
        return out
    probs = description.chord_probabilities
    chord_probs = probs[:, 1:].reshape(beats, len(VOCABULARY), 12)  # CHORDS: N, then each quality over 12 roots
    out[:, SLICES["profile"]] = probs @ _PITCH_CLASSES
    out[:, SLICES["root"]] = chord_probs.sum(axis=1)
    out[:, SLICES["quality"]] = chord_probs.sum(axis=2)
    out[:, SLICES["no_chord"]] = probs[:, :1]
    out[:, SLICES["treble"]], out[:, SLICES["bass"]] = description.treble, description.bass
    decoded = _PITCH_CLASSES[[CHORDS.index(c) for c in analysis.beat_chords]]
    out[:, SLICES["chord"]] = decoded
    roots = [c.root for c in analysis.beat_chords]
    for b, root in enumerate(roots):
        if root is not None:
            out[b, SLICES["chord_root"].start + root] = 1
    changed = np.array([b == 0 or analysis.beat_chords[b] != analysis.beat_chords[b - 1] for b in range(beats)])
    until = _since_change(np.append(changed[1:], True)[::-1])[::-1]
    out[:, SLICES["changes"]] = np.stack([changed, _since_change(changed), until], axis=1)
    out[:-1, SLICES["next_chord"]] = decoded[1:]
    out[:, SLICES["onsets"]] = description.onsets.reshape(beats, -1)
    out[:, SLICES["loudness"].start] = description.loudness
    places = (np.arange(beats) - analysis.first_downbeat) % analysis.meter.beats_per_bar
    out[np.arange(beats), SLICES["place"].start + places] = 1
    out[:, SLICES["meter"].start + list(METERS).index(analysis.meter.name)] = 1
    out[:, SLICES["tempo"].start] = np.log2(analysis.tempo / 120.0)
    if analysis.key is not None:
        out[:, [SLICES["scale"].start + pc for pc in analysis.key.pitch_classes]] = 1
    return out


def transpose(conditions: np.ndarray, semitones: int) -> np.ndarray:
    """Conditions [..., FEATURES] of the same song `semitones` higher (pitch-class groups turned)."""
    out = conditions.copy()
    for group in ROLLED:
        out[..., group] = np.roll(conditions[..., group], semitones, axis=-1)
    return out
