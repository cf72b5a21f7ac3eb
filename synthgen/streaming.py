"""A job's mix file in, its stem, preview and MIDI files out, in memory that does not grow with the song's length.

    written = generate_file(model, codec, Job(Path("song.flac"), "a soft dark pad", stems=(Path("synth.wav"),)))

The mix is read BLOCK_SECONDS at a time and every output is written the same way; what has to wait (the mix at
the codec's rate, the raw stems) waits in float32 files in a temporary folder. The passes:
1. read the mix: its loudness (for the placement rule), its peak, the analysis's features (beats, chords, key:
   `analysis`), and a mono copy at the codec's rate; then the analysis, and the part's notes for each variation
   (`parts`: the producer's MIDI part, or the note planner's plan, for a renderer that plays notes);
2. render: the codec LM window by window (`stem_stream`, given the notes' piano roll when it renders notes),
   resampled back to the mix's rate, or the synth renderer at the mix's rate, into the raw stem files;
3. spread each stem in the mix's channels and measure it: its gain (`placement.StemPlacement`);
4. write the stems and measure each preview's peak (the mix plus the stem);
5. write the previews, scaled to stay under the ceiling; then each stem's MIDI: its notes (the plan, on the mix's
   tempo map) or, for a model that plays no plan, the stem transcribed.
The files hold what `SynthGen.generate_stems` returns for the whole arrays. Every audio output is written to a
temporary file beside it and renamed only when all of them are complete. MIDI export reads its whole stem (mono)
into memory.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from synthgen.analysis.corrections import Corrections
from synthgen.analysis.features import FeatureExtractor
from synthgen.analysis.mix import MixAnalysis, analyze_features
from synthgen.audio import SOUNDFILE_ERRORS, AudioWriter, read_blocks, unreadable
from synthgen.codec import Codec
from synthgen.errors import AudioError, SynthGenError
from synthgen.files import sweep_stale
from synthgen.generate import stem_stream
from synthgen.generation_settings import GenerationSettings
from synthgen.job import Job
from synthgen.loudness import LoudnessMeter
from synthgen.model.lm import CodecLM
from synthgen.notes import Note
from synthgen.planner.settings import PlanSettings
from synthgen.placement import StemPlacement, ceiling_gain, with_stem
from synthgen.resampling import stream_resampler

BLOCK_SECONDS = 10
SILENT_PEAK = 1e-5  # -100 dBFS: a mix with no sample above it is silent
SCRATCH_PATTERN = r"synthgen-(\d+)-\w+"  # a run's working folder in the temporary folder, named by its process


@dataclass(frozen=True)
class Written:
    """What `generate_file` wrote for a job, what it measured of the mix, and how long it took."""

    job: Job
    seconds: float  # the mix's length
    sample_rate: int
    channels: int
    silent: bool  # no sample of the mix above SILENT_PEAK
    analysis: MixAnalysis  # beats, bars, chords and key of the whole mix
    elapsed: float  # seconds from reading the mix to the last file written
    notes: list[list[Note]] | None = None  # each stem's notes (None: a model that wrote its own part)

    @property
    def summary(self) -> str:
        """The mix and the run in one line, as the command line prints it and the studio page shows it."""
        return (f"{self.seconds:.1f} s at {self.sample_rate} Hz, {self.channels} ch, {self.analysis.summary()}; "
                f"{self.elapsed:.1f} s to generate, {self.seconds / self.elapsed:.2f}x real time")

    @property
    def warnings(self) -> list[str]:
        """What the user should know about the result."""
        return ["the mix is silent; the synth follows the prompt alone"] if self.silent else []


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


class _MixFile:
    """The mix file being read: its rate, channels, blocks, and what the first pass measured of it."""

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
        return read_blocks(self.path, self.block)

    def measure(self, mono: RawFile, codec_rate: int) -> None:
        """Pass 1: the loudness, peak, length and analysis's features of the mix, and its mono copy at the codec's
        rate into `mono`."""
        meter, to_codec = LoudnessMeter(self.sample_rate, self.channels), stream_resampler(self.sample_rate, codec_rate, 1)
        features = FeatureExtractor(self.sample_rate)
        for audio in self.blocks():
            meter.add(audio)
            features.add(audio.mean(axis=0))
            self.peak, self.frames = max(self.peak, float(np.abs(audio).max())), self.frames + audio.shape[1]
            mono.append(to_codec(audio.mean(axis=0)[:, None])[:, 0])
        mono.append(to_codec(np.zeros((0, 1)), last=True)[:, 0])
        if self.frames == 0:
            raise AudioError(self.path, "empty audio file (0 samples)")
        self.loudness, self.features = meter.integrated(), features.finish()

    def stem_blocks(self, raw: RawFile) -> Iterator[np.ndarray]:
        """A raw stem in the mix's blocks, as long as the mix: [n] blocks."""
        for start in range(0, self.frames, self.block):
            yield raw.read(start, min(start + self.block, self.frames))


def part_notes(model: CodecLM, planner, analysis: MixAnalysis, prompt: str, settings: GenerationSettings,
               notes: Path | list[Note] | None = None, notes_tempo: str = "grid",
               plan: PlanSettings | None = None) -> list[list[Note]] | None:
    """Each variation's notes: the given part (a MIDI file laid on the mix by `notes_tempo`, or notes in seconds), or
    the planner's plans for a renderer that plays notes (the synth, or a model with the notes condition); None for a
    model that writes its own part."""
    if notes is not None and settings.renderer == "neural" and not model.config.notes:
        raise SynthGenError("this model writes its own part and cannot play a given one: use --renderer synth")
    if isinstance(notes, (str, Path)):
        from synthgen.planner.midi_part import midi_part

        notes = midi_part(Path(notes), analysis, notes_tempo)
    if notes is not None:
        return [list(notes)] * settings.variations
    if settings.renderer == "synth" or model.config.notes:
        from synthgen.planner.plan import plan_parts

        return plan_parts(analysis, prompt, planner, plan or PlanSettings(), settings.seed, settings.variations)
    return None


