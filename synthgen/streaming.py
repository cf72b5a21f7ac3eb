"""A mix file in, stem, preview and MIDI files out, in memory that does not grow with the song's length.

    rendered = render_file(model, codec, "song.flac", "a soft dark pad", settings, stems=[Path("synth.wav")])

The mix is read BLOCK_SECONDS at a time and every output is written the same way; what has to wait (the mix at
the codec's rate, the raw stems) waits in float32 files in a temporary folder. The passes:
1. read the mix: its loudness (for the level rule), its peak, and a mono copy at the codec's rate;
2. generate window by window (`stem_stream`) and resample back to the mix's rate, into the raw stem files;
3. place each stem in the mix's channels (`Placement`) and measure its loudness and peak: its gain;
4. write the stems and measure each preview's peak (the mix plus the stem);
5. write the previews, scaled to stay under CEILING_DBFS; then each stem's MIDI.
The files hold what `Pipeline.render` returns for the whole arrays. Every audio output is written to a temporary
file beside it and renamed only when all of them are complete. MIDI export reads its whole stem (mono) into memory.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch

from synthgen.analysis import Key, estimate_key, estimate_tempo
from synthgen.audio import (RESAMPLE_QUALITY, SILENT_PEAK, SOUNDFILE_ERRORS, AudioWriter, Placement, peak_gain,
                            placement_gain, stem_target, unreadable)
from synthgen.codec import Codec
from synthgen.errors import AudioError
from synthgen.generate import stem_stream
from synthgen.generation_settings import GenerationSettings
from synthgen.loudness import LoudnessMeter
from synthgen.model.lm import SynthGen

BLOCK_SECONDS = 10
ANALYSIS_SECONDS = 120  # key and tempo are estimated on the middle two minutes of the mix


@dataclass(frozen=True)
class Rendered:
    seconds: float
    sample_rate: int
    channels: int
    silent: bool  # no sample of the mix above -100 dBFS
    key: Key | None
    bpm: float | None


class RawFile:
    """Float32 samples of one channel in a file, appended and read back in pieces."""

    def __init__(self, path: Path):
        self.path, self.length = path, 0
        path.write_bytes(b"")

    def append(self, samples: np.ndarray) -> None:
        with open(self.path, "ab") as f:
            np.asarray(samples, dtype=np.float32).tofile(f)
        self.length += len(samples)

    def read(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end), zero-padded past the end of what was written."""
        count = max(0, min(end, self.length) - start)
        samples = np.fromfile(self.path, np.float32, count=count, offset=4 * start) if count else np.zeros(0, np.float32)
        return np.pad(samples, (0, end - start - count))


def _mix_blocks(path: Path, block: int) -> Iterator[np.ndarray]:
    """The mix file's audio in blocks [C, n], refusing NaN or infinite samples anywhere (AudioError)."""
    try:
        with sf.SoundFile(str(path)) as f:
            for data in f.blocks(block, dtype="float32", always_2d=True):
                if not np.isfinite(data).all():
                    raise AudioError(path, "contains NaN or infinite samples")
                yield data.T
    except SOUNDFILE_ERRORS as err:
        raise unreadable(path, err) from None


def _resampler(rate_in: int, rate_out: int, channels: int):
    """A streaming resampler [n, C] -> [n', C] (soxr, as `audio.resample`); the identity at equal rates."""
    if rate_in == rate_out:
        return lambda x, last=False: x
    stream = soxr.ResampleStream(rate_in, rate_out, channels, dtype="float32", quality=RESAMPLE_QUALITY)
    return lambda x, last=False: stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)


class _MixFile:
    """The mix file being rendered: its rate, channels, blocks, and what the first pass measured of it."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with sf.SoundFile(str(path)) as f:
                self.sample_rate, self.channels = f.samplerate, f.channels
        except SOUNDFILE_ERRORS as err:
            raise unreadable(path, err) from None
        self.block = BLOCK_SECONDS * self.sample_rate
        self.frames, self.peak, self.loudness = 0, 0.0, float("-inf")

    def blocks(self) -> Iterator[np.ndarray]:
        return _mix_blocks(self.path, self.block)

    def measure(self, mono: RawFile, codec_rate: int) -> None:
        """Pass 1: the loudness, peak and length of the mix, and its mono copy at the codec's rate into `mono`."""
        meter, to_codec = LoudnessMeter(self.sample_rate, self.channels), _resampler(self.sample_rate, codec_rate, 1)
        for audio in self.blocks():
            meter.add(audio)
            self.peak, self.frames = max(self.peak, float(np.abs(audio).max())), self.frames + audio.shape[1]
            mono.append(to_codec(audio.mean(axis=0)[:, None])[:, 0])
        mono.append(to_codec(np.zeros((0, 1)), last=True)[:, 0])
        if self.frames == 0:
            raise AudioError(self.path, "empty audio file (0 samples)")
        self.loudness = meter.integrated()

    def placed(self, raw: RawFile, stereo: bool, gain: float = 1.0) -> Iterator[np.ndarray]:
        """A raw stem in the mix's channels (`Placement`), block by block, times `gain`: [C, n] blocks."""
        place = Placement(self.channels, self.sample_rate, stereo)
        for start in range(0, self.frames, self.block):
            yield place(raw.read(start, min(start + self.block, self.frames))) * gain

    def gain(self, raw: RawFile, stereo: bool, lufs: float) -> float:
        """Pass 3: the gain that brings a placed stem to `lufs` under -1 dBFS (`placement_gain`)."""
        meter, peak = LoudnessMeter(self.sample_rate, self.channels), 0.0
        for audio in self.placed(raw, stereo):
            meter.add(audio)
            peak = max(peak, float(np.abs(audio).max()))
        return placement_gain(meter.integrated(), peak, lufs)


