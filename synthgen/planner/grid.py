"""The planner's token format: a part as events on the mix's beat grid, so one plan fits any tempo.

    events = to_events(notes, beats [B])   # [(beat, tick, pitch, duration bucket)] in time order
    notes = to_notes(events, beats [B], seconds)

A beat (the counted beat: a quarter in 4/4 and 3/4, a dotted quarter in 6/8) has TICKS = 12 ticks, so straight
sixteenths (3 ticks), triplet eighths (4), a compound beat's eighths (4) and sixteenths (2), and swung eighths
(7 or 8) all lie on it. A note is (the beat it starts in, its tick, its MIDI pitch, its length as an index into
DURATIONS, in ticks); notes starting together are written in rising pitch. Times between beats are read off the
beat grid linearly, before the first beat and after the last at the nearest beat's length.

The model reads the sequence as steps: a BEAT step opens each beat (it carries that beat's mix conditions), then
one NOTE step per note (`model.NotePlanner`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from synthgen.analysis.description import TICKS
from synthgen.notes import Note

DURATIONS = (*range(1, 13), 15, 18, 21, 24, 30, 36, 42, 48, 60, 72, 84, 96, 120, 144, 192)  # ticks
LOWEST, HIGHEST = 21, 108  # the piano's range: pitches outside are moved by octaves into it
PITCHES = HIGHEST - LOWEST + 1
VELOCITY = 0.8  # a plan's notes are written at this velocity, an accent on each beat's first tick
ACCENT = 0.15


class Event(NamedTuple):
    beat: int
    tick: int  # 0 .. TICKS-1
    pitch: int  # MIDI, LOWEST..HIGHEST
    duration: int  # index into DURATIONS


def duration_index(ticks: float) -> int:
    """The DURATIONS bucket nearest a length in ticks (on a log scale)."""
    return int(np.argmin(np.abs(np.log(np.asarray(DURATIONS)) - np.log(max(ticks, 0.5)))))


def _grid_position(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Seconds [N] as beat positions [N] (beat index + fraction), linear between beats and extrapolated outside."""
    if len(beats) == 1:
        return times - beats[0]
    index = np.arange(len(beats), dtype=float)
    inside = np.interp(times, beats, index)
    before = (times - beats[0]) / (beats[1] - beats[0])
    after = len(beats) - 1 + (times - beats[-1]) / (beats[-1] - beats[-2])
    return np.where(times < beats[0], before, np.where(times > beats[-1], after, inside))


def grid_times(positions: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Beat positions [N] as seconds [N] (the inverse of the grid reading)."""
    positions = np.asarray(positions, dtype=float)
    if len(beats) == 1:
        return beats[0] + positions
    index = np.arange(len(beats), dtype=float)
    inside = np.interp(positions, index, beats)
    before = beats[0] + positions * (beats[1] - beats[0])
    after = beats[-1] + (positions - len(beats) + 1) * (beats[-1] - beats[-2])
    return np.where(positions < 0, before, np.where(positions > len(beats) - 1, after, inside))


def in_range(pitch: int) -> int:
    """A MIDI pitch moved by octaves into LOWEST..HIGHEST."""
    while pitch < LOWEST:
        pitch += 12
    while pitch > HIGHEST:
        pitch -= 12
    return pitch


def to_events(notes: list[Note], beats: np.ndarray) -> list[Event]:
    """Notes on the grid of `beats` [B] (B >= 1), each onset snapped to the nearest tick; notes before the first
    beat or after the last beat's end are left out, as are repeats of a pitch at one tick."""
    if not notes or not len(beats):
        return []
    starts = _grid_position(np.array([n.start for n in notes]), beats) * TICKS
    ends = _grid_position(np.array([n.end for n in notes]), beats) * TICKS
    events = set()
    for note, start, end in zip(notes, starts, ends):
        tick = int(round(start))
        if 0 <= tick < len(beats) * TICKS:
            events.add(Event(tick // TICKS, tick % TICKS, in_range(note.pitch), duration_index(end - start)))
    unique = {(e.beat, e.tick, e.pitch): e for e in sorted(events)}  # one length per pitch and tick
    return sorted(unique.values())


def to_notes(events: list[Event], beats: np.ndarray, seconds: float) -> list[Note]:
    """Events on the grid of `beats` [B] as notes in seconds, each ending by `seconds`; a beat's first tick is
    accented."""
    if not events:
        return []
    starts = np.array([e.beat + e.tick / TICKS for e in events])
    ends = starts + np.array([DURATIONS[e.duration] for e in events]) / TICKS
    start_times, end_times = grid_times(starts, beats), grid_times(ends, beats)
    return [Note(float(s), float(min(t, seconds)), e.pitch, VELOCITY + (ACCENT if e.tick == 0 else 0.0))
            for e, s, t in zip(events, start_times, end_times) if s < seconds]


class Steps(NamedTuple):
    """A part as the model's steps [S] (`model`): a BEAT step opens each beat, a NOTE step per event; the
    targets are what the next step is (after a beat's last note: the next BEAT)."""

    kind: np.ndarray  # 0 BEAT, 1 NOTE
    tick: np.ndarray
    pitch: np.ndarray  # 0 for BEAT steps
    duration: np.ndarray
    beat: np.ndarray  # the beat each step belongs to (0-based in the window)
    next_event: np.ndarray  # 0: the next BEAT; 1 + tick: a NOTE at that tick
    next_pitch: np.ndarray  # -100 where the next step is a BEAT
    next_duration: np.ndarray  # -100 where the next step is a BEAT


def to_steps(events: list[Event], first: int, beats: int) -> Steps:
    """The steps of beats first .. first+beats-1 of a part's events (sorted, as `to_events` gives them)."""
    rows = []  # (kind, tick, pitch, duration, beat)
    for b in range(beats):
        rows.append((0, 0, 0, 0, b))
        rows += [(1, e.tick, e.pitch, e.duration, b) for e in events if e.beat == first + b]
    kind, tick, pitch, duration, beat = (np.array(column, dtype=np.int64) for column in zip(*rows))
    is_note = np.append(kind[1:], 0) == 1
    next_event = np.where(is_note, np.append(tick[1:], 0) + 1, 0)
    next_pitch = np.where(is_note, np.append(pitch[1:], 0), -100)
    next_duration = np.where(is_note, np.append(duration[1:], 0), -100)
    return Steps(kind, tick, pitch, duration, beat, next_event, next_pitch, next_duration)
