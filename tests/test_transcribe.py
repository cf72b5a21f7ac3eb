"""The generated part as MIDI (synthgen/transcribe.py), on synthesized parts with known notes."""

import numpy as np
import pretty_midi
import pytest

from synthgen.notes import Note
from synthgen.transcribe import transcribe

SR = 32000


def saw(midi: int, seconds: float, attack: float = 0.005) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f = 440.0 * 2 ** ((midi - 69) / 12)
    tone = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 12) if f * k < SR / 2)
    envelope = np.minimum(t / attack, 1.0) * np.minimum((seconds - t) / 0.02, 1.0)
    return tone * envelope


def part(notes: list[tuple[float, float, tuple[int, ...]]], seconds: float) -> np.ndarray:
    out = np.zeros(int(seconds * SR))
    for start, length, pitches in notes:
        i = int(start * SR)
        for p in pitches:
            piece = saw(p, length)
            out[i : i + len(piece)] += piece[: len(out) - i]
    return (0.1 * out).astype(np.float32)


@pytest.mark.parametrize("low", [36, 60, 79])  # a bass, a lead and a high line
def test_a_melody_comes_back_note_for_note(low):
    melody = [(0.25 * i, 0.2, (low + step,)) for i, step in enumerate([0, 2, 4, 5, 7, 5, 4, 2, 0, 7, 0, 12])]
    found = transcribe(part(melody, 3.5), SR)
    assert [n.pitch for n in found] == [p[0] for _, _, p in melody]
    assert all(abs(n.start - s) < 0.05 for n, (s, _, _) in zip(found, melody))  # mir_eval's onset tolerance
    assert all(abs((n.end - n.start) - 0.2) < 0.15 for n in found)  # the 256 ms analysis window blurs ends


def test_a_chord_gives_its_three_notes_and_a_held_note_stays_one():
    found = transcribe(part([(0.0, 1.5, (57, 60, 64)), (1.6, 2.0, (65,))], 4.0), SR)
    assert sorted(n.pitch for n in found if n.start < 1.5) == [57, 60, 64]
    assert [n.pitch for n in found if n.start >= 1.5] == [65]
    assert transcribe(np.zeros(SR, np.float32), SR) == []
