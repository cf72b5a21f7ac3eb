"""The synth part of a SynthStems track, sampled: its role, register, brightness, waveform, attack, note rate,
patch and effects, each drawn so that the sound matches the words its description will use.
"""

from __future__ import annotations

import numpy as np

from synthgen.data.synthstems import score as scores
from synthgen.synth.engine import WAVEFORMS, Patch

ROLE_REGISTERS = {"lead": ["mid", "high"], "arpeggio": ["mid", "high"], "pad": ["mid", "mid", "high"],
                  "stabs": ["mid", "high"], "bass": ["low"]}
ROLE_ATTACKS = {"lead": ["sharp", "soft"], "arpeggio": ["sharp", "sharp", "soft"], "pad": ["soft", "slow"],
                "stabs": ["sharp"], "bass": ["sharp", "soft"]}
BRIGHTNESS_WAVEFORMS = {"dark": list(WAVEFORMS), "warm": ["saw", "square", "pulse", "triangle"],
                        "bright": ["saw", "square", "pulse"]}  # a sine or triangle has too few harmonics to be bright
CUTOFF_HZ = {"dark": (300, 700), "warm": (1200, 2200), "bright": (4500, 9000)}
REGISTER_CUTOFF_SCALE = {"low": 0.4, "mid": 1.0, "high": 1.6}
ENVELOPES = {  # attack, decay, sustain, release ranges (s, s, level, s)
    "sharp": ((0.001, 0.008), (0.08, 0.4), (0.0, 0.5), (0.03, 0.2)),
    "soft": ((0.04, 0.12), (0.3, 1.0), (0.6, 0.9), (0.15, 0.5)),
    "slow": ((0.35, 1.2), (0.5, 1.5), (0.8, 1.0), (0.4, 1.0)),
}
SYNTH_PROGRAMS = {"lead": 81, "arpeggio": 81, "pad": 89, "stabs": 81, "bass": 38}


def choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def sample_patch(rng: np.random.Generator, waveform: str, brightness: str, attack: str, register: str) -> Patch:
    """A synth patch whose sound matches the named brightness, attack and register."""
    a, d, s, r = (uniform(rng, bounds) for bounds in ENVELOPES[attack])
    unison = int(choice(rng, [1, 1, 2, 3, 5]))
    return Patch(
        waveform=waveform,
        pulse_width=uniform(rng, (0.1, 0.35)),
        noise=choice(rng, [0.0, 0.0, 0.0, uniform(rng, (0.02, 0.08))]),
        unison=unison,
        detune_cents=uniform(rng, (5, 25)) if unison > 1 else 0.0,
        cutoff=min(14000.0, uniform(rng, CUTOFF_HZ[brightness]) * REGISTER_CUTOFF_SCALE[register]),
        resonance=uniform(rng, (0.7, 4.0)),
        filter_env_octaves=uniform(rng, (0.0, 1.0) if brightness == "dark" else (0.0, 2.0)),
        filter_decay=uniform(rng, (0.05, 0.6)),
        attack=a, decay=d, sustain=s, release=r,
        vibrato_rate=uniform(rng, (4.5, 6.5)),
        vibrato_cents=choice(rng, [0.0, 0.0, uniform(rng, (8, 25))]) if register != "low" else 0.0,
    )


def sample_effects(rng: np.random.Generator, beat: float) -> dict:
    effects = {}
    if rng.random() < 0.25:
        effects["chorus"] = dict(rate=uniform(rng, (0.3, 1.2)), depth_ms=uniform(rng, (1.5, 4.0)),
                                 mix=uniform(rng, (0.3, 0.6)))
    if rng.random() < 0.3:
        effects["delay"] = dict(seconds=beat * choice(rng, [0.5, 0.75, 1.0]), feedback=uniform(rng, (0.2, 0.5)),
                                mix=uniform(rng, (0.15, 0.35)))
    if rng.random() < 0.4:
        effects["reverb"] = dict(seconds=uniform(rng, (0.8, 2.5)), mix=uniform(rng, (0.15, 0.4)))
    return effects


def round_floats(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: round_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_floats(v) for v in value]
    return value


def sample_synth(rng: np.random.Generator, beat: float) -> tuple:
    """The synth's role, register, brightness, waveform, attack, note rate (16th steps), patch and effects."""
    role = choice(rng, scores.ROLES)
    register = choice(rng, ROLE_REGISTERS[role])
    brightness = choice(rng, list(BRIGHTNESS_WAVEFORMS))
    waveform = choice(rng, BRIGHTNESS_WAVEFORMS[brightness])
    attack = choice(rng, ROLE_ATTACKS[role])
    rate = int(choice(rng, [1, 2])) if role == "arpeggio" else int(choice(rng, [1, 2, 2, 4]))
    patch = sample_patch(rng, waveform, brightness, attack, register)
    return role, register, brightness, waveform, attack, rate, patch, sample_effects(rng, beat)
