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
