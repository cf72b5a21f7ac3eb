"""Two generations of checkpoints (synthgen/training/checkpoints.py), as the codec loop keeps them in files."""

import pytest
import torch

from synthgen.errors import SynthGenError
from synthgen.training.checkpoints import checkpoints, load_checkpoint, previous_path, save_checkpoint


def test_the_previous_checkpoint_is_kept_and_used_when_the_latest_is_damaged(tmp_path, capsys):
    path = tmp_path / "checkpoint.pt"
    for step in (1, 2, 3):
        save_checkpoint(path, lambda tmp, step=step: torch.save(dict(step=step), tmp))
    assert checkpoints(path) == [path, tmp_path / "checkpoint.previous.pt"] == [path, previous_path(path)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.previous.pt", "checkpoint.pt"]
    load = lambda p: torch.load(p, weights_only=True)["step"]  # noqa: E731
    assert load_checkpoint(path, load) == 3 and capsys.readouterr().err == ""

    path.write_bytes(path.read_bytes()[:20])  # cut short, as by a full disk
    assert load_checkpoint(path, load) == 2
    assert "checkpoint.pt: damaged checkpoint" in capsys.readouterr().err

    previous_path(path).write_bytes(b"")
    with pytest.raises(SynthGenError, match="no checkpoint could be loaded"):
        load_checkpoint(path, load)


def test_a_failed_write_leaves_the_checkpoints_as_they_were(tmp_path):
    path = tmp_path / "checkpoint"
    save_checkpoint(path, lambda tmp: (tmp.mkdir(), (tmp / "state.json").write_text("1")))

    def crash(tmp):
        tmp.mkdir()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, crash)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint"] and (path / "state.json").read_text() == "1"
