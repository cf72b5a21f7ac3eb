"""Make SynthStems tracks: sample a song and a synth patch, render backing and synth, write the files.

Two styles: `record` (the default, SynthStems 2: song sections, meters, coloured chords, a sampled band, a stereo
mix like a record; `make_record_track`) and `classic` (the first SynthStems: mono, built-in instruments).
A track folder holds mixture.wav (backing + synth, sample-exact in 16-bit integers), synth.wav,
description.txt, meta.json (every attribute) and score.mid. Track i of seed s depends on (s, i) only,
so the same seed gives byte-identical files whatever the number of workers.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf
from tqdm import tqdm

from synthgen.audio import SAMPLE_RATE
from synthgen.data.synthstems import score as scores
from synthgen.data.synthstems.arrangement import GM_DRUMS, arrange, feel
from synthgen.data.synthstems.band import TRAINING_SOUNDFONT, render_band, sample_band, to_instrument
from synthgen.data.synthstems.describe import describe
from synthgen.data.synthstems.effects import apply_effects
from synthgen.data.synthstems.instruments import BACKING_INSTRUMENTS, backing_event, drum_kit, render_drums
from synthgen.data.synthstems.mixing import at_level, mix_record
from synthgen.data.synthstems.sf3 import decompressed
from synthgen.data.synthstems.soundfont import DEFAULT_SOUNDFONT as HELD_OUT_SOUNDFONT
from synthgen.data.synthstems.synth import WAVEFORMS, Motion, Patch, render_event, render_part
from synthgen.data.synthstems.theory import sample_key, sample_progression
from synthgen.errors import SynthGenError

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
SPLIT_NAMES = ("train", "valid", "test")


STYLES = ("record", "classic")
OOD_VIBRATO = ((40.0, 60.0), (7.0, 9.0))  # cents, Hz: training's vibrato is 8-25 cents at 4.5-6.5 Hz
MOTION = {"supersaw": 0.3, "sweep": 0.2, "gate": 0.35, "octave": 0.2}  # chances of the record style's sound design
SUPERSAW_VOICES = 7
RECORD_MODES = ("major", "minor", "minor", "dorian", "mixolydian")  # natural minor twice: the commonest after major


@dataclass(frozen=True)
class SynthStemsConfig:
    seconds: float = 30.0
    sample_rate: int = SAMPLE_RATE
    seed: int = 0
    style: str = "record"  # STYLES
    ood: bool = False  # record style only: the out-of-distribution set (`make_record_track`)

    def __post_init__(self):
        if self.style not in STYLES:
            raise SynthGenError(f"unknown SynthStems style '{self.style}' (choose from {', '.join(STYLES)})")
        if self.ood and self.style != "record":
            raise SynthGenError("the out-of-distribution set (--ood) is made in the record style")


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def sample_patch(rng: np.random.Generator, waveform: str, brightness: str, attack: str, register: str) -> Patch:
    """A synth patch whose sound matches the named brightness, attack and register."""
    a, d, s, r = (_uniform(rng, bounds) for bounds in ENVELOPES[attack])
    unison = int(_choice(rng, [1, 1, 2, 3, 5]))
    return Patch(
        waveform=waveform,
        pulse_width=_uniform(rng, (0.1, 0.35)),
        noise=_choice(rng, [0.0, 0.0, 0.0, _uniform(rng, (0.02, 0.08))]),
        unison=unison,
        detune_cents=_uniform(rng, (5, 25)) if unison > 1 else 0.0,
        cutoff=min(14000.0, _uniform(rng, CUTOFF_HZ[brightness]) * REGISTER_CUTOFF_SCALE[register]),
        resonance=_uniform(rng, (0.7, 4.0)),
        filter_env_octaves=_uniform(rng, (0.0, 1.0) if brightness == "dark" else (0.0, 2.0)),
        filter_decay=_uniform(rng, (0.05, 0.6)),
        attack=a, decay=d, sustain=s, release=r,
        vibrato_rate=_uniform(rng, (4.5, 6.5)),
        vibrato_cents=_choice(rng, [0.0, 0.0, _uniform(rng, (8, 25))]) if register != "low" else 0.0,
    )


def _sample_effects(rng: np.random.Generator, beat: float) -> dict:
    effects = {}
    if rng.random() < 0.25:
        effects["chorus"] = dict(rate=_uniform(rng, (0.3, 1.2)), depth_ms=_uniform(rng, (1.5, 4.0)),
                                 mix=_uniform(rng, (0.3, 0.6)))
    if rng.random() < 0.3:
        effects["delay"] = dict(seconds=beat * _choice(rng, [0.5, 0.75, 1.0]), feedback=_uniform(rng, (0.2, 0.5)),
                                mix=_uniform(rng, (0.15, 0.35)))
    if rng.random() < 0.4:
        effects["reverb"] = dict(seconds=_uniform(rng, (0.8, 2.5)), mix=_uniform(rng, (0.15, 0.4)))
    return effects


def _round_floats(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _round_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round_floats(v) for v in value]
    return value


def _sample_synth(rng: np.random.Generator, beat: float) -> tuple:
    """The synth's role, register, brightness, waveform, attack, note rate (16th steps), patch and effects."""
    role = _choice(rng, scores.ROLES)
    register = _choice(rng, ROLE_REGISTERS[role])
    brightness = _choice(rng, list(BRIGHTNESS_WAVEFORMS))
    waveform = _choice(rng, BRIGHTNESS_WAVEFORMS[brightness])
    attack = _choice(rng, ROLE_ATTACKS[role])
    rate = int(_choice(rng, [1, 2])) if role == "arpeggio" else int(_choice(rng, [1, 2, 2, 4]))
    patch = sample_patch(rng, waveform, brightness, attack, register)
    return role, register, brightness, waveform, attack, rate, patch, _sample_effects(rng, beat)


