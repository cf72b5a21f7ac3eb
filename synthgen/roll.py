"""A part's notes as a piano roll at the codec's frames: the renderer's notes condition (and what its batches hold).

    roll = piano_roll(notes, start=10.0, frames=500, frame_rate=50)   # [500, ROLL_FEATURES] float32

Features of frame t (the codec frame spanning [t, t + 1) / frame_rate seconds after `start`), per MIDI pitch p:
  [p]            the note's velocity (0..1) while it sounds in the frame, else 0
  [128 + p]      1 in the frame a note of pitch p starts, else 0
A note shorter than a frame still sounds in the frame it starts in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from synthgen.notes import Note

PITCHES = 128
ROLL_FEATURES = 2 * PITCHES


def piano_roll(notes: Iterable[Note], start: float, frames: int, frame_rate: float) -> np.ndarray:
    """The notes sounding in [start, start + frames / frame_rate) -> [frames, ROLL_FEATURES] float32."""
    roll = np.zeros((frames, ROLL_FEATURES), np.float32)
    for note in notes:
        if not 0 <= note.pitch < PITCHES:
            continue
        first = math.floor((note.start - start) * frame_rate)
        last = max(first + 1, math.ceil((note.end - start) * frame_rate))  # one past the last frame it sounds in
        a, b = max(first, 0), min(last, frames)
        if a >= b:
            continue
        roll[a:b, note.pitch] = np.maximum(roll[a:b, note.pitch], note.velocity)
        if first >= 0:
            roll[first, PITCHES + note.pitch] = 1.0
    return roll
