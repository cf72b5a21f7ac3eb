"""The backing band of a SynthStems `record` track: drums, bass, keys and a sustained layer, each rendered alone
(mono) so that the mix can treat it as a record's track. Most bands play sampled instruments from a General
MIDI SoundFont (MuseScore_General_Lite, Debian's musescore-general-soundfont-small); BUILT_IN of them play the
built-in additive/FM instruments and synthesized drums, as one more timbre family. TimGM6mb stays out of
training (the out-of-distribution set of `data resound`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

from synthgen.data.synthstems.arrangement import GM_DRUMS, Arrangement
from synthgen.data.synthstems.instruments import BACKING_INSTRUMENTS, backing_event, drum_kit, render_drums
from synthgen.data.synthstems.soundfont import SoundFontPlayer
from synthgen.synth.engine import Patch, render_event, render_part
from synthgen.notes import Note

TRAINING_SOUNDFONT = Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3")
BUILT_IN = 0.2  # the share of bands that play the built-in instruments
PROGRAMS = {  # General MIDI programs (0-based) each part may play; no synth leads or pads (the target is the synth)
    "bass": [32, 33, 34, 35, 36, 38],  # acoustic, fingered, picked, fretless, slap, synth bass
    "keys": [0, 1, 2, 4, 5, 6, 7, 11, 16, 17, 24, 25, 26, 27, 28],  # pianos, electric pianos, harpsichord, clavinet,
    # vibraphone, organs, guitars
    "layer": [48, 49, 50, 52, 53, 61, 19],  # strings, slow strings, synth strings, choir, voice, brass, church organ
}
BUILT_IN_LAYER = "organ"


def sample_band(rng: np.random.Generator, soundfont_only: bool = False) -> dict:
    """Which instruments play: {"family": "soundfont" | "built-in", and a program or instrument per part}."""
    if rng.random() < BUILT_IN and not soundfont_only:
        return dict(family="built-in", keys=str(rng.choice(list(BACKING_INSTRUMENTS))), layer=BUILT_IN_LAYER,
                    bass=str(rng.choice(["sine", "triangle", "saw"])))
    return dict(family="soundfont", **{part: int(rng.choice(programs)) for part, programs in PROGRAMS.items()})


def to_instrument(notes: list[Note], program: int, is_drum: bool = False, name: str = "") -> pretty_midi.Instrument:
    """A part's notes as a pretty_midi instrument (velocities 0..1 as MIDI's 1..127)."""
    inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name=name)
    inst.notes = [pretty_midi.Note(n.midi_velocity, n.pitch, n.start, n.end) for n in notes]
    return inst


def render_band(rng: np.random.Generator, band: dict, song: Arrangement, sr: int, samples: int,
                soundfont: Path = TRAINING_SOUNDFONT) -> dict[str, np.ndarray]:
    """Each backing part alone: {"drums", "bass", "keys", "layer"} -> [samples] float64, mono."""
    if band["family"] == "soundfont":
        with SoundFontPlayer(soundfont, sr, effects=False) as player:
            audio = {"drums": player.render([to_instrument(song.drums, 0, is_drum=True)], samples)}
            for part in ("bass", "keys", "layer"):
                audio[part] = player.render([to_instrument(song.parts[part], band[part])], samples)
        return {part: x.astype(np.float64) for part, x in audio.items()}
    drums = {v: k for k, v in GM_DRUMS.items()}
    kit = drum_kit(rng, sr)
    kit.update({"ride": kit["hat"], "crash": kit["hat"], "tom low": kit["snare"], "tom high": kit["snare"]})
    bass_patch = Patch(waveform=band["bass"], cutoff=float(rng.uniform(300, 800)), attack=0.004, decay=0.3, sustain=0.6,
                       release=0.05)
    seed = int(rng.integers(2**31))
    return {
        "drums": render_drums([(n.start, drums[n.pitch], n.velocity) for n in song.drums], kit, samples, sr),
        "bass": render_part(song.parts["bass"], samples, sr, lambda p, g: render_event(bass_patch, p, g, sr, (seed, *p))),
        "keys": render_part(song.parts["keys"], samples, sr, lambda p, g: backing_event(band["keys"], p, g, sr)),
        "layer": render_part(song.parts["layer"], samples, sr, lambda p, g: backing_event(band["layer"], p, g, sr)),
    }
