"""Pictures: written for any level, silence included."""

import numpy as np

from tests.helpers.factories import tone
from synthgen.plots import waveforms_and_spectrograms


def test_spectrograms_of_a_tone_and_of_silence(tmp_path):
    path = waveforms_and_spectrograms({"tone": tone(2.0, 16000)[0], "silence": np.zeros(32000, np.float32)}, 16000,
                                      tmp_path / "plot.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
