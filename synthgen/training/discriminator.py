"""A multi-scale STFT discriminator for codec training (as in EnCodec), with its hinge and feature-matching
losses.

Each scale looks at the complex STFT of the audio (real and imaginary parts as two channels) through a
small 2-D convolution stack and scores every time-frequency patch as real or decoded. Spectral losses
alone let a codec blur notes and leave periodic artefacts; the discriminator penalises what does not
sound like real audio, and its feature-matching loss asks the decoder to match real audio's features.
Audio is [B, 1, N].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

SCALES = (2048, 1024, 512)


class STFTDiscriminator(nn.Module):
    """One scale: complex STFT [B, 2, frames, bins] -> logits [B, 1, frames', bins'] and feature maps."""

    def __init__(self, n_fft: int, channels: int = 32, dilations: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        self.n_fft = n_fft
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        layers = [weight_norm(nn.Conv2d(2, channels, (3, 9), padding=(1, 4)))]
        for d in dilations:
            layers.append(weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), dilation=(d, 1), padding=(d, 4))))
        layers.append(weight_norm(nn.Conv2d(channels, channels, (3, 3), padding=(1, 1))))
        self.layers = nn.ModuleList(layers)
        self.out = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(audio[:, 0], self.n_fft, self.n_fft // 4, window=self.window, return_complex=True)
        x = torch.stack([spec.real, spec.imag], dim=1).transpose(2, 3)  # [B, 2, frames, bins]
        features = []
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
            features.append(x)
        return self.out(x), features


class MultiScaleSTFTDiscriminator(nn.Module):
    def __init__(self, scales: tuple[int, ...] = SCALES, channels: int = 32):
        super().__init__()
        self.discriminators = nn.ModuleList(STFTDiscriminator(n, channels) for n in scales)

    def forward(self, audio: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        """audio [B, 1, N] -> one (logits, feature maps) pair per scale."""
        return [d(audio) for d in self.discriminators]


def discriminator_loss(real: list, fake: list) -> torch.Tensor:
    """Hinge loss of the discriminator: real logits pushed above 1, decoded ones below -1."""
    return sum(F.relu(1 - r).mean() + F.relu(1 + f).mean() for (r, _), (f, _) in zip(real, fake)) / len(real)


def generator_losses(real: list, fake: list) -> tuple[torch.Tensor, torch.Tensor]:
    """(adversarial hinge loss, feature matching loss) of the codec against the discriminator. Feature
    matching is the L1 distance of each feature map, relative to the real map's mean magnitude."""
    adversarial = sum(F.relu(1 - f).mean() for f, _ in fake) / len(fake)
    matching = [(a - b.detach()).abs().mean() / b.detach().abs().mean().clamp(min=1e-5)
                for (_, real_maps), (_, fake_maps) in zip(real, fake) for b, a in zip(real_maps, fake_maps)]
    return adversarial, sum(matching) / len(matching)
