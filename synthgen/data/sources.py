"""Stem data sources. Each lists `Track`s whose stems load as aligned (mix, target) audio.

Layouts (see README, "Data"):
  seed         SRC/mix/mix_<i>.wav, SRC/synth/synth_<i>.wav, SRC/description/des_<i>.txt
  musdb        MUSDB18-HQ: SRC/{train,test}/<track>/{mixture,drums,bass,other,vocals}.wav
  musdb-stems  MUSDB18:    SRC/{train,test}/<track>.stem.mp4 (read with the `musdb` package; needs ffmpeg)
  tracks       SynthGen:   SRC/{train,valid,test}/<track>/{mixture.wav, synth.wav, description.txt, meta.json}

Modes: the mix a model is given is the mixture without the target (`accompaniment`, the default) or the whole
mixture (`extract`).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from synthgen.audio import read_audio, set_channels
from synthgen.data.window_settings import MODES, SPLITS
from synthgen.errors import SynthGenError
from synthgen.resampling import resample

DEFAULT_DESCRIPTION = "a synthesizer part that fits the music"
SOURCES = ("seed", "musdb", "musdb-stems", "tracks")

# (mixture [C, N], target [C, N], sample_rate)
StemReader = Callable[[], tuple[np.ndarray, np.ndarray, int]]


@dataclass
class Track:
    """One piece of music in a data source; its audio is read only when `read_stems` is called."""

    name: str
    split: str
    read_stems: StemReader
    description: str = DEFAULT_DESCRIPTION
    attributes: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """A file-name-safe identifier, unique within a source: '<split>/<name>' made safe."""
        return f"{self.split}__{re.sub(r'[^A-Za-z0-9._-]+', '_', self.name)}"


def load_pair(track: Track, sample_rate: int, channels: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """A track's (mix, target) audio, each [channels, N] at `sample_rate`, cut to the same N (the mix as `mode`
    makes it)."""
    if mode not in MODES:
        raise SynthGenError(f"unknown mode '{mode}' (choose from {', '.join(MODES)})")
    mixture, target, sr = track.read_stems()
    n = min(mixture.shape[1], target.shape[1])
    mixture, target = mixture[:, :n], target[:, :n]
    mix = mixture - target if mode == "accompaniment" else mixture
    return (
        resample(set_channels(mix, channels), sr, sample_rate),
        resample(set_channels(target, channels), sr, sample_rate),
    )


def _read_file_pair(mixture_path: Path, target_path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    mixture, sr = read_audio(mixture_path)
    target, target_sr = read_audio(target_path)
    target = resample(target, target_sr, sr)
    channels = max(mixture.shape[0], target.shape[0])
    return set_channels(mixture, channels), set_channels(target, channels), sr


def _file_track(name: str, split: str, mixture: Path, target: Path, **info) -> Track:
    if not target.is_file():
        raise SynthGenError(f"{target}: missing target stem for track '{name}'")
    return Track(name=name, split=split, read_stems=lambda: _read_file_pair(mixture, target), **info)


def _read_description(path: Path) -> str:
    if not path.is_file():
        return DEFAULT_DESCRIPTION
    text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
    return text or DEFAULT_DESCRIPTION


def hash_split(name: str, valid_percent: int = 5, test_percent: int = 5) -> str:
    """A stable split for sources that have none: the same name always lands in the same split."""
    bucket = zlib.crc32(name.encode()) % 100
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + valid_percent:
        return "valid"
    return "train"


def seed_tracks(root: Path) -> list[Track]:
    """The seed's layout; splits by a stable hash of the track number (90/5/5)."""
    tracks = []
    for mix in sorted((root / "mix").glob("mix_*.wav")):
        index = mix.stem[len("mix_"):]
        tracks.append(_file_track(
            f"mix_{index}", hash_split(index), mix, root / "synth" / f"synth_{index}.wav",
            description=_read_description(root / "description" / f"des_{index}.txt"),
        ))
    return tracks


def musdb_validation_tracks() -> set[str]:
    """MUSDB18's official validation track names, read from the `musdb` package's own config."""
    spec = importlib.util.find_spec("musdb")
    config = Path(next(iter(spec.submodule_search_locations))) / "configs" / "mus.yaml"
    return set(yaml.safe_load(config.read_text())["validation_tracks"])


