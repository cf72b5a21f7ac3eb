"""Audio metrics: does a stem fit its context (harmony, rhythm), do its measured properties match what
its description asked for, and how far are generated stems from real ones as a set.

Audio is mono float numpy [N] at sample rate `sr`.
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np

from synthgen.eval.probes import attack_time, pitch_class_profile, spectral_centroid, stft_magnitude

ONSET_WINDOW = 0.05  # seconds: mir_eval's usual tolerance for a matched onset


# ----- fit to the context -----
def harmonic_fit(stem: np.ndarray, context: np.ndarray, sr: int) -> float:
    """Frame-wise chroma agreement in [-1, 1]: the mean correlation between the pitch-class profiles of
    stem and context over the frames where both sound (nan when there are none). Correlation, not cosine:
    a toneless stem (noise, a flat profile) scores about 0 instead of looking half in key."""
    a, b = pitch_class_profile(stem, sr), pitch_class_profile(context, sr)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    sounding = (a.sum(axis=1) > 0) & (b.sum(axis=1) > 0)
    a, b = a[sounding] - a[sounding].mean(axis=1, keepdims=True), b[sounding] - b[sounding].mean(axis=1, keepdims=True)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    if not norms.size:
        return float("nan")
    return float(np.mean((a * b).sum(axis=1) / np.maximum(norms, 1e-12)))


def onsets(x: np.ndarray, sr: int) -> np.ndarray:
    """Onset times in seconds (librosa's spectral-flux onset detector)."""
    import librosa

    if not np.any(np.abs(x) > 1e-4):
        return np.zeros(0)
    return librosa.onset.onset_detect(y=np.asarray(x, dtype=np.float32), sr=sr, units="time")


def rhythmic_fit(stem: np.ndarray, context: np.ndarray, sr: int) -> float:
    """F-measure (mir_eval) of the stem's onsets against the context's onsets, within ONSET_WINDOW."""
    import mir_eval

    reference, estimate = onsets(context, sr), onsets(stem, sr)
    if len(reference) == 0 or len(estimate) == 0:
        return 0.0
    return float(mir_eval.onset.f_measure(reference, estimate, window=ONSET_WINDOW)[0])


def context_copy(stem: np.ndarray, context: np.ndarray, sr: int) -> float:
    """Correlation of the stem's and the context's log-magnitude spectrograms, each frequency's mean over
    time removed: near 1 when the stem copies
    the context (which then scores well on harmony and rhythm for the wrong reason); the true stem's
    value is the natural level."""
    a, b = (np.log(stft_magnitude(x) + 1e-5) for x in (stem, context))
    n = min(len(a), len(b))
    # each frequency's movement over time: a shared static spectrum (or shared silence) is no copy
    a, b = (x[:n] - x[:n].mean(axis=0) for x in (a, b))
    a, b = a.ravel(), b.ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


# ----- probes of what a description asks for -----
def pitch_height(x: np.ndarray, sr: int, fmin: float = 30.0, fmax: float = 4000.0) -> float:
    """Register: the median MIDI pitch of each sounding frame's strongest spectral peak (nan if silent)."""
    mag = stft_magnitude(x, n_fft=8192, hop=2048)
    freqs = np.fft.rfftfreq(8192, 1 / sr)
    band = (freqs >= fmin) & (freqs <= fmax)
    energy = (mag**2).sum(axis=1)
    loud = energy > energy.max() * 1e-3 if energy.size and energy.max() > 0 else np.zeros(len(mag), bool)
    if not loud.any():
        return float("nan")
    peaks = freqs[band][np.argmax(mag[loud][:, band], axis=1)]
    return float(np.median(69 + 12 * np.log2(peaks / 440.0)))


def sustain(x: np.ndarray, sr: int) -> float:
    """Role: the fraction of 10 ms frames whose level is within 12 dB of the stem's loud level (its 95th
    percentile): near 1 for a pad, low for stabs and plucks."""
    hop = max(1, sr // 100)
    usable = len(x) // hop * hop
    level = np.sqrt((np.asarray(x[:usable], dtype=np.float64).reshape(-1, hop) ** 2).mean(axis=1))
    if level.size == 0 or level.max() <= 0:
        return 0.0
    return float((level >= np.percentile(level, 95) / 4).mean())


def attribute_probes(x: np.ndarray, sr: int) -> dict[str, np.ndarray]:
    """The measured values behind each SynthStems attribute a description names (log scales where the
    attribute is heard on one). Role is told by sustain, note rate and register together."""
    found = onsets(x, sr)
    register = pitch_height(x, sr)
    return dict(
        brightness=np.array([np.log(max(spectral_centroid(x, sr), 1.0))]),
        attack=np.array([np.log(max(attack_time(x, sr, list(found)), 1e-3))]),
        register=np.array([register]),
        role=np.array([sustain(x, sr), len(found) * sr / max(len(x), 1), register / 12]),
    )


class AttributeClassifier:
    """Nearest class mean on probe vectors [P], each dimension scaled by its spread: fitted on real stems
    whose attributes are known, it says which value of the attribute a stem sounds like. Probes that
    are not finite are left out of the fit and predict nothing."""

    def __init__(self, values: list[np.ndarray], labels: list[str]):
        usable = [(np.atleast_1d(v), y) for v, y in zip(values, labels) if np.all(np.isfinite(v))]
        self.means: dict[str, np.ndarray] = {}
        self.scale = np.ones(1)
        if usable:
            stacked = np.stack([v for v, _ in usable])
            self.scale = np.maximum(stacked.std(axis=0), 1e-6)
            for label in sorted({y for _, y in usable}):
                self.means[label] = stacked[[y == label for _, y in usable]].mean(axis=0)

    def predict(self, value: np.ndarray) -> str | None:
        value = np.atleast_1d(value)
        if not np.all(np.isfinite(value)) or not self.means:
            return None
        return min(self.means, key=lambda label: float(np.sum(((self.means[label] - value) / self.scale) ** 2)))


# ----- distance between sets -----
def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to embeddings a [M, D] and b [M', D]."""
    from scipy import linalg

    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    trace = np.trace(cov_a + cov_b - 2 * np.real(root))
    return float(((mu_a - mu_b) ** 2).sum() + max(trace, 0.0))


Embedding = Callable[[np.ndarray, int], np.ndarray]  # (audio [N], sr) -> frames [T, D]


def codec_embedding(codec) -> Embedding:
    """The codec encoder's latent frames [T, D] (before quantization): an embedding that needs nothing
    beyond the model itself."""
    import torch

    from synthgen.audio import resample

    def embed(audio: np.ndarray, sr: int) -> np.ndarray:
        x = torch.from_numpy(resample(audio[None].astype(np.float32), sr, codec.sample_rate))[None]
        with torch.inference_mode():
            return codec.model.encoder(x.to(codec.device))[0].T.float().cpu().numpy()

    return embed


def load_embedding(spec: str) -> Embedding:
    """A user's embedding model as 'module:function' (e.g. a local CLAP or VGGish wrapper) taking
    (audio [N], sr) and returning frames [T, D]."""
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"embedding '{spec}': expected 'module:function'")
    return getattr(importlib.import_module(module), name)
