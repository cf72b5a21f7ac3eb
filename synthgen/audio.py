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
from synthgen.iir import Biquad, rbj_biquad
from synthgen.loudness import integrated_loudness

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")  # what SynthGen reads
OUTPUT_FORMATS = {".wav": ("WAV", "PCM_24"), ".flac": ("FLAC", "PCM_24"), ".ogg": ("OGG", "VORBIS")}  # and writes
SAMPLE_RATE = 32000  # the rate every codec, token cache, model and data set of SynthGen runs at
SILENT_PEAK = 1e-5  # -100 dBFS: a mix with no sample above it is silent
CEILING_DBFS = -1.0  # no stem or preview SynthGen writes peaks above this
RESAMPLE_QUALITY = "HQ"  # soxr's, for every resampling (whole arrays and streams)
SOUNDFILE_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError)  # what soundfile raises for a bad file
FALLBACK_LUFS = -20.0  # a stem's loudness when its mix is too quiet or short to measure
SPREAD_DELAY_MS, SPREAD_WIDTH, SPREAD_LOW_CUT_HZ = 12.0, 0.35, 250.0  # stereo_spread's side signal


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


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file. Returns (audio [C, N] float32, sample_rate).

    Raises AudioError naming the file when it is missing, not audio, empty or holds NaN/inf samples.
    """
    path = Path(path)
    _check_path(path)
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except SOUNDFILE_ERRORS as err:
        raise unreadable(path, err) from None
    if data.shape[0] == 0:
        raise AudioError(path, "empty audio file (0 samples)")
    if not np.isfinite(data).all():
        raise AudioError(path, "contains NaN or infinite samples")
    return np.ascontiguousarray(data.T), int(sr)


def probe_audio(path: str | os.PathLike, max_seconds: float | None = None) -> tuple[float, int, int]:
    """Check a file from its header and its first and last second, without reading it all: -> (seconds,
    sample_rate, channels). Refuses (AudioError) what `read_audio` would refuse there (a file damaged only in the
    middle is found when it is read), and a file over `max_seconds`."""
    path = Path(path)
    _check_path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            seconds, sample_rate, channels = f.frames / f.samplerate, f.samplerate, f.channels
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


def is_silent(audio: np.ndarray) -> bool:
    """No sample above -100 dBFS."""
    return float(np.abs(audio).max()) < SILENT_PEAK


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample [C, N] audio from sr_in to sr_out (soxr, high quality). Returns [C, N']."""
    if sr_in == sr_out:
        return audio
    out = soxr.resample(audio.T, sr_in, sr_out, quality=RESAMPLE_QUALITY)
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
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
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


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] -> int16 (clipped): half the memory of float32 for audio held in RAM."""
    return np.clip(audio * 32767, -32768, 32767).astype(np.int16)


def from_int16(audio: np.ndarray) -> np.ndarray:
    """int16 audio -> float32 in [-1, 1]."""
    return audio.astype(np.float32) / 32767


def peak_dbfs(audio: np.ndarray) -> float:
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def peak_gain(peak: float, ceiling_dbfs: float = CEILING_DBFS) -> float:
    """The gain (at most 1) that brings a linear `peak` down to `ceiling_dbfs`."""
    ceiling = 10 ** (ceiling_dbfs / 20)
    return min(1.0, ceiling / peak) if peak > 0 else 1.0


def limit_peak(audio: np.ndarray, ceiling_dbfs: float = CEILING_DBFS) -> np.ndarray:
    """Scale audio down (never up) so that its peak is at most `ceiling_dbfs`; the dtype is kept."""
    gain = peak_gain(float(np.abs(audio).max()) if audio.size else 0.0, ceiling_dbfs)
    return (audio * gain).astype(audio.dtype, copy=False) if gain < 1 else audio


def stereo_spread(stem: np.ndarray, sample_rate: int) -> np.ndarray:
    """A mono stem [N] as a mono-compatible stereo image [2, N]: mid = the stem, side = the stem delayed by
    SPREAD_DELAY_MS, high-passed at SPREAD_LOW_CUT_HZ (the bass stays centred) and scaled by SPREAD_WIDTH. The
    fold-down (L + R) / 2 is the stem itself, so mono playback has no comb filtering and the same level."""
    return StereoSpreader(sample_rate)(stem)


class StereoSpreader:
    """`stereo_spread` of a stem that arrives block by block: call it on consecutive [n] blocks -> [2, n]."""

    def __init__(self, sample_rate: int):
        self.delay_line = np.zeros(int(SPREAD_DELAY_MS * sample_rate / 1000), np.float32)
        self.high_pass = Biquad(*rbj_biquad("high_pass", SPREAD_LOW_CUT_HZ, 1 / np.sqrt(2), sample_rate), channels=1)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        line = np.concatenate([self.delay_line, block.astype(np.float32)])
        delayed, self.delay_line = line[: len(block)], line[len(block) :]
        side = self.high_pass(delayed[None])[0] * SPREAD_WIDTH
        return np.stack([block + side, block - side]).astype(np.float32)


def stem_loudness(mix: np.ndarray, sample_rate: int, level_db: float, loudness: float | None) -> float:
    """The loudness in LUFS a stem for the mix [C, N] is brought to (`stem_target`)."""
    return stem_target(integrated_loudness(mix, sample_rate) if loudness is None else None, level_db, loudness)


def stem_target(mix_loudness: float | None, level_db: float, loudness: float | None) -> float:
    """The loudness in LUFS a stem is brought to: `loudness` when given, else `level_db` LU against the mix's
    integrated loudness (FALLBACK_LUFS for a mix too quiet or short to measure)."""
    if loudness is not None:
        return loudness
    return mix_loudness + level_db if np.isfinite(mix_loudness) else FALLBACK_LUFS


class Placement:
    """How a mono stem becomes the output file's audio: spread in stereo for a stereo file (`stereo_spread`,
    unless stereo=False: then centred), or copied to every channel. Call it on consecutive [n] blocks -> [C, n]."""

    def __init__(self, channels: int, sample_rate: int, stereo: bool):
        self.channels = channels
        self.spreader = StereoSpreader(sample_rate) if stereo and channels == 2 else None

    def __call__(self, block: np.ndarray) -> np.ndarray:
        block = block.astype(np.float32)
        return self.spreader(block) if self.spreader else set_channels(block[None], self.channels)


def placement_gain(measured_lufs: float, peak: float, lufs: float) -> float:
    """The gain that brings audio measured at `measured_lufs` to `lufs` (1 when it cannot be measured), lowered
    where its `peak` (linear) would pass CEILING_DBFS."""
    gain = 10 ** ((lufs - measured_lufs) / 20) if np.isfinite(measured_lufs) else 1.0
    return gain * peak_gain(peak * gain)


def place_stem(stem: np.ndarray, channels: int, sample_rate: int, lufs: float, stereo: bool) -> np.ndarray:
    """A mono stem [N] as the output file's audio [channels, N] (`Placement`), at `lufs` (`stem_loudness`), never
    above -1 dBFS."""
    audio = Placement(channels, sample_rate, stereo)(stem)
    gain = placement_gain(integrated_loudness(audio, sample_rate), float(np.abs(audio).max()), lufs)
    return (audio * gain).astype(np.float32)


def mix_preview(mix: np.ndarray, stem_audio: np.ndarray, gain_db: float) -> np.ndarray:
    """The input mix [C, N] with the stem [C, N] added at gain_db, scaled down if it would pass CEILING_DBFS."""
    return limit_peak(mix + stem_audio * 10 ** (gain_db / 20))
