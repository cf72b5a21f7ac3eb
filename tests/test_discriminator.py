"""The codec's multi-scale STFT discriminator and its losses."""

import torch

from synthgen.training.discriminator import MultiScaleSTFTDiscriminator, discriminator_loss, generator_losses


def tones(batch: int, n: int = 8000, sr: int = 16000) -> torch.Tensor:
    """Harmonic tones of random pitch [B, 1, N]: the 'real' audio."""
    t = torch.arange(n) / sr
    f0 = 110 * 2 ** (torch.rand(batch, 1) * 3)
    return sum(torch.sin(2 * torch.pi * f0 * h * t) / h for h in range(1, 6))[:, None] * 0.3


def test_discriminator_learns_to_tell_tones_from_noise_of_the_same_level():
    torch.manual_seed(0)
    disc = MultiScaleSTFTDiscriminator(scales=(512, 256), channels=8)
    optimizer = torch.optim.Adam(disc.parameters(), lr=3e-3, betas=(0.5, 0.9))
    outputs = disc(tones(2))
    assert len(outputs) == 2 and all(logits.shape[:2] == (2, 1) and len(maps) == 5 for logits, maps in outputs)
    losses = []
    for _ in range(60):
        real = tones(4)
        fake = torch.randn_like(real) * real.std()
        loss = discriminator_loss(disc(real), disc(fake))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 1.5 and sum(losses[-5:]) / 5 < 0.5  # hinge loss: 2 at chance, 0 when it separates them


def test_generator_losses_vanish_for_real_audio_and_grow_for_noise():
    torch.manual_seed(0)
    disc = MultiScaleSTFTDiscriminator(scales=(512,), channels=8)
    real = tones(2)
    _, same = generator_losses(disc(real), disc(real.clone()))
    _, noise = generator_losses(disc(real), disc(torch.randn_like(real) * real.std()))
    assert same.item() == 0.0 and noise.item() > 0.1
