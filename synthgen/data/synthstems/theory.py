"""Music theory for SynthStems: keys, diatonic chords and progressions.

Pitches are MIDI note numbers; pitch classes are 0..11 with C = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10],  # natural minor: no raised 7th
          "dorian": [0, 2, 3, 5, 7, 9, 10], "mixolydian": [0, 2, 4, 5, 7, 9, 10]}
CLASSIC_MODES = ("major", "minor")

# Progressions as scale degrees (0 = tonic), one chord per harmonic step.
PROGRESSIONS = {
    "major": [[0, 4, 5, 3], [0, 5, 3, 4], [5, 3, 0, 4], [0, 3, 4, 3], [1, 4, 0, 0], [0, 2, 3, 4], [3, 0, 4, 5]],
    "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 5, 4], [0, 5, 3, 4], [5, 6, 0, 0], [0, 2, 6, 3]],
    "dorian": [[0, 3, 0, 3], [0, 6, 3, 0], [0, 1, 3, 0], [0, 3, 6, 3]],
    "mixolydian": [[0, 6, 3, 0], [0, 3, 6, 0], [0, 6, 0, 3], [0, 4, 6, 3]],
}
# Chord colours beyond triads: scale steps above the root (2 = a third up, 4 = a fifth ...), and the name's suffix.
COLOURS = {"triad": ((0, 2, 4), ""), "seventh": ((0, 2, 4, 6), "7"), "sus2": ((0, 1, 4), "sus2"),
           "sus4": ((0, 3, 4), "sus4"), "add9": ((0, 2, 4, 8), "add9")}


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class
    mode: str  # "major" | "minor"

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def pitch_classes(self) -> list[int]:
        return [(self.tonic + step) % 12 for step in SCALES[self.mode]]

    def scale_pitches(self, low: int, high: int) -> list[int]:
        """Every pitch of the scale in [low, high]."""
        classes = set(self.pitch_classes)
        return [p for p in range(low, high + 1) if p % 12 in classes]


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class
    pitch_classes: tuple[int, ...]  # root first, then third, fifth (and seventh)
    start: float  # seconds
    end: float
    colour: str = ""  # a COLOURS name (coloured chords only)
    bass: int | None = None  # the bass's pitch class when it is not the root (an inversion or a slash chord)

    @property
    def bass_class(self) -> int:
        return self.root if self.bass is None else self.bass

    @property
    def name(self) -> str:
        if self.colour:
            quality = "" if (self.pitch_classes[1] - self.root) % 12 in (2, 4, 5) else "m"
            if (self.pitch_classes[2] - self.root) % 12 == 6:
                quality = "dim"
            name = NOTE_NAMES[self.root] + quality + COLOURS[self.colour][1]
            return name + (f"/{NOTE_NAMES[self.bass]}" if self.bass is not None else "")
        third = (self.pitch_classes[1] - self.root) % 12
        name = NOTE_NAMES[self.root] + ("" if third == 4 else "m")
        if (self.pitch_classes[2] - self.root) % 12 == 6:
            name = NOTE_NAMES[self.root] + "dim"
        return name + ("7" if len(self.pitch_classes) == 4 else "")

    def voicing(self, low: int, high: int, size: int) -> list[int]:
        """`size` chord tones from `low` upwards, stacked close (root position or an inversion)."""
        pitches = [p for p in range(low, high + 1) if p % 12 in self.pitch_classes]
        return pitches[:size]


def diatonic_chord(key: Key, degree: int, seventh: bool, start: float, end: float) -> Chord:
    scale = key.pitch_classes
    steps = (0, 2, 4, 6) if seventh else (0, 2, 4)
    classes = tuple(scale[(degree + s) % 7] for s in steps)
    return Chord(root=classes[0], pitch_classes=classes, start=start, end=end)


def coloured_chord(key: Key, degree: int, colour: str, start: float, end: float, bass: int | None = None) -> Chord:
    """The chord on a scale degree with a colour of COLOURS, over `bass` (a pitch class) when given."""
    scale = key.pitch_classes
    classes = tuple(scale[(degree + step) % 7] for step in COLOURS[colour][0])
    return Chord(root=classes[0], pitch_classes=classes, start=start, end=end, colour=colour,
                 bass=None if bass == classes[0] else bass)


def sample_key(rng: np.random.Generator, modes: tuple[str, ...] = CLASSIC_MODES) -> Key:
    return Key(tonic=int(rng.integers(12)), mode=str(rng.choice(list(modes))))


def sample_progression(rng: np.random.Generator, key: Key, bar_seconds: float, seconds: float) -> list[Chord]:
    """Chords covering [0, seconds): a 4-chord progression repeated, one or two bars per chord."""
    degrees = PROGRESSIONS[key.mode][int(rng.integers(len(PROGRESSIONS[key.mode])))]
    chord_seconds = bar_seconds * int(rng.choice([1, 1, 2]))
    seventh = bool(rng.random() < 0.25)
    chords, t, i = [], 0.0, 0
    while t < seconds:
        chords.append(diatonic_chord(key, degrees[i % len(degrees)], seventh, t, t + chord_seconds))
        t += chord_seconds
        i += 1
    return chords
