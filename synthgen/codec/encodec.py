"""The `encodec` kind: transformers' EncodecModel, so a local facebook/encodec_32khz snapshot loads unchanged.
transformers is imported only when an EnCodec is built or loaded (generation with the spectral codec needs none)."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from safetensors import SafetensorError

from synthgen.codec.base import HOP_LENGTH, NUM_CODEBOOKS, SAMPLE_RATE, Codec
from synthgen.errors import SynthGenError
from synthgen.quiet import quiet_transformers

# Architectures by name. Every preset is 32 kHz mono with a hop of 640 samples (50 frames/s) and
# 4 codebooks, like facebook/encodec_32khz, so that models trained on one codec's codes line up
# in time with any other.
ENCODEC_PRESETS: dict[str, dict] = {
    "tiny": dict(num_filters=4, hidden_size=16, codebook_dim=16, codebook_size=64, num_lstm_layers=1),
    "small": dict(num_filters=16, hidden_size=64, codebook_dim=64, codebook_size=1024, num_lstm_layers=1),
}
_COMMON = dict(sampling_rate=SAMPLE_RATE, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], normalize=False)
assert math.prod(_COMMON["upsampling_ratios"]) == HOP_LENGTH


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


class EncodecCodec(Codec):
    """An EnCodec model behind the codec contract (`codec/base.py`); `model` is the EncodecModel."""

    kind = "encodec"

    def __init__(self, model: EncodecModel, name: str):
        config = model.config
        if (config.sampling_rate, config.audio_channels, config.hop_length) != (SAMPLE_RATE, 1, HOP_LENGTH):
            raise SynthGenError(f"{name}: an EnCodec of {config.sampling_rate} Hz, {config.audio_channels} channels and "
                                f"hop {config.hop_length}; SynthGen codecs are {SAMPLE_RATE} Hz mono with hop {HOP_LENGTH}")
        super().__init__(model, name, config.codebook_size)
        self.model = self.module
        self.num_codebooks = config.num_quantizers
        self.bandwidth: float = config.target_bandwidths[-1]

    @classmethod
    def from_preset(cls, preset: str, seed: int = 0) -> "EncodecCodec":
        """Build a randomly initialised codec of a named architecture (seeded, so always the same)."""
        if preset not in ENCODEC_PRESETS:
            raise SynthGenError(f"unknown encodec preset '{preset}' (choose from {', '.join(ENCODEC_PRESETS)})")
        from transformers import EncodecConfig, EncodecModel

        config = EncodecConfig(**_COMMON, **ENCODEC_PRESETS[preset])
        config.target_bandwidths = [_bandwidth_for(config, NUM_CODEBOOKS)]
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = EncodecModel(config)
            _variance_preserving_init(model)
        return cls(model, name=f"preset:{preset}")

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "EncodecCodec":
        """Load a codec saved by `save_pretrained` (e.g. a local facebook/encodec_32khz snapshot)."""
        from transformers import EncodecModel

        try:
            with quiet_transformers():
                model = EncodecModel.from_pretrained(str(directory), local_files_only=True)
        except (OSError, ValueError, TypeError, RuntimeError, SafetensorError) as err:  # damaged weights or config
            raise SynthGenError(f"{directory}: not a loadable EnCodec ({str(err).splitlines()[0]})") from None
        return cls(model, name=str(Path(directory).resolve()))

    def save_pretrained(self, directory: str | Path) -> None:
        self.model.save_pretrained(str(directory))

    @torch.inference_mode()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] float at `sample_rate` -> codes [B, K, T] int64."""
        self.check_audio(audio)
        out = self.model.encode(audio, bandwidth=self.bandwidth, return_dict=True)
        codes = out.audio_codes  # [chunks, B, K, T]; one chunk when chunk_length_s is None
        if codes.shape[0] != 1:
            raise ValueError("chunked EnCodec models are not supported")
        return codes[0]

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, K, T] int64 -> audio [B, 1, T * hop_length] float."""
        return self.model.decode(codes[None], [None], return_dict=True).audio_values

    @torch.inference_mode()
    def latents(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] -> encoder frames [B, D, T]."""
        self.check_audio(audio)
        return self.model.encoder(audio)

    def code_state(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.model.state_dict().items() if not k.startswith("decoder.")}