def _musdb_split(subset: str, name: str, validation: set[str]) -> str:
    if subset == "test":
        return "test"
    return "valid" if name in validation else "train"


def musdb_wav_tracks(root: Path, target: str) -> list[Track]:
    """MUSDB18-HQ wav folders with the official train/valid/test split; no ffmpeg needed."""
    validation = musdb_validation_tracks()
    tracks = []
    for subset in ("train", "test"):
        for folder in sorted(p for p in (root / subset).glob("*") if (p / "mixture.wav").is_file()):
            tracks.append(_file_track(
                folder.name, _musdb_split(subset, folder.name, validation),
                folder / "mixture.wav", folder / f"{target}.wav",
            ))
    return tracks


def _require_ffmpeg() -> None:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        raise SynthGenError(
            f"MUSDB18 .stem.mp4 files need {' and '.join(missing)}: install it with "
            "`sudo apt-get install ffmpeg` (Debian/Ubuntu), `brew install ffmpeg` (macOS) or "
            "`conda install ffmpeg`, or use the MUSDB18-HQ wav folders (--source musdb)"
        )


def musdb_stem_tracks(root: Path, target: str) -> list[Track]:
    """MUSDB18 `.stem.mp4` files through the `musdb` package, with the official split."""
    _require_ffmpeg()
    import musdb  # imported here: it pulls in stempeg, which only .stem.mp4 files need

    if target not in ("drums", "bass", "other", "vocals"):
        raise SynthGenError(f"MUSDB18 has no stem '{target}' (choose drums, bass, other or vocals)")
    validation = musdb_validation_tracks()
    tracks = []
    for subset in ("train", "test"):
        if not (root / subset).is_dir():
            continue
        for mus_track in musdb.DB(root=str(root), subsets=[subset], is_wav=False).tracks:

            def read(mus_track=mus_track):
                mixture = mus_track.audio.T.astype(np.float32)
                stem = mus_track.targets[target].audio.T.astype(np.float32)
                return mixture, stem, int(mus_track.rate)

            tracks.append(Track(mus_track.name, _musdb_split(subset, mus_track.name, validation), read))
    return tracks


def folder_tracks(root: Path) -> list[Track]:
    """The project's per-track layout (what `synthgen data synth` writes)."""
    tracks = []
    for split in SPLITS:
        for folder in sorted(p for p in (root / split).glob("*") if (p / "mixture.wav").is_file()):
            meta_path = folder / "meta.json"
            try:
                attributes = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
            except json.JSONDecodeError as err:
                raise SynthGenError(f"{meta_path}: not valid JSON ({err})") from None
            tracks.append(_file_track(
                folder.name, split, folder / "mixture.wav", folder / "synth.wav",
                description=_read_description(folder / "description.txt"), attributes=attributes,
            ))
    return tracks


def detect_source(root: Path) -> str:
    """Which layout a folder holds, by the files in it."""
    if (root / "mix").is_dir() and (root / "synth").is_dir():
        return "seed"
    if any(root.glob("t*/*.stem.mp4")):
        return "musdb-stems"
    if any(root.glob("*/*/synth.wav")):
        return "tracks"
    if any(root.glob("t*/*/mixture.wav")):
        return "musdb"
    raise SynthGenError(
        f"{root}: no known data layout (expected mix/ and synth/ folders, MUSDB18 train/ and test/, "
        "or <split>/<track>/mixture.wav)"
    )


def list_tracks(root: str | Path, source: str = "auto", target: str = "other") -> list[Track]:
    """All tracks of a data folder, in a stable order. `target` names the MUSDB stem to generate."""
    root = Path(root)
    if not root.is_dir():
        raise SynthGenError(f"{root}: no such data folder")
    if source == "auto":
        source = detect_source(root)
    if source == "seed":
        tracks = seed_tracks(root)
    elif source == "musdb":
        tracks = musdb_wav_tracks(root, target)
    elif source == "musdb-stems":
        tracks = musdb_stem_tracks(root, target)
    elif source == "tracks":
        tracks = folder_tracks(root)
    else:
        raise SynthGenError(f"unknown source '{source}' (choose auto or one of {', '.join(SOURCES)})")
    if not tracks:
        raise SynthGenError(f"{root}: no tracks found for source '{source}'")
    return tracks
