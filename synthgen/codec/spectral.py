"""The `spectral` kind: log-magnitude STFT frames -> a small convolutional encoder -> FSQ codes -> a small
convolutional decoder -> log-magnitudes -> fast Griffin-Lim from a phase read off the spectral peaks -> audio.

    audio [B, 1, N] --STFT (n_fft 2048, hop 640)--> log |X| - bin mean [B, F, T]   (F = 1025 bins, T = ceil(N / 640))
        --encoder--> values [B, G * D, T] --FSQ--> codes [B, G, T]   (G = 4 groups = codebooks, D = 4 levels each)
        --decoder--> log |X| [B, F, T] --Griffin-Lim--> audio [B, 1, T * 640]

Pitch lives in the magnitude spectrum and phase can be rebuilt, so the network only has to keep a spectrum at
50 frames/s: it trains in minutes on a CPU where a waveform codec needs GPU-scale adversarial training.
Frame t is centred on sample t * 640 (the STFT's `center` convention).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from synthgen.codec.base import HOP_LENGTH, NUM_CODEBOOKS, Codec
from synthgen.codec.quantize import FSQ
from synthgen.errors import SynthGenError

LOG_FLOOR = 1e-3  # analysis: log(|X| + LOG_FLOOR)


@dataclass
class SpectralConfig:
    n_fft: int = 2048
    hidden: int = 256
    levels: tuple[int, ...] = (8, 8, 4, 4)  # FSQ levels of one group: 1024 codes
    decoder_dilations: tuple[int, ...] = (1, 3)
    griffin_lim_iterations: int = 12  # from `peak_phase`: as close as 32 from a bin-centre start (bench/griffin_lim.py)
    griffin_lim_momentum: float = 0.99

    def __post_init__(self):
        """Refuse sizes no codec has, before anything is built from them (ValueError naming the field)."""
        def whole(name, value, low, high):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} is {value!r}; a whole number from {low} to {high} was expected")

        whole("n_fft", self.n_fft, 256, 16384)
        if self.n_fft & (self.n_fft - 1):
            raise ValueError(f"n_fft is {self.n_fft}; a power of two was expected")
        whole("hidden", self.hidden, 1, 4096)
        whole("griffin_lim_iterations", self.griffin_lim_iterations, 0, 1000)
        for name, values, low, high in (("levels", self.levels, 2, 64), ("decoder_dilations", self.decoder_dilations, 1, 64)):
            if not isinstance(values, tuple) or not 1 <= len(values) <= 8:
                raise ValueError(f"{name} is {values!r}; a list of 1 to 8 whole numbers was expected")
            for value in values:
                whole(f"each of {name}", value, low, high)
        if not isinstance(self.griffin_lim_momentum, (int, float)) or not 0 <= self.griffin_lim_momentum < 1:
            raise ValueError(f"griffin_lim_momentum is {self.griffin_lim_momentum!r}; a number in [0, 1) was expected")

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1


SPECTRAL_PRESETS: dict[str, dict] = {"tiny": dict(hidden=32, griffin_lim_iterations=4), "small": {}, "large": dict(hidden=512)}


# ----- analysis and resynthesis -----
def stft(audio: torch.Tensor, n_fft: int) -> torch.Tensor:
    """audio [B, N] -> complex STFT [B, F, T] with T = ceil(N / HOP_LENGTH) frames (zero-padded at the end)."""
    frames = max(1, math.ceil(audio.shape[-1] / HOP_LENGTH))
    audio = F.pad(audio, (0, frames * HOP_LENGTH - audio.shape[-1]))
    window = torch.hann_window(n_fft, device=audio.device, dtype=audio.dtype)
    spec = torch.stft(audio, n_fft, HOP_LENGTH, window=window, center=True, pad_mode="constant", return_complex=True)
    return spec[..., :frames]


def istft(spec: torch.Tensor, n_fft: int) -> torch.Tensor:
    """complex STFT [B, F, T] -> audio [B, T * HOP_LENGTH]. A copy of the last frame is appended so that the
    window overlap covers the last hop as fully as every other."""
    spec = torch.cat([spec, spec[..., -1:]], dim=-1)
    window = torch.hann_window(n_fft, device=spec.device)
    return torch.istft(spec, n_fft, HOP_LENGTH, window=window, center=True, length=(spec.shape[-1] - 1) * HOP_LENGTH)


def peak_phase(magnitude: torch.Tensor, n_fft: int) -> torch.Tensor:
    """A starting phase [B, F, T] for Griffin-Lim, read from the magnitude [B, F, T] alone: every bin turns at the
    frequency of the spectral peak it belongs to (the nearest local maximum, its frequency refined by a parabola
    through the log-magnitudes around it), accumulated frame by frame, and neighbouring bins differ by pi, as a
    Hann-windowed sinusoid's bins do in this STFT (phase = frequency x time - pi k)."""
    bins, frames = magnitude.shape[-2:]
    log = torch.log(magnitude + 1e-9)
    left, centre, right = log[:, :-2], log[:, 1:-1], log[:, 2:]
    index = torch.arange(bins, device=magnitude.device)[None, :, None].expand_as(log)
    peak = F.pad((centre > left) & (centre >= right), (0, 0, 1, 1))  # [B, F, T]
    curvature = left - 2 * centre + right
    offset = F.pad(torch.where(curvature < 0, 0.5 * (left - right) / curvature.clamp(max=-1e-9), 0.0), (0, 0, 1, 1))
    offset = torch.where(peak, offset, 0.0)  # a peak's position between bins, from the parabola
    before = torch.where(peak, index, -bins).cummax(dim=1).values  # the nearest peak at or below each bin
    after = (bins - 1) - torch.where(peak, (bins - 1) - index, -bins).flip(1).cummax(dim=1).values.flip(1)
    nearest = torch.where((index - before) <= (after - index), before, after)
    owner = torch.where((nearest >= 0) & (nearest < bins), nearest, index)  # no peak in the frame: the bin itself
    frequency = owner + offset.gather(1, owner)  # in bins
    advance = 2 * math.pi * HOP_LENGTH / n_fft * frequency  # radians per frame
    turned = torch.cumsum(F.pad((advance[..., 1:] + advance[..., :-1]) / 2, (1, 0)), dim=-1)
    return turned - math.pi * index


