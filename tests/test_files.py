"""Folder swaps and run-folder resolution used by every command that writes a model."""

import pytest

from synthgen.files import atomic_directory, model_directory, write_atomic


def test_atomic_directory_swaps_in_a_finished_folder_and_keeps_the_old_one_on_error(tmp_path):
    target = tmp_path / "model"
    with atomic_directory(target) as tmp:
        (tmp / "weights").write_text("first")
        assert not target.exists()  # nothing visible until the folder is complete
    assert (target / "weights").read_text() == "first"

    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "weights").write_text("half")
            raise RuntimeError("disk full")
    assert (target / "weights").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left behind


def test_model_directory_finds_the_exported_model_of_a_run(tmp_path):
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "model" / "config.json").write_text("{}")
    assert model_directory(run) == run / "model"
    assert model_directory(run / "model") == run / "model"
    assert model_directory(tmp_path / "elsewhere") == tmp_path / "elsewhere"


def test_write_atomic_leaves_the_old_file_and_no_temporary_on_a_failed_write(tmp_path):
    path = tmp_path / "checkpoint.pt"
    write_atomic(path, lambda tmp: tmp.write_bytes(b"step 1"))
    assert path.read_bytes() == b"step 1"

    def fails(tmp):
        tmp.write_bytes(b"half of step 2")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomic(path, fails)
    assert path.read_bytes() == b"step 1"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_stale_temporary_entries_of_dead_or_old_runs_are_swept(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from synthgen.files import STALE_SECONDS, sweep_stale

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    (tmp_path / f"synthgen-{dead}-abc").mkdir()
    (tmp_path / f"synthgen-{dead}-abc" / "stem_0.f32").write_bytes(b"\0" * 64)
    (tmp_path / f"synthgen-{os.getpid()}-live").mkdir()  # a run still going: kept
    old = tmp_path / f"synthgen-{os.getpid()}-old"
    old.mkdir()
    os.utime(old, (time.time() - STALE_SECONDS - 60,) * 2)  # older than a day: gone, whoever owns it
    (tmp_path / f".synth.wav.{dead}.x1.tmp").write_bytes(b"half")
    (tmp_path / "synthgen-notes").mkdir()  # not a run's folder: kept
    removed = sweep_stale(tmp_path, r"synthgen-(\d+)-\w+")
    assert sorted(p.name for p in removed) == sorted([f"synthgen-{dead}-abc", old.name])
    assert sweep_stale(tmp_path, r"\.synth\.wav\.(\d+)\.\w+\.tmp") == [tmp_path / f".synth.wav.{dead}.x1.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"synthgen-{os.getpid()}-live", "synthgen-notes"])