def _generate(model: SynthGen, codec: Codec, mono: RawFile, prompt: str, settings: GenerationSettings,
              sample_rate: int, folder: Path, progress: bool) -> list[RawFile]:
    """Pass 2: the raw stems (`stem_stream`), resampled to the mix's rate, one file per variation."""
    raws = [RawFile(folder / f"stem_{i}.f32") for i in range(settings.variations)]
    from_codec = _resampler(codec.sample_rate, sample_rate, len(raws))
    read_mix = lambda start, end: torch.from_numpy(mono.read(start, end))[None]  # noqa: E731
    for piece in stem_stream(model, codec, read_mix, mono.length, prompt, settings, progress):
        for raw, samples in zip(raws, from_codec(piece.T).T):
            raw.append(samples)
    for raw, samples in zip(raws, from_codec(np.zeros((0, len(raws))), last=True).T):
        raw.append(samples)
    return raws


def _write(mix: _MixFile, raws: list[RawFile], gains: list[float], stereo: bool, stems: Sequence[Path],
           previews: Sequence[Path], mix_gain_db: float) -> None:
    """Passes 4 and 5: the stems, then the previews scaled under CEILING_DBFS (`peak_gain`); renamed into place together."""
    mix_gain = 10 ** (mix_gain_db / 20)
    with contextlib.ExitStack() as outputs:
        preview_peaks = [0.0] * len(previews)
        for i, (raw, gain, target) in enumerate(zip(raws, gains, stems)):
            writer = outputs.enter_context(AudioWriter(target, mix.sample_rate, mix.channels))
            blocks = mix.blocks() if i < len(previews) else None
            for audio in mix.placed(raw, stereo, gain):
                writer.write(audio)
                if blocks is not None:
                    preview_peaks[i] = max(preview_peaks[i], float(np.abs(next(blocks) + audio * mix_gain).max()))
        for raw, gain, preview, peak in zip(raws, gains, previews, preview_peaks):
            scale = peak_gain(peak)
            writer = outputs.enter_context(AudioWriter(preview, mix.sample_rate, mix.channels))
            for audio, stem in zip(mix.blocks(), mix.placed(raw, stereo, gain)):
                writer.write((audio + stem * mix_gain) * scale)


def render_file(model: SynthGen, codec: Codec, path: str | Path, prompt: str, settings: GenerationSettings,
                stems: Sequence[Path], previews: Sequence[Path] = (), midis: Sequence[Path] = (),
                mix_gain_db: float = 0.0, progress: bool = False) -> Rendered:
    """Write a stem for each of settings.variations into `stems`, and where given the mix with it at `mix_gain_db`
    into `previews` and its notes into `midis` (the same order)."""
    mix, stereo = _MixFile(Path(path)), not settings.mono
    with tempfile.TemporaryDirectory(prefix="synthgen-") as tmp:
        mono = RawFile(Path(tmp) / "mix.f32")
        mix.measure(mono, codec.sample_rate)
        raws = _generate(model, codec, mono, prompt, settings, mix.sample_rate, Path(tmp), progress)
        lufs = stem_target(mix.loudness, settings.level_db, settings.loudness)
        gains = [mix.gain(raw, stereo, lufs) for raw in raws]
        _write(mix, raws, gains, stereo, stems, previews, mix_gain_db)
        middle = max(0, (mono.length - ANALYSIS_SECONDS * codec.sample_rate) // 2)
        excerpt = mono.read(middle, min(mono.length, middle + ANALYSIS_SECONDS * codec.sample_rate))
        key, bpm = estimate_key(excerpt, codec.sample_rate), estimate_tempo(excerpt, codec.sample_rate)
        if midis:
            from synthgen.transcribe import write_part_midi  # with scipy.ndimage: imported only when asked for

        for raw, gain, midi in zip(raws, gains, midis):
            write_part_midi(raw.read(0, mix.frames)[None] * gain, mix.sample_rate, midi, bpm)
    return Rendered(mix.frames / mix.sample_rate, mix.sample_rate, mix.channels, mix.peak < SILENT_PEAK, key, bpm)
