import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from synthgen.chroma import chroma
from synthgen.codec import load_codec
from synthgen.data.cache import CodeCache, prepare_cache
from synthgen.data.window_settings import WindowSettings
from synthgen.data.sources import list_tracks, load_pair
from synthgen.data.windows import cut, window_starts
from synthgen.errors import SynthGenError
from tests.helpers.factories import make_musdb_hq, make_musdb_stems, make_seed_layout, make_track_layout

PREPARE = ["--codec", "tiny", "--window", "2", "--hop", "1"]


def synthgen(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "synthgen", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def expected_windows(seconds, tail="pad"):
    return len(window_starts(round(seconds * 32000), 64000, 32000, tail))


@pytest.mark.parametrize("layout", ["seed", "musdb", "musdb-stems", "tracks"])
def test_prepare_each_layout(tmp_path, layout, request):
    if layout == "seed":
        root, lengths = make_seed_layout(tmp_path / "d", [2.5, 3.0, 1.0]), [2.5, 3.0, 1.0]
    elif layout == "musdb":
        root, lengths = make_musdb_hq(tmp_path / "d", {"train": ["a", "b"], "test": ["c"]}, 3.0), [3.0] * 3
    elif layout == "musdb-stems":
        request.getfixturevalue("needs_ffmpeg")
        root, lengths = make_musdb_stems(tmp_path / "d", {"train": ["a"], "test": ["c"]}, 2.0), None
    else:
        root, lengths = make_track_layout(tmp_path / "d", {"train": 2, "test": 1}, 3.5), [3.5] * 3
    proc = synthgen("prepare", root, "--out", tmp_path / "cache", *PREPARE)
    assert proc.returncode == 0, proc.stderr
    assert "cache complete" in proc.stdout
    cache = CodeCache(tmp_path / "cache")
    assert cache.settings["source"] == "auto" and cache.codec["name"] == "preset:tiny"
    if lengths is not None:
        assert len(cache) == sum(expected_windows(s) for s in lengths)
    else:  # AAC adds a few ms of padding, so each 2 s track gives one or two windows
        assert 2 <= len(cache) <= 4
    item = cache[0]
    assert item["mix_codes"].shape == item["target"].shape == (4, 100)
    assert item["mix_codes"].dtype == torch.int64 and 0 < item["valid_frames"] <= 100
    assert item["chroma"].shape == (1 + 64000 // 4096, 12) and item["chroma"].max() == 1.0


def test_cache_codes_are_sample_exact_windows(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 1}, 3.5)
    codec = load_codec("tiny")
    track = list_tracks(root)[0]
    prepare_cache([track], tmp_path / "cache", codec, windows=WindowSettings(2.0, 1.0, "pad"),
                  mode="extract", source="tracks", target="synth", progress=False)
    cache = CodeCache(tmp_path / "cache")
    mix, target = load_pair(track, 32000, 1, "extract")
    spans = window_starts(mix.shape[1], 64000, 32000, "pad")
    assert [round(cache.window(i)["start_seconds"] * 32000) for i in range(len(cache))] == [w.start for w in spans]
    for i, span in enumerate(spans):
        for name, audio in (("mix_codes", mix), ("target", target)):
            window = torch.from_numpy(cut(audio, span, 64000))[None]
            assert torch.equal(cache[i][name], codec.encode(window)[0])
            if name == "mix_codes":
                torch.testing.assert_close(cache[i]["chroma"], chroma(window[:, 0], 32000)[0], atol=1e-3, rtol=1e-3)
    assert [cache[i]["valid_frames"] for i in range(len(cache))] == [100, 100, 75]
    info = cache.window(2)
    assert info["description"] == "soft dark pad train 0" and info["attributes"]["role"] == "pad"


def test_drop_tail_and_split_filter(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 2, "valid": 1, "test": 1}, 3.5)
    assert synthgen("prepare", root, "--out", tmp_path / "c", *PREPARE, "--tail", "drop").returncode == 0
    assert len(CodeCache(tmp_path / "c")) == 4 * expected_windows(3.5, "drop") == 8
    assert len(CodeCache(tmp_path / "c", split="test")) == 2


