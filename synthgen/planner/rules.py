"""Rule planners on the same analysis as the learned one: the baselines of every notes table, and the plan of a
model without a learned planner.

    RULES["hold"](analysis) -> [Event]     hold the chord tones (a pad), re-struck at each chord change
    RULES["arpeggiate"]                    the chord's tones rising in sixteenths over an octave and a half
    RULES["root"]                          the chord's root on each beat, low (a bass)
    RULES["offbeat stabs"]                 the chord, short, on each beat's off-beat
    RULES["chord tones"]                   a chord tone on each beat, the nearest to the last (a plain melody)
    rule_plan(analysis, prompt)            the rule for the role the prompt asks for (ROLE_RULES)
"""

from __future__ import annotations

from collections.abc import Callable

from synthgen.analysis.description import TICKS
from synthgen.analysis.mix import MixAnalysis
from synthgen.planner.grid import DURATIONS, Event, duration_index
from synthgen.planner.prompt import prompt_role

LONGEST = DURATIONS[-1] // TICKS  # beats one held chord lasts before it is struck again
SIXTEENTH = TICKS // 4


def _voicing(pitch_classes: tuple[int, ...], low: int) -> list[int]:
    """The chord's pitch classes once each, rising from `low` (within an octave)."""
    return sorted(p for p in range(low, low + 12) if p % 12 in pitch_classes)


def hold(analysis: MixAnalysis, low: int = 55) -> list[Event]:
    events, start = [], 0
    chords = analysis.beat_chords
    for b in range(1, len(chords) + 1):
        if b == len(chords) or chords[b] != chords[start] or b - start == LONGEST:
            length = duration_index((b - start) * TICKS)
            events += [Event(start, 0, p, length) for p in _voicing(chords[start].pitch_classes, low)]
            start = b
    return events


def arpeggiate(analysis: MixAnalysis, low: int = 60) -> list[Event]:
    events, i = [], 0
    for b, chord in enumerate(analysis.beat_chords):
        tones = _voicing(chord.pitch_classes, low)
        tones = tones + [p + 12 for p in tones[: len(tones) // 2 + 1]]
        for tick in range(0, TICKS, SIXTEENTH):
            if tones:
                events.append(Event(b, tick, tones[i % len(tones)], duration_index(SIXTEENTH * 0.75)))
                i += 1
    return events


def root(analysis: MixAnalysis, low: int = 36) -> list[Event]:
    return [Event(b, 0, low + (chord.root - low) % 12, duration_index(TICKS * 0.8))
            for b, chord in enumerate(analysis.beat_chords) if chord.root is not None]


def offbeat_stabs(analysis: MixAnalysis, low: int = 60) -> list[Event]:
    ticks = (TICKS // 3, 2 * TICKS // 3) if analysis.meter.subdivision == 3 else (TICKS // 2,)
    return [Event(b, tick, p, duration_index(SIXTEENTH))
            for b, chord in enumerate(analysis.beat_chords) for tick in ticks for p in _voicing(chord.pitch_classes, low)]


def chord_tones(analysis: MixAnalysis, low: int = 60) -> list[Event]:
    events, last = [], low + 7
    for b, chord in enumerate(analysis.beat_chords):
        tones = _voicing(chord.pitch_classes, low) + _voicing(chord.pitch_classes, low + 12)
        if tones:
            last = min(tones, key=lambda p: (abs(p - last), p))
            events.append(Event(b, 0, last, duration_index(TICKS * 0.9)))
    return events


RULES: dict[str, Callable[[MixAnalysis], list[Event]]] = {
    "hold": hold, "arpeggiate": arpeggiate, "root": root, "offbeat stabs": offbeat_stabs, "chord tones": chord_tones}
ROLE_RULES = {"pad": "hold", "arpeggio": "arpeggiate", "bass": "root", "stabs": "offbeat stabs", "lead": "chord tones"}


def rule_plan(analysis: MixAnalysis, prompt: str) -> list[Event]:
    """The rule plan for the role `prompt` asks for."""
    return RULES[ROLE_RULES[prompt_role(prompt)]](analysis)
