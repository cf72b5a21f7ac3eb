"""Effects for the synth part: chorus, tempo-synced delay and reverb. x is float64 [N]."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve


def chorus(x: np.ndarray, sr: int, rate: float, depth_ms: float, mix: float) -> np.ndarray:
    """Mix in a copy delayed by 15 ms +- depth, swept by a sine LFO."""
    n = np.arange(x.size)
    delay = (0.015 + depth_ms / 1000 * np.sin(2 * np.pi * rate * n / sr)) * sr
    return (1 - mix / 2) * x + mix * np.interp(n - delay, n, x, left=0.0)


def delay(x: np.ndarray, sr: int, seconds: float, feedback: float, mix: float, repeats: int = 8) -> np.ndarray:
    """Echoes every `seconds`, each `feedback` times quieter than the last."""
    step = int(round(seconds * sr))
    wet = np.zeros_like(x)
    for k in range(1, repeats + 1):
        if k * step >= x.size:
            break
        wet[k * step :] += feedback ** (k - 1) * x[: x.size - k * step]
    return x + mix * wet


def reverb(x: np.ndarray, sr: int, seconds: float, mix: float, rng: np.random.Generator) -> np.ndarray:
    """Convolution with decaying noise: `seconds` is the time to fall by 60 dB."""
    t = np.arange(int(seconds * sr)) / sr
    impulse = rng.standard_normal(t.size) * np.exp(-6.9 * t / seconds)
    impulse /= np.sqrt(np.sum(impulse**2))
    return (1 - mix) * x + mix * fftconvolve(x, impulse)[: x.size]


def apply_effects(x: np.ndarray, sr: int, effects: dict, rng: np.random.Generator) -> np.ndarray:
    """Apply the effects named in `effects` ({name: parameters}) in a fixed order."""
    if "chorus" in effects:
        x = chorus(x, sr, **effects["chorus"])
    if "delay" in effects:
        x = delay(x, sr, **effects["delay"])
    if "reverb" in effects:
        x = reverb(x, sr, **effects["reverb"], rng=rng)
    return x
