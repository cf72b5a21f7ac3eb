"""Audio I/O: read any common format, resample, change channel count, write atomically.

Audio arrays are float32 numpy arrays shaped [C, N] (channels first), like the tensors the codec takes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from synthgen.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file. Returns (audio [C, N] float32, sample_rate).

    Raises AudioError naming the file when it is missing, not audio, empty or holds NaN/inf samples.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "no such file")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        reason = reason.split("': ")[-1].rstrip(".")  # libsndfile repeats the path: keep the problem
        raise AudioError(path, f"not a readable audio file ({reason})") from None
    if data.shape[0] == 0:
        raise AudioError(path, "empty audio file (0 samples)")
    if not np.isfinite(data).all():
        raise AudioError(path, "contains NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(sr)


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample [C, N] audio from sr_in to sr_out (soxr, high quality). Returns [C, N']."""
    if sr_in == sr_out:
        return audio
    out = soxr.resample(audio.T, sr_in, sr_out, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def set_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Downmix (mean) to mono, or copy mono to every channel. [C, N] -> [channels, N]."""
    have = audio.shape[0]
    if have == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(audio, channels, axis=0)
    raise ValueError(f"cannot map {have} channels to {channels}")


def load_audio(path: str | os.PathLike, sample_rate: int, channels: int) -> np.ndarray:
    """Read a file and convert it to the given rate and channel count. Returns [channels, N]."""
    audio, sr = read_audio(path)
    return resample(set_channels(audio, channels), sr, sample_rate)


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> None:
    """Write [C, N] audio as WAV through a temporary file in the same folder, then rename.

    A crash mid-write never leaves a half-written file at `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, np.asarray(audio, dtype=np.float32).T, sample_rate, subtype=subtype, format="WAV")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
