"""The first SynthStems (`--style classic`): one mono arrangement style on the built-in instruments.

Kept byte for byte: the same seed makes the same files as before SynthStems 2.
"""

from __future__ import annotations

import numpy as np

from synthgen.data.synthstems import score as scores
from synthgen.data.synthstems.config import SynthStemsConfig
from synthgen.data.synthstems.describe import describe
from synthgen.synth.effects import apply_effects
from synthgen.data.synthstems.instruments import BACKING_INSTRUMENTS, backing_event, drum_kit, render_drums
from synthgen.data.synthstems.mixing import at_level
from synthgen.data.synthstems.patches import SYNTH_PROGRAMS, choice, round_floats, sample_synth, uniform
from synthgen.synth.engine import Patch, render_event, render_part
from synthgen.data.synthstems.theory import sample_key, sample_progression


def make_classic_track(config: SynthStemsConfig, index: int) -> dict:
    """The first SynthStems: one mono arrangement style on the built-in instruments."""
    rng = np.random.default_rng([config.seed, index])
    sr, seconds = config.sample_rate, config.seconds
    n = int(round(seconds * sr))
    key = sample_key(rng)
    tempo = float(rng.integers(70, 161))
    step = 60.0 / tempo / 4
    chords = sample_progression(rng, key, 16 * step, seconds)

    role, register, brightness, waveform, attack, rate, patch, effects = sample_synth(rng, 4 * step)
    groove = choice(rng, list(scores.GROOVES))
    instrument = choice(rng, list(BACKING_INSTRUMENTS))

    synth_notes = scores.synth_part(rng, role, register, key, chords, step, seconds, rate)
    comping, backing_notes = scores.backing_part(rng, chords, step, seconds)
    bass_notes = [] if role == "bass" else scores.bass_part(rng, chords, step, seconds)
    score = scores.Score(key=key, tempo=tempo, chords=chords, synth_role=role, synth=synth_notes, bass=bass_notes,
                         backing=backing_notes, drums=scores.drum_part(rng, groove, step, seconds),
                         groove=groove, comping=comping)

    event_seed = int(rng.integers(2**31))
    synth = render_part(synth_notes, n, sr, lambda p, g: render_event(patch, p, g, sr, (event_seed, *p)))
    synth = apply_effects(synth, sr, effects, rng)
    bass_patch = Patch(waveform=choice(rng, ["sine", "triangle", "saw"]), cutoff=uniform(rng, (300, 800)),
                       attack=0.004, decay=0.3, sustain=0.6, release=0.05)
    bass = render_part(bass_notes, n, sr, lambda p, g: render_event(bass_patch, p, g, sr, (event_seed, *p)))
    chords_audio = render_part(backing_notes, n, sr, lambda p, g: backing_event(instrument, p, g, sr))
    drums = render_drums(score.drums, drum_kit(rng, sr), n, sr)

    synth_db = uniform(rng, (-20.0, -15.0))
    backing = at_level(drums, -20.0) + at_level(bass, -22.0) + at_level(chords_audio, uniform(rng, (-26.0, -21.0)))
    synth = at_level(synth, synth_db)
    peak_db = uniform(rng, (-6.0, -1.5))
    gain = 10 ** (peak_db / 20) / max(np.abs(backing + synth).max(), 1e-9)
    backing16 = np.round(backing * gain * 32767).astype(np.int16)
    synth16 = np.round(synth * gain * 32767).astype(np.int16)

    speed = "fast" if rate == 1 else "steady"
    attributes = dict(role=role, waveform=waveform, brightness=brightness, attack=attack, register=register,
                      unison=patch.unison, vibrato=patch.vibrato_cents > 0, effects=sorted(effects), speed=speed,
                      tempo=tempo, key=key.name)
    description = describe(attributes, rng)
    meta = round_floats(dict(
        **attributes, description=description, seed=config.seed, index=index, seconds=seconds, sample_rate=sr,
        key_tonic=key.tonic, mode=key.mode, scale=key.pitch_classes, step_seconds=step,
        chords=[dict(name=c.name, root=c.root, pitch_classes=list(c.pitch_classes), start=c.start, end=min(c.end, seconds))
                for c in chords],
        notes=[[nt.start, nt.end, nt.pitch, nt.velocity] for nt in synth_notes if nt.start < seconds],
        note_rate_steps=rate, patch=patch.to_dict(), effects_params=effects, groove=groove,
        backing_instrument=instrument, comping=comping, synth_rms_db=synth_db, peak_db=peak_db,
    ))
    midi = score.to_midi(SYNTH_PROGRAMS[role], BACKING_INSTRUMENTS[instrument][0])
    return dict(backing=backing16, synth=synth16, meta=meta, description=description, midi=midi)
