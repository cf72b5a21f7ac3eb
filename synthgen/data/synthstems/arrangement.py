"""The arrangement of a SynthStems song (the `record` style): meter, tempo, harmony, song form and the backing
band's notes.

A track is an excerpt of a song made of sections (intro, verse, chorus, breakdown) that change the band's
density: which backing parts play, a drum fill into each new section, a crash on each chorus, sometimes a drop
(a silent last beat) before one. Chords go beyond triads (sevenths, sus, add9) with inversions and slash basses.
Timing and velocity are humanized; swing delays the off-beat eighths. Times are in seconds; a bar has
`meter.bar_steps` sixteenth-note steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthgen.data.synthstems import score as scores
from synthgen.data.synthstems.theory import PROGRESSIONS, Chord, Key, coloured_chord
from synthgen.notes import Note


@dataclass(frozen=True)
class Meter:
    name: str
    bar_steps: int  # sixteenth-note steps per bar
    beat_steps: int  # steps per counted beat (a quarter; a dotted quarter in 6/8)


METERS = {"4/4": Meter("4/4", 16, 4), "3/4": Meter("3/4", 12, 4), "6/8": Meter("6/8", 12, 6)}
METER_WEIGHTS = {"4/4": 0.7, "3/4": 0.15, "6/8": 0.15}
TEMPO_RANGE = (60, 180)  # beats per minute of the counted beat
SWING = (0.2, (0.58, 0.67))  # probability (4/4 only), and the off-beat eighth's place in its beat

GM_DRUMS = {"kick": 36, "snare": 38, "closed": 42, "hat": 46, "ride": 51, "crash": 49, "tom low": 45, "tom high": 50}
DRUM_GROOVES = {  # per meter: name -> drum -> steps of the bar
    "4/4": scores.GROOVES,
    "3/4": {"waltz": {"kick": [0], "snare": [4, 8], "closed": [0, 2, 4, 6, 8, 10]},
            "jazz waltz": {"kick": [0], "ride": [0, 4, 6, 8, 10], "hat": [4]}},
    "6/8": {"six-eight": {"kick": [0], "snare": [6], "closed": [0, 2, 4, 6, 8, 10]},
            "rolling six-eight": {"kick": [0, 4], "snare": [6], "closed": [0, 2, 4, 6, 8, 10]}},
}
BASS_PATTERNS = {"4/4": scores.BASS_PATTERNS, "3/4": [[0], [0, 8], [0, 4, 8]], "6/8": [[0, 6], [0, 4, 6, 10], [0]]}
COMP_PATTERNS = {"4/4": scores.COMP_PATTERNS,
                 "3/4": {"sustained": [0], "oom-pah-pah": [4, 8], "on the beats": [0, 4, 8]},
                 "6/8": {"sustained": [0], "rocking": [0, 2, 4, 6, 8, 10], "dotted": [0, 6]}}

FORMS = [["intro", "verse", "chorus", "breakdown", "chorus"], ["verse", "chorus", "verse", "chorus"],
         ["intro", "verse", "verse", "chorus", "chorus"], ["breakdown", "chorus", "verse", "chorus"]]
SECTION_BARS = {"intro": (2, 4), "verse": (4, 8), "chorus": (4, 8), "breakdown": (2, 4)}
BAND = ("drums", "bass", "keys", "layer")  # backing parts; the layer is sustained strings, choir, brass or organ
DENSITY = {"intro": (0.4, 0.4, 1.0, 0.3), "verse": (1.0, 1.0, 1.0, 0.2), "chorus": (1.0, 1.0, 1.0, 1.0),
           "breakdown": (0.0, 0.3, 0.7, 0.8)}  # the chance that each BAND part plays in a section
HARMONY = {"triads": {"triad": 1.0}, "sevenths": {"seventh": 0.7, "triad": 0.3},
           "colours": {"triad": 0.3, "seventh": 0.25, "sus2": 0.15, "sus4": 0.15, "add9": 0.15}}
INVERSION, SLASH = 0.2, 0.1  # chances that a chord has its third or fifth in the bass, or the next root


@dataclass(frozen=True)
class Section:
    name: str
    start: float
    end: float
    parts: tuple[str, ...]  # the BAND parts that play


@dataclass
class Arrangement:
    meter: Meter
    tempo: float
    swing: float  # the off-beat eighth's place in its beat (0.5: straight)
    step: float  # seconds per sixteenth step
    sections: list[Section]
    chords: list[Chord]
    harmony: str
    parts: dict[str, list[Note]] = field(default_factory=dict)  # bass, keys, layer
    drums: list[Note] = field(default_factory=list)  # pitches are GM drum notes (GM_DRUMS)
    groove: str = ""
    comping: str = ""


def _weighted(rng: np.random.Generator, weights: dict):
    names = list(weights)
    p = np.array([weights[n] for n in names], float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def sample_meter_and_tempo(rng: np.random.Generator) -> tuple[Meter, float, float, float]:
    """(meter, tempo in BPM of its beat, swing, seconds per sixteenth step)."""
    meter = METERS[_weighted(rng, METER_WEIGHTS)]
    tempo = float(rng.integers(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1))
    swing = float(rng.uniform(*SWING[1])) if meter.name == "4/4" and rng.random() < SWING[0] else 0.5
    return meter, tempo, swing, 60.0 / tempo / meter.beat_steps


def sample_sections(rng: np.random.Generator, meter: Meter, step: float, seconds: float) -> list[Section]:
    """An excerpt of a song form covering [0, seconds): sections with the band parts that play in each."""
    bar = meter.bar_steps * step
    form = FORMS[int(rng.integers(len(FORMS)))]
    song, bars_needed = [], int(np.ceil(seconds / bar))
    while sum(b for _, b in song) < 2 * bars_needed + 8:
        name = form[len(song) % len(form)]
        song.append((name, int(rng.choice(SECTION_BARS[name]))))
    total = sum(b for _, b in song)
    first_bar = int(rng.integers(0, max(1, total - bars_needed - 1)))
    sections, at = [], 0
    for name, bars in song:
        start, end = (at - first_bar) * bar, (at + bars - first_bar) * bar
        at += bars
        if end <= 0 or start >= seconds:
            continue
        parts = tuple(p for p, chance in zip(BAND, DENSITY[name]) if rng.random() < chance) or ("keys",)
        sections.append(Section(name, max(0.0, start), min(seconds, end), parts))
    return sections


def sample_chords(rng: np.random.Generator, key: Key, meter: Meter, step: float, seconds: float) -> tuple[str, list[Chord]]:
    """(harmony style, chords covering [0, seconds)): a 4-chord progression repeated, half a bar to two bars per
    chord, coloured by the style, with inversions and slash basses."""
    style = str(rng.choice(list(HARMONY)))
    degrees = PROGRESSIONS[key.mode][int(rng.integers(len(PROGRESSIONS[key.mode])))]
    bars = float(rng.choice([0.5, 1, 1, 2] if meter.bar_steps == 16 else [1, 1, 2]))
    length = bars * meter.bar_steps * step
    count = int(np.ceil(seconds / length))
    colours = [_weighted(rng, HARMONY[style]) for _ in degrees]
    chords = []
    for i in range(count):
        degree, colour = degrees[i % len(degrees)], colours[i % len(degrees)]
        plain = coloured_chord(key, degree, colour, i * length, (i + 1) * length)
        roll = rng.random()
        bass = None
        if roll < INVERSION:
            bass = plain.pitch_classes[int(rng.choice([1, 2]))]
        elif roll < INVERSION + SLASH:
            bass = key.pitch_classes[degrees[(i + 1) % len(degrees)]]
        chords.append(coloured_chord(key, degree, colour, i * length, (i + 1) * length, bass))
    return style, chords


def _bass_note(chord: Chord) -> list[int]:
    """The chord's bass pitch class in the bass guitar's lowest octave, E1 (28) to D#2 (39)."""
    return [28 + (chord.bass_class - 28) % 12]


