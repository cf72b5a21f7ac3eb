"""Chroma: how much of each pitch class (C = 0 ... B = 11) sounds in each frame.

The same features as MusicGen-Melody's feature extractor (librosa chroma filters over a 16384-point
power spectrogram, hop 4096, each frame divided by its maximum), computed with torch.stft so that no
torchaudio is needed. Used for the chroma prefix of the model. (The evaluation's harmony probe,
`synthgen.dsp.pitch_class_profile`, bins energy by nearest semitone instead: the librosa
filters spread each pitch over its neighbours, which blurs a key test.)
"""

from __future__ import annotations

from functools import lru_cache

import torch
from transformers.audio_utils import chroma_filter_bank

N_FFT = 16384
HOP = 4096


@lru_cache(maxsize=4)
def _filters(sample_rate: int) -> torch.Tensor:
    return torch.from_numpy(chroma_filter_bank(N_FFT, 12, sample_rate, tuning=0.0)).float()  # [12, N_FFT/2+1]


def chroma(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """audio [B, N] -> chroma [B, 1 + N // 4096, 12], each frame scaled so its largest class is 1."""
    audio = audio.float()
    if audio.shape[-1] < N_FFT:  # as MusicGen-Melody: pad short audio to one FFT frame
        pad = N_FFT - audio.shape[-1]
        audio = torch.nn.functional.pad(audio, (pad // 2, pad - pad // 2))
    window = torch.hann_window(N_FFT, device=audio.device)
    spec = torch.stft(audio, N_FFT, HOP, window=window, center=True, pad_mode="reflect", return_complex=True)
    power = spec.abs().pow(2) / window.pow(2).sum()  # [B, F_bins, frames]
    raw = torch.einsum("cf,bft->btc", _filters(sample_rate).to(audio.device), power)
    return torch.nn.functional.normalize(raw, p=float("inf"), dim=-1, eps=1e-6)


def dominant_pitch_class(features: torch.Tensor) -> torch.Tensor:
    """Chroma [..., 12] -> one-hot of each frame's strongest pitch class (MusicGen-Melody's condition)."""
    return torch.nn.functional.one_hot(features.argmax(-1), 12).to(features.dtype)