def _generate(model: CodecLM, codec: Codec, mono: RawFile, prompt: str, settings: GenerationSettings,
              sample_rate: int, frames: int, folder: Path, progress: bool, notes: list[list[Note]] | None
              ) -> list[RawFile]:
    """Pass 2: the raw stems at the mix's rate (`frames` long), one file per variation: the synth renderer's
    (`synth_stream`), or the codec LM's (`stem_stream`) resampled."""
    raws = [RawFile(folder / f"stem_{i}.f32") for i in range(settings.variations)]
    if settings.renderer == "synth":
        from synthgen.renderers.synth import synth_parts

        for raw, pieces in zip(raws, synth_parts(notes, frames, sample_rate, prompt, settings.seed)):
            for piece in pieces:
                raw.append(piece)
        return raws
    from_codec = stream_resampler(codec.sample_rate, sample_rate, len(raws))
    read_mix = lambda start, end: torch.from_numpy(mono.read(start, end))[None]  # noqa: E731
    for piece in stem_stream(model, codec, read_mix, mono.length, prompt, settings, progress, notes):
        for raw, samples in zip(raws, from_codec(piece.T).T):
            raw.append(samples)
    for raw, samples in zip(raws, from_codec(np.zeros((0, len(raws))), last=True).T):
        raw.append(samples)
    return raws


def _write(mix: _MixFile, raws: list[RawFile], placement: StemPlacement, job: Job) -> list[float]:
    """Passes 3 to 5: each stem's gain, the stems, then the previews under the ceiling (`ceiling_gain`); renamed
    into place together. Returns the gains."""
    placed = lambda raw, gain: (audio * gain for audio in placement.spread(mix.stem_blocks(raw)))  # noqa: E731
    gains = [placement.gain(placed(raw, 1.0)) for raw in raws]
    with contextlib.ExitStack() as outputs:
        preview_peaks = [0.0] * len(job.previews)
        for i, (raw, gain, target) in enumerate(zip(raws, gains, job.stems)):
            writer = outputs.enter_context(AudioWriter(target, mix.sample_rate, mix.channels))
            blocks = mix.blocks() if i < len(job.previews) else None
            for audio in placed(raw, gain):
                writer.write(audio)
                if blocks is not None:
                    peak = float(np.abs(with_stem(next(blocks), audio, job.mix_gain_db)).max())
                    preview_peaks[i] = max(preview_peaks[i], peak)
        for raw, gain, preview, peak in zip(raws, gains, job.previews, preview_peaks):
            scale = ceiling_gain(peak)
            writer = outputs.enter_context(AudioWriter(preview, mix.sample_rate, mix.channels))
            for audio, stem in zip(mix.blocks(), placed(raw, gain)):
                writer.write(with_stem(audio, stem, job.mix_gain_db) * scale)
    return gains


def _write_midis(raws: list[RawFile], gains: list[float], notes: list[list[Note]] | None, analysis: MixAnalysis,
                 job: Job, mix: _MixFile) -> None:
    """Each stem's MIDI file: its notes, in a track named by the prompt's role with that role's General MIDI program;
    without notes, the placed stem transcribed."""
    if notes is not None:
        from synthgen.analysis.export import write_part
        from synthgen.planner.plan import PROGRAMS
        from synthgen.planner.prompt import prompt_role

        role = prompt_role(job.prompt)
        for part, midi in zip(notes, job.midis):
            write_part(part, analysis, midi, PROGRAMS[role], f"synthgen {role}")
        return
    from synthgen.transcribe import write_part_midi  # with scipy.ndimage: imported only when asked for

    for raw, gain, midi in zip(raws, gains, job.midis):
        write_part_midi(raw.read(0, mix.frames)[None] * gain, mix.sample_rate, midi, analysis)


def generate_file(model: CodecLM, codec: Codec, job: Job, progress: bool = False, planner=None) -> Written:
    """Write a stem for each of job.settings.variations into job.stems, and where given the mix with it at
    job.mix_gain_db into job.previews and its notes into job.midis (the same order). planner: the note planner
    (`planner.plan`; None: the prompt's rule) for renderers that play notes."""
    start = time.perf_counter()
    mix = _MixFile(Path(job.mix))
    sweep_stale(Path(tempfile.gettempdir()), SCRATCH_PATTERN)
    with tempfile.TemporaryDirectory(prefix=f"synthgen-{os.getpid()}-") as tmp:
        mono = RawFile(Path(tmp) / "mix.f32")
        mix.measure(mono, codec.sample_rate)
        analysis = analyze_features(mix.features, job.corrections or Corrections())
        notes = part_notes(model, planner, analysis, job.prompt, job.settings, job.notes, job.notes_tempo, job.plan)
        raws = _generate(model, codec, mono, job.prompt, job.settings, mix.sample_rate, mix.frames, Path(tmp), progress,
                         notes)
        gains = _write(mix, raws, StemPlacement(mix.channels, mix.sample_rate, mix.loudness, job.settings), job)
        if job.midis:
            _write_midis(raws, gains, notes, analysis, job, mix)
    return Written(job, mix.frames / mix.sample_rate, mix.sample_rate, mix.channels, mix.peak < SILENT_PEAK, analysis,
                   time.perf_counter() - start, notes)
