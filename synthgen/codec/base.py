"""The codec contract every kind keeps: 32 kHz mono audio in, 4 codebooks of codes at 50 frames/s out.

    encode:  audio [B, 1, N] at SAMPLE_RATE  ->  codes [B, K, T] int64 in 0..cardinality-1, T = ceil(N / HOP_LENGTH)
    decode:  codes [B, K, T]                 ->  audio [B, 1, T * HOP_LENGTH]
    latents: audio [B, 1, N]                 ->  the encoder's continuous frames [B, D, T] (before quantization)

Like a tokenizer, a codec is not a submodule of the language model: it is frozen, saved beside the model
(`save_pretrained` writes a folder whose config.json names its kind) and moved with `to`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from synthgen.audio import SAMPLE_RATE
from synthgen.errors import SynthGenError

HOP_LENGTH = 640  # samples per code frame: 50 frames/s
NUM_CODEBOOKS = 4


class Codec:
    """Base of the codec kinds (`EncodecCodec`, `SpectralCodec`); `module` is the network behind it."""

    kind: str = ""
    sample_rate: int = SAMPLE_RATE
    channels: int = 1
    hop_length: int = HOP_LENGTH
    frame_rate: float = SAMPLE_RATE / HOP_LENGTH
    num_codebooks: int = NUM_CODEBOOKS

    def __init__(self, module: nn.Module, name: str, cardinality: int):
        self.module = module.eval().requires_grad_(False)
        self.name = name
        self.cardinality = cardinality

    # ----- what each kind provides -----
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def latents(self, audio: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def save_pretrained(self, directory: str | Path) -> None:
        raise NotImplementedError

    def code_state(self) -> dict[str, torch.Tensor]:
        """The weights that decide the codes (encoder, codebooks, analysis), not those that only render them."""
        raise NotImplementedError

    def code_settings(self) -> dict:
        """Settings besides weights that decide the codes, hashed into the fingerprint (none for EnCodec, whose
        fingerprints stay those of earlier releases)."""
        return {}

    # ----- shared -----
    def to(self, device: torch.device | str) -> "Codec":
        self.module.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def check_audio(self, audio: torch.Tensor) -> None:
        if audio.dim() != 3 or audio.shape[1] != self.channels:
            raise ValueError(f"expected audio [B, {self.channels}, N], got {tuple(audio.shape)}")

    def reconstruct(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, 1, N] -> the same through encode and decode, [B, 1, N]: what the codec keeps."""
        return self.decode(self.encode(audio))[..., : audio.shape[-1]]

    def identity(self) -> dict:
        """What a token cache records to tell which codec made its codes. The fingerprint covers what decides
        the codes and not the decoder: a codec whose decoder alone was retrained writes the same codes, so
        caches and language models made with it stay valid."""
        digest = hashlib.sha256()
        settings = self.code_settings()
        if settings:
            digest.update(json.dumps(settings, sort_keys=True).encode())
        for key, tensor in sorted(self.code_state().items()):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return dict(name=self.name, fingerprint=digest.hexdigest()[:16], sample_rate=self.sample_rate,
                    frame_rate=self.frame_rate, num_codebooks=self.num_codebooks, cardinality=self.cardinality)


def check_same_codec(codec: Codec, identity: dict, where) -> None:
    """Stop with one line when `codec` did not make the codes recorded with `identity` (a token cache's codec
    record) at `where`."""
    fingerprint = codec.identity()["fingerprint"]  # hashes the encoder's weights: once
    if fingerprint != identity["fingerprint"]:
        raise SynthGenError(f"{where}: its codes were made by codec '{identity['name']}' "
                            f"(fingerprint {identity['fingerprint']}), not by '{codec.name}' ({fingerprint})")
