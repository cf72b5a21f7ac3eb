"""A note, the one type for notes that are played (SynthStems' scores), heard (`transcribe`) and written as MIDI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    start: float  # seconds
    end: float  # seconds
    pitch: int  # MIDI
    velocity: float  # 0..1

    @property
    def midi_velocity(self) -> int:
        """The velocity as MIDI's 1..127."""
        return min(127, max(1, round(self.velocity * 127)))
