"""Key and tempo of a mix (synthgen/analysis/) on cadences with a known key and tempo; the in-key share of a stem."""

import numpy as np
import pytest

from synthgen.analysis import Key, analyze, in_key_share

SR = 32000


def note(midi: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 5)) * np.exp(-t * 1.5)


def cadence(tonic: int, minor: bool, bpm: float, bars: int = 4) -> np.ndarray:
    """I-IV-V-I chords (one per bar) over a bass on the root and a kick on every beat."""
    beat = 60 / bpm
    third = 3 if minor else 4
    chords = [(0, third, 7), (5, 5 + third, 12), (7, 11, 14), (0, third, 7)]
    out = []
    for bar in range(bars):
        root, *rest = chords[bar % 4]
        chord = sum(note(48 + tonic + i, 4 * beat) for i in (root, *rest)) + note(36 + tonic + root, 4 * beat)
        kick = np.zeros_like(chord)
        for b in range(4):
            start = int(b * beat * SR)
            kick[start : start + 800] += np.sin(2 * np.pi * 60 * np.arange(800) / SR) * np.exp(-np.arange(800) / 200) * 3
        out.append(chord + kick)
    return (0.05 * np.concatenate(out)).astype(np.float32)


@pytest.mark.parametrize("tonic, minor, bpm", [(4, False, 100.0), (9, True, 128.0), (2, False, 76.0)])
def test_key_and_tempo_of_a_cadence(tonic, minor, bpm):
    analysis = analyze(cadence(tonic, minor, bpm, bars=8), SR)
    assert analysis.key.major_minor == Key(tonic, "minor" if minor else "major").major_minor
    assert analysis.tempo == pytest.approx(bpm, rel=0.03)


def test_in_key_share_tells_a_scale_from_a_chromatic_run():
    key = Key(0, "major")
    assert key.name == "C major" and key.pitch_classes == (0, 2, 4, 5, 7, 9, 11)
    in_scale = np.concatenate([note(60 + step, 0.5) for step in key.pitch_classes])
    chromatic = np.concatenate([note(60 + step, 0.5) for step in range(12)])
    assert in_key_share(in_scale, SR, key) > 0.9
    assert in_key_share(chromatic, SR, key) == pytest.approx(7 / 12, abs=0.1)


def test_silence_has_no_key():
    silence = np.zeros(SR * 5, np.float32)
    assert analyze(silence, SR).key is None
    assert np.isnan(in_key_share(silence, SR, Key(0, "major")))
