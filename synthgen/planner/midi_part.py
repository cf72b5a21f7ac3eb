"""A producer's own part from a MIDI file (`generate --notes PART.mid`), laid on the mix: its notes on the mix's beat
grid (tempo "grid": the file's bar 1 on the mix's first downbeat, each of its quarter notes on one of the mix's
beats, so the part follows the mix's tempo drift) or at the file's own times (tempo "midi").

    notes = midi_part(Path("part.mid"), analysis, "grid")      # [Note] in the mix's seconds
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthgen.analysis.mix import MixAnalysis
from synthgen.errors import SynthGenError
from synthgen.notes import Note

MIDI_TEMPI = ("grid", "midi")


def read_midi(path: Path):
    """The MIDI file as pretty_midi reads it, refused in one line when it is not one or plays no pitched note."""
    import pretty_midi

    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except FileNotFoundError:
        raise SynthGenError(f"{path}: no such MIDI file") from None
    except Exception as err:  # mido and pretty_midi raise many kinds (EOFError, OSError, KeyError, ValueError...)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SynthGenError(f"{path}: not a readable MIDI file ({reason})") from None
    if not any(i.notes for i in midi.instruments if not i.is_drum):
        raise SynthGenError(f"{path}: the MIDI file holds no notes outside its drum tracks")
    return midi


def midi_part(path: Path, analysis: MixAnalysis, tempo: str = "grid") -> list[Note]:
    """The file's pitched notes in the mix's seconds, those that start within the mix, sorted by start."""
    if tempo not in MIDI_TEMPI:
        raise SynthGenError(f"--notes-tempo must be one of {', '.join(MIDI_TEMPI)}, got {tempo!r}")
    midi = read_midi(path)
    raw = sorted((n for i in midi.instruments if not i.is_drum for n in i.notes), key=lambda n: (n.start, n.pitch))
    if tempo == "grid" and len(analysis.beats) >= 2:
        place = _on_the_grid(midi, analysis)
    else:
        place = lambda seconds: seconds  # noqa: E731
    notes = [Note(float(place(n.start)), float(place(n.end)), int(n.pitch), n.velocity / 127) for n in raw]
    return [n for n in notes if 0 <= n.start < analysis.seconds and n.end > n.start]


def _on_the_grid(midi, analysis: MixAnalysis):
    """seconds of the MIDI file -> seconds of the mix: the file's quarter-note position (bar 1 at 0) mapped on the
    mix's beats from its first downbeat, extended at both ends at the mix's mean beat length."""
    beats = analysis.beats
    step = float(np.mean(np.diff(beats)))
    origin = analysis.first_downbeat
    resolution = midi.resolution

    def place(seconds: float) -> float:
        position = midi.time_to_tick(seconds) / resolution + origin  # in the mix's beats
        if position <= 0:
            return float(beats[0] + position * step)
        if position >= len(beats) - 1:
            return float(beats[-1] + (position - len(beats) + 1) * step)
        return float(np.interp(position, np.arange(len(beats)), beats))

    return place