def arrange(rng: np.random.Generator, key: Key, seconds: float) -> Arrangement:
    """Sample an arrangement: meter, tempo, sections and chords, and the band's notes in them."""
    meter, tempo, swing, step = sample_meter_and_tempo(rng)
    sections = sample_sections(rng, meter, step, seconds)
    harmony, chords = sample_chords(rng, key, meter, step, seconds)
    song = Arrangement(meter, tempo, swing, step, sections, chords, harmony)
    song.groove = str(rng.choice(list(DRUM_GROOVES[meter.name])))
    song.comping = str(rng.choice(list(COMP_PATTERNS[meter.name])))
    bass_pattern = BASS_PATTERNS[meter.name][int(rng.integers(len(BASS_PATTERNS[meter.name])))]
    parts = {
        "bass": scores._pattern_notes(rng, chords, bass_pattern, step, seconds, _bass_note, rng.uniform(0.6, 0.95),
                                      meter.bar_steps),
        "keys": scores._pattern_notes(rng, chords, COMP_PATTERNS[meter.name][song.comping], step, seconds,
                                      _keys_voicing(int(rng.integers(50, 58)), int(rng.choice([3, 4]))),
                                      0.95 if song.comping == "sustained" else rng.uniform(0.5, 0.9), meter.bar_steps),
        "layer": [Note(c.start, c.end, p, 0.6) for c in chords for p in c.voicing(int(rng.integers(55, 64)), 88, 4)],
    }
    song.parts = {name: _in_sections(notes, sections, name) for name, notes in parts.items()}
    song.drums = _drums(rng, song, seconds)
    _drop_before_choruses(rng, song)
    return song


