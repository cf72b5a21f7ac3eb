"""Spectral building blocks shared by analysis, transcription and evaluation, in bounded memory.

    stft_chunks(x [N], n_fft, hop)  -> magnitude frames [<= CHUNK_FRAMES, n_fft // 2 + 1], chunk after chunk
    stft_magnitude(x [N], n_fft, hop) -> all of them at once [frames, n_fft // 2 + 1] (short audio)
    pitch_class_profile(x [N], sr)  -> energy per pitch class [frames, 12]

Frame t covers samples [t * hop, t * hop + n_fft) (Hann window); audio shorter than one frame is zero-padded.
Working chunk by chunk keeps a 10-minute file's analysis to a few tens of MB instead of gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK_FRAMES = 256


def stft_chunks(x: np.ndarray, n_fft: int = 2048, hop: int = 512) -> Iterator[np.ndarray]:
    """Magnitude spectrogram of mono audio [N] in chunks of at most CHUNK_FRAMES frames."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]  # a view: nothing copied yet
    window = np.hanning(n_fft)
    for start in range(0, len(frames), CHUNK_FRAMES):
        yield np.abs(np.fft.rfft(frames[start : start + CHUNK_FRAMES] * window, axis=1))


def stft_magnitude(x: np.ndarray, n_fft: int = 2048, hop: int = 512) -> np.ndarray:
    """Magnitude spectrogram [frames, n_fft // 2 + 1] with a Hann window."""
    return np.concatenate(list(stft_chunks(x, n_fft, hop)))


def pitch_class_profile(x: np.ndarray, sr: int, fmin: float = 60.0, fmax: float = 5000.0) -> np.ndarray:
    """Energy per pitch class of mono audio [N] as [frames, 12] (C = 0), each frame summing to 1
    (0 where silent: more than 50 dB below the loudest frame). Each FFT bin counts for its nearest
    semitone; 16384-point frames (0.5 s at 32 kHz) resolve semitones down to the bass register."""
    freqs = np.fft.rfftfreq(16384, 1 / sr)
    band = (freqs >= fmin) & (freqs <= fmax)
    classes = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    members = np.stack([classes == pc for pc in range(12)], axis=1).astype(np.float64)  # [bins, 12]
    out = np.concatenate([(magnitude[:, band] ** 2) @ members for magnitude in stft_chunks(x, 16384, 4096)])
    total = out.sum(axis=1, keepdims=True)
    sounding = total > max(total.max(initial=0.0), 1e-20) * 1e-5
    return np.divide(out, total, out=np.zeros_like(out), where=sounding)
