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
from synthgen.data.synthstems.arrangement import METERS
from synthgen.data.synthstems.band import TRAINING_SOUNDFONT
from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset, make_track
from synthgen.data.synthstems.resound import DEFAULT_SOUNDFONT, resound_dataset
from synthgen.data.synthstems.sf3 import decompressed
from synthgen.data.synthstems.soundfont import SoundFontPlayer
from synthgen.data.synthstems.describe import PRESET_NAMES
from synthgen.data.synthstems.presets import PRESETS, render_preset
from synthgen.synth.engine import Motion, Patch, render_event, render_line
from synthgen.data.synthstems.voice import sing
from synthgen.errors import SynthGenError
from synthgen.dsp import pitch_class_profile
from synthgen.eval.probes import attack_time, spectral_centroid
from synthgen.notes import Note

CONFIGS = {style: SynthStemsConfig(seconds=6.0, seed=3, style=style) for style in ("record", "classic")}


def needs_soundfonts(*paths: Path) -> None:
    """Skip (fail under CI) when setup.sh's SoundFonts or FluidSynth are missing."""
    if all(p.is_file() for p in paths) and importlib.util.find_spec("fluidsynth") is not None:
        return
    message = "needs Debian's SoundFonts and libfluidsynth3 with pyfluidsynth (setup.sh installs them)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module", params=list(CONFIGS))
def config(request) -> SynthStemsConfig:
    if request.param == "record":
        needs_soundfonts(TRAINING_SOUNDFONT)
    return CONFIGS[request.param]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, config) -> list[Path]:
    out = tmp_path_factory.mktemp(f"synthstems-{config.style}")
    assert generate_dataset(out, 100, config, workers=2, progress=False) == 100
    return sorted(out.glob("*/synth_*"))


def read(folder: Path, name: str) -> np.ndarray:
    """A track's file as float64 [N], mono (a stereo file's channels averaged)."""
    audio = sf.read(folder / f"{name}.wav", dtype="float64")[0]
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def metas(dataset):
    return [json.loads((d / "meta.json").read_text()) for d in dataset]


def test_layout_and_splits(dataset):
    splits = [d.parent.name for d in dataset]
    assert len(dataset) == 100 and (splits.count("valid"), splits.count("test")) == (5, 5)
    for d in dataset:
        assert sorted(p.name for p in d.iterdir()) == ["description.txt", "meta.json", "mixture.wav", "score.mid", "synth.wav"]
        assert sf.info(d / "mixture.wav").frames == sf.info(d / "synth.wav").frames == 6 * 32000


