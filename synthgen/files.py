"""Small file helpers shared by the commands that write runs: atomic writes, folder swaps, JSON-lines logs, and
where a model folder is (the shipped one, a run's, the codec's beside the model)."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from synthgen.errors import SynthGenError

DEFAULT_MODEL = Path(__file__).resolve().parent / "weights" / "default"  # the model shipped in the package
CODEC_FOLDER = "codec"  # a model folder's codec, beside the language model's files
STALE_SECONDS = 24 * 3600  # a temporary entry of a run older than this is left over, whoever made it


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_stale(folder: Path, pattern: str) -> list[Path]:
    """Remove the temporary files and folders a killed run left in `folder`: entries matching `pattern` (a regular
    expression with a group for the process id their names carry) whose process is gone, or that are older than
    STALE_SECONDS. Returns what was removed; what cannot be removed is left."""
    removed, now = [], time.time()
    for path in Path(folder).iterdir() if Path(folder).is_dir() else []:
        match = re.fullmatch(pattern, path.name)
        try:
            if match and (not _alive(int(match.group(1))) or now - path.lstat().st_mtime > STALE_SECONDS):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary file beside it (`write(tmp)` fills it), then rename it into place:
    readers never see half of it, and a failed write leaves `path` as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def read_json(path: Path) -> dict:
    """A JSON object from a file; a file that is not one stops with one line naming it (SynthGenError)."""
    try:
        value = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SynthGenError(f"{path}: not valid JSON ({str(err).splitlines()[0]})") from None
    except OSError as err:
        raise SynthGenError(f"{path}: cannot be read ({err.strerror})") from None
    if not isinstance(value, dict):
        raise SynthGenError(f"{path}: not a JSON object of settings")
    return value


def user_cache(name: str) -> Path:
    """A folder of SynthGen's in the user's cache folder ($XDG_CACHE_HOME, else ~/.cache): synthgen/<name>."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synthgen" / name


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text))


def replace_directory(new: Path, target: Path) -> None:
    """Put the finished folder `new` in the place of `target`. At every moment `target` (or, for the
    instant between the two renames, `target.old`) is a complete folder."""
    old = target.with_name(f"{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def model_directory(path: str | Path) -> Path:
    """A model directory (with config.json) given itself or the training run folder that holds it
    as `model/`."""
    path = Path(path)
    exported = path / "model"
    return exported if not (path / "config.json").is_file() and (exported / "config.json").is_file() else path


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target` to write into; on success it replaces `target`
    (see `replace_directory`), on an error it is removed and `target` is left as it was."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_directory(tmp, target)


def append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def truncate_jsonl(path: Path, step: int) -> None:
    """Drop the records of steps after `step` (logged after the checkpoint a run resumes from)."""
    if path.is_file():
        lines = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= step]
        write_text_atomic(path, "".join(line + "\n" for line in lines))
