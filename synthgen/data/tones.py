"""Plain pitched tones: the single notes codec evaluation measures pitch on, and random tones and chords over
the whole keyboard that codec training mixes in, so the codec learns pitches SynthStems parts rarely play.

Audio is [count, 1, N] float.
"""

from __future__ import annotations

import numpy as np
import torch

from synthgen.synth.engine import midi_to_hz


def harmonic_notes(midi_notes, sample_rate: int, seconds: float = 1.0, partials: int = 8) -> torch.Tensor:
    """One steady note per MIDI number: partials 1..8 (below Nyquist) at amplitude 1/k, a 10 ms fade-in,
    peak 0.1. -> audio [notes, 1, N]."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    rows = []
    for midi in midi_notes:
        f0 = midi_to_hz(midi)
        wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, partials + 1) if k * f0 < sample_rate / 2)
        rows.append(0.1 * wave * np.minimum(1.0, t / 0.01) / np.abs(wave).max())
    return torch.from_numpy(np.stack(rows)).float()[:, None]


def random_tones(count: int, length: int, sample_rate: int, generator: np.random.Generator,
                 lowest: float = 24, highest: float = 108) -> torch.Tensor:
    """`count` segments [count, 1, length] of 1-4 simultaneous notes at random (not only equal-tempered)
    pitches between MIDI `lowest` and `highest`: random partial slopes (odd partials only in a third of
    them), attack, decay, onset and level (peak 0.02-0.5)."""
    t = np.arange(length) / sample_rate
    out = np.zeros((count, 1, length), np.float32)
    for i in range(count):
        wave = np.zeros(length)
        for _ in range(generator.integers(1, 5)):
            f0 = midi_to_hz(generator.uniform(lowest, highest))
            step = 2 if generator.random() < 1 / 3 else 1
            ks = np.arange(1, 40, step)
            ks = ks[ks * f0 < sample_rate / 2]
            amplitudes = ks ** -generator.uniform(0.5, 2.5)
            onset = generator.uniform(0, 0.5) * length / sample_rate
            local = np.clip(t - onset, 0, None)
            envelope = np.minimum(1, local / generator.uniform(0.001, 0.1)) * np.exp(-local * generator.uniform(0, 4))
            phases = generator.uniform(0, 2 * np.pi, len(ks))
            wave += envelope * (t >= onset) * (amplitudes[:, None] * np.sin(2 * np.pi * f0 * ks[:, None] * t + phases[:, None])).sum(0)
        out[i, 0] = wave / (np.abs(wave).max() + 1e-9) * generator.uniform(0.02, 0.5)
    return torch.from_numpy(out)
