"""Pictures: written for any level, silence included."""

import numpy as np

from tests.helpers.factories import tone
from synthgen.plots import waveforms_and_spectrograms


def test_spectrograms_of_a_tone_and_of_silence(tmp_path):
    path = waveforms_and_spectrograms({"tone": tone(2.0, 16000)[0], "silence": np.zeros(32000, np.float32)}, 16000,
                                      tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_the_notes_are_drawn_under_the_audio_in_one_picture(tmp_path):
    from PIL import Image

    from synthgen.analysis import analyze
    from synthgen.notes import Note
    from synthgen.plots import audio_and_notes
    from tests.helpers.factories import PROGRESSION_SR, progression

    mix = progression(0, bars=2)
    tracks = {"mix": mix}
    analysis = analyze(mix, PROGRESSION_SR)
    alone = audio_and_notes(tracks, PROGRESSION_SR, {}, analysis, tmp_path / "alone.png")
    both = audio_and_notes(tracks, PROGRESSION_SR, {"pad": [Note(0.0, 2.0, 60, 0.8), Note(2.0, 4.0, 57, 0.8)]},
                           analysis, tmp_path / "both.png")
    assert Image.open(both).height > Image.open(alone).height * 1.3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alone.png", "both.png"]  # no parts left behind