def test_same_seed_gives_identical_files(tmp_path, config):
    config = SynthStemsConfig(seconds=3.0, seed=11, style=config.style)
    generate_dataset(tmp_path / "a", 4, config, workers=1, progress=False)
    generate_dataset(tmp_path / "b", 4, config, workers=2, progress=False)
    generate_dataset(tmp_path / "c", 4, SynthStemsConfig(seconds=3.0, seed=12, style=config.style), workers=1, progress=False)
    fresh = subprocess.run([sys.executable, "-m", "synthgen", "data", "synth", tmp_path / "d", "--tracks", "4", "--seconds",
                            "3", "--seed", "11", "--style", config.style, "--workers", "1"], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 20
    for f in files:  # the same bytes from 1 worker, 2 workers and a new process
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() == (tmp_path / "d" / f).read_bytes(), f
    a = sorted((tmp_path / "a").rglob("synth.wav"))[0].read_bytes()
    assert all(a != p.read_bytes() for p in (tmp_path / "c").rglob("synth.wav"))


def test_mixture_is_backing_plus_synth_sample_exact(dataset, config):
    for folder in dataset[:4]:
        index = json.loads((folder / "meta.json").read_text())["index"]
        track = make_track(config, index)
        mixture = sf.read(folder / "mixture.wav", dtype="int16")[0].astype(np.int32)
        synth = sf.read(folder / "synth.wav", dtype="int16")[0].astype(np.int32)
        np.testing.assert_array_equal(synth, track["synth"])
        np.testing.assert_array_equal(mixture - synth, track["backing"])
        assert np.abs(mixture).max() <= 32767 * 10 ** (-1 / 20)  # peak at most -1 dBFS: no clipping


def test_levels(dataset, config):
    for folder in dataset:
        mixture, synth = read(folder, "mixture"), read(folder, "synth")
        rms = lambda x: 10 * np.log10(np.mean(x**2))  # noqa: E731
        lowest = -16 if config.style == "record" else -12  # a record's synth sits -12 to +3 dB against the backing
        assert -30 < rms(mixture) < -6 and rms(synth) > rms(mixture) + lowest  # the synth part is audible


def test_notes_in_key_and_on_the_grid(dataset, config):
    for folder, meta in zip(dataset, metas(dataset)):
        notes = np.array(meta["notes"])
        assert len(notes) > 0
        assert set(notes[:, 2].astype(int) % 12) <= set(meta["scale"])
        beat = METERS[meta["meter"]].beat_steps if config.style == "record" else 4
        step = 60 / meta["tempo"] / beat  # a 16th note
        steps = notes[:, 0] / step
        if config.style == "record":  # swing moves the off-beat eighths; humanizing moves each onset a little
            whole, part = np.divmod(np.arange(steps.max() + 2) / beat, 1.0)
            swung = np.where(part < 0.5, part * 2 * meta["swing"], meta["swing"] + (part - 0.5) * 2 * (1 - meta["swing"]))
            grid = (whole + swung) * beat * step  # every step's time, swung
            slack = 4 * meta["humanize_ms"] / 2 / 1000 + 1e-3  # four deviations of the synth's timing
            assert np.abs(notes[:, :1] - grid[None]).min(axis=1).max() <= slack
        else:
            np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
        midi = pretty_midi.PrettyMIDI(str(folder / "score.mid"))
        synth = next(i for i in midi.instruments if i.name == "synth")
        assert sorted(n.pitch for n in synth.notes) == sorted(notes[:, 2].astype(int))
        parts = {"synth", "bass", "keys", "layer", "vocal", "drums"} if config.style == "record" else \
            {"synth", "backing", "bass", "drums"}
        assert "synth" in {i.name for i in midi.instruments} <= parts  # parts that do not play here have no notes
        vocal = [i for i in midi.instruments if i.name == "vocal"]
        assert bool(vocal) == bool(meta.get("vocal"))
        for instrument in vocal:
            assert {n.pitch % 12 for n in instrument.notes} <= set(meta["scale"]) and instrument.notes


def test_synth_audio_stays_in_key(dataset):
    """Measured on the audio: most of the synth's pitch-class energy lies in the key's scale."""
    fractions = []
    for folder, meta in zip(dataset, metas(dataset)):
        frames = pitch_class_profile(read(folder, "synth"), 32000)
        fractions.append(frames[:, meta["scale"]].sum() / max(frames.sum(), 1e-9))
    assert np.median(fractions) > 0.85 and np.percentile(fractions, 5) > 0.6  # the lowest bass notes smear


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
    prepared = run("prepare", tmp_path / "ss", "--out", tmp_path / "cache", "--window", 2, "--hop", 1, "--codec", "tiny")
    assert prepared.returncode == 0, prepared.stderr
    cache = CodeCache(tmp_path / "cache")
    assert len(cache) == 4 * 3 and cache.settings["source"] == "auto"
    assert {cache.window(i)["split"] for i in range(len(cache))} == {"train", "valid", "test"}
    assert cache.window(0)["attributes"]["role"] in ("lead", "arpeggio", "pad", "stabs", "bass")
    bad = run("data", "synth", tmp_path / "x", "--tracks", 2, "--splits", "0.5,0.6,0.1")
    assert bad.returncode != 0 and "split fractions" in bad.stderr


def test_resound_plays_the_backing_with_a_soundfont_and_keeps_the_true_stem(dataset, tmp_path):
    soundfont = DEFAULT_SOUNDFONT
    needs_soundfonts(soundfont)
    src = dataset[0].parent.parent
    split = dataset[0].parent.name
    assert resound_dataset(src, tmp_path / "ood", soundfont, (split,), progress=False) == len(list((src / split).iterdir()))
    assert resound_dataset(src, tmp_path / "ood", soundfont, (split,), progress=False) == 0  # resumable
    original = dataset[0]
    resounded = tmp_path / "ood" / split / original.name
    mixture, synth = (sf.read(resounded / f"{n}.wav", dtype="int16")[0].astype(np.int32) for n in ("mixture", "synth"))
    old_mixture, old_synth = (sf.read(original / f"{n}.wav", dtype="int16")[0].astype(np.int32) for n in ("mixture", "synth"))
    backing, old_backing = mixture - synth, old_mixture - old_synth  # mixture = backing + synth, exactly
    assert np.corrcoef(synth.ravel(), old_synth.ravel())[0, 1] > 0.999  # the true stem is the original's (at most scaled)
    assert abs(np.corrcoef(backing.ravel(), old_backing.ravel())[0, 1]) < 0.5  # a backing played by other instruments
    power = lambda x: np.mean(x.astype(float) ** 2)  # noqa: E731
    headroom = 10 * np.log10(power(synth) / power(old_synth))  # both scaled down where the new sum would clip
    assert abs(10 * np.log10(power(backing) / power(old_backing)) - headroom) < 1.5
    meta = json.loads((resounded / "meta.json").read_text())
    assert meta["backing_soundfont"] == "TimGM6mb.sf2"
    assert (resounded / "description.txt").read_text() == (original / "description.txt").read_text()
    with pytest.raises(SynthGenError, match="no such SoundFont"):
        resound_dataset(src, tmp_path / "x", tmp_path / "missing.sf2", (split,), progress=False)


def test_record_tracks_are_stereo_songs_with_sections_coloured_chords_and_a_sampled_band(dataset, config):
    if config.style != "record":
        pytest.skip("the record style's own attributes")
    records = metas(dataset)
    assert all(m["channels"] == 2 for m in records)
    widths = []
    for folder in dataset[:20]:
        mixture = sf.read(folder / "mixture.wav", dtype="float64")[0]
        widths.append(np.corrcoef(mixture[:, 0], mixture[:, 1])[0, 1])
    assert np.median(widths) < 0.99  # a stereo image, not one channel twice
    assert {m["meter"] for m in records} == {"4/4", "3/4", "6/8"} and any(m["swing"] > 0.5 for m in records)
    assert all(60 <= m["tempo"] <= 180 for m in records) and np.ptp([m["tempo"] for m in records]) > 80
    assert {m["mode"] for m in records} >= {"major", "minor", "dorian", "mixolydian"}
    names = [c["name"] for m in records for c in m["chords"]]
    assert any("7" in n for n in names) and any("sus" in n for n in names) and any("add9" in n for n in names)
    assert any("/" in n for n in names)  # inversions and slash basses
    assert {s["name"] for m in records for s in m["sections"]} == {"intro", "verse", "chorus", "breakdown"}
    assert any(len(m["sections"]) > 1 for m in records)
    families = [m["band"]["family"] for m in records]
    assert 0.6 < families.count("soundfont") / len(families) < 0.95 and "built-in" in families
    assert all(-12 <= m["mix"]["synth_level_db"] <= 3 for m in records)


def test_a_decompressed_sf3_plays_like_the_sf3(tmp_path, monkeypatch):
    needs_soundfonts(TRAINING_SOUNDFONT)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    decompressed.cache_clear()
    sf2 = decompressed(TRAINING_SOUNDFONT)
    assert sf2.suffix == ".sf2" and sf2.is_relative_to(tmp_path) and decompressed(TRAINING_SOUNDFONT) == sf2
    midi = pretty_midi.PrettyMIDI()
    for program, pitch in ((0, 48), (48, 60), (33, 36)):  # piano, strings (a looped sustain), bass
        midi.instruments.append(pretty_midi.Instrument(program))
        midi.instruments[-1].notes = [pretty_midi.Note(100, pitch, 0.1, 2.5), pretty_midi.Note(80, pitch + 7, 1.0, 3.0)]
    with SoundFontPlayer(TRAINING_SOUNDFONT, 32000) as player:  # FluidSynth decodes the .sf3 itself ...
        player.font = player.synth.sfload(str(TRAINING_SOUNDFONT))
        original = player.render(midi.instruments, 4 * 32000)
    with SoundFontPlayer(sf2, 32000) as player:  # ... and plays the decompressed copy
        copy = player.render(midi.instruments, 4 * 32000)
    assert np.abs(original).max() > 0.01 and np.abs(original - copy).max() <= 2 / 32768
    decompressed.cache_clear()


def test_the_out_of_distribution_set_plays_what_training_never_hears(tmp_path):
    needs_soundfonts(DEFAULT_SOUNDFONT)
    config = SynthStemsConfig(seconds=3.0, seed=21, ood=True)
    generate_dataset(tmp_path / "ood", 6, config, (0.0, 0.0, 1.0), workers=1, progress=False)
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "ood").rglob("meta.json"))]
    assert len(records) == 6
    for meta in records:
        assert meta["ood"] and meta["band"]["family"] == "soundfont" and meta["backing_soundfont"] == "TimGM6mb.sf2"
        assert meta["patch"]["vibrato_cents"] >= 40 and meta["patch"]["vibrato_rate"] >= 7 and meta["vibrato"]
    with pytest.raises(SynthGenError, match="record style"):
        SynthStemsConfig(style="classic", ood=True)


