"""The backing band of SynthStems: a synthesized drum kit and additive/FM keyboard and guitar voices."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter

from synthgen.synth.engine import adsr, midi_to_hz

# name: (General MIDI program, partial amplitudes, decay time in s (None = held), attack in s)
BACKING_INSTRUMENTS = {
    "piano": (0, [1.0, 0.45, 0.25, 0.15, 0.1, 0.06], 1.4, 0.003),
    "organ": (16, [1.0, 0.7, 0.0, 0.45, 0.0, 0.3, 0.0, 0.2], None, 0.015),
    "guitar": (25, [1.0, 0.75, 0.5, 0.35, 0.25, 0.15, 0.1], 0.7, 0.002),
    "electric piano": (4, [], 1.8, 0.003),
}


def backing_event(instrument: str, pitches: tuple[int, ...], gate: int, sr: int) -> np.ndarray:
    """A chord of the backing instrument held for `gate` samples plus a short release. Returns [N] float64."""
    _, partials, decay, attack = BACKING_INSTRUMENTS[instrument]
    n = gate + int(0.08 * sr)
    t = np.arange(n) / sr
    freqs = np.array([midi_to_hz(p) for p in pitches])[:, None]
    if instrument == "electric piano":  # two-operator FM: a bell-like tine that mellows as it decays
        index = 2.5 * np.exp(-t / 0.25)
        x = np.sin(2 * np.pi * freqs * t + index * np.sin(2 * np.pi * freqs * t)).sum(axis=0)
    else:
        x = np.zeros(n)
        for k, amp in enumerate(partials, start=1):
            if amp:
                fade = 1.0 if decay is None else np.exp(-t * (1 + 0.6 * k) / decay)
                x += amp * (np.sin(2 * np.pi * k * freqs * t) * (k * freqs < 0.45 * sr)).sum(axis=0) * fade
    x /= np.sqrt(len(pitches)) * 2
    return x * adsr(n, gate, sr, attack, 10.0, 1.0, 0.06)


def drum_kit(rng: np.random.Generator, sr: int) -> dict[str, np.ndarray]:
    """One sample per drum, varied per track: kick, snare, closed and open hi-hat."""
    t = np.arange(int(0.6 * sr)) / sr
    f_start, f_end = rng.uniform(110, 180), rng.uniform(40, 60)
    kick_freq = f_end + (f_start - f_end) * np.exp(-t / rng.uniform(0.02, 0.06))
    kick = np.sin(2 * np.pi * np.cumsum(kick_freq) / sr) * np.exp(-t / rng.uniform(0.15, 0.35))
    kick[: int(0.003 * sr)] += rng.uniform(-0.3, 0.3, int(0.003 * sr))
    noise = rng.uniform(-1, 1, t.size)
    b, a = butter(2, [rng.uniform(800, 1500), rng.uniform(5000, 9000)], btype="band", fs=sr)
    snare = lfilter(b, a, noise) * np.exp(-t / rng.uniform(0.08, 0.18))
    snare += 0.5 * np.sin(2 * np.pi * rng.uniform(170, 220) * t) * np.exp(-t / 0.05)
    b, a = butter(2, rng.uniform(6000, 9000), btype="high", fs=sr)
    hat = lfilter(b, a, rng.uniform(-1, 1, t.size))
    kit = {"kick": kick, "snare": 0.7 * snare, "closed": 0.35 * hat * np.exp(-t / 0.03),
           "hat": 0.3 * hat * np.exp(-t / 0.2)}
    ramp = np.minimum(np.arange(t.size)[::-1] / (0.01 * sr), 1.0)  # fade out the sample's last 10 ms
    return {name: sound * ramp for name, sound in kit.items()}


def render_drums(hits: list[tuple[float, str, float]], kit: dict[str, np.ndarray], n_samples: int, sr: int) -> np.ndarray:
    out = np.zeros(n_samples)
    for time, drum, velocity in hits:
        start = int(round(time * sr))
        sound = kit[drum][: n_samples - start]
        out[start : start + len(sound)] += velocity * sound
    return out
