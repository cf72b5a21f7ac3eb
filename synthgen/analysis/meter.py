"""Meter and downbeats of a mix from its beats: where the harmony changes, and how the beats divide.

    meter_and_downbeat(change [B], subdivision) -> (Meter, index of the first downbeat)
    beat_subdivision(onset [T], beat_frames [B]) -> 2 or 3 (eighths or triplet eighths under the beats)
    change_chances(beats, meter, first_downbeat) -> [B] chance of a chord change at each beat

Chords change on bar lines far more often than inside bars, so the harmonic rhythm shows the bar: for each
grouping of the beats (2, 3, 4, 6 or 8 beats) and each phase, the mean harmonic change on the group's first
beats against the others. A grouping of 3 or 6 is 3/4; of 2, 4 or 8, 4/4 — or 6/8 when each beat divides in
three (the counted beat of 6/8 is the dotted quarter, two to the bar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Meter:
    name: str  # "4/4", "3/4" or "6/8"
    beats_per_bar: int  # counted beats
    subdivision: int  # 2: eighths; 3: the compound meter's eighths

    @property
    def quarter_per_beat(self) -> float:
        """Quarter notes per counted beat (MIDI tempo maps count quarters): 1, or 1.5 for 6/8's dotted quarter."""
        return self.subdivision / 2


METERS = {"4/4": Meter("4/4", 4, 2), "3/4": Meter("3/4", 3, 2), "6/8": Meter("6/8", 2, 3)}
GROUPINGS = (2, 3, 4, 6, 8)
CHANGE_ON_DOWNBEAT, CHANGE_MID_BAR, CHANGE_ELSEWHERE = 0.5, 0.15, 0.02


def beat_subdivision(onset: np.ndarray, beat_frames: np.ndarray) -> int:
    """3 when the onsets between beats fall on thirds of the beat more than on its half, else 2."""
    if len(beat_frames) < 3:
        return 2
    starts, lengths = beat_frames[:-1], np.diff(beat_frames)
    at = lambda fraction: np.interp(starts + fraction * lengths, np.arange(len(onset)), onset).mean()  # noqa: E731
    return 3 if (at(1 / 3) + at(2 / 3)) / 2 > 1.2 * at(1 / 2) else 2


def meter_and_downbeat(change: np.ndarray, subdivision: int) -> tuple[Meter, int]:
    """The meter and the index of the first downbeat among the beats, from the harmonic change at each beat [B]."""
    best, chosen = -np.inf, (4, 0)
    for group in GROUPINGS:
        if len(change) < 2 * group:
            continue
        for phase in range(group):
            on = np.zeros(len(change), bool)
            on[phase::group] = True
            contrast = change[on].mean() - change[~on].mean()
            if contrast > best + 1e-9:
                best, chosen = contrast, (group, phase)
    group, phase = chosen
    if group % 3 == 0:
        return METERS["3/4"], phase % 3
    meter = METERS["6/8"] if subdivision == 3 else METERS["4/4"]
    return meter, phase % meter.beats_per_bar


def change_chances(beats: int, meter: Meter, first_downbeat: int) -> np.ndarray:
    """The chance of a chord change at each of `beats` beats [B]: high on downbeats, less on a 4/4 bar's third
    beat (half-bar chords), low elsewhere."""
    position = (np.arange(beats) - first_downbeat) % meter.beats_per_bar
    chances = np.where(position == 0, CHANGE_ON_DOWNBEAT, CHANGE_ELSEWHERE)
    if meter.beats_per_bar == 4:
        chances = np.where(position == 2, CHANGE_MID_BAR, chances)
    return chances
