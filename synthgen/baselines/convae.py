"""ConvEncoderDecoder: the seed's convolutional encoder/decoder from mix audio to synth audio, trained
with the normalized MSE (squared error over the target's energy)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from synthgen.baselines.base import AudioBaseline


class ConvEncoderDecoder(AudioBaseline):
    arch = "convae"

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 128), stride: int = 4, kernel: int = 15):
        super().__init__(channels=list(channels), stride=stride, kernel=kernel)
        widths = [1, *channels]
        self.encoder = nn.Sequential(*[layer for i in range(len(channels)) for layer in (
            nn.Conv1d(widths[i], widths[i + 1], kernel, stride, padding=kernel // 2), nn.GELU())])
        self.decoder = nn.Sequential(*[layer for i in reversed(range(len(channels))) for layer in (
            nn.ConvTranspose1d(widths[i + 1], max(widths[i], channels[0]), 2 * stride, stride, padding=stride // 2), nn.GELU())])
        self.head = nn.Conv1d(channels[0], 1, kernel, padding=kernel // 2)
        self.factor = stride ** len(channels)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, N] -> [B, N] (padded inside to a multiple of stride ** layers)."""
        n = audio.shape[-1]
        x = F.pad(audio, (0, -n % self.factor))[:, None]
        return self.head(self.decoder(self.encoder(x)))[:, 0, :n]

    def item_losses(self, batch: dict) -> torch.Tensor:
        predicted, target = self(batch["mix"]), batch["target"]
        valid = (torch.arange(target.shape[1], device=target.device)[None] < batch["valid"][:, None]).float()
        error = ((predicted - target).pow(2) * valid).sum(1)
        return error / ((target.pow(2) * valid).sum(1) + 1e-7 * valid.sum(1))  # floor: a silent target

    @torch.no_grad()
    def synthesize(self, mix: torch.Tensor) -> torch.Tensor:
        return self(mix)