def test_motion_gates_sweeps_and_doubles_what_the_description_says():
    patch = Patch(waveform="saw", cutoff=1500, resonance=1.0, sustain=1.0, release=0.05)
    plain = render_event(patch, (57,), 32000, 32000, (1,))
    gated = render_event(patch, (57,), 32000, 32000, (1,), Motion(gate_rate=8.0, gate_duty=0.5))
    frames = lambda x: np.abs(x[:32000]).reshape(-1, 160).max(axis=1)  # noqa: E731 (5 ms frames)
    assert np.mean(frames(gated) < 0.05 * frames(gated).max()) > 0.4 > np.mean(frames(plain) < 0.05 * frames(plain).max())
    swept = render_event(patch, (57,), 32000, 32000, (1,), Motion(sweep_rate=2.0, sweep_octaves=2.0))
    def centroids(x):  # of 100 ms frames, Hz
        frames = x[:28800].reshape(-1, 3200) * np.hanning(3200)
        magnitude, freqs = np.abs(np.fft.rfft(frames, axis=1)), np.fft.rfftfreq(3200, 1 / 32000)
        return (magnitude * freqs).sum(axis=1) / magnitude.sum(axis=1)

    assert np.std(centroids(swept)) > 4 * np.std(centroids(plain))
    doubled = render_event(patch, (57,), 32000, 32000, (1,), Motion(octave=12))
    spectrum = lambda x: np.abs(np.fft.rfft(x[:32000]))  # noqa: E731 (1 Hz bins)
    assert spectrum(doubled)[440] / spectrum(doubled)[220] > 1.5 * spectrum(plain)[440] / spectrum(plain)[220]


