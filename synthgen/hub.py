"""Hugging Face Hub ids where a folder is expected (`--model facebook/musicgen-melody`, `--codec
facebook/encodec_32khz`, `train --pretrained facebook/musicgen-melody`).

A path that exists is always a path. Otherwise `owner/name` is a Hub id: its snapshot comes from the local Hub
cache (HF_HOME, ~/.cache/huggingface by default), or is downloaded when the Hub can be reached; offline and not
cached, one line says how to get it there.
"""

from __future__ import annotations

import re
from pathlib import Path

from synthgen.errors import SynthGenError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
SNAPSHOT_FILES = ["*.json", "*.safetensors", "*.model", "*.txt"]  # configs, weights, tokenizers; not .bin copies


def is_hub_id(spec: str | Path) -> bool:
    return not Path(spec).exists() and bool(HUB_ID.match(str(spec)))


def resolve(spec: str | Path) -> Path:
    """The folder `spec` names: itself, or the local snapshot of a Hub id (downloaded when not cached)."""
    if not is_hub_id(spec):
        return Path(spec)
    from huggingface_hub import constants, snapshot_download

    try:
        return Path(snapshot_download(str(spec), local_files_only=True))
    except Exception:  # not in the cache (huggingface_hub raises several kinds for that)
        pass
    where = (f"put a snapshot in the Hugging Face cache ({constants.HF_HUB_CACHE}; `huggingface-cli download {spec}` "
             "where the Hub can be reached, or set HF_HOME to a cache that holds it), or pass a local folder")
    if constants.HF_HUB_OFFLINE:
        raise SynthGenError(f"{spec}: not in the Hugging Face cache and HF_HUB_OFFLINE is set: {where}")
    try:
        return Path(snapshot_download(str(spec), allow_patterns=SNAPSHOT_FILES))
    except Exception as err:  # unreachable Hub, unknown or gated repository
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SynthGenError(f"{spec}: not in the Hugging Face cache and not downloaded ({reason}): {where}") from None
