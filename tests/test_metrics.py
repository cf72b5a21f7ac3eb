"""Each audio metric on constructed audio where the answer is known."""

import numpy as np
import pytest

from synthgen.eval.metrics import (AttributeClassifier, attribute_probes, frechet_distance, harmonic_fit, mix_copy,
                                   onsets, pitch_height, rhythmic_fit, sustain)
from synthgen.eval.probes import frame_comb_share

SR = 32000


def note(midi: float, seconds: float, harmonics: int = 6, attack: float = 0.005, decay: float | None = None) -> np.ndarray:
    """A harmonic tone with a linear attack and an optional exponential decay."""
    t = np.arange(round(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    wave = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, harmonics + 1) if f0 * h < SR / 2)
    envelope = np.minimum(1.0, t / attack)
    if decay is not None:
        envelope = envelope * np.exp(-t / decay)
    return 0.3 * wave * envelope


def sequence(pitches: list[float | None], step: float, offset: float = 0.0, **kwargs) -> np.ndarray:
    """Notes one after another every `step` seconds, the first starting at `offset`."""
    out = np.zeros(round((offset + step * len(pitches)) * SR))
    for i, midi in enumerate(pitches):
        if midi is None:  # a rest
            continue
        start = round((offset + i * step) * SR)
        tone = note(midi, step, **kwargs)
        out[start : start + len(tone)] += tone[: len(out) - start]
    return out


def chord(pitches: list[float], seconds: float) -> np.ndarray:
    return sum(note(p, seconds) for p in pitches)


def test_harmonic_fit_prefers_the_right_key():
    mix = chord([48, 52, 55, 60], 8.0)  # C major
    in_key = sequence([64, 67, 72, 67, 64, 60, 64, 67], 1.0)
    other_key = sequence([66, 70, 73, 70, 66, 61, 66, 70], 1.0)  # F# major
    good, bad = harmonic_fit(in_key, mix, SR), harmonic_fit(other_key, mix, SR)
    noise = np.random.default_rng(0).standard_normal(8 * SR) * 0.1
    assert good > 0.3 and bad < -0.1 and abs(harmonic_fit(noise, mix, SR)) < 0.1
    assert harmonic_fit(0.5 * mix, mix, SR) == pytest.approx(1.0)
    assert np.isnan(harmonic_fit(np.zeros(8 * SR), mix, SR))


def test_onsets_are_found_where_notes_start():
    found = onsets(sequence([60] * 8, 0.5, offset=0.25, decay=0.1), SR)
    expected = 0.25 + 0.5 * np.arange(8)
    assert len(found) == 8
    np.testing.assert_allclose(found, expected, atol=0.03)


def test_a_stem_off_the_beat_scores_worse_rhythmically():
    beats = sequence([36] * 16, 0.5, decay=0.05)  # a kick on every beat at 120 BPM
    on_beat = sequence([72] * 16, 0.5, decay=0.15)
    off_beat = sequence([72] * 16, 0.5, offset=0.125, decay=0.15)[: len(on_beat)]  # a sixteenth late
    good, bad = rhythmic_fit(on_beat, beats, SR), rhythmic_fit(off_beat, beats, SR)
    assert good > 0.9 and bad < 0.2
    assert rhythmic_fit(np.zeros_like(on_beat), beats, SR) == 0.0
    every_other_beat = sequence([72, None] * 8, 0.5, decay=0.15)
    assert rhythmic_fit(every_other_beat, beats, SR) > 0.9  # a sparser part fits as well


def test_probes_separate_brightness_attack_register_and_role():
    melody = [60, 64, 67, 72, 67, 64, 60, 64]
    dark, bright = sequence(melody, 0.5, harmonics=1), sequence(melody, 0.5, harmonics=12)
    assert attribute_probes(bright, SR)["brightness"][0] > attribute_probes(dark, SR)["brightness"][0] + 0.5
    sharp = sequence(melody, 0.5, attack=0.003, decay=0.2)
    slow = sequence(melody, 0.5, attack=0.3)
    assert attribute_probes(slow, SR)["attack"][0] > attribute_probes(sharp, SR)["attack"][0] + 1.0
    low = sequence([m - 24 for m in melody], 0.5)
    assert pitch_height(low, SR) == pytest.approx(np.median(melody) - 24, abs=1.5)
    assert pitch_height(bright, SR) > pitch_height(low, SR) + 20
    pad = chord([60, 64, 67], 4.0)
    stabs = sequence([60] * 16, 0.25, decay=0.03)
    assert sustain(pad, SR) > 0.9 and sustain(stabs, SR) < 0.4