def test_record_descriptions_name_the_sound_design(dataset, config):
    if config.style != "record":
        pytest.skip("the record style's own attributes")
    records = metas(dataset)
    for flag in ("supersaw", "sweep", "gated", "octaves", "glide", "preset", "vocal"):
        assert any(m[flag] for m in records), flag
    assert 0.3 < np.mean([bool(m["vocal"]) for m in records]) < 0.7
    for meta in records:
        text = meta["description"]
        assert meta["glide"] == any(w in text for w in ("glide", "sliding", "portamento"))
        if meta["preset"] is not None:
            assert any(name in text for name in PRESET_NAMES[meta["preset"]]) and meta["motion"] == Motion().to_dict()
            assert meta["patch"] is None
        assert meta["supersaw"] == ("super" in text)
        assert meta["gated"] == any(w in text for w in ("gate", "gated"))
        assert meta["sweep"] == any(w in text for w in ("sweep", "wobbling"))
        assert meta["octaves"] == ("octaves" in text)


def _median_midi(x: np.ndarray, start: float, end: float) -> float:
    """The median pitch (MIDI, fractional) of x [N] at 32 kHz between two times (s)."""
    import librosa

    f0 = librosa.yin(x[int(start * 32000) : int(end * 32000)], fmin=60, fmax=1000, sr=32000, frame_length=2048)
    return float(np.median(librosa.hz_to_midi(f0)))


def test_glide_slides_between_notes_and_the_plain_line_jumps():
    patch = Patch(waveform="saw", cutoff=3000, sustain=1.0, release=0.05)
    line = [Note(0.0, 0.5, 48, 1.0), Note(0.5, 1.0, 60, 1.0)]
    glided = render_line(patch, line, 32000, 32000, (1,), Motion(glide=0.2))
    jumped = render_line(patch, line, 32000, 32000, (1,), Motion())
    assert abs(_median_midi(glided, 0.1, 0.4) - 48) < 0.3 and abs(_median_midi(glided, 0.8, 1.0) - 60) < 0.3
    assert 52 < _median_midi(glided, 0.56, 0.64) < 58  # halfway up the slide
    assert abs(_median_midi(jumped, 0.56, 0.64) - 60) < 0.3


def test_the_voice_sings_its_notes_and_slides_between_legato_ones():
    notes = [Note(0.1, 0.7, 57, 1.0), Note(0.7, 1.3, 60, 1.0), Note(1.6, 2.2, 64, 0.8)]
    voice = sing(np.random.default_rng(0), notes, 3 * 32000, 32000, "high")
    for note in notes:
        assert abs(_median_midi(voice, note.start + 0.12, note.end - 0.05) - note.pitch) < 0.4
    assert np.abs(voice[int(1.4 * 32000) : int(1.55 * 32000)]).max() < 0.01 * np.abs(voice).max()  # a rest is silent


def test_presets_measure_as_their_table_says():
    """The brightness and attack of each General MIDI preset (presets.py's rule: dark under 900 Hz of centroid,
    bright over 2,200; sharp under 30 ms of attack, slow over 0.35 s)."""
    needs_soundfonts(TRAINING_SOUNDFONT)
    for preset in PRESETS:
        pitch = 40 if preset.roles == ("bass",) else 64
        audio = render_preset(preset, [Note(0.1, 1.6, pitch, 0.8), Note(2.0, 3.5, pitch + 7, 0.8)], TRAINING_SOUNDFONT,
                              32000, 4 * 32000)
        centroid, attack = spectral_centroid(audio, 32000), attack_time(audio, 32000, [0.1, 2.0])
        assert {"dark": centroid < 900, "warm": 900 <= centroid <= 2200, "bright": centroid > 2200}[preset.brightness], preset
        assert {"sharp": attack < 0.03, "soft": 0.03 <= attack <= 0.35, "slow": attack > 0.35}[preset.attack], preset
