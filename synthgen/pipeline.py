"""The pipeline users load and call, `SynthGen`: a codec language model (`CodecLM`) and the codec its codes belong to.

    SynthGen.from_pretrained(None)  -> the model shipped in the package (synthgen/weights/default)
    pipeline.generate(audio [C, N] or [N], sample_rate, prompt, **GenerationSettings fields)
        -> (stem like the audio, numpy or torch, sample_rate), or [variations, ...] with variations > 1
    pipeline.generate_stems(mix [C, N], sample_rate, prompt, settings)  -> stems placed in the mix's channels
    pipeline.generate_file(Job(mix_path, prompt, stems=(...)))  -> the same written to files in bounded memory,
        as the command line and the studio page write them

A pipeline folder is the language model's (config.json, model.safetensors, text_encoder/ for T5) with the
codec beside it in codec/.
"""

from __future__ import annotations

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
from synthgen.placement import StemPlacement
from synthgen.streaming import Written, generate_file



class SynthGen:
    def __init__(self, model: CodecLM, codec: Codec):
        self.model, self.codec = model, codec

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
        return cls(model, load_codec(directory / CODEC_FOLDER))

    def save_pretrained(self, directory: str | Path) -> None:
        """The model's folder with the codec in codec/, written into a temporary folder that replaces `directory`."""
        with atomic_directory(directory) as tmp:
            self.model.write_files(tmp)
            self.codec.save_pretrained(tmp / CODEC_FOLDER)

    def to(self, device: torch.device | str) -> "SynthGen":
        self.model.to(device)
        self.codec.to(device)
        return self

    def generate(self, audio, sample_rate: int, prompt: str, **settings):
        """A synth stem for a mix: audio [C, N] or [N], numpy or torch, channels first -> (stem, sample_rate), the
        stem in the input's type, layout, length, rate and channels; [variations, ...] with variations > 1.
        Settings are GenerationSettings' fields (seed, temperature, level_db, mono, ...). A sample rate that is not
        a whole number of Hz in audio.SAMPLE_RATE_RANGE, audio with NaN or infinite samples, an empty prompt and a
        setting of the wrong type (2.5 for an int, "no" for a bool) are refused as the command line refuses them;
        integer PCM is scaled to ±1 and a half-precision tensor widened (`_channels_first`)."""
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
        placed = np.stack(self.generate_stems(mix, sample_rate, prompt, checked))  # [V, C, N]
        if np.ndim(audio) == 1:
            placed = placed[:, 0]
        stems = placed[0] if len(placed) == 1 else placed
        if isinstance(audio, torch.Tensor):
            dtype = audio.dtype if audio.dtype.is_floating_point else torch.float32
            stems = torch.from_numpy(stems).to(audio.device, dtype)
        return stems, sample_rate

    def generate_stems(self, mix: np.ndarray, sample_rate: int, prompt: str, settings: GenerationSettings | None = None,
                       progress: bool = False) -> list[np.ndarray]:
        """Stems for a mix [C, N], each placed in it (`placement.StemPlacement`): [variations] x [C, N]."""
        settings = settings or GenerationSettings()
        stems = generate_stem(self.model, self.codec, mix, sample_rate, prompt, settings, progress)
        placement = StemPlacement.for_mix(mix, sample_rate, settings)
        return [placement.place(stem) for stem in stems]

    def generate_file(self, job: Job, progress: bool = False) -> Written:
        """One generation as the command line and the studio page run it: the job's mix checked (refused over
        job.max_seconds before it is read), then its stem, preview and MIDI files written in bounded memory
        (`streaming.generate_file`); the result says what was written, with a summary line."""
        probe_audio(job.mix, job.max_seconds)
        return generate_file(self.model, self.codec, job, progress)


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
