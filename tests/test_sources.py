import numpy as np
import pytest

from synthgen.audio import read_audio
from synthgen.data.sources import DEFAULT_DESCRIPTION, detect_source, list_tracks, load_pair, musdb_validation_tracks
from synthgen.errors import SynthGenError
from tests.helpers.factories import make_musdb_hq, make_musdb_stems, make_seed_layout, make_track_layout


def test_seed_layout(tmp_path):
    root = make_seed_layout(tmp_path, [2.0, 3.0, 1.5])
    assert detect_source(root) == "seed"
    tracks = list_tracks(root)
    assert [t.name for t in tracks] == ["mix_0", "mix_1", "mix_2"]
    assert tracks[0].description == DEFAULT_DESCRIPTION
    assert tracks[1].description == "a bright lead number 1"
    assert all(t.split in ("train", "valid", "test") for t in tracks)
    # extract: the mix is the whole mixture; accompaniment: the mixture minus the synth
    mixture, _ = read_audio(root / "mix" / "mix_1.wav")
    synth, _ = read_audio(root / "synth" / "synth_1.wav")
    mix, target = load_pair(tracks[1], 32000, 1, "extract")
    np.testing.assert_allclose(mix, mixture, atol=1e-6)
    np.testing.assert_allclose(target, synth, atol=1e-6)
    mix, _ = load_pair(tracks[1], 32000, 1, "accompaniment")
    np.testing.assert_allclose(mix, mixture - synth, atol=1e-6)


def test_musdb_hq_official_split_and_target(tmp_path):
    valid_name = sorted(musdb_validation_tracks())[0]
    root = make_musdb_hq(tmp_path, {"train": ["Some Train Song", valid_name], "test": ["A Test Song"]})
    assert detect_source(root) == "musdb"
    splits = {t.name: t.split for t in list_tracks(root)}
    assert splits == {"Some Train Song": "train", valid_name: "valid", "A Test Song": "test"}
    track = next(t for t in list_tracks(root, target="bass") if t.name == "Some Train Song")
    mixture, _ = read_audio(root / "train" / "Some Train Song" / "mixture.wav")
    bass, _ = read_audio(root / "train" / "Some Train Song" / "bass.wav")
    mix, target = load_pair(track, 44100, 2, "accompaniment")
    assert mix.shape == target.shape == (2, 3 * 44100)
    np.testing.assert_allclose(target, bass, atol=1e-6)
    np.testing.assert_allclose(mix, mixture - bass, atol=1e-6)
    with pytest.raises(SynthGenError, match="missing target stem"):
        list_tracks(root, target="piano")


def test_musdb_stems_through_musdb_package(tmp_path, needs_ffmpeg):
    valid_name = sorted(musdb_validation_tracks())[1]
    root = make_musdb_stems(tmp_path, {"train": ["Song A", valid_name], "test": ["Song B"]})
    assert detect_source(root) == "musdb-stems"
    tracks = list_tracks(root)
    assert {t.name: t.split for t in tracks} == {"Song A": "train", valid_name: "valid", "Song B": "test"}
    mix, target = load_pair(tracks[0], 32000, 1, "extract")
    assert mix.shape == target.shape and abs(mix.shape[1] - 2 * 32000) < 0.1 * 32000
    assert np.abs(target).max() > 0.05  # the "other" stem really was decoded


def test_track_layout(tmp_path):
    root = make_track_layout(tmp_path, {"train": 2, "valid": 1, "test": 1})
    assert detect_source(root) == "tracks"
    tracks = list_tracks(root)
    assert [(t.split, t.name) for t in tracks] == [
        ("train", "track_000"), ("train", "track_001"), ("valid", "track_000"), ("test", "track_000")]
    assert tracks[1].attributes == {"role": "pad", "index": 1}
    assert tracks[1].description == "soft dark pad train 1"
    assert len({t.key for t in tracks}) == 4


def test_unknown_layout_and_missing_folder(tmp_path):
    with pytest.raises(SynthGenError, match="no known data layout"):
        list_tracks(tmp_path)
    with pytest.raises(SynthGenError, match="no such data folder"):
        list_tracks(tmp_path / "nope")
