"""A mix file in, stem, preview and MIDI files out, in memory that does not grow with the song's length.

    rendered = render_file(model, codec, "song.flac", "a soft dark pad", settings, stems=[Path("synth.wav")])

The mix is read BLOCK_SECONDS at a time and every output is written the same way; what has to wait (the mix at
the codec's rate, the raw stems) waits in float32 files in a temporary folder. The passes:
1. read the mix: its loudness (for the level rule), its peak, and a mono copy at the codec's rate;
2. generate window by window (`stem_stream`) and resample back to the mix's rate, into the raw stem files;
3. place each stem in the mix's channels (`Placement`) and measure its loudness and peak: its gain;
4. write the stems and measure each preview's peak (the mix plus the stem);
5. write the previews, scaled to stay below -1 dBFS; then each stem's MIDI.
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
from synthgen.audio import SILENT_PEAK, AudioWriter, Placement, _open_error, placement_gain, stem_target
from synthgen.codec import Codec
from synthgen.errors import AudioError
from synthgen.generate import stem_stream
from synthgen.generation_settings import GenerationSettings
from synthgen.loudness import LoudnessMeter
from synthgen.model.lm import SynthGen

BLOCK_SECONDS = 10
ANALYSIS_SECONDS = 120  # key and tempo are estimated on the middle two minutes of the mix
PREVIEW_CEILING = 10 ** (-1 / 20)  # -1 dBFS


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
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise _open_error(path, err) from None


def _resampler(rate_in: int, rate_out: int, channels: int):
    """A streaming resampler [n, C] -> [n', C] (soxr, as `audio.resample`); the identity at equal rates."""
    if rate_in == rate_out:
        return lambda x, last=False: x
    stream = soxr.ResampleStream(rate_in, rate_out, channels, dtype="float32", quality="HQ")
    return lambda x, last=False: stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)


def render_file(model: SynthGen, codec: Codec, path: str | Path, prompt: str, settings: GenerationSettings,
                stems: Sequence[Path], previews: Sequence[Path] = (), midis: Sequence[Path] = (),
                mix_gain_db: float = 0.0, progress: bool = False) -> Rendered:
    """Write a stem for each of settings.variations into `stems`, and where given the mix with it at `mix_gain_db`
    into `previews` and its notes into `midis` (the same order)."""
    from synthgen.transcribe import write_part_midi

    path = Path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            sample_rate, channels = f.samplerate, f.channels
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise _open_error(path, err) from None
    block = BLOCK_SECONDS * sample_rate
    with tempfile.TemporaryDirectory(prefix="synthgen-") as tmp:
        # 1. the mix
        meter, peak, frames = LoudnessMeter(sample_rate, channels), 0.0, 0
        mono, to_codec = RawFile(Path(tmp) / "mix.f32"), _resampler(sample_rate, codec.sample_rate, 1)
        for audio in _mix_blocks(path, block):
            meter.add(audio)
            peak, frames = max(peak, float(np.abs(audio).max())), frames + audio.shape[1]
            mono.append(to_codec(audio.mean(axis=0)[:, None])[:, 0])
        mono.append(to_codec(np.zeros((0, 1)), last=True)[:, 0])
        if frames == 0:
            raise AudioError(path, "empty audio file (0 samples)")

        # 2. the raw stems
        raws = [RawFile(Path(tmp) / f"stem_{i}.f32") for i in range(settings.variations)]
        from_codec = _resampler(codec.sample_rate, sample_rate, len(raws))
        read_mix = lambda start, end: torch.from_numpy(mono.read(start, min(end, mono.length)))[None]  # noqa: E731
        for piece in stem_stream(model, codec, read_mix, mono.length, prompt, settings, progress):
            for raw, samples in zip(raws, from_codec(piece.T).T):
                raw.append(samples)
        for raw, samples in zip(raws, from_codec(np.zeros((0, len(raws))), last=True).T):
            raw.append(samples)

        def placed(raw: RawFile, gain: float = 1.0) -> Iterator[np.ndarray]:
            place = Placement(channels, sample_rate, not settings.mono)
            for start in range(0, frames, block):
                yield place(raw.read(start, min(start + block, frames))) * gain

        # 3. the stems' gains
        target = stem_target(meter.integrated(), settings.level_db, settings.loudness)
        gains = []
        for raw in raws:
            stem_meter, stem_peak = LoudnessMeter(sample_rate, channels), 0.0
            for audio in placed(raw):
                stem_meter.add(audio)
                stem_peak = max(stem_peak, float(np.abs(audio).max()))
            gains.append(placement_gain(stem_meter.integrated(), stem_peak, target))

        middle = max(0, (mono.length - ANALYSIS_SECONDS * codec.sample_rate) // 2)
        excerpt = mono.read(middle, min(mono.length, middle + ANALYSIS_SECONDS * codec.sample_rate))
        key, bpm = estimate_key(excerpt, codec.sample_rate), estimate_tempo(excerpt, codec.sample_rate)

        # 4. and 5. the files, renamed into place together when all are written
        mix_gain = 10 ** (mix_gain_db / 20)
        with contextlib.ExitStack() as outputs:
            preview_peaks = [0.0] * len(previews)
            for i, (raw, gain, target_path) in enumerate(zip(raws, gains, stems)):
                writer = outputs.enter_context(AudioWriter(target_path, sample_rate, channels))
                mix = _mix_blocks(path, block) if i < len(previews) else None
                for audio in placed(raw, gain):
                    writer.write(audio)
                    if mix is not None:
                        preview_peaks[i] = max(preview_peaks[i], float(np.abs(next(mix) + audio * mix_gain).max()))
            for raw, gain, preview, preview_peak in zip(raws, gains, previews, preview_peaks):
                scale = min(1.0, PREVIEW_CEILING / preview_peak) if preview_peak > 0 else 1.0
                writer = outputs.enter_context(AudioWriter(preview, sample_rate, channels))
                for mix, audio in zip(_mix_blocks(path, block), placed(raw, gain)):
                    writer.write((mix + audio * mix_gain) * scale)
        for raw, gain, midi in zip(raws, gains, midis):
            write_part_midi(raw.read(0, frames)[None] * gain, sample_rate, midi, bpm)
    return Rendered(frames / sample_rate, sample_rate, channels, peak < SILENT_PEAK, key, bpm)
