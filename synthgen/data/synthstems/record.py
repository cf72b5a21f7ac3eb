"""SynthStems 2 (`--style record`, the default): a song excerpt played by a sampled (or built-in) band, with a sung
lead in some songs, mixed like a record in stereo.

The synth is the project's own, its parameters the true description, with the record style's sound design
(supersaw, filter sweep, gate, octaves, glide); in some songs (`presets.PRESET_SHARE`) a General MIDI synth preset plays it
instead, named in its own words. The out-of-distribution set (config.ood) holds what training never hears: a
band playing TimGM6mb (HELD_OUT_SOUNDFONT) and a synth with a deep, fast vibrato (OOD_VIBRATO).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pretty_midi

from synthgen.data.synthstems import score as scores
from synthgen.data.synthstems.arrangement import GM_DRUMS, Arrangement, arrange, feel
from synthgen.data.synthstems.band import TRAINING_SOUNDFONT, render_band, sample_band, to_instrument
from synthgen.data.synthstems.config import SynthStemsConfig
from synthgen.data.synthstems.describe import describe
from synthgen.synth.effects import apply_effects
from synthgen.data.synthstems.mixing import mix_record
from synthgen.data.synthstems.patches import SYNTH_PROGRAMS, choice, round_floats, sample_synth, uniform
from synthgen.data.synthstems.presets import Preset, render_preset, sample_preset
from synthgen.data.synthstems.soundfont import DEFAULT_SOUNDFONT as HELD_OUT_SOUNDFONT
from synthgen.synth.engine import Motion, Patch, render_event, render_line, render_part
from synthgen.data.synthstems.theory import sample_key
from synthgen.data.synthstems.voice import VOICES, sing, vocal_part

OOD_VIBRATO = ((40.0, 60.0), (7.0, 9.0))  # cents, Hz: training's vibrato is 8-25 cents at 4.5-6.5 Hz
MOTION = {"supersaw": 0.3, "sweep": 0.2, "gate": 0.35, "octave": 0.2, "glide": 0.3}  # chances of the sound design
SUPERSAW_VOICES = 7
GLIDE_SECONDS = (0.03, 0.15)
RECORD_MODES = ("major", "minor", "minor", "dorian", "mixolydian")  # natural minor twice: the commonest after major
VOCAL_SHARE = 0.5  # the share of songs with a sung lead
VOCAL_PROGRAM = 53  # score.mid's program for the voice (GM "Voice Oohs", 0-based)


def _sample_motion(rng: np.random.Generator, patch: Patch, role: str, beat: float, step: float) -> tuple[Patch, Motion]:
    """The record style's sound design over a patch: a supersaw (MOTION["supersaw"] of saw leads, pads and
    stabs), a tempo-synced filter sweep, a trance gate on pads, octave doubling of single lines, glide on leads
    and basses."""
    if patch.waveform == "saw" and role in ("lead", "pad", "stabs") and rng.random() < MOTION["supersaw"]:
        patch = replace(patch, unison=SUPERSAW_VOICES, detune_cents=uniform(rng, (20.0, 45.0)))
    sweep = rng.random() < MOTION["sweep"] and role != "stabs"
    gated = role == "pad" and rng.random() < MOTION["gate"]
    octave = int(choice(rng, [12, -12] if role == "lead" else [12])) if role in ("lead", "arpeggio", "bass") and \
        rng.random() < MOTION["octave"] else 0
    glide = role in ("lead", "bass") and rng.random() < MOTION["glide"]
    return patch, Motion(
        sweep_rate=1 / (beat * int(choice(rng, [1, 2, 4]))) if sweep else 0.0,
        sweep_octaves=uniform(rng, (1.0, 2.5)) if sweep else 0.0,
        gate_rate=1 / (step * int(choice(rng, [1, 2]))) if gated else 0.0,
        gate_duty=uniform(rng, (0.35, 0.65)) if gated else 0.5, octave=octave,
        glide=uniform(rng, GLIDE_SECONDS) if glide else 0.0)


@dataclass(frozen=True)
class SynthSound:
    """What plays the synth part and how: the sampled attributes, the patch and its motion, or a preset."""

    role: str
    register: str
    brightness: str
    waveform: str
    attack: str
    rate: int  # note grid in 16th steps
    patch: Patch | None  # None: the preset plays
    effects: dict
    motion: Motion
    preset: Preset | None


def _render_synth(rng: np.random.Generator, notes: list, sound: SynthSound, sr: int, samples: int) -> np.ndarray:
    """The synth part, dry: the preset through the training SoundFont, a legato line with glide, or note by note."""
    event_seed = int(rng.integers(2**31))
    patch, motion = sound.patch, sound.motion
    if sound.preset is not None:
        return render_preset(sound.preset, notes, TRAINING_SOUNDFONT, sr, samples)
    if motion.glide:
        return render_line(patch, notes, samples, sr, (event_seed,), motion)
    return render_part(notes, samples, sr, lambda p, g: render_event(patch, p, g, sr, (event_seed, *p), motion))


def _sample_sound(rng: np.random.Generator, config: SynthStemsConfig, beat: float, step: float) -> SynthSound:
    """The synth's sound: the project's synth with the record style's motion (deep, fast vibrato in the
    out-of-distribution set), or for `presets.PRESET_SHARE` of the other tracks a General MIDI preset."""
    role, register, brightness, waveform, attack, rate, patch, effects = sample_synth(rng, beat)
    preset = None if config.ood else sample_preset(rng, role)
    if preset is not None:
        return SynthSound(role, register, preset.brightness, preset.waveform, preset.attack, rate, None, effects, Motion(),
                          preset)
    if config.ood:
        patch = replace(patch, vibrato_cents=uniform(rng, OOD_VIBRATO[0]), vibrato_rate=uniform(rng, OOD_VIBRATO[1]))
    patch, motion = _sample_motion(rng, patch, role, beat, step)
    return SynthSound(role, register, brightness, waveform, attack, rate, patch, effects, motion, None)


def _attributes(sound: SynthSound, song: Arrangement, key) -> dict:
    """The described attributes of the synth part (`describe`)."""
    patch, motion = sound.patch or Patch(sound.waveform), sound.motion  # a preset: one voice, no vibrato
    return dict(role=sound.role, waveform=sound.waveform, brightness=sound.brightness, attack=sound.attack,
                register=sound.register, unison=patch.unison, vibrato=patch.vibrato_cents > 0,
                effects=sorted(sound.effects), speed="fast" if sound.rate == 1 else "steady", tempo=song.tempo,
                key=key.name, supersaw=patch.unison >= SUPERSAW_VOICES, sweep=motion.sweep_rate > 0,
                gated=motion.gate_rate > 0, octaves=motion.octave != 0, glide=motion.glide > 0,
                preset=None if sound.preset is None else sound.preset.program)


def _song_meta(song: Arrangement, key, seconds: float) -> dict:
    """meta.json's account of the song: key, meter, tempo grid, harmony, groove, sections and chords."""
    return dict(
        key_tonic=key.tonic, mode=key.mode, scale=key.pitch_classes, meter=song.meter.name, swing=song.swing,
        step_seconds=song.step, harmony=song.harmony, groove=song.groove, comping=song.comping,
        sections=[dict(name=x.name, start=x.start, end=x.end, parts=list(x.parts)) for x in song.sections],
        chords=[dict(name=c.name, root=c.root, bass=c.bass_class, pitch_classes=list(c.pitch_classes), start=c.start,
                     end=min(c.end, seconds)) for c in song.chords])


