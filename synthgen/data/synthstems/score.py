"""Scores for SynthStems: a drum groove, a bass line, a harmonic backing and the synth part.

All onsets lie on a 16th-note grid; all melodic notes come from the key's scale (diatonic chords).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pretty_midi

from synthgen.data.synthstems.theory import Chord, Key
from synthgen.notes import Note

ROLES = ("lead", "arpeggio", "pad", "stabs", "bass")
REGISTERS = {"low": (36, 59), "mid": (55, 76), "high": (72, 96)}  # where a part's voicings start and end

# 16-step drum grooves: instrument -> steps (velocity 1 on the listed steps).
GROOVES = {
    "four on the floor": {"kick": [0, 4, 8, 12], "snare": [4, 12], "hat": [2, 6, 10, 14], "closed": [0, 4, 8, 12]},
    "backbeat": {"kick": [0, 8, 10], "snare": [4, 12], "closed": [0, 2, 4, 6, 8, 10, 12, 14]},
    "half-time": {"kick": [0, 6], "snare": [8], "closed": [0, 2, 4, 6, 8, 10, 12, 14]},
    "breakbeat": {"kick": [0, 3, 10], "snare": [4, 12], "closed": list(range(16))},
    "sparse": {"kick": [0], "snare": [12], "closed": [2, 6, 10, 14]},
}
STAB_PATTERNS = [[2, 6, 10, 14], [0, 3, 6, 10, 12], [2, 5, 8, 11, 14], [4, 12], [0, 6, 12], [3, 6, 11, 14]]
BASS_PATTERNS = [[0, 4, 8, 12], [0, 2, 4, 6, 8, 10, 12, 14], [0, 3, 6, 8, 11, 14], [0, 8, 10], [0, 6, 8, 14]]
COMP_PATTERNS = {"sustained": [0], "half notes": [0, 8], "quarter comping": [0, 4, 8, 12],
                 "offbeat": [2, 6, 10, 14], "syncopated": [0, 6, 10]}


@dataclass
class Score:
    key: Key
    tempo: float
    chords: list[Chord]
    synth_role: str
    synth: list[Note]
    bass: list[Note] = field(default_factory=list)
    backing: list[Note] = field(default_factory=list)
    drums: list[tuple[float, str, float]] = field(default_factory=list)  # (time, instrument, velocity)
    groove: str = ""
    comping: str = ""

    @property
    def step_seconds(self) -> float:
        return 60.0 / self.tempo / 4

    def to_midi(self, synth_program: int, backing_program: int) -> pretty_midi.PrettyMIDI:
        midi = pretty_midi.PrettyMIDI(initial_tempo=self.tempo)
        drum_notes = {"kick": 36, "snare": 38, "closed": 42, "hat": 46}
        parts = [("synth", synth_program, False, self.synth), ("bass", 33, False, self.bass),
                 ("backing", backing_program, False, self.backing)]
        for name, program, is_drum, notes in parts:
            if notes:
                inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name=name)
                inst.notes = [pretty_midi.Note(n.midi_velocity, n.pitch, n.start, n.end) for n in notes]
                midi.instruments.append(inst)
        drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
        drums.notes = [pretty_midi.Note(int(round(v * 127)), drum_notes[d], t, t + self.step_seconds)
                       for t, d, v in self.drums]
        midi.instruments.append(drums)
        return midi


def chord_at(chords: list[Chord], t: float) -> Chord:
    for chord in chords:
        if chord.start <= t < chord.end:
            return chord
    return chords[-1]


def _steps(seconds: float, step: float) -> int:
    return int(np.ceil(seconds / step - 1e-9))


def drum_part(rng: np.random.Generator, groove: str, step: float, seconds: float) -> list[tuple[float, str, float]]:
    hits = []
    for s in range(_steps(seconds, step)):
        for drum, steps in GROOVES[groove].items():
            if s % 16 in steps:
                accent = 1.0 if s % 4 == 0 else 0.75
                hits.append((s * step, drum, float(np.clip(accent * rng.uniform(0.8, 1.0), 0, 1))))
    return hits


def _pattern_notes(rng, chords, pattern, step, seconds, pitches_for, gate, bar_steps: int = 16) -> list[Note]:
    """Notes on the `bar_steps`-step `pattern` in every bar; `pitches_for(chord)` gives the pitches of a hit."""
    pattern = [s for s in pattern if s < bar_steps] or [0]
    notes = []
    onsets = [s for s in range(_steps(seconds, step)) if s % bar_steps in pattern]
    for i, s in enumerate(onsets):
        nxt = onsets[i + 1] if i + 1 < len(onsets) else s + bar_steps - pattern[-1] + pattern[0]
        start = s * step
        end = start + max(1, (nxt - s)) * step * gate
        velocity = float(rng.uniform(0.7, 1.0) if s % 4 else rng.uniform(0.85, 1.0))
        notes += [Note(start, end, p, velocity) for p in pitches_for(chord_at(chords, start))]
    return notes


def bass_part(rng, chords, step, seconds) -> list[Note]:
    pattern = BASS_PATTERNS[int(rng.integers(len(BASS_PATTERNS)))]
    return _pattern_notes(rng, chords, pattern, step, seconds, lambda c: c.voicing(36, 47, 1), rng.uniform(0.6, 0.95))


def backing_part(rng, chords, step, seconds) -> tuple[str, list[Note]]:
    comping = str(rng.choice(list(COMP_PATTERNS)))
    size = int(rng.choice([3, 4]))
    low = int(rng.integers(50, 58))
    gate = 0.95 if comping == "sustained" else rng.uniform(0.5, 0.9)
    notes = _pattern_notes(rng, chords, COMP_PATTERNS[comping], step, seconds, lambda c: c.voicing(low, low + 24, size), gate)
    return comping, notes


ARP_SHAPES = ("up", "down", "up-down")
MORE_ARP_SHAPES = (*ARP_SHAPES, "random", "octave jump")  # SynthStems' record style


def synth_part(rng, role: str, register: str, key: Key, chords: list[Chord], step: float, seconds: float,
               rate: int, bar_steps: int = 16, arp_shapes: tuple[str, ...] = ARP_SHAPES) -> list[Note]:
    """The synth's notes for a role. `rate` is the note grid in 16th steps (arpeggio and lead density);
    a bar has `bar_steps` steps; an arpeggio takes one of `arp_shapes`."""
    low, high = REGISTERS[register]
    if role == "pad":
        size = int(rng.choice([3, 4]))
        return [Note(c.start, min(c.end, seconds), p, 0.8) for c in chords for p in c.voicing(low, high, size)]
    if role == "stabs":
        pattern = STAB_PATTERNS[int(rng.integers(len(STAB_PATTERNS)))]
        return _pattern_notes(rng, chords, pattern, step, seconds, lambda c: c.voicing(low, high, 3), rng.uniform(0.3, 0.6),
                              bar_steps)
    if role == "bass":
        pattern = BASS_PATTERNS[int(rng.integers(len(BASS_PATTERNS)))]
        return _pattern_notes(rng, chords, pattern, step, seconds, lambda c: c.voicing(low, high, 1), rng.uniform(0.5, 0.95),
                              bar_steps)
    if role == "arpeggio":
        return _arpeggio(rng, chords, step, seconds, low, high, rate, arp_shapes)
    return _lead(rng, key, chords, step, seconds, low, high, rate, 2 * bar_steps)


def _arpeggio(rng, chords, step, seconds, low, high, rate, shapes=ARP_SHAPES) -> list[Note]:
    shape = str(rng.choice(list(shapes)))
    order = rng.permutation(16) if shape == "random" else None  # one shuffled order of the chord tones, repeated
    span = int(rng.choice([1, 2]))
    gate = rng.uniform(0.4, 0.95)
    notes = []
    for i, s in enumerate(range(0, _steps(seconds, step), rate)):
        chord = chord_at(chords, s * step)
        tones = chord.voicing(low, min(high, low + 12 * span + 4), len(chord.pitch_classes) * span)
        if shape == "random":
            cycle = [tones[j % len(tones)] for j in order[: len(tones)]]
        elif shape == "octave jump":
            cycle = [p for tone in tones for p in (tone, tone + 12)]
        else:
            cycle = {"up": tones, "down": tones[::-1], "up-down": tones + tones[-2:0:-1]}[shape]
        start = s * step
        notes.append(Note(start, start + rate * step * gate, cycle[i % len(cycle)], 0.9 if s % 4 == 0 else 0.75))
    return notes


def _lead(rng, key, chords, step, seconds, low, high, rate, motif_steps: int = 32) -> list[Note]:
    """A melody: a two-bar rhythm motif (`motif_steps` long) repeated; chord tones on beats, scale steps between."""
    grid = list(range(0, motif_steps, rate))
    onsets = sorted({0} | {s for s in grid if rng.random() < 0.6})
    gate = rng.uniform(0.6, 1.0)
    scale = key.scale_pitches(low, high)
    pitch = scale[len(scale) // 2]
    notes = []
    for bar2 in range(0, _steps(seconds, step), motif_steps):
        for i, s in enumerate(onsets):
            start_step = bar2 + s
            start = start_step * step
            if start >= seconds:
                break
            chord = chord_at(chords, start)
            if s % 4 == 0:  # on the beat: the nearest chord tone
                tones = [p for p in scale if p % 12 in chord.pitch_classes]
                pitch = min(tones, key=lambda p: (abs(p - pitch), p))
            else:  # between beats: a step or a skip along the scale
                index = scale.index(pitch) + int(rng.choice([-2, -1, 1, 1, 2]))
                pitch = scale[int(np.clip(index, 0, len(scale) - 1))]
            nxt = onsets[i + 1] if i + 1 < len(onsets) else motif_steps
            notes.append(Note(start, start + (nxt - s) * step * gate, pitch, 0.95 if s % 8 == 0 else 0.8))
    return notes
