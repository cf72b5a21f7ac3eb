"""Audio metrics: does a stem fit its mix (harmony, rhythm), do its measured properties match what
its prompt asked for, and how far are generated stems from real ones as a set.

Audio is mono float numpy [N] at sample rate `sr`.
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np

from synthgen.dsp import pitch_class_profile, stft_magnitude
from synthgen.eval.probes import attack_time, spectral_centroid

ONSET_WINDOW = 0.05  # seconds: mir_eval's usual tolerance for a matched onset


# ----- fit to the mix -----
def harmonic_fit(stem: np.ndarray, mix: np.ndarray, sr: int) -> float:
    """Frame-wise chroma agreement in [-1, 1]: the mean correlation between the pitch-class profiles of
    stem and mix over the frames where both sound (nan when there are none). Correlation, not cosine:
    a toneless stem (noise, a flat profile) scores about 0 instead of looking half in key."""
    a, b = pitch_class_profile(stem, sr), pitch_class_profile(mix, sr)
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


def rhythmic_fit(stem: np.ndarray, mix: np.ndarray, sr: int) -> float:
    """The share of the stem's onsets that land within ONSET_WINDOW of one of the mix's onsets
    (mir_eval's onset precision). Precision, not F-measure: a part that plays on some of the beats fits
    as well as one that plays on all of them, and only a copy of the mix reaches full recall."""
    import mir_eval

    reference, estimate = onsets(mix, sr), onsets(stem, sr)
    if len(reference) == 0 or len(estimate) == 0:
        return 0.0
    return float(mir_eval.onset.f_measure(reference, estimate, window=ONSET_WINDOW)[1])


FOLLOW_SHIFTS = (-9, -7, -5, -3, 3, 5, 7, 9)  # beats: the mix elsewhere in the song (never a 4/4 bar's multiple)
SOUNDING_BEAT = 1e-3  # a beat where the stem's energy is above this share of its loudest beat's: it sounds there


def beat_chroma(x: np.ndarray, sr: int, beats: np.ndarray) -> np.ndarray:
    """Chroma energy of each beat span [beats[i], beats[i + 1]) (the last to the end) -> [B, 12] (librosa's STFT
    chroma without normalisation, 4096-point frames, 1024 apart, summed over the frames that start in the span)."""
    import librosa

    chroma = librosa.feature.chroma_stft(y=np.asarray(x, dtype=np.float32), sr=sr, n_fft=4096, hop_length=1024,
                                         norm=None, tuning=0.0)  # [12, F]
    frame = np.clip(np.searchsorted(beats, np.arange(chroma.shape[1]) * 1024 / sr, side="right") - 1, 0, None)
    out = np.zeros((len(beats), 12))
    np.add.at(out, frame, chroma.T)
    return out


def follow(stem: np.ndarray, mix: np.ndarray, sr: int, beats: np.ndarray) -> float:
    """How much the stem follows the mix's harmony beat by beat, about 0 for a drone in the key: per beat, the
    cosine of the stem's chroma with the mix's at the same beat minus its mean cosine with the mix's at the beats
    FOLLOW_SHIFTS away, averaged over the beats where the stem sounds (nan with none, or under 10 beats)."""
    if len(beats) < 10:
        return float("nan")
    a, b = beat_chroma(stem, sr, beats), beat_chroma(mix, sr, beats)
    energy = a.sum(axis=1)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    scores = []
    for i in np.flatnonzero(energy > SOUNDING_BEAT * energy.max(initial=0.0)):
        others = [i + s for s in FOLLOW_SHIFTS if 0 <= i + s < len(beats)]
        if others:
            scores.append(a[i] @ b[i] - np.mean(b[others] @ a[i]))
    return float(np.mean(scores)) if scores else float("nan")


def on_grid(stem: np.ndarray, sr: int, beats: np.ndarray) -> float:
    """The share of the stem's onsets within ONSET_WINDOW of the mix's eighth-note grid (its beats and the points
    halfway between them); nan without onsets or beats."""
    found = onsets(stem, sr)
    if not len(found) or len(beats) < 2:
        return float("nan")
    grid = np.sort(np.concatenate([beats, (beats[1:] + beats[:-1]) / 2]))
    return float(np.mean(np.min(np.abs(found[:, None] - grid[None]), axis=1) <= ONSET_WINDOW))


def mix_copy(stem: np.ndarray, mix: np.ndarray, sr: int, bands: int = 40) -> float:
    """How much the stem copies the mix, in [-1, 1]: per mel band, the correlation over time of the
    two log energies, averaged over bands weighted by the stem's energy in each. A filtered or quieter
    copy of the mix scores near 1 (and would score well on harmony and rhythm for the wrong reason);
    a part of its own scores near the true stem's level, whatever noise it adds in other bands."""
    import librosa

    filters = librosa.filters.mel(sr=sr, n_fft=2048, n_mels=bands)
    a, b = (filters @ (stft_magnitude(x) ** 2).T for x in (stem, mix))  # [bands, frames]
    n = min(a.shape[1], b.shape[1])
    weights = a[:, :n].sum(axis=1)
    if weights.sum() <= 0:
        return 0.0
    a, b = (np.log(x[:, :n] + 1e-10) for x in (a, b))
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    correlation = np.divide((a * b).sum(axis=1), norms, out=np.zeros(bands), where=norms > 0)
    return float(np.average(correlation, weights=weights))


# ----- probes of what a prompt asks for -----
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
    """The measured values behind each SynthStems attribute a prompt names (log scales where the
    attribute is heard on one). Brightness is the spectral centroid relative to the register's pitch
    (how many harmonics sound), so a bright bass is not taken for a dark lead. Role is told by sustain,
    note rate and register together."""
    found = onsets(x, sr)
    register = pitch_height(x, sr)
    pitch_hz = 440.0 * 2 ** ((register - 69) / 12)
    return dict(
        brightness=np.array([np.log(max(spectral_centroid(x, sr), 1.0) / pitch_hz)]),
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

    from synthgen.resampling import resample

    def embed(audio: np.ndarray, sr: int) -> np.ndarray:
        x = torch.from_numpy(resample(audio[None].astype(np.float32), sr, codec.sample_rate))[None]
        with torch.inference_mode():
            return codec.latents(x.to(codec.device))[0].T.float().cpu().numpy()

    return embed


def load_embedding(spec: str) -> Embedding:
    """A user's embedding model as 'module:function' (e.g. a local CLAP or VGGish wrapper) taking
    (audio [N], sr) and returning frames [T, D]."""
    from synthgen.errors import SynthGenError

    module, _, name = spec.partition(":")
    if not module or not name:
        raise SynthGenError(f"--embedding '{spec}': expected MODULE:FUNCTION (e.g. my_clap:embed)")
    try:
        function = getattr(importlib.import_module(module), name)
    except ImportError as err:
        raise SynthGenError(f"--embedding '{spec}': cannot import {module} ({err})") from None
    except AttributeError:
        raise SynthGenError(f"--embedding '{spec}': {module} has no {name}") from None
    if not callable(function):
        raise SynthGenError(f"--embedding '{spec}': {module}.{name} is not a function")
    return function
