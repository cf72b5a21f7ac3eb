"""Chroma: how much of each pitch class (C = 0 ... B = 11) sounds in each frame.

The same features as MusicGen-Melody's feature extractor (librosa chroma filters over a 16384-point
power spectrogram, hop 4096, each frame divided by its maximum), computed with torch.stft so that no
torchaudio is needed, and with the filters written here so that generation imports neither transformers nor
librosa. Used for the chroma prefix of the model. (The evaluation's harmony probe,
`synthgen.dsp.pitch_class_profile`, bins energy by nearest semitone instead: the librosa filters spread each pitch
over its neighbours, which blurs a key test.)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

N_FFT = 16384
HOP = 4096


@lru_cache(maxsize=4)
def chroma_filters(sample_rate: int, n_fft: int = N_FFT) -> torch.Tensor:
    """librosa's chroma filters at A440, C first -> [12, n_fft // 2 + 1]: each FFT bin spreads over the pitch
    classes near its pitch as a Gaussian bump (width: the bin's spacing in semitones, at least one), the bumps
    of a bin have unit L2 norm, and each bin is weighted by a Gaussian over octaves centred on octave 5 with a
    half-width of 2 octaves."""
    hz = np.arange(1, n_fft) * sample_rate / n_fft
    pitch = 12 * np.log2(hz / 27.5)  # semitones above A0 for every bin but DC
    pitch = np.concatenate([[pitch[0] - 18], pitch])  # DC: 1.5 octaves below the first bin
    width = np.append(np.maximum(np.diff(pitch), 1.0), 1.0)
    distance = (pitch[None] - np.arange(12)[:, None] + 6 + 120) % 12 - 6  # [12, bins], in semitones -6 ... 6
    filters = np.exp(-0.5 * (2 * distance / width) ** 2)
    filters /= np.sqrt((filters**2).sum(axis=0, keepdims=True))
    filters *= np.exp(-0.5 * ((pitch / 12 - 5) / 2) ** 2)
    return torch.from_numpy(np.roll(filters, -3, axis=0)[:, : n_fft // 2 + 1]).float()  # A first -> C first


def chroma(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """audio [B, N] -> chroma [B, 1 + N // 4096, 12], each frame scaled so its largest class is 1."""
    audio = audio.float()
    if audio.shape[-1] < N_FFT:  # as MusicGen-Melody: pad short audio to one FFT frame
        pad = N_FFT - audio.shape[-1]
        audio = torch.nn.functional.pad(audio, (pad // 2, pad - pad // 2))
    window = torch.hann_window(N_FFT, device=audio.device)
    spec = torch.stft(audio, N_FFT, HOP, window=window, center=True, pad_mode="reflect", return_complex=True)
    power = spec.abs().pow(2) / window.pow(2).sum()  # [B, F_bins, frames]
    raw = torch.einsum("cf,bft->btc", chroma_filters(sample_rate).to(audio.device), power)
    return torch.nn.functional.normalize(raw, p=float("inf"), dim=-1, eps=1e-6)


def dominant_pitch_class(features: torch.Tensor) -> torch.Tensor:
    """Chroma [..., 12] -> one-hot of each frame's strongest pitch class (MusicGen-Melody's condition)."""
    return torch.nn.functional.one_hot(features.argmax(-1), 12).to(features.dtype)
