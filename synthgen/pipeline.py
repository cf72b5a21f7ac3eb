"""The pipeline users load and call, `SynthGen`: a codec language model (`CodecLM`), the codec its codes belong to,
and the note planner that writes the part a renderer plays (model v3: plan, then render).

    SynthGen.from_pretrained(None)  -> the model shipped in the package (synthgen/weights/default)
    pipeline.generate(audio [C, N] or [N], sample_rate, prompt, **GenerationSettings fields)
        -> (stem like the audio, numpy or torch, sample_rate), or [variations, ...] with variations > 1;
           with return_notes=True also each variation's notes ([Note] in seconds; None for a model without a plan)
    pipeline.generate_stems(mix [C, N], sample_rate, prompt, settings)  -> (stems placed in the mix's channels, notes)
    pipeline.generate_file(Job(mix_path, prompt, stems=(...)))  -> the same written to files in bounded memory,
        as the command line and the studio page write them

A pipeline folder is the language model's (config.json, model.safetensors, text_encoder/ for T5) with the
codec beside it in codec/ and the note planner in planner/ (a folder without one plans with the shipped planner).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from synthgen.audio import MAX_CHANNELS, probe_audio, sample_rate_problem
from synthgen.codec import Codec, load_codec
from synthgen.errors import SynthGenError
from synthgen.files import CODEC_FOLDER, DEFAULT_MODEL, atomic_directory, model_directory
from synthgen.generate import generate_stem
from synthgen.generation_settings import GenerationSettings
from synthgen.hub import resolve
from synthgen.job import Job
from synthgen.model import CodecLM
from synthgen.model.pretrained import from_musicgen_melody, is_musicgen_melody
from synthgen.notes import Note
from synthgen.placement import StemPlacement
from synthgen.planner.plan import load_planner
from synthgen.streaming import Written, generate_file, part_notes



PLANNER_FOLDER = "planner"


class SynthGen:
    def __init__(self, model: CodecLM, codec: Codec, planner_folder: Path | None = None):
        self.model, self.codec = model, codec
        self.planner_folder = planner_folder  # None: the shipped planner
        self._planner = None

    @property
    def planner(self):
        """The note planner (loaded when first asked for): the model folder's planner/, else the shipped one."""
        if self._planner is None:
            self._planner = load_planner(self.planner_folder)
        return self._planner

    @classmethod
    def from_pretrained(cls, directory: str | Path | None = None) -> "SynthGen":
        """A trained pipeline: a model directory, a training run folder, a Hugging Face Hub id (`hub.resolve`), or
        (None) the one shipped in the package. A MusicGen-Melody snapshot (facebook/musicgen-melody) becomes the
        `musicgen-melody` preset around its own weights and EnCodec (`model.pretrained`)."""
        if directory is None:
            if not (DEFAULT_MODEL / "config.json").is_file():
                raise SynthGenError("no --model given and this installation ships no default model")
            directory = DEFAULT_MODEL
        directory = model_directory(resolve(directory))
        if is_musicgen_melody(directory):
            return cls(*from_musicgen_melody(directory))
        model = CodecLM.from_pretrained(directory)
        if not (directory / CODEC_FOLDER).is_dir():
            raise SynthGenError(f"{directory}: a language model without its codec (no {CODEC_FOLDER}/ folder)")
        planner = directory / PLANNER_FOLDER
        return cls(model, load_codec(directory / CODEC_FOLDER), planner if planner.is_dir() else None)

    def save_pretrained(self, directory: str | Path) -> None:
        """The model's folder with the codec in codec/ (and its own planner in planner/, where it has one), written into
        a temporary folder that replaces `directory`."""
        with atomic_directory(directory) as tmp:
            self.model.write_files(tmp)
            self.codec.save_pretrained(tmp / CODEC_FOLDER)
            if self.planner_folder is not None:
                shutil.copytree(self.planner_folder, tmp / PLANNER_FOLDER)

    def to(self, device: torch.device | str) -> "SynthGen":
        self.model.to(device)
        self.codec.to(device)
        return self

    def generate(self, audio, sample_rate: int, prompt: str, notes: str | Path | list[Note] | None = None,
                 return_notes: bool = False, **settings):
        """A synth stem for a mix: audio [C, N] or [N], numpy or torch, channels first -> (stem, sample_rate), the
        stem in the input's type, layout, length, rate and channels; [variations, ...] with variations > 1.
        Settings are GenerationSettings' fields (seed, temperature, level_db, mono, ...). A sample rate that is not
        a whole number of Hz in audio.SAMPLE_RATE_RANGE, audio with NaN or infinite samples, an empty prompt and a
        setting of the wrong type (2.5 for an int, "no" for a bool) are refused as the command line refuses them;
        integer PCM is scaled to ±1 and a half-precision tensor widened (`_channels_first`). notes: the part to
        render instead of a plan (a MIDI file laid on the mix's beat grid, or Notes in seconds)."""
        problem = sample_rate_problem(sample_rate)
        if problem:
            raise SynthGenError(problem)
        if not isinstance(prompt, str) or not prompt.strip():
            raise SynthGenError(f"prompt {prompt!r}: describe the synth you want in a non-empty string")
        unknown = settings.keys() - GenerationSettings.__dataclass_fields__.keys()
        if unknown:
            raise SynthGenError(f"unknown setting {sorted(unknown)[0]!r} (settings: "
                                f"{', '.join(GenerationSettings.__dataclass_fields__)})")
        checked = GenerationSettings(**settings)  # types and bounds, as for the command line
        mix = _channels_first(audio)
        if not np.isfinite(mix).all():
            raise SynthGenError("audio with NaN or infinite samples")
        stems, parts = self.generate_stems(mix, sample_rate, prompt, checked, notes=notes)
        placed = np.stack(stems)  # [V, C, N]
        if np.ndim(audio) == 1:
            placed = placed[:, 0]
        stems = placed[0] if len(placed) == 1 else placed
        if isinstance(audio, torch.Tensor):
            dtype = audio.dtype if audio.dtype.is_floating_point else torch.float32
            stems = torch.from_numpy(stems).to(audio.device, dtype)
        if return_notes:
            return stems, sample_rate, (parts if parts is None or len(parts) > 1 else parts[0])
        return stems, sample_rate

    def generate_stems(self, mix: np.ndarray, sample_rate: int, prompt: str, settings: GenerationSettings | None = None,
                       progress: bool = False, notes: str | Path | list[Note] | None = None
                       ) -> tuple[list[np.ndarray], list[list[Note]] | None]:
        """Stems for a mix [C, N], each placed in it (`placement.StemPlacement`): [variations] x [C, N], and the
        notes each plays (None for a model that writes its own part)."""
        settings = settings or GenerationSettings()
        stems, parts = self.render(mix, sample_rate, prompt, settings, progress, notes)
        placement = StemPlacement.for_mix(mix, sample_rate, settings)
        return [placement.place(stem) for stem in stems], parts

    def render(self, mix: np.ndarray, sample_rate: int, prompt: str, settings: GenerationSettings,
               progress: bool = False, notes: str | Path | list[Note] | None = None
               ) -> tuple[list[np.ndarray], list[list[Note]] | None]:
        """The raw stems for a mix [C, N] (mono [N] each, not yet placed) and the notes each plays: the part given
        or planned (`streaming.part_notes`), played by the settings' renderer."""
        from synthgen.analysis.mix import analyze

        parts = None
        if self._plays_notes(settings, notes):
            analysis = analyze(mix.mean(axis=0), sample_rate)
            parts = part_notes(self.model, self._planner_for(settings, notes), analysis, prompt, settings, notes)
        if settings.renderer == "synth":
            from synthgen.renderers.synth import synth_parts

            pieces = synth_parts(parts, mix.shape[-1], sample_rate, prompt, settings.seed)
            stems = [np.concatenate(list(p)) for p in pieces]
        else:
            stems = list(generate_stem(self.model, self.codec, mix, sample_rate, prompt, settings, progress, parts))
        return stems, parts

    def generate_file(self, job: Job, progress: bool = False) -> Written:
        """One generation as the command line and the studio page run it: the job's mix checked (refused over
        job.max_seconds before it is read), then its stem, preview and MIDI files written in bounded memory
        (`streaming.generate_file`); the result says what was written, with a summary line."""
        probe_audio(job.mix, job.max_seconds)
        return generate_file(self.model, self.codec, job, progress, self._planner_for(job.settings, job.notes))

    def _plays_notes(self, settings: GenerationSettings, notes) -> bool:
        """Whether the stem plays given or planned notes (the synth renderer, a model with the notes condition, or a
        part given), rather than a part the model writes itself."""
        return notes is not None or settings.renderer == "synth" or self.model.config.notes

    def _planner_for(self, settings: GenerationSettings, notes):
        """The planner when a plan will be drawn, else None (not loaded)."""
        return self.planner if notes is None and self._plays_notes(settings, notes) else None


