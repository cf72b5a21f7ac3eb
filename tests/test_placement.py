"""The placement rule (synthgen/placement.py): where a stem sits in its mix, for whole arrays and in blocks."""

import numpy as np
import pytest

from synthgen.generation_settings import GenerationSettings
from synthgen.loudness import integrated_loudness
from synthgen.placement import FALLBACK_LUFS, StemPlacement, limit_peak, stereo_spread
from tests.helpers.factories import peak_dbfs, pulsing_chord, tone


def test_limit_peak_scales_loud_audio_down_and_keeps_its_dtype():
    loud = (tone(0.5, 16000) * 4).astype(np.float32)
    limited = limit_peak(loud, -1.0)
    assert limited.dtype == np.float32 and peak_dbfs(limited) == pytest.approx(-1.0, abs=1e-3)
    quiet = tone(0.5, 16000) * 0.1
    assert limit_peak(quiet, -1.0) is quiet


def test_stereo_spread_is_wide_and_folds_down_to_the_stem():
    sr = 44100
    stem = pulsing_chord(3.0, sr)
    left, right = stereo_spread(stem, sr)
    assert np.corrcoef(left, right)[0, 1] < 0.95  # a stereo image, not the same signal twice
    fold = (left + right) / 2
    np.testing.assert_allclose(fold, stem, atol=1e-6)  # mono playback hears the stem itself
    stereo_lufs = integrated_loudness(np.stack([left, right]), sr)
    assert abs(stereo_lufs - integrated_loudness(np.stack([fold, fold]), sr)) < 1.0
    spectrum = lambda x: np.abs(np.fft.rfft(x * np.hanning(len(x))))  # noqa: E731
    strong = spectrum(stem) > spectrum(stem).max() * 1e-3
    notch = 20 * np.log10(spectrum(fold)[strong] / spectrum(stem)[strong])
    assert notch.min() > -6.0


def place(stem, mix, level_db, loudness, stereo, sr=32000):
    settings = GenerationSettings(level_db=level_db, loudness=loudness, mono=not stereo)
    return StemPlacement.for_mix(mix, sr, settings).place(stem)


def test_a_placed_stem_sits_6_lu_below_the_mix_and_under_minus_1_dbfs():
    sr = 32000
    rng = np.random.default_rng(0)
    mix = (rng.standard_normal((2, 4 * sr)) * 0.1).astype(np.float32)
    stem = pulsing_chord(4.0, sr) * 0.01
    placed = place(stem, mix, level_db=-6.0, loudness=None, stereo=True)
    assert placed.shape == (2, 4 * sr)
    assert integrated_loudness(placed, sr) == pytest.approx(integrated_loudness(mix, sr) - 6.0, abs=0.3)
    assert peak_dbfs(placed) <= -1.0 + 1e-6
    centred = place(stem, mix, level_db=-6.0, loudness=-30.0, stereo=False)
    assert np.array_equal(centred[0], centred[1])
    assert integrated_loudness(centred, sr) == pytest.approx(-30.0, abs=0.3)
    loud = place(stem * 100, mix, level_db=12.0, loudness=None, stereo=True)
    assert peak_dbfs(loud) == pytest.approx(-1.0, abs=1e-3)  # the peak ceiling wins over the level
    silent = place(stem, np.zeros_like(mix), level_db=-6.0, loudness=None, stereo=True)
    assert integrated_loudness(silent, sr) == pytest.approx(FALLBACK_LUFS, abs=0.3)
    mono = place(stem, mix[:1], level_db=-6.0, loudness=None, stereo=True)
    assert mono.shape == (1, 4 * sr)


@pytest.mark.parametrize("channels, mono", [(2, False), (2, True), (1, False), (3, False)])
def test_a_stem_placed_block_by_block_is_the_stem_placed_whole(channels, mono):
    sr = 44100
    mix = tone(3.0, sr, channels, seed=1)
    stem = pulsing_chord(3.0, sr)
    settings = GenerationSettings(mono=mono)
    whole = StemPlacement.for_mix(mix, sr, settings).place(stem)
    placement = StemPlacement(channels, sr, integrated_loudness(mix, sr), settings)
    blocks = lambda: (stem[i : i + 10_000] for i in range(0, len(stem), 10_000))  # noqa: E731
    gain = placement.gain(placement.spread(blocks()))
    streamed = np.concatenate([block * gain for block in placement.spread(blocks())], axis=1)
    assert whole.shape == streamed.shape == (channels, len(stem))
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-6)
