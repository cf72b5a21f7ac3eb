"""A vocal-like lead for SynthStems `record` mixes: a sung melody in phrases, and a formant singer to voice it.

Most records carry a voice, and the synth must work around it. `vocal_part` writes phrases in the verses and
choruses (chord tones on the beats, steps between them, a long note to end each phrase, rests between);
`sing` voices them: a glottal-like source (a band-limited saw, tilted down, with breath noise) that slides
between legato notes and gains vibrato as a note is held, shaped by the formants of a vowel per syllable, with
an unvoiced consonant burst over the onset of some syllables. Audio is float64 [N] (mono).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from synthgen.data.synthstems.arrangement import Arrangement
from synthgen.data.synthstems.score import chord_at
from synthgen.synth.engine import adsr, midi_to_hz, oscillator
from synthgen.data.synthstems.theory import Key
from synthgen.notes import Note

VOICES = {"low": (48, 67), "high": (57, 76)}  # MIDI range of a low (tenor-like) and a high (alto-like) voice
FORMANT_SCALE = {"low": 1.0, "high": 1.15}  # higher voices have shorter vocal tracts
VOWELS = {  # formant frequencies F1-F4 (Hz) of an adult voice
    "a": (730, 1090, 2440, 3400), "e": (530, 1840, 2480, 3500), "i": (290, 2250, 3000, 3600),
    "o": (570, 840, 2410, 3400), "u": (320, 870, 2240, 3400),
}
FORMANT_BANDWIDTHS = (80.0, 90.0, 120.0, 150.0)  # Hz
FORMANT_GAINS = (1.0, 0.5, 0.25, 0.12)
SINGING_SECTIONS = {"verse": 0.9, "chorus": 1.0}  # the chance that the voice sings in a section of that name
STEPS = [1, 2, 3, 4]  # the lengths of a phrase's inner notes in sixteenth steps, and their chances
STEP_CHANCES = [0.05, 0.65, 0.1, 0.2]
FINAL_STEPS = 4  # a phrase ends on a note this long or longer
LEGATO = 0.12  # s: a note that starts this soon after the last one ends slides into it
CONSONANT = 0.5  # the share of syllables that start with an unvoiced consonant


def vocal_part(rng: np.random.Generator, song: Arrangement, key: Key, seconds: float, voice: str) -> list[Note]:
    """A sung melody in the song's verses and choruses, in the range of VOICES[voice]: phrases of about one or two
    bars that end on a long note (FINAL_STEPS or more), each followed by a rest of half a bar to a bar or so."""
    low, high = VOICES[voice]
    scale = [p for p in range(low, high + 1) if p % 12 in key.pitch_classes]
    bar = song.meter.bar_steps
    notes: list[Note] = []
    pitch = int(rng.choice(scale[len(scale) // 3 : 2 * len(scale) // 3]))
    for section in song.sections:
        if rng.random() >= SINGING_SECTIONS.get(section.name, 0.0):
            continue
        step, last = int(round(section.start / song.step)), int(round(section.end / song.step))
        while step + bar <= last:
            phrase_end = min(last, step + bar * int(rng.choice([1, 2])) - int(rng.choice([0, 2, 4])))
            while step < phrase_end:
                length = int(rng.choice(STEPS, p=STEP_CHANCES))
                final = phrase_end - step - length < FINAL_STEPS
                length = phrase_end - step if final else length
                on_beat = step % song.meter.beat_steps == 0 or final
                pitch = _next_pitch(rng, pitch, scale, chord_at(song.chords, step * song.step), on_beat)
                start = step * song.step
                notes.append(Note(start, start + 0.95 * length * song.step, pitch, float(rng.uniform(0.7, 1.0))))
                step += length
            step += int(rng.choice([bar // 2, bar]))
    return [n for n in notes if n.start < seconds]


def _next_pitch(rng: np.random.Generator, pitch: int, scale: list[int], chord, on_beat: bool) -> int:
    """A step or repeat from `pitch` within the scale; on a beat, the nearest chord tone to that."""
    at = min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))
    at = int(np.clip(at + int(rng.choice([-2, -1, -1, 0, 1, 1, 2])), 0, len(scale) - 1))
    if not on_beat:
        return scale[at]
    tones = [p for p in scale if p % 12 in chord.pitch_classes] or scale
    return min(tones, key=lambda p: (abs(p - scale[at]), p))


def _resonator(x: np.ndarray, freq: float, bandwidth: float, sr: int) -> np.ndarray:
    """A two-pole resonator at `freq` with unit gain at its peak."""
    r = np.exp(-np.pi * bandwidth / sr)
    theta = 2 * np.pi * min(freq, 0.45 * sr) / sr
    a = [1.0, -2 * r * np.cos(theta), r * r]
    return lfilter([(1 - r * r) / 2, 0.0, -(1 - r * r) / 2], a, x)


def _syllable(rng: np.random.Generator, pitch: float, previous: float | None, gate: int, sr: int, voice: str) -> np.ndarray:
    """One sung note of `gate` samples (plus a release): a slide from `previous` (None: no slide), delayed vibrato,
    a vowel's formants, maybe a consonant before it. Returns [gate + release]."""
    release = int(0.08 * sr)
    n = gate + release
    t = np.arange(n) / sr
    curve = np.full(n, float(pitch))
    if previous is not None:
        slide = min(int(rng.uniform(0.04, 0.09) * sr), n)
        curve[:slide] = np.linspace(previous, pitch, slide)
    depth = rng.uniform(20, 50) * np.clip((t - 0.2) / 0.3, 0, 1)
    curve = curve + depth / 100 * np.sin(2 * np.pi * rng.uniform(5.0, 6.5) * t)
    source = lfilter([0.15], [1.0, -0.85], oscillator("saw", midi_to_hz(curve), sr, rng.random()))
    source = source + rng.uniform(0.01, 0.04) * rng.standard_normal(n)
    formants = np.array(VOWELS[str(rng.choice(list(VOWELS)))]) * FORMANT_SCALE[voice]
    sung = sum(g * _resonator(source, f, b, sr) for f, b, g in zip(formants, FORMANT_BANDWIDTHS, FORMANT_GAINS))
    sung = sung * adsr(n, gate, sr, float(rng.uniform(0.02, 0.05)), 0.3, 0.85, 0.08)
    if rng.random() < CONSONANT:
        burst = int(rng.uniform(0.02, 0.05) * sr)
        noise = _resonator(rng.standard_normal(burst), float(rng.uniform(3000, 7000)), 2000.0, sr)
        sung[:burst] += 0.3 * noise * np.hanning(burst) * np.abs(sung).max()
    return sung


def sing(rng: np.random.Generator, notes: list[Note], samples: int, sr: int, voice: str) -> np.ndarray:
    """The vocal line voiced by the formant singer: [samples] float64."""
    out = np.zeros(samples)
    previous_end, previous_pitch = -1.0, None
    for note in sorted(notes, key=lambda n: n.start):
        start = int(round(note.start * sr))
        if start >= samples:
            break
        gate = max(int(round(note.end * sr)) - start, 1)
        legato = previous_pitch if note.start - previous_end < LEGATO else None
        audio = _syllable(rng, note.pitch, legato, gate, sr, voice)[: samples - start] * note.velocity
        out[start : start + len(audio)] += audio
        previous_end, previous_pitch = note.end, note.pitch
    return out
