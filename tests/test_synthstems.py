import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from synthgen.data.cache import CodeCache
from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset, make_track
from synthgen.data.synthstems.soundfont import DEFAULT_SOUNDFONT, resound_dataset
from synthgen.data.synthstems.synth import Patch, render_event
from synthgen.errors import SynthGenError
from synthgen.dsp import pitch_class_profile
from synthgen.eval.probes import attack_time, spectral_centroid

CONFIG = SynthStemsConfig(seconds=6.0, seed=3)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("synthstems")
    assert generate_dataset(out, 100, CONFIG, workers=2, progress=False) == 100
    return sorted(out.glob("*/synth_*"))


def read(folder: Path, name: str) -> np.ndarray:
    return sf.read(folder / f"{name}.wav", dtype="float64")[0]


def metas(dataset):
    return [json.loads((d / "meta.json").read_text()) for d in dataset]


def test_layout_and_splits(dataset):
    splits = [d.parent.name for d in dataset]
    assert len(dataset) == 100 and (splits.count("valid"), splits.count("test")) == (5, 5)
    for d in dataset:
        assert sorted(p.name for p in d.iterdir()) == ["description.txt", "meta.json", "mixture.wav", "score.mid", "synth.wav"]
        assert sf.info(d / "mixture.wav").frames == sf.info(d / "synth.wav").frames == 6 * 32000


def test_same_seed_gives_identical_files(tmp_path):
    config = SynthStemsConfig(seconds=3.0, seed=11)
    generate_dataset(tmp_path / "a", 4, config, workers=1, progress=False)
    generate_dataset(tmp_path / "b", 4, config, workers=2, progress=False)
    generate_dataset(tmp_path / "c", 4, SynthStemsConfig(seconds=3.0, seed=12), workers=1, progress=False)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 20
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    a = sorted((tmp_path / "a").rglob("synth.wav"))[0].read_bytes()
    assert all(a != p.read_bytes() for p in (tmp_path / "c").rglob("synth.wav"))


def test_mixture_is_backing_plus_synth_sample_exact(dataset):
    for folder in dataset[:4]:
        index = json.loads((folder / "meta.json").read_text())["index"]
        track = make_track(CONFIG, index)
        mixture = sf.read(folder / "mixture.wav", dtype="int16")[0].astype(np.int32)
        synth = sf.read(folder / "synth.wav", dtype="int16")[0].astype(np.int32)
        np.testing.assert_array_equal(synth, track["synth"])
        np.testing.assert_array_equal(mixture - synth, track["backing"])
        assert np.abs(mixture).max() <= 32767 * 10 ** (-1 / 20)  # peak at most -1 dBFS: no clipping


def test_levels(dataset):
    for folder in dataset:
        mixture, synth = read(folder, "mixture"), read(folder, "synth")
        rms = lambda x: 10 * np.log10(np.mean(x**2))  # noqa: E731
        assert -30 < rms(mixture) < -8 and rms(synth) > rms(mixture) - 12  # the synth part is clearly audible


def test_notes_in_key_and_on_the_grid(dataset):
    for folder, meta in zip(dataset, metas(dataset)):
        notes = np.array(meta["notes"])
        assert len(notes) > 0
        assert set(notes[:, 2].astype(int) % 12) <= set(meta["scale"])
        steps = notes[:, 0] / (60 / meta["tempo"] / 4)  # 16th notes
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
        midi = pretty_midi.PrettyMIDI(str(folder / "score.mid"))
        synth = next(i for i in midi.instruments if i.name == "synth")
        assert sorted(n.pitch for n in synth.notes) == sorted(notes[:, 2].astype(int))
        assert {i.name for i in midi.instruments} >= {"synth", "backing", "drums"}


def test_synth_audio_stays_in_key(dataset):
    """Measured on the audio: most of the synth's pitch-class energy lies in the key's scale."""
    fractions = []
    for folder, meta in zip(dataset, metas(dataset)):
        frames = pitch_class_profile(read(folder, "synth"), 32000)
        fractions.append(frames[:, meta["scale"]].sum() / max(frames.sum(), 1e-9))
    assert np.median(fractions) > 0.85 and min(fractions) > 0.6


def _pair_fraction(high: list[float], low: list[float]) -> float:
    pairs = list(itertools.product(high, low))
    return sum(h > lo for h, lo in pairs) / len(pairs)


def test_bright_synths_measure_brighter_than_dark_ones(dataset):
    centroids: dict[tuple[str, str], list[float]] = {}
    for folder, meta in zip(dataset, metas(dataset)):
        centroids.setdefault((meta["role"], meta["brightness"]), []).append(spectral_centroid(read(folder, "synth"), 32000))
    compared = 0
    for role in ("lead", "arpeggio", "pad", "stabs", "bass"):
        bright, dark = centroids.get((role, "bright"), []), centroids.get((role, "dark"), [])
        if bright and dark:
            compared += 1
            assert _pair_fraction(bright, dark) >= 0.8, role
    assert compared >= 3