def test_other_settings_are_refused(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 1}, 2.0)
    assert synthgen("prepare", root, "--out", tmp_path / "c", *PREPARE).returncode == 0
    proc = synthgen("prepare", root, "--out", tmp_path / "c", "--codec", "tiny", "--window", "1", "--hop", "1")
    assert proc.returncode != 0 and "other settings" in proc.stderr and "window_seconds" in proc.stderr


def test_prepare_resumes_after_sigkill(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 30}, 8.0)
    cache = tmp_path / "cache"
    args = [sys.executable, "-m", "synthgen", "prepare", str(root), "--out", str(cache), *PREPARE, "--batch-size", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len([p for p in (cache / "tracks").glob("train__*")]) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in (cache / "tracks").glob("train__*"))
    assert 3 <= len(done) < 30, "prepare must be killed mid-way"
    with pytest.raises(SynthGenError, match="incomplete cache"):
        CodeCache(cache)
    stamps = {name: os.stat(cache / "tracks" / name / "target.npy").st_mtime_ns for name in done}

    resumed = synthgen("prepare", root, "--out", cache, *PREPARE)
    assert resumed.returncode == 0 and f"{30 - len(done)} encoded now" in resumed.stdout
    assert all(os.stat(cache / "tracks" / n / "target.npy").st_mtime_ns == t for n, t in stamps.items())
    assert not list((cache / "tracks").glob(".tmp-*"))
    assert synthgen("prepare", root, "--out", cache, *PREPARE).stdout.strip().endswith("0 encoded now; cache complete")

    fresh = tmp_path / "fresh"
    assert synthgen("prepare", root, "--out", fresh, *PREPARE).returncode == 0
    a, b = CodeCache(cache), CodeCache(fresh)
    assert len(a) == len(b) == 30 * expected_windows(8.0)
    for i in range(0, len(a), 17):
        assert torch.equal(a[i]["mix_codes"], b[i]["mix_codes"]) and torch.equal(a[i]["target"], b[i]["target"])


def test_shards_write_one_cache(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 4, "test": 1}, 2.0)
    first = synthgen("prepare", root, "--out", tmp_path / "c", *PREPARE, "--shard", "0/2")
    assert "3 encoded now" in first.stdout and "2 tracks left for other shards" in first.stdout
    with pytest.raises(SynthGenError, match="incomplete"):
        CodeCache(tmp_path / "c")
    second = synthgen("prepare", root, "--out", tmp_path / "c", *PREPARE, "--shard", "1/2")
    assert "2 encoded now; cache complete" in second.stdout
    assert len(CodeCache(tmp_path / "c")) == 5 * expected_windows(2.0)
    assert synthgen("prepare", root, "--out", tmp_path / "c", "--codec", "tiny", "--shard", "2/2").returncode != 0


def test_accelerate_launch_splits_tracks_between_processes(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 5}, 2.0)
    proc = subprocess.run(
        ["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "synthgen",
         "prepare", str(root), "--out", str(tmp_path / "c"), *PREPARE],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "3 encoded now; cache complete" in proc.stdout  # rank 0 took tracks 0, 2, 4 and reports
    assert len(CodeCache(tmp_path / "c")) == 5 * expected_windows(2.0)
    settings = json.loads((tmp_path / "c" / "cache.json").read_text())
    assert [t["key"] for t in settings["tracks"]] == [f"train__track_{i:03d}" for i in range(5)]


def test_bad_window_settings_stop_with_one_line_before_anything_is_written(tmp_path):
    root = make_track_layout(tmp_path / "d", {"train": 1}, 2.0)
    for option in (["--window", "0"], ["--hop", "0"], ["--window", "nan"]):
        proc = synthgen("prepare", root, "--out", tmp_path / "c", *PREPARE, *option)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("synthgen prepare: error: argument --") and "must be" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "c").exists()
    assert synthgen("prepare", root, "--out", tmp_path / "c", *PREPARE).returncode == 0  # a valid rerun is not blocked