def test_attribute_classifier_names_the_nearest_class():
    values = [np.array([v]) for v in (1.0, 1.2, 5.0, 5.4, float("nan"))]
    classifier = AttributeClassifier(values, ["dark", "dark", "bright", "bright", "warm"])
    assert set(classifier.means) == {"dark", "bright"} and classifier.means["dark"] == pytest.approx([1.1])
    assert classifier.predict(np.array([4.0])) == "bright" and classifier.predict(np.array([2.0])) == "dark"
    assert classifier.predict(np.array([float("nan")])) is None
    # several probes: each dimension counts by its spread, so a wide one does not drown a narrow one
    roles = AttributeClassifier([np.array([0.9, 100.0]), np.array([0.2, 110.0])], ["pad", "stabs"])
    assert roles.predict(np.array([0.2, 104.0])) == "stabs"  # unscaled distances would say "pad"


def test_frechet_distance_grows_with_the_shift_between_sets():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((2000, 8))
    same = rng.standard_normal((2000, 8))
    shifted = rng.standard_normal((2000, 8)) + 1.0
    assert frechet_distance(real, same) < 0.1
    assert frechet_distance(real, shifted) == pytest.approx(8.0, rel=0.1)  # |mean shift|^2 = 8


def test_mix_copy_tells_a_copy_of_the_mix_from_a_part_of_its_own():
    mix = chord([48, 52, 55, 60], 8.0) + sequence([36] * 16, 0.5, decay=0.05)
    melody = sequence([64, 67, 72, 67, 64, 60, 64, 67], 1.0, harmonics=3)
    assert mix_copy(0.3 * mix, mix, SR) > 0.95
    own = mix_copy(melody, mix, SR)  # its notes start on the kicks, so not 0
    assert own < 0.7 and own < mix_copy(0.3 * mix + 0.05 * melody, mix, SR) - 0.2


def test_mix_copy_sees_through_filtering_and_added_noise():
    """What an untrained audio-to-audio model gives: the mix low-passed, quieter, with hiss."""
    from scipy.signal import butter, sosfilt

    mix = chord([48, 52, 55, 60], 8.0) * np.repeat(np.arange(16) % 4 == 0, SR // 2) + sequence([36] * 16, 0.5, decay=0.05)
    muffled = 0.1 * sosfilt(butter(4, 800, fs=SR, output="sos"), mix)
    hiss = 0.002 * np.random.default_rng(0).standard_normal(len(mix))
    melody = sequence([64, 67, 72, 67, 64, 60, 64, 67], 1.0, harmonics=3)
    assert mix_copy(muffled + hiss, mix, SR) > 0.8
    assert mix_copy(melody + hiss, mix, SR) < 0.5


def test_frame_comb_share_flags_a_waveform_repeated_every_codec_frame():
    sr, frame = 32000, 640  # EnCodec at 32 kHz: 50 frames/s
    rng = np.random.default_rng(0)
    t = np.arange(2 * sr) / sr
    repeated = np.tile(rng.standard_normal(frame), 2 * sr // frame)  # the decoder's periodic artefact
    assert frame_comb_share(repeated, sr, 50.0) > 0.95
    assert frame_comb_share(np.sin(2 * np.pi * 445 * t), sr, 50.0) < 0.01  # a note between the lines
    assert frame_comb_share(rng.standard_normal(2 * sr), sr, 50.0) < 0.05  # noise: ~3 % by chance
    assert frame_comb_share(np.zeros(2 * sr), sr, 50.0) == 0.0