def _channels_first(audio) -> np.ndarray:
    """A mix as numpy float32 [C, N]: [N] becomes one channel; [N, C] (soundfile's layout) is refused, not guessed.
    Integer samples are scaled to ±1 as audio files store them (int16 by 32768, uint8 around 128); half-precision
    tensors are widened; booleans and other kinds are refused."""
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu()
        audio = audio.float() if audio.dtype.is_floating_point else audio
    array = np.asarray(audio)
    if array.dtype.kind == "i":
        array = array / float(2 ** (8 * array.dtype.itemsize - 1))
    elif array.dtype.kind == "u":
        half = float(2 ** (8 * array.dtype.itemsize - 1))
        array = (array - half) / half
    elif array.dtype.kind != "f":
        raise SynthGenError(f"audio of {array.dtype} samples: pass floating-point samples in ±1 or integer PCM")
    if array.ndim not in (1, 2) or array.size == 0:
        raise SynthGenError(f"audio of shape {tuple(array.shape)}: pass [samples] or [channels, samples]")
    if array.ndim == 2 and (array.shape[0] > MAX_CHANNELS or array.shape[0] > array.shape[1]):
        raise SynthGenError(f"audio of shape {tuple(array.shape)} looks like [samples, channels]: pass it channels "
                            "first, [channels, samples] (e.g. audio.T for soundfile.read's array)")
    return np.atleast_2d(array.astype(np.float32, copy=False))