def _keys_voicing(low: int, size: int):
    return lambda chord: chord.voicing(low, low + 24, size)


def _in_sections(notes: list[Note], sections: list[Section], part: str) -> list[Note]:
    """The notes that start in a section where `part` plays, cut at that section's end."""
    kept = []
    for section in sections:
        if part in section.parts:
            kept += [Note(n.start, min(n.end, section.end), n.pitch, n.velocity) for n in notes
                     if section.start <= n.start < section.end]
    return kept


def _drums(rng: np.random.Generator, song: Arrangement, seconds: float) -> list[Note]:
    """The groove in the sections with drums, a fill in the last beat before each next section, a crash on
    each chorus."""
    groove, step, meter = DRUM_GROOVES[song.meter.name][song.groove], song.step, song.meter
    hits = []
    for i, section in enumerate(song.sections):
        if "drums" not in section.parts:
            continue
        first, last = int(round(section.start / step)), int(round(section.end / step))
        fill_from = last - meter.beat_steps if i + 1 < len(song.sections) else last
        for s in range(first, last):
            if s >= fill_from:
                drum = "snare" if (s - fill_from) % 2 == 0 else str(rng.choice(["tom high", "tom low"]))
                hits.append((s, drum, 0.6 + 0.4 * (s - fill_from) / meter.beat_steps))
                continue
            for drum, steps in groove.items():
                if s % meter.bar_steps in steps:
                    accent = 1.0 if s % meter.beat_steps == 0 else 0.75
                    hits.append((s, drum, float(np.clip(accent * rng.uniform(0.8, 1.0), 0, 1))))
        if section.name == "chorus":
            hits.append((first, "crash", 0.9))
    return [Note(s * step, (s + 1) * step, GM_DRUMS[drum], velocity) for s, drum, velocity in hits if s * step < seconds]


def _drop_before_choruses(rng: np.random.Generator, song: Arrangement) -> None:
    """Sometimes silence the band for the last beat before a chorus."""
    for previous, section in zip(song.sections, song.sections[1:]):
        if section.name == "chorus" and rng.random() < 0.3:
            gap = (section.start - song.meter.beat_steps * song.step, section.start)
            song.drums = [n for n in song.drums if not gap[0] <= n.start < gap[1]]
            for name, notes in song.parts.items():
                song.parts[name] = [Note(n.start, min(n.end, gap[0]) if n.start < gap[0] else n.end, n.pitch, n.velocity)
                                    for n in notes if not gap[0] <= n.start < gap[1]]


def feel(rng: np.random.Generator, notes: list[Note], song: Arrangement, timing_ms: float, velocity: float) -> list[Note]:
    """Notes with swing (off-beat eighths delayed) and humanized timing and velocity: the notes that start
    together (a chord) move together, by a Gaussian of `timing_ms` deviation, and keep their length (so the
    renderers' caches of identical events still hit); each velocity is scaled down by up to `velocity`."""
    shifts: dict[float, float] = {}
    out = []
    for n in notes:
        if n.start not in shifts:
            shifts[n.start] = float(rng.normal(0, timing_ms / 1000))
        start = max(0.0, swung(n.start, song) + shifts[n.start])
        out.append(Note(start, start + swung(n.end, song) - swung(n.start, song), n.pitch,
                        float(np.clip(n.velocity * (1 - velocity * rng.random()), 0.05, 1))))
    return out


def swung(t: float, song: Arrangement) -> float:
    """A straight time moved by the song's swing: within each beat, the off-beat eighth moves to `swing`."""
    if song.swing == 0.5:
        return t
    beat = song.meter.beat_steps * song.step
    whole, part = divmod(t / beat, 1.0)
    moved = part * 2 * song.swing if part < 0.5 else song.swing + (part - 0.5) * 2 * (1 - song.swing)
    return (whole + moved) * beat


