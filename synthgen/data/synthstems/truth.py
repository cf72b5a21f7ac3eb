"""What a SynthStems track's meta.json knows of its song, in the terms an analysis is measured in.

    backing(folder) -> (mono backing [N], sample_rate, SongTruth): what a producer would give SynthGen, and its truth
    SongTruth.of(meta) -> .beats [B], .downbeats [D] (seconds), .meter ("4/4"), .bpm, .key ("B minor"),
                          .chords [(start, end, root, intervals)], .harte() -> ([[start, end]], labels)

The first SynthStems (classic) is always 4/4 with bar 1 at 0 s; a record track names its meter, and its bar grid
starts at 0 s too (its sections are whole bars from there). Swing and humanizing move notes, not the grid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from synthgen.data.synthstems.theory import NOTE_NAMES

STEPS = {"4/4": (4, 16), "3/4": (4, 12), "6/8": (6, 12)}  # sixteenth steps per counted beat and per bar
HARTE = {(0, 4, 7): "maj", (0, 3, 7): "min", (0, 4, 7, 10): "7", (0, 4, 7, 11): "maj7", (0, 3, 7, 10): "min7",
         (0, 3, 6): "dim", (0, 3, 6, 10): "hdim7", (0, 3, 6, 9): "dim7", (0, 2, 7): "sus2", (0, 5, 7): "sus4",
         (0, 2, 4, 7): "maj(9)", (0, 2, 3, 7): "min(9)", (0, 4, 8): "aug"}
INTERVAL_NAMES = ("1", "b2", "2", "b3", "3", "4", "b5", "5", "b6", "6", "b7", "7")


@dataclass
class SongTruth:
    beats: np.ndarray
    downbeats: np.ndarray
    meter: str
    bpm: float
    tonic: int  # pitch class, C = 0
    mode: str
    chords: list[tuple[float, float, int, tuple[int, ...]]]

    @classmethod
    def of(cls, meta: dict) -> "SongTruth":
        meter = meta.get("meter", "4/4")
        beat_steps, bar_steps = STEPS[meter]
        step, seconds = meta["step_seconds"], meta["seconds"]
        chords = [(c["start"], c["end"], c["root"], tuple(sorted({(p - c["root"]) % 12 for p in c["pitch_classes"]})))
                  for c in meta["chords"] if c["start"] < seconds]
        return cls(np.arange(0, seconds - 1e-6, beat_steps * step), np.arange(0, seconds - 1e-6, bar_steps * step),
                   meter, 60.0 / (beat_steps * step), meta["key_tonic"], meta["mode"], chords)

    @property
    def key(self) -> str:
        """"B minor", "D dorian"."""
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def major_minor_key(self) -> str:
        """The key as mir_eval knows keys: dorian as minor, mixolydian as major."""
        return self.key.split()[0] + (" minor" if self.mode in ("minor", "dorian") else " major")

    def harte(self) -> tuple[np.ndarray, list[str]]:
        """The chords as intervals [C, 2] and Harte labels ("A:min7", "C:(2,5)" for a chord with no shorthand)."""
        labels = []
        for _, _, root, intervals in self.chords:
            quality = HARTE.get(intervals) or "(" + ",".join(INTERVAL_NAMES[i] for i in intervals) + ")"
            labels.append(f"{NOTE_NAMES[root]}:{quality}")
        return np.array([[start, end] for start, end, _, _ in self.chords]), labels

    def chord_at(self, seconds: float) -> tuple[int, tuple[int, ...]]:
        """(root, intervals) of the chord sounding at `seconds`."""
        for start, end, root, intervals in self.chords:
            if start <= seconds < end:
                return root, intervals
        return self.chords[-1][2], self.chords[-1][3]


def backing(folder: Path) -> tuple[np.ndarray, int, SongTruth]:
    """A track's backing (mixture minus synth, its channels averaged) [N], its sample rate, and its truth."""
    mix, sample_rate = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)
    synth, _ = sf.read(folder / "synth.wav", dtype="float32", always_2d=True)
    return (mix - synth).mean(axis=1), sample_rate, SongTruth.of(json.loads((folder / "meta.json").read_text()))
