"""Checkpoints kept in two generations, shared by both training loops.

A checkpoint is a file (the codec loop's checkpoint.pt) or a folder (the language-model loop's accelerate
state in checkpoint/). `save_checkpoint` writes the new one beside the current one and keeps the current one
as the previous (checkpoint.previous.pt, checkpoint.previous/); at every moment at least one of the two is
complete. `load_checkpoint` resumes from the newest one that loads and warns when it had to fall back.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch
from safetensors import SafetensorError

from synthgen.errors import SynthGenError

# what reading a cut, truncated or overwritten checkpoint raises (torch.load: RuntimeError, EOFError, pickle errors)
DAMAGE = (OSError, EOFError, RuntimeError, ValueError, KeyError, pickle.UnpicklingError, SafetensorError)

T = TypeVar("T")


def previous_path(path: Path) -> Path:
    """checkpoint.pt -> checkpoint.previous.pt; checkpoint -> checkpoint.previous."""
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def checkpoints(path: Path) -> list[Path]:
    """The checkpoints that exist, newest first."""
    return [p for p in (path, previous_path(path)) if p.exists()]


def refuse_a_started_run(out: Path, path: Path, resume: bool, what: str = "a run") -> None:
    """Refuse to start a new run in `out` over the checkpoint at `path` unless resuming (SynthGenError)."""
    if not resume and checkpoints(path):
        raise SynthGenError(f"{out}: already holds {what}; pass --resume to continue it or choose another --out")


def save_checkpoint(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` fills a temporary file or folder beside `path`, which then becomes the checkpoint."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        write(tmp)
    except BaseException:
        _remove(tmp)
        raise
    install_checkpoint(path, tmp)


def install_checkpoint(path: Path, finished: Path) -> None:
    """Make the complete checkpoint `finished` (a file or folder beside `path`) the current one; the current
    one becomes the previous."""
    if path.exists():
        _remove(previous_path(path))
        path.rename(previous_path(path))
    finished.rename(path)


def load_checkpoint(path: Path, load: Callable[[Path], T]) -> T:
    """`load(checkpoint)` for the newest checkpoint it succeeds on; a damaged one is reported and skipped. A
    SynthGenError (e.g. a run of another kind) is not damage: it stops the run."""
    found = checkpoints(path)
    if not found:
        raise SynthGenError(f"{path}: no checkpoint to resume from")
    problems = []
    for candidate in found:
        try:
            result = load(candidate)
        except SynthGenError:
            raise
        except DAMAGE as err:
            if isinstance(err, torch.cuda.OutOfMemoryError):  # not damage: the machine, not the file
                raise
            problems.append(f"{candidate}: damaged checkpoint ({str(err).splitlines()[0] if str(err) else type(err).__name__})")
            continue
        for problem in problems:
            print(f"synthgen: warning: {problem}; resumed from {candidate} instead", file=sys.stderr)
        return result
    raise SynthGenError("; ".join(problems) + " (no checkpoint could be loaded; they are left in place)")
