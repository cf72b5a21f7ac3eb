"""Hugging Face Hub ids for --model, --codec and --pretrained, from a Hub cache the tests build (offline)."""

import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from synthgen.codec import EncodecCodec
from synthgen.hub import is_hub_id, resolve
from tests.helpers.factories import make_tiny_musicgen_melody, make_track_layout, tone, write


def cache_snapshot(hf_home, repo_id: str):
    """An empty snapshot folder of `repo_id` laid out as huggingface_hub's cache keeps it."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    return snapshot


def synthgen(*args, hf_home):
    env = dict(os.environ, HF_HOME=str(hf_home), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "synthgen", *map(str, args)], capture_output=True, text=True, env=env)


def test_a_hub_id_loads_from_the_cache_for_generate_and_prepare(tmp_path):
    hf_home = tmp_path / "hf"
    make_tiny_musicgen_melody(cache_snapshot(hf_home, "facebook/musicgen-melody"))
    EncodecCodec.from_preset("tiny", seed=3).save_pretrained(cache_snapshot(hf_home, "facebook/encodec_32khz"))
    mix = write(tmp_path / "song.wav", tone(2.5, 44100, 2), 44100)
    proc = synthgen("generate", mix, "--prompt", "a warm pad", "--out", tmp_path / "synth.wav", "--model",
                    "facebook/musicgen-melody", "--window-seconds", "2", "--overlap-seconds", "0.5", hf_home=hf_home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = sf.info(str(tmp_path / "synth.wav"))
    assert (info.samplerate, info.channels, info.frames) == (44100, 2, sf.info(str(mix)).frames)
    stem, _ = sf.read(str(tmp_path / "synth.wav"))
    assert np.abs(stem).max() > 0

    data = make_track_layout(tmp_path / "data", {"train": 1}, seconds=2.0)
    proc = synthgen("prepare", data, "--out", tmp_path / "cache", "--codec", "facebook/encodec_32khz", hf_home=hf_home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "cache" / "cache.json").is_file()


def test_a_hub_id_not_in_the_cache_offline_is_one_line_that_says_where_to_put_it(tmp_path):
    mix = write(tmp_path / "song.wav", tone(1.0, 32000), 32000)
    data = make_track_layout(tmp_path / "data", {"train": 1}, seconds=1.0)
    for args in (["generate", mix, "--prompt", "a pad", "--out", tmp_path / "out.wav", "--model", "someone/missing"],
                 ["prepare", data, "--out", tmp_path / "cache", "--codec", "someone/missing-codec"]):
        proc = synthgen(*args, hf_home=tmp_path / "hf")
        errors = [line for line in proc.stderr.splitlines() if line.startswith("synthgen")]
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        assert len(errors) == 1 and "someone/missing" in errors[0] and "Hugging Face cache" in errors[0]
        assert "HF_HOME" in errors[0] and "huggingface-cli download" in errors[0]
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "cache").exists()


def test_an_existing_folder_is_a_path_even_when_it_looks_like_an_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "mine").mkdir(parents=True)
    assert not is_hub_id("models/mine") and resolve("models/mine") == tmp_path.joinpath("models/mine").relative_to(tmp_path)
    assert is_hub_id("facebook/musicgen-melody") and not is_hub_id("tiny") and not is_hub_id("spectral:small")
