"""Audio I/O: read any common format (whole, or block by block), probe a file, write atomically; loading converts
to the rate (`resampling`) and channel count a caller asks for.

Audio arrays are float32 numpy arrays shaped [C, N] (channels first), like the tensors the codec takes.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from collections.abc import Iterator

import numpy as np
import soundfile as sf

from synthgen.errors import AudioError
from synthgen.files import sweep_stale
from synthgen.resampling import resample

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")  # what SynthGen reads
OUTPUT_FORMATS = {".wav": ("WAV", "PCM_24"), ".flac": ("FLAC", "PCM_24"), ".ogg": ("OGG", "VORBIS")}  # and writes
SAMPLE_RATE = 32000  # the rate every codec, token cache, model and data set of SynthGen runs at
SAMPLE_RATE_RANGE = (2000, 768000)  # the rates SynthGen reads (Hz): the analysis and the resamplers work there
MAX_CHANNELS = 8  # the most channels a mix may have
SOUNDFILE_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError)  # what soundfile raises for a bad file


def unreadable(path: Path, err: Exception) -> AudioError:
    """soundfile's complaint about a file it cannot read, as one line naming the file."""
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    reason = reason.split("': ")[-1].rstrip(".")  # libsndfile repeats the path: keep the problem
    return AudioError(path, f"not a readable audio file ({reason})")


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioError(path, "no such file")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")


def sample_rate_problem(sample_rate) -> str | None:
    """What is wrong with a sample rate for SynthGen (a whole number of Hz in SAMPLE_RATE_RANGE), or None."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        return f"sample rate {sample_rate!r} is not a whole number of Hz"
    if not SAMPLE_RATE_RANGE[0] <= sample_rate <= SAMPLE_RATE_RANGE[1]:
        return f"sample rate {sample_rate} Hz is outside {SAMPLE_RATE_RANGE[0]}-{SAMPLE_RATE_RANGE[1]} Hz"
    return None


def _check_header(path: Path, sample_rate: int, channels: int) -> None:
    """Refuse a file whose header says a rate or a channel count SynthGen cannot work with (AudioError)."""
    problem = sample_rate_problem(sample_rate)
    if problem is None and channels > MAX_CHANNELS:
        problem = f"{channels} channels, more than {MAX_CHANNELS}"
    if problem:
        raise AudioError(path, problem)


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file. Returns (audio [C, N] float32, sample_rate).

    Raises AudioError naming the file when it is missing, not audio, empty or holds NaN/inf samples.
    """
    path = Path(path)
    _check_path(path)
    try:
        info = sf.info(str(path))
        _check_header(path, info.samplerate, info.channels)
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except SOUNDFILE_ERRORS as err:
        raise unreadable(path, err) from None
    if data.shape[0] == 0:
        raise AudioError(path, "empty audio file (0 samples)")
    if not np.isfinite(data).all():
        raise AudioError(path, "contains NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(sr)


def read_blocks(path: str | os.PathLike, block: int) -> Iterator[np.ndarray]:
    """An audio file's audio in blocks [C, block] (the last one shorter), refusing NaN or infinite samples anywhere
    (AudioError naming the file)."""
    path = Path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            for data in f.blocks(block, dtype="float32", always_2d=True):
                if not np.isfinite(data).all():
                    raise AudioError(path, "contains NaN or infinite samples")
                yield data.T
    except SOUNDFILE_ERRORS as err:
        raise unreadable(path, err) from None


def probe_audio(path: str | os.PathLike, max_seconds: float | None = None) -> tuple[float, int, int]:
    """Check a file from its header and its first and last second, without reading it all: -> (seconds,
    sample_rate, channels). Refuses (AudioError) what `read_audio` would refuse there (a file damaged only in the
    middle is found when it is read), and a file over `max_seconds`."""
    path = Path(path)
    _check_path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            seconds, sample_rate, channels = f.frames / f.samplerate, f.samplerate, f.channels
            _check_header(path, sample_rate, channels)
            if f.frames == 0:
                raise AudioError(path, "empty audio file (0 samples)")
            if max_seconds is not None and seconds > max_seconds:
                raise AudioError(path, f"{seconds:.0f} s long, over the {max_seconds:.0f} s limit "
                                       "(raise it with --max-seconds)")
            probes = [f.read(min(f.frames, sample_rate), dtype="float32")]
            if f.seekable() and f.frames > sample_rate:
                f.seek(f.frames - sample_rate)
                probes.append(f.read(sample_rate, dtype="float32"))
    except SOUNDFILE_ERRORS as err:
        raise unreadable(path, err) from None
    if not all(np.isfinite(x).all() for x in probes):
        raise AudioError(path, "contains NaN or infinite samples")
    return seconds, sample_rate, channels


def wav_missing_bytes(path: str | os.PathLike) -> int:
    """How many bytes of audio a WAV file's header promises and the file does not hold (a download or copy cut
    short; soundfile then reads the part that is there without a word). 0 for whole files and other formats."""
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF" or (f.read(4), f.read(4))[1] != b"WAVE":
            return 0
        while len(header := f.read(8)) == 8:
            size = int.from_bytes(header[4:], "little")
            if header[:4] == b"data":
                if size in (0, 0xFFFFFFFF):  # a streaming writer's "unknown length"
                    return 0
                return max(0, size - (os.fstat(f.fileno()).st_size - f.tell()))
            f.seek(size + size % 2, os.SEEK_CUR)
    return 0


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


def output_format(path: str | os.PathLike) -> tuple[str, str]:
    """(soundfile format, default subtype) of an output file, from its extension: WAV and FLAC at 24 bits,
    Ogg Vorbis. Any other extension is refused (AudioError) before any work is done."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise AudioError(path, f"cannot write '{path.suffix or 'no extension'}' files: use one of "
                               f"{', '.join(OUTPUT_FORMATS)}")
    return OUTPUT_FORMATS[path.suffix.lower()]


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str | None = None) -> None:
    """Write [C, N] audio in the format its extension names (`output_format`), atomically (`AudioWriter`)."""
    audio = np.asarray(audio, dtype=np.float32)
    with AudioWriter(path, sample_rate, audio.shape[0], subtype) as writer:
        writer.write(audio)


class AudioWriter:
    """An audio file written block by block in the format its extension names (`output_format`), through a
    temporary file in the same folder that replaces `path` only when the `with` block ends without an error:
    a crash mid-write never leaves a half-written file at `path`.

        with AudioWriter("synth.flac", 44100, channels=2) as writer:
            writer.write(block)  # [C, n]
    """

    def __init__(self, path: str | os.PathLike, sample_rate: int, channels: int, subtype: str | None = None):
        self.path = Path(path)
        file_format, default_subtype = output_format(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(self.path.parent, rf"\.{re.escape(self.path.name)}\.(\d+)\.\w+\.tmp")
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        try:
            self.file = sf.SoundFile(self.tmp, "w", sample_rate, channels, subtype or default_subtype, format=file_format)
        except BaseException:
            Path(self.tmp).unlink(missing_ok=True)
            raise

    def write(self, block: np.ndarray) -> None:
        self.file.write(np.asarray(block, dtype=np.float32).T)

    def __enter__(self) -> "AudioWriter":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            self.file.close()
            if kind is None:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp makes it private; the result is an ordinary file
                os.replace(self.tmp, self.path)
        finally:
            Path(self.tmp).unlink(missing_ok=True)