def griffin_lim(magnitude: torch.Tensor, n_fft: int, iterations: int, momentum: float,
                phase: torch.Tensor | None = None) -> torch.Tensor:
    """Audio [B, T * HOP_LENGTH] whose STFT magnitude is close to magnitude [B, F, T]: fast Griffin-Lim
    (Perraudin et al. 2013) from a starting phase [B, F, T] (default `peak_phase`)."""
    phase = peak_phase(magnitude, n_fft) if phase is None else phase
    angles = torch.polar(torch.ones_like(phase), phase)
    previous = torch.zeros_like(angles)
    for _ in range(iterations):
        rebuilt = stft(istft(magnitude * angles, n_fft), n_fft)
        angles = rebuilt - previous * (momentum / (1 + momentum))
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    return istft(magnitude * angles, n_fft)


# ----- network -----
class ResidualBlock(nn.Module):
    """x + 1x1(GELU(conv_k3_dilated(GELU(x)))), [B, H, T] -> [B, H, T]."""

    def __init__(self, channels: int, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(F.gelu(self.conv(F.gelu(x))))


class SpectralNet(nn.Module):
    """Encoder, FSQ and decoder over normalised log-magnitude frames [B, F, T]; `bin_mean` [F] is the training
    data's mean log-magnitude per bin, subtracted before the encoder and added back after the decoder."""

    def __init__(self, config: SpectralConfig):
        super().__init__()
        size = NUM_CODEBOOKS * len(config.levels)
        self.register_buffer("bin_mean", torch.zeros(config.bins))
        self.encoder = nn.Sequential(nn.Conv1d(config.bins, config.hidden, 1), ResidualBlock(config.hidden), nn.GELU(),
                                     nn.GroupNorm(1, config.hidden), nn.Conv1d(config.hidden, size, 1))
        self.quantizer = FSQ(config.levels, NUM_CODEBOOKS)
        self.decoder = nn.Sequential(nn.Conv1d(size, config.hidden, 3, padding=1),
                                     *(ResidualBlock(config.hidden, d) for d in config.decoder_dilations),
                                     nn.GELU(), nn.Conv1d(config.hidden, config.bins, 1))

    def encode(self, log_magnitude: torch.Tensor) -> torch.Tensor:
        """log |X| [B, F, T] -> pre-quantization values [B, G * D, T]."""
        return self.encoder(log_magnitude - self.bin_mean[:, None])

    def decode(self, quantized: torch.Tensor) -> torch.Tensor:
        """quantized values [B, G * D, T] -> log |X| [B, F, T]."""
        return self.decoder(quantized) + self.bin_mean[:, None]


def log_magnitude(audio: torch.Tensor, n_fft: int) -> torch.Tensor:
    """audio [B, 1, N] -> log(|STFT| + LOG_FLOOR) [B, F, T]."""
    return torch.log(stft(audio[:, 0], n_fft).abs() + LOG_FLOOR)


class SpectralCodec(Codec):
    """The spectral FSQ codec behind the codec contract (`codec/base.py`); `net` is its SpectralNet."""

    kind = "spectral"

    def __init__(self, net: SpectralNet, config: SpectralConfig, name: str):
        super().__init__(net, name, net.quantizer.codebook_size)
        self.net, self.config = self.module, config

    @classmethod
    def from_preset(cls, preset: str, seed: int = 0) -> "SpectralCodec":
        """A randomly initialised codec of a named size (seeded, so always the same)."""
        if preset not in SPECTRAL_PRESETS:
            raise SynthGenError(f"unknown spectral preset '{preset}' (choose from {', '.join(SPECTRAL_PRESETS)})")
        config = SpectralConfig(**SPECTRAL_PRESETS[preset])
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            net = SpectralNet(config)
        return cls(net, config, name=f"preset:spectral:{preset}")

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "SpectralCodec":
        """Load a codec saved by `save_pretrained`; a folder that does not hold one stops with one line."""
        directory = Path(directory)
        settings = json.loads((directory / "config.json").read_text())
        settings.pop("kind")
        try:
            config = SpectralConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})
            net = SpectralNet(config)
            net.load_state_dict(load_file(str(directory / "model.safetensors")))
        except (TypeError, RuntimeError, OSError, ValueError, SafetensorError) as err:  # unknown keys, missing or damaged weights
            reason = str(err).splitlines()[0]
            raise SynthGenError(f"{directory}: not a loadable spectral codec ({reason})") from None
        return cls(net, config, name=str(directory.resolve()))

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(dict(kind=self.kind, **asdict(self.config)), indent=1))
        save_file({k: v.contiguous().cpu() for k, v in self.net.state_dict().items()}, str(directory / "model.safetensors"))

    @torch.inference_mode()
    def latents(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] -> pre-quantization values [B, G * D, T]."""
        self.check_audio(audio)
        return self.net.encode(log_magnitude(audio.float(), self.config.n_fft))

    @torch.inference_mode()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] -> codes [B, 4, T] int64."""
        return self.net.quantizer(self.latents(audio))[1]

    @torch.inference_mode()
    def decode_magnitude(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, 4, T] -> linear magnitudes [B, F, T]."""
        log_mag = self.net.decode(self.net.quantizer.dequantize(codes.to(self.device)))
        return (log_mag.exp() - LOG_FLOOR).clamp(min=0)

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, 4, T] -> audio [B, 1, T * 640]."""
        magnitude = self.decode_magnitude(codes)
        return griffin_lim(magnitude, self.config.n_fft, self.config.griffin_lim_iterations,
                           self.config.griffin_lim_momentum)[:, None]

    def code_settings(self) -> dict:
        return dict(kind=self.kind, n_fft=self.config.n_fft, levels=list(self.config.levels))

    def code_state(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.net.state_dict().items() if not k.startswith("decoder.")}
