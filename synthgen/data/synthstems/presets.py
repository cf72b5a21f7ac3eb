"""General MIDI synth programs as a minority of SynthStems `record` targets: a sound module's preset in place of the
project's own synth, described in its own words ("a General MIDI halo pad").

Each preset's brightness and attack were measured on MuseScore_General_Lite (spectral centroid and attack time of
a held note, `tests/test_synthstems.py` measures them again): "dark" below a centroid of 900 Hz, "warm" up to
2,200 Hz; "sharp" under 30 ms of attack, "soft" up to 0.35 s, "slow" beyond.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthgen.data.synthstems.band import to_instrument
from synthgen.data.synthstems.soundfont import SoundFontPlayer
from synthgen.notes import Note

PRESET_SHARE = 0.12  # the share of record tracks (not the out-of-distribution set) whose synth is a GM preset


@dataclass(frozen=True)
class Preset:
    program: int  # General MIDI program, 0-based
    roles: tuple[str, ...]  # the parts it plays
    waveform: str  # meta.json's waveform: the nearest of the project's, by ear (the description names the preset)
    brightness: str
    attack: str
    names: tuple[str, ...]  # its own wording, paraphrased


PRESETS = (
    Preset(38, ("bass",), "saw", "dark", "sharp", ("synth bass", "analog-style synth bass")),
    Preset(39, ("bass",), "square", "dark", "sharp", ("rubbery synth bass", "synth bass")),
    Preset(80, ("lead", "arpeggio"), "square", "warm", "sharp", ("square lead", "chiptune square lead")),
    Preset(81, ("lead",), "saw", "warm", "soft", ("sawtooth lead", "classic saw lead")),
    Preset(82, ("lead", "arpeggio"), "sine", "warm", "sharp", ("calliope lead", "whistly calliope")),
    Preset(83, ("lead", "arpeggio"), "triangle", "dark", "sharp", ("chiff lead", "breathy chiff lead")),
    Preset(84, ("lead", "stabs"), "saw", "bright", "sharp", ("charang lead", "gritty charang")),
    Preset(62, ("stabs", "pad"), "saw", "warm", "soft", ("synth brass", "brassy synth")),
    Preset(88, ("pad",), "sine", "warm", "soft", ("new-age pad", "glassy new-age pad")),
    Preset(89, ("pad",), "saw", "dark", "slow", ("warm pad", "soft warm pad")),
    Preset(90, ("pad", "stabs"), "saw", "warm", "soft", ("polysynth", "polysynth pad")),
    Preset(94, ("pad",), "triangle", "warm", "slow", ("halo pad", "airy halo pad")),
)


def sample_preset(rng: np.random.Generator, role: str) -> Preset | None:
    """A preset for the role, for PRESET_SHARE of the tracks; None keeps the project's own synth."""
    fitting = [p for p in PRESETS if role in p.roles]
    if rng.random() >= PRESET_SHARE or not fitting:
        return None
    return fitting[int(rng.integers(len(fitting)))]


def render_preset(preset: Preset, notes: list[Note], soundfont: Path, sr: int, samples: int) -> np.ndarray:
    """The part played by the preset, dry: [samples] float64."""
    with SoundFontPlayer(soundfont, sr, effects=False) as player:
        return player.render([to_instrument(notes, preset.program)], samples).astype(np.float64)
