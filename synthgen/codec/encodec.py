"""EnCodec wrapper over `transformers.EncodecModel`: one interface whatever weights are behind it."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import torch
from transformers import EncodecConfig, EncodecModel

from synthgen.errors import SynthGenError

# Architectures by name. Every preset is 32 kHz mono with a hop of 640 samples (50 frames/s) and
# 4 codebooks, like facebook/encodec_32khz, so that models trained on one codec's codes line up
# in time with any other.
CODEC_PRESETS: dict[str, dict] = {
    "tiny": dict(num_filters=4, hidden_size=16, codebook_dim=16, codebook_size=64, num_lstm_layers=1),
    "small": dict(num_filters=16, hidden_size=64, codebook_dim=64, codebook_size=1024, num_lstm_layers=1),
}
_COMMON = dict(sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], normalize=False)
NUM_CODEBOOKS = 4


def _bandwidth_for(config: EncodecConfig, num_codebooks: int) -> float:
    """Target bandwidth in kbps that makes EncodecModel use exactly `num_codebooks` codebooks."""
    return num_codebooks * config.frame_rate * math.ceil(math.log2(config.codebook_size)) / 1000


def _variance_preserving_init(model: EncodecModel) -> None:
    """Convolution weights N(0, 1/fan_in) and zero biases. PyTorch's default initialisation shrinks the
    signal about 250x through the encoder, so its output is mostly bias and hardly varies in time; the
    autoencoder then learns slowly and the codebooks collapse to one code (MODEL_CARD.md)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv1d):
                fan_in = module.weight.shape[1] * module.weight.shape[2]
            elif isinstance(module, torch.nn.ConvTranspose1d):
                fan_in = module.weight.shape[0] * module.weight.shape[2] / module.stride[0]
            else:
                continue
            module.weight = torch.randn_like(module.weight) * fan_in**-0.5  # through weight norm's right_inverse
            if module.bias is not None:
                module.bias.zero_()


class Codec:
    """An EnCodec model with the codec interface the rest of SynthGen uses. Like a tokenizer, it is
    not a submodule of the language model: it is frozen, saved beside the model and moved with `to`.

    encode: audio [B, C, N] at `sample_rate` -> codes [B, K, T] (int64), T = ceil(N / hop_length)
    decode: codes [B, K, T] -> audio [B, C, T * hop_length]
    """

    def __init__(self, model: EncodecModel, name: str):
        self.model = model.eval().requires_grad_(False)
        self.name = name
        config = model.config
        self.sample_rate: int = config.sampling_rate
        self.channels: int = config.audio_channels
        self.hop_length: int = config.hop_length
        self.frame_rate: float = config.sampling_rate / config.hop_length
        self.cardinality: int = config.codebook_size
        self.num_codebooks: int = config.num_quantizers
        self.bandwidth: float = config.target_bandwidths[-1]

    @classmethod
    def from_preset(cls, preset: str, seed: int = 0) -> "Codec":
        """Build a randomly initialised codec of a named architecture (seeded, so always the same)."""
        if preset not in CODEC_PRESETS:
            raise SynthGenError(f"unknown codec preset '{preset}' (choose from {', '.join(CODEC_PRESETS)})")
        config = EncodecConfig(**_COMMON, **CODEC_PRESETS[preset])
        config.target_bandwidths = [_bandwidth_for(config, NUM_CODEBOOKS)]
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = EncodecModel(config)
            _variance_preserving_init(model)
        return cls(model, name=f"preset:{preset}")

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "Codec":
        """Load a codec saved by `save_pretrained` (e.g. a local facebook/encodec_32khz snapshot)."""
        directory = Path(directory)
        if not (directory / "config.json").is_file():
            raise SynthGenError(f"{directory}: not a codec directory (no config.json)")
        model = EncodecModel.from_pretrained(str(directory), local_files_only=True)
        return cls(model, name=str(directory.resolve()))

    def save_pretrained(self, directory: str | Path) -> None:
        self.model.save_pretrained(str(directory))

    def to(self, device: torch.device | str) -> "Codec":
        self.model.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, C, N] float at `sample_rate` -> codes [B, K, T] int64."""
        if audio.dim() != 3 or audio.shape[1] != self.channels:
            raise ValueError(f"expected audio [B, {self.channels}, N], got {tuple(audio.shape)}")
        out = self.model.encode(audio, bandwidth=self.bandwidth, return_dict=True)
        codes = out.audio_codes  # [chunks, B, K, T]; one chunk when chunk_length_s is None
        if codes.shape[0] != 1:
            raise ValueError("chunked EnCodec models are not supported")
        return codes[0]

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, T] int64 -> audio [B, C, T * hop_length] float."""
        out = self.model.decode(codes[None], [None], return_dict=True)
        return out.audio_values

    def reconstruct(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, C, N] -> the same through encode and decode, [B, C, N]: what the codec keeps."""
        return self.decode(self.encode(audio))[..., : audio.shape[-1]]

    def identity(self) -> dict:
        """What a token cache records to tell which codec made its codes. The fingerprint covers the encoder
        and the codebooks, which decide the codes, and not the decoder: a codec whose decoder alone was
        fine-tuned (`train-codec --decoder-only`) writes the same codes, so caches and models stay valid."""
        digest = hashlib.sha256()
        for key, tensor in sorted(self.model.state_dict().items()):
            if key.startswith("decoder."):
                continue
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return dict(
            name=self.name,
            fingerprint=digest.hexdigest()[:16],
            sample_rate=self.sample_rate,
            frame_rate=self.frame_rate,
            num_codebooks=self.num_codebooks,
            cardinality=self.cardinality,
        )


def load_codec(spec: str | Path) -> Codec:
    """A codec from a preset name or a directory written by `save_pretrained`."""
    if Path(spec).is_dir():
        return Codec.from_pretrained(spec)
    if str(spec) in CODEC_PRESETS:
        return Codec.from_preset(str(spec))
    raise SynthGenError(
        f"codec '{spec}': not a directory and not a preset (presets: {', '.join(CODEC_PRESETS)})"
    )