def make_track(config: SynthStemsConfig, index: int) -> dict:
    """Sample and render track `index` in the config's style (`record`: `make_record_track`; `classic`: the
    first SynthStems, mono, built-in instruments). Returns dict(backing, synth: int16 [N] or [N, 2], meta,
    description, midi)."""
    return make_record_track(config, index) if config.style == "record" else make_classic_track(config, index)


def make_classic_track(config: SynthStemsConfig, index: int) -> dict:
    """The first SynthStems: one mono arrangement style on the built-in instruments."""
    rng = np.random.default_rng([config.seed, index])
    sr, seconds = config.sample_rate, config.seconds
    n = int(round(seconds * sr))
    key = sample_key(rng)
    tempo = float(rng.integers(70, 161))
    step = 60.0 / tempo / 4
    chords = sample_progression(rng, key, 16 * step, seconds)

    role, register, brightness, waveform, attack, rate, patch, effects = _sample_synth(rng, 4 * step)
    groove = _choice(rng, list(scores.GROOVES))
    instrument = _choice(rng, list(BACKING_INSTRUMENTS))

    synth_notes = scores.synth_part(rng, role, register, key, chords, step, seconds, rate)
    comping, backing_notes = scores.backing_part(rng, chords, step, seconds)
    bass_notes = [] if role == "bass" else scores.bass_part(rng, chords, step, seconds)
    score = scores.Score(key=key, tempo=tempo, chords=chords, synth_role=role, synth=synth_notes, bass=bass_notes,
                         backing=backing_notes, drums=scores.drum_part(rng, groove, step, seconds),
                         groove=groove, comping=comping)

    event_seed = int(rng.integers(2**31))
    synth = render_part(synth_notes, n, sr, lambda p, g: render_event(patch, p, g, sr, (event_seed, *p)))
    synth = apply_effects(synth, sr, effects, rng)
    bass_patch = Patch(waveform=_choice(rng, ["sine", "triangle", "saw"]), cutoff=_uniform(rng, (300, 800)),
                       attack=0.004, decay=0.3, sustain=0.6, release=0.05)
    bass = render_part(bass_notes, n, sr, lambda p, g: render_event(bass_patch, p, g, sr, (event_seed, *p)))
    chords_audio = render_part(backing_notes, n, sr, lambda p, g: backing_event(instrument, p, g, sr))
    drums = render_drums(score.drums, drum_kit(rng, sr), n, sr)

    synth_db = _uniform(rng, (-20.0, -15.0))
    backing = at_level(drums, -20.0) + at_level(bass, -22.0) + at_level(chords_audio, _uniform(rng, (-26.0, -21.0)))
    synth = at_level(synth, synth_db)
    peak_db = _uniform(rng, (-6.0, -1.5))
    gain = 10 ** (peak_db / 20) / max(np.abs(backing + synth).max(), 1e-9)
    backing16 = np.round(backing * gain * 32767).astype(np.int16)
    synth16 = np.round(synth * gain * 32767).astype(np.int16)

    speed = "fast" if rate == 1 else "steady"
    attributes = dict(role=role, waveform=waveform, brightness=brightness, attack=attack, register=register,
                      unison=patch.unison, vibrato=patch.vibrato_cents > 0, effects=sorted(effects), speed=speed,
                      tempo=tempo, key=key.name)
    description = describe(attributes, rng)
    meta = _round_floats(dict(
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


def _sample_motion(rng: np.random.Generator, patch: Patch, role: str, beat: float, step: float) -> tuple[Patch, Motion]:
    """The record style's sound design over a patch: a supersaw (MOTION["supersaw"] of saw leads, pads and
    stabs), a tempo-synced filter sweep, a trance gate on pads, octave doubling of single lines."""
    if patch.waveform == "saw" and role in ("lead", "pad", "stabs") and rng.random() < MOTION["supersaw"]:
        patch = replace(patch, unison=SUPERSAW_VOICES, detune_cents=_uniform(rng, (20.0, 45.0)))
    sweep = rng.random() < MOTION["sweep"] and role != "stabs"
    gated = role == "pad" and rng.random() < MOTION["gate"]
    octave = int(_choice(rng, [12, -12] if role == "lead" else [12])) if role in ("lead", "arpeggio", "bass") and \
        rng.random() < MOTION["octave"] else 0
    return patch, Motion(
        sweep_rate=1 / (beat * int(_choice(rng, [1, 2, 4]))) if sweep else 0.0,
        sweep_octaves=_uniform(rng, (1.0, 2.5)) if sweep else 0.0,
        gate_rate=1 / (step * int(_choice(rng, [1, 2]))) if gated else 0.0,
        gate_duty=_uniform(rng, (0.35, 0.65)) if gated else 0.5, octave=octave)


def make_record_track(config: SynthStemsConfig, index: int) -> dict:
    """A song excerpt played by a sampled (or built-in) band and mixed like a record, in stereo (`arrangement`,
    `band`, `mixing`); the synth is the project's own, its parameters the true description. With config.ood,
    what training never hears: the band plays TimGM6mb (HELD_OUT_SOUNDFONT), and the synth has a deep, fast vibrato (OOD_VIBRATO)."""
    rng = np.random.default_rng([config.seed, index])
    sr, seconds = config.sample_rate, config.seconds
    n = int(round(seconds * sr))
    key = sample_key(rng, RECORD_MODES)
    song = arrange(rng, key, seconds)
    beat = song.meter.beat_steps * song.step
    role, register, brightness, waveform, attack, rate, patch, effects = _sample_synth(rng, beat)
    if config.ood:
        patch = replace(patch, vibrato_cents=_uniform(rng, OOD_VIBRATO[0]), vibrato_rate=_uniform(rng, OOD_VIBRATO[1]))
    patch, motion = _sample_motion(rng, patch, role, beat, song.step)
    synth_notes = scores.synth_part(rng, role, register, key, song.chords, song.step, seconds, rate, song.meter.bar_steps,
                                    scores.MORE_ARP_SHAPES)
    timing_ms, velocity = float(rng.uniform(0, 12)), float(rng.uniform(0, 0.25))
    in_track = lambda notes: [n for n in notes if n.start < seconds]  # noqa: E731 (swing and humanizing move notes)
    synth_notes = in_track(feel(rng, synth_notes, song, timing_ms / 2, velocity / 2))
    song.parts = {part: [] if part == "bass" and role == "bass" else in_track(feel(rng, notes, song, timing_ms, velocity))
                  for part, notes in song.parts.items()}
    song.drums = in_track(feel(rng, song.drums, song, timing_ms, velocity))
    band = sample_band(rng, soundfont_only=config.ood)
    soundfont = HELD_OUT_SOUNDFONT if config.ood else TRAINING_SOUNDFONT
    parts = render_band(rng, band, song, sr, n, soundfont)

    event_seed = int(rng.integers(2**31))
    synth = render_part(synth_notes, n, sr, lambda p, g: render_event(patch, p, g, sr, (event_seed, *p), motion))
    synth = apply_effects(synth, sr, effects, rng)
    kicks = [note.start for note in song.drums if note.pitch == GM_DRUMS["kick"]]
    backing, synth, mix = mix_record(rng, parts, synth, register, sr, beat, kicks)
    peak_db = _uniform(rng, (-3.0, -1.0))
    gain = 10 ** (peak_db / 20) / max(np.abs(backing + synth).max(), 1e-9)
    backing16 = np.round(backing.T * gain * 32767).astype(np.int16)
    synth16 = np.round(synth.T * gain * 32767).astype(np.int16)

    attributes = dict(role=role, waveform=waveform, brightness=brightness, attack=attack, register=register,
                      unison=patch.unison, vibrato=patch.vibrato_cents > 0, effects=sorted(effects),
                      speed="fast" if rate == 1 else "steady", tempo=song.tempo, key=key.name,
                      supersaw=patch.unison >= SUPERSAW_VOICES, sweep=motion.sweep_rate > 0, gated=motion.gate_rate > 0,
                      octaves=motion.octave != 0)
    description = describe(attributes, rng)
    meta = _round_floats(dict(
        **attributes, description=description, seed=config.seed, index=index, style="record", seconds=seconds,
        motion=motion.to_dict(),
        sample_rate=sr, channels=2, key_tonic=key.tonic, mode=key.mode, scale=key.pitch_classes, meter=song.meter.name,
        swing=song.swing, step_seconds=song.step, harmony=song.harmony, groove=song.groove, comping=song.comping,
        sections=[dict(name=x.name, start=x.start, end=x.end, parts=list(x.parts)) for x in song.sections],
        chords=[dict(name=c.name, root=c.root, bass=c.bass_class, pitch_classes=list(c.pitch_classes), start=c.start,
                     end=min(c.end, seconds)) for c in song.chords],
        notes=[[nt.start, nt.end, nt.pitch, nt.velocity] for nt in synth_notes],
        note_rate_steps=rate, patch=patch.to_dict(), effects_params=effects, humanize_ms=timing_ms, band=band,
        backing_soundfont=soundfont.name if band["family"] == "soundfont" else None, mix=mix, peak_db=peak_db,
        ood=config.ood,
    ))
    return dict(backing=backing16, synth=synth16, meta=meta, description=description,
                midi=_record_midi(song, synth_notes, SYNTH_PROGRAMS[role], band))


def _record_midi(song, synth_notes: list, synth_program: int, band: dict) -> pretty_midi.PrettyMIDI:
    """score.mid of a record track: the synth (named "synth"), bass, keys, layer and drums."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=song.tempo * song.meter.beat_steps / 4)
    soundfont = band["family"] == "soundfont"
    programs = {"bass": band["bass"] if soundfont else 38, "keys": band["keys"] if soundfont else 0,
                "layer": band["layer"] if soundfont else 16}
    for name, program, notes in [("synth", synth_program, synth_notes), *((p, programs[p], song.parts[p]) for p in programs),
                                 ("drums", 0, song.drums)]:
        midi.instruments.append(to_instrument(notes, program, is_drum=name == "drums", name=name))
    return midi


def write_track(folder: Path, track: dict, sr: int) -> None:
    """Write a track's five files into `folder`, through a temporary folder renamed at the end."""
    tmp = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    mixture = track["backing"].astype(np.int32) + track["synth"].astype(np.int32)
    sf.write(tmp / "mixture.wav", np.clip(mixture, -32768, 32767).astype(np.int16), sr, subtype="PCM_16")
    sf.write(tmp / "synth.wav", track["synth"], sr, subtype="PCM_16")
    (tmp / "description.txt").write_text(track["description"] + "\n")
    (tmp / "meta.json").write_text(json.dumps(track["meta"], indent=1, sort_keys=True))
    track["midi"].write(str(tmp / "score.mid"))
    os.rename(tmp, folder)


def assign_splits(count: int, fractions: tuple[float, float, float], seed: int) -> list[str]:
    """The split of each track: a seeded shuffle cut at the given train/valid/test fractions."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise SynthGenError(f"split fractions must be three non-negative numbers summing to 1, got {fractions}")
    n_valid, n_test = round(count * fractions[1]), round(count * fractions[2])
    order = np.random.default_rng([seed, 2**31]).permutation(count)
    splits = ["train"] * count
    for rank, index in enumerate(order):
        if rank < n_test:
            splits[index] = "test"
        elif rank < n_test + n_valid:
            splits[index] = "valid"
    return splits


def track_folder(out: Path, split: str, index: int) -> Path:
    return out / split / f"synth_{index:05d}"


def _make_and_write(job: tuple[int, Path], config: SynthStemsConfig) -> int:
    index, folder = job
    write_track(folder, make_track(config, index), config.sample_rate)
    return index


def generate_dataset(out: str | Path, tracks: int, config: SynthStemsConfig,
                     fractions: tuple[float, float, float] = (0.9, 0.05, 0.05), workers: int = 1,
                     progress: bool = True) -> int:
    """Write `tracks` tracks into out/<split>/synth_<i>/. Finished tracks are kept (resumable).
    Returns how many tracks were written now."""
    out = Path(out)
    splits = assign_splits(tracks, fractions, config.seed)
    jobs = [(i, track_folder(out, s, i)) for i, s in enumerate(splits) if not track_folder(out, s, i).is_dir()]
    for split in SPLIT_NAMES:
        (out / split).mkdir(parents=True, exist_ok=True)
    if config.style == "record" and jobs and not config.ood:
        decompressed(TRAINING_SOUNDFONT)  # once, before the workers need it
    work = partial(_make_and_write, config=config)
    with tqdm(total=tracks, initial=tracks - len(jobs), desc="synthstems", unit="track", disable=not progress) as bar:
        if workers > 1 and len(jobs) > 1:
            with Pool(workers) as pool:
                for _ in pool.imap_unordered(work, jobs):
                    bar.update()
        else:
            for job in jobs:
                work(job)
                bar.update()
    return len(jobs)