def _sample_vocal(rng: np.random.Generator, song: Arrangement, key, seconds: float, timing_ms: float) -> tuple:
    """(voice, its humanized notes) for VOCAL_SHARE of the songs; (None, []) for the others."""
    if rng.random() >= VOCAL_SHARE:
        return None, []
    voice = str(choice(rng, list(VOICES)))
    notes = feel(rng, vocal_part(rng, song, key, seconds, voice), song, timing_ms, 0)
    return voice, [note for note in notes if note.start < seconds]


def make_record_track(config: SynthStemsConfig, index: int) -> dict:
    """Sample and render record track `index`. Returns dict(backing, synth: int16 [N, 2], meta, description, midi)."""
    rng = np.random.default_rng([config.seed, index])
    sr, seconds = config.sample_rate, config.seconds
    n = int(round(seconds * sr))
    key = sample_key(rng, RECORD_MODES)
    song = arrange(rng, key, seconds)
    beat = song.meter.beat_steps * song.step
    sound = _sample_sound(rng, config, beat, song.step)
    synth_notes = scores.synth_part(rng, sound.role, sound.register, key, song.chords, song.step, seconds, sound.rate,
                                    song.meter.bar_steps, scores.MORE_ARP_SHAPES)
    timing_ms, velocity = float(rng.uniform(0, 12)), float(rng.uniform(0, 0.25))
    in_track = lambda notes: [n for n in notes if n.start < seconds]  # noqa: E731 (swing and humanizing move notes)
    synth_notes = in_track(feel(rng, synth_notes, song, timing_ms / 2, velocity / 2))
    song.parts = {part: [] if part == "bass" and sound.role == "bass" else in_track(feel(rng, notes, song, timing_ms, velocity))
                  for part, notes in song.parts.items()}
    song.drums = in_track(feel(rng, song.drums, song, timing_ms, velocity))
    band = sample_band(rng, soundfont_only=config.ood)
    soundfont = HELD_OUT_SOUNDFONT if config.ood else TRAINING_SOUNDFONT
    parts = render_band(rng, band, song, sr, n, soundfont)

    synth = apply_effects(_render_synth(rng, synth_notes, sound, sr, n), sr, sound.effects, rng)
    voice, vocal_notes = _sample_vocal(rng, song, key, seconds, timing_ms)
    if vocal_notes:
        parts["vocal"] = sing(rng, vocal_notes, n, sr, voice)
    kicks = [note.start for note in song.drums if note.pitch == GM_DRUMS["kick"]]
    backing, synth, mix = mix_record(rng, parts, synth, sound.register, sr, beat, kicks)
    peak_db = uniform(rng, (-3.0, -1.0))
    gain = 10 ** (peak_db / 20) / max(np.abs(backing + synth).max(), 1e-9)

    attributes = _attributes(sound, song, key)
    description = describe(attributes, rng)
    meta = round_floats(dict(
        **attributes, description=description, seed=config.seed, index=index, style="record", seconds=seconds,
        motion=sound.motion.to_dict(), sample_rate=sr, channels=2, **_song_meta(song, key, seconds),
        notes=[[nt.start, nt.end, nt.pitch, nt.velocity] for nt in synth_notes], note_rate_steps=sound.rate,
        patch=None if sound.patch is None else sound.patch.to_dict(), effects_params=sound.effects, humanize_ms=timing_ms, band=band,
        backing_soundfont=soundfont.name if band["family"] == "soundfont" else None, mix=mix, peak_db=peak_db,
        vocal=dict(voice=voice, notes=len(vocal_notes)) if vocal_notes else None, ood=config.ood,
    ))
    synth_program = SYNTH_PROGRAMS[sound.role] if sound.preset is None else sound.preset.program
    return dict(backing=np.round(backing.T * gain * 32767).astype(np.int16),
                synth=np.round(synth.T * gain * 32767).astype(np.int16), meta=meta, description=description,
                midi=_record_midi(song, synth_notes, synth_program, band, vocal_notes))


def _record_midi(song: Arrangement, synth_notes: list, synth_program: int, band: dict,
                 vocal_notes: list) -> pretty_midi.PrettyMIDI:
    """score.mid of a record track: the synth (named "synth"), bass, keys, layer, the voice (if it sings) and drums."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=song.tempo * song.meter.beat_steps / 4)
    soundfont = band["family"] == "soundfont"
    programs = {"bass": band["bass"] if soundfont else 38, "keys": band["keys"] if soundfont else 0,
                "layer": band["layer"] if soundfont else 16}
    tracks = [("synth", synth_program, synth_notes), *((p, programs[p], song.parts[p]) for p in programs)]
    if vocal_notes:
        tracks.append(("vocal", VOCAL_PROGRAM, vocal_notes))
    for name, program, notes in [*tracks, ("drums", 0, song.drums)]:
        midi.instruments.append(to_instrument(notes, program, is_drum=name == "drums", name=name))
    return midi
