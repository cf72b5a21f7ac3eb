"""Distances between two renderings of the same audio (torch, differentiable): the codec's training
losses and the evaluation's closeness-to-truth numbers. Audio is [B, N]; each returns a scalar or [B].
"""

from __future__ import annotations

import torch
from transformers.audio_utils import mel_filter_bank

STFT_SIZES = (512, 1024, 2048)


def _stft_magnitude(x: torch.Tensor, n_fft: int) -> torch.Tensor:
    """x [B, N] -> magnitude [B, n_fft // 2 + 1, frames]."""
    window = torch.hann_window(n_fft, device=x.device)
    return torch.stft(x, n_fft, n_fft // 4, window=window, return_complex=True).abs().clamp(min=1e-5)  # floor: -100 dB


def multi_resolution_stft_loss(x: torch.Tensor, y: torch.Tensor, sizes: tuple[int, ...] = STFT_SIZES) -> torch.Tensor:
    """Spectral convergence + log-magnitude L1, averaged over STFT sizes. x, y [B, N]."""
    total = 0.0
    for n_fft in sizes:
        mx, my = _stft_magnitude(x, n_fft), _stft_magnitude(y, n_fft)
        convergence = torch.linalg.norm(my - mx, dim=(1, 2)) / torch.linalg.norm(my, dim=(1, 2)).clamp(min=1e-7)
        total = total + convergence.mean() + (mx.log() - my.log()).abs().mean()
    return total / len(sizes)


_MELS: dict[tuple, torch.Tensor] = {}


def mel_l1(x: torch.Tensor, y: torch.Tensor, sample_rate: int, n_fft: int = 1024, n_mels: int = 64) -> torch.Tensor:
    """L1 distance of log-mel spectrograms. x, y [B, N]."""
    key = (sample_rate, n_fft, n_mels, x.device)
    if key not in _MELS:
        bank = mel_filter_bank(n_fft // 2 + 1, n_mels, 0.0, sample_rate / 2, sample_rate, norm="slaney", mel_scale="slaney")
        _MELS[key] = torch.from_numpy(bank).float().to(x.device)  # [freqs, mels]
    mel = lambda a: (torch.einsum("bft,fm->bmt", _stft_magnitude(a, n_fft) ** 2, _MELS[key]) + 1e-5).log()  # noqa: E731
    return (mel(x) - mel(y)).abs().mean()


def si_sdr(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Scale-invariant signal-to-distortion ratio in dB, per row. [B, N] -> [B]."""
    reference = reference - reference.mean(dim=-1, keepdim=True)
    estimate = estimate - estimate.mean(dim=-1, keepdim=True)
    scale = (estimate * reference).sum(-1, keepdim=True) / (reference.pow(2).sum(-1, keepdim=True) + 1e-8)
    target = scale * reference
    return 10 * torch.log10(target.pow(2).sum(-1) / ((estimate - target).pow(2).sum(-1) + 1e-8) + 1e-8)