def test_plucks_attack_faster_than_pads(dataset):
    attacks: dict[str, list[float]] = {}
    for folder, meta in zip(dataset, metas(dataset)):
        onsets = [n[0] for n in meta["notes"]]
        attacks.setdefault(meta["attack"], []).append(attack_time(read(folder, "synth"), 32000, onsets))
    sharp = [a for a in attacks["sharp"] if np.isfinite(a)]
    slow = [a for a in attacks["slow"] if np.isfinite(a)]
    soft = [a for a in attacks["soft"] if np.isfinite(a)]
    assert np.median(sharp) < 0.03 and np.median(slow) > 0.2
    assert _pair_fraction(slow, sharp) >= 0.95 and _pair_fraction(soft, sharp) >= 0.8


def test_descriptions_vary_and_say_the_attributes(dataset):
    texts = [(d / "description.txt").read_text().strip() for d in dataset]
    assert len(set(texts)) >= 50
    for text, meta in zip(texts, metas(dataset)):
        assert text == meta["description"]
        if meta["effects"] == [] and meta["brightness"] == "bright":
            assert any(w in text for w in ("bright", "crisp", "brilliant", "shiny", "cutting"))


def test_notes_start_and_end_without_clicks():
    patch = Patch(waveform="saw", attack=0.001, release=0.02, sustain=1.0, cutoff=12000)
    audio = render_event(patch, (69,), 3200, 32000, (0,))
    assert abs(audio[0]) < 0.05 and abs(audio[-1]) < 1e-3 * np.abs(audio).max()


def test_cli_writes_tracks_that_prepare_reads(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "synthgen", *map(str, a)], capture_output=True, text=True)  # noqa: E731
    made = run("data", "synth", tmp_path / "ss", "--tracks", 4, "--seconds", 4, "--splits", "0.5,0.25,0.25")
    assert made.returncode == 0 and "4 written now" in made.stdout, made.stderr
    again = run("data", "synth", tmp_path / "ss", "--tracks", 4, "--seconds", 4, "--splits", "0.5,0.25,0.25")
    assert "0 written now" in again.stdout
    prepared = run("prepare", tmp_path / "ss", "--out", tmp_path / "cache", "--window", 2, "--hop", 1)
    assert prepared.returncode == 0, prepared.stderr
    cache = CodeCache(tmp_path / "cache")
    assert len(cache) == 4 * 3 and cache.settings["source"] == "auto"
    assert {cache.window(i)["split"] for i in range(len(cache))} == {"train", "valid", "test"}
    assert cache.window(0)["attributes"]["role"] in ("lead", "arpeggio", "pad", "stabs", "bass")
    bad = run("data", "synth", tmp_path / "x", "--tracks", 2, "--splits", "0.5,0.6,0.1")
    assert bad.returncode != 0 and "split fractions" in bad.stderr


def test_resound_plays_the_backing_with_a_soundfont_and_keeps_the_true_stem(dataset, tmp_path):
    soundfont = DEFAULT_SOUNDFONT
    if not soundfont.is_file() or importlib.util.find_spec("fluidsynth") is None:
        message = "needs Debian's timgm6mb-soundfont and libfluidsynth3 with pyfluidsynth (setup.sh installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    src = dataset[0].parent.parent
    split = dataset[0].parent.name
    assert resound_dataset(src, tmp_path / "ood", soundfont, (split,), progress=False) == len(list((src / split).iterdir()))
    assert resound_dataset(src, tmp_path / "ood", soundfont, (split,), progress=False) == 0  # resumable
    original = dataset[0]
    resounded = tmp_path / "ood" / split / original.name
    mixture, synth = (sf.read(resounded / f"{n}.wav", dtype="int16")[0].astype(np.int32) for n in ("mixture", "synth"))
    old_mixture, old_synth = (sf.read(original / f"{n}.wav", dtype="int16")[0].astype(np.int32) for n in ("mixture", "synth"))
    backing, old_backing = mixture - synth, old_mixture - old_synth  # mixture = backing + synth, exactly
    assert np.corrcoef(synth, old_synth)[0, 1] > 0.999  # the true stem is the original's (at most scaled)
    assert abs(np.corrcoef(backing, old_backing)[0, 1]) < 0.5  # a backing played by other instruments
    level = 10 * np.log10(np.mean(backing.astype(float) ** 2) / np.mean(old_backing.astype(float) ** 2))
    assert abs(level) < 1.5
    meta = json.loads((resounded / "meta.json").read_text())
    assert meta["backing_soundfont"] == "TimGM6mb.sf2"
    assert (resounded / "description.txt").read_text() == (original / "description.txt").read_text()
    with pytest.raises(SynthGenError, match="no such SoundFont"):
        resound_dataset(src, tmp_path / "x", tmp_path / "missing.sf2", (split,), progress=False)
