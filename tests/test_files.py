"""Folder swaps and run-folder resolution used by every command that writes a model."""

import pytest

from synthgen.files import atomic_directory, model_directory


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
