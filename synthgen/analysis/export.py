"""A MixAnalysis as files a producer's tools read: JSON, a MIREX chord .lab, and a MIDI tempo map.

    write_analysis(analysis, path)        # by the extension: .json, .lab or .mid (written whole, then renamed)
    write_part(notes, analysis, path, program, name)   # a part's notes on the mix's tempo map, as a DAW wants them
    conductor_track(analysis) -> mido.MidiTrack   the tempo map, meter, key and chord markers, for any MIDI file
    grid_seconds(analysis) -> ([G] the times of the MIDI file's beats, beats in the pickup bar)

The MIDI file's beats are the mix's beats (one tempo event per beat, so a part drawn in a DAW on the MIDI grid
plays on the mix's beats even where the tempo drifts), its bar lines the mix's downbeats. The time before the
first downbeat becomes a pickup bar of as many beats as fit there (a time signature of its own), so the first
full bar starts at the first downbeat; a first downbeat within PICKUP_SECONDS of the start is taken as bar 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np

from synthgen.analysis.key import PITCH_NAMES, Key
from synthgen.analysis.mix import MixAnalysis
from synthgen.errors import SynthGenError
from synthgen.files import write_atomic, write_text_atomic
from synthgen.notes import Note

TICKS_PER_QUARTER = 480
PICKUP_SECONDS = 0.06
MAJOR_OF_MODE = {"major": 0, "dorian": -2, "mixolydian": -7}  # semitones from a mode's tonic to its major key
ANALYSIS_FORMATS = (".json", ".lab", ".mid")


def grid_seconds(analysis: MixAnalysis) -> tuple[np.ndarray, int]:
    """The MIDI beats' times [G] (the pickup's, then the mix's beats from the first downbeat on, then the last
    tempo continued to the end) and how many of them form the pickup bar."""
    beats = analysis.beats[analysis.first_downbeat :]
    if len(beats) == 0:
        return np.array([0.0]), 0
    beat = float(np.median(np.diff(beats))) if len(beats) > 1 else 60.0 / analysis.tempo
    first = float(beats[0])
    if first <= PICKUP_SECONDS:
        pickup, beats = np.zeros(0), np.concatenate([[0.0], beats[1:]])
    else:
        count = max(1, int(round(first / beat)))
        pickup = np.linspace(0.0, first, count + 1)[:-1]
    tail = np.arange(beats[-1] + beat, analysis.seconds + beat, beat)
    return np.concatenate([pickup, beats, tail]), len(pickup)


def _key_signature(key: Key) -> str:
    """mido's name of the key signature that writes the key's scale: a minor key's own, or the major key with the
    same notes (D dorian is written as C major)."""
    if key.mode == "minor":
        return PITCH_NAMES[key.tonic] + "m"
    major = PITCH_NAMES[(key.tonic + MAJOR_OF_MODE[key.mode]) % 12]
    return "Db" if major == "C#" else major


def conductor_track(analysis: MixAnalysis) -> mido.MidiTrack:
    """The tempo map (one set_tempo per beat), time signatures, key signature and chord markers, in ticks."""
    grid, pickup = grid_seconds(analysis)
    meter, quarters = analysis.meter, analysis.meter.quarter_per_beat
    beat_ticks = int(round(TICKS_PER_QUARTER * quarters))
    denominator = 8 if meter.name == "6/8" else 4
    numerator = meter.beats_per_bar * (3 if denominator == 8 else 1)
    events: list[tuple[int, mido.MetaMessage]] = []
    if pickup:
        events.append((0, mido.MetaMessage("time_signature", numerator=pickup * (3 if denominator == 8 else 1),
                                           denominator=denominator)))
    events.append((pickup * beat_ticks, mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)))
    if analysis.key is not None:
        events.append((0, mido.MetaMessage("key_signature", key=_key_signature(analysis.key))))
    intervals = np.diff(np.append(grid, grid[-1] + (grid[-1] - grid[-2] if len(grid) > 1 else 0.5)))
    for index, seconds in enumerate(intervals):
        tempo = int(round(max(seconds, 1e-3) * 1e6 / quarters))
        events.append((index * beat_ticks, mido.MetaMessage("set_tempo", tempo=min(tempo, 0xFFFFFF))))
    for start, _, chord in analysis.chord_segments():
        events.append((_ticks(start, grid, beat_ticks), mido.MetaMessage("marker", text=chord.name)))
    return _track([(0, mido.MetaMessage("track_name", name="mix analysis")), *events])


def _ticks(seconds: float, grid: np.ndarray, beat_ticks: int) -> int:
    """The tick of a time on the MIDI grid (beats at `grid` [G] seconds); past the last beat at its tempo."""
    if len(grid) > 1 and seconds > grid[-1]:
        return int(round((len(grid) - 1 + (seconds - grid[-1]) / (grid[-1] - grid[-2])) * beat_ticks))
    return int(round(np.interp(seconds, grid, np.arange(len(grid))) * beat_ticks))


def write_part(notes: list[Note], analysis: MixAnalysis, path: str | Path, program: int, name: str) -> None:
    """A MIDI file of a part's notes on the mix's tempo map: the conductor track, then the part (General MIDI
    `program`, track name `name`), each note at the tick of its time, so it plays where it sounded."""
    grid, _ = grid_seconds(analysis)
    beat_ticks = int(round(TICKS_PER_QUARTER * analysis.meter.quarter_per_beat))
    events = [(0, mido.MetaMessage("track_name", name=name)), (0, mido.Message("program_change", program=program))]
    for note in notes:
        start = _ticks(note.start, grid, beat_ticks)
        end = max(start + 1, _ticks(note.end, grid, beat_ticks))
        events.append((start, mido.Message("note_on", note=note.pitch, velocity=note.midi_velocity)))
        events.append((end, mido.Message("note_off", note=note.pitch, velocity=0)))
    _save(path, [conductor_track(analysis), _track(events)])


def _save(path: str | Path, tracks: list[mido.MidiTrack]) -> None:
    """A MIDI file of these tracks, written atomically."""
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_QUARTER, tracks=tracks)
    write_atomic(Path(path), lambda tmp: midi.save(str(tmp)))


def _track(events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    """A track of (tick, message) events, in time order (note-offs before note-ons at one tick)."""
    track, now = mido.MidiTrack(), 0
    for tick, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def to_json(analysis: MixAnalysis) -> dict:
    """Everything read, in seconds and names."""
    return dict(
        seconds=analysis.seconds, tempo=analysis.tempo, meter=analysis.meter.name,
        key=analysis.key.name if analysis.key else None,
        beats=[round(float(t), 4) for t in analysis.beats],
        downbeats=[round(float(t), 4) for t in analysis.downbeats],
        tempo_map=[dict(seconds=round(s, 4), bpm=round(b, 2)) for s, b in analysis.tempo_map()],
        chords=[dict(start=round(s, 4), end=round(e, 4), label=c.label, name=c.name)
                for s, e, c in analysis.chord_segments()],
        chart=analysis.chart(),
    )


def to_lab(analysis: MixAnalysis) -> str:
    """MIREX's chord format: "start end label" per line, seconds and Harte's labels."""
    return "".join(f"{s:.4f}\t{e:.4f}\t{c.label}\n" for s, e, c in analysis.chord_segments())


def check_format(path: str | Path) -> str:
    """The lower-case extension of an analysis file to write; one that is none of ANALYSIS_FORMATS is refused."""
    suffix = Path(path).suffix.lower()
    if suffix not in ANALYSIS_FORMATS:
        raise SynthGenError(f"{path}: an analysis is written as {', '.join(ANALYSIS_FORMATS)}, not '{suffix or path}'")
    return suffix


def write_analysis(analysis: MixAnalysis, path: str | Path) -> None:
    """Write the analysis as the extension of `path` says (.json, .lab or .mid), atomically."""
    path = Path(path)
    suffix = check_format(path)
    if suffix == ".json":
        write_text_atomic(path, json.dumps(to_json(analysis), indent=1) + "\n")
    elif suffix == ".lab":
        write_text_atomic(path, to_lab(analysis))
    else:
        _save(path, [conductor_track(analysis)])
