"""What a producer knows of their song and tells the analysis: key, tempo, meter, first downbeat, chords.

    Corrections(key=parse_key("B minor"), bpm=132, meter="3/4", downbeat=0.42, chords=read_chords("song.lab"))

Each value given replaces what would be read (`mix.analyze_features`); the summary line marks it "(given)".
Chords come from a MIREX .lab file ("start end label" in Harte's syntax, as `synthgen analyze --out x.lab` writes)
or a .json list of {start, end, label}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from synthgen.analysis.chords import CHORDS, VOCABULARY, Chord
from synthgen.analysis.key import KEY_MODES, PITCH_NAMES, Key
from synthgen.errors import SynthGenError

FLATS = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
HARTE_ALIASES = {"": "maj", "m": "min", "hdim7": "dim", "dim7": "dim", "maj(9)": "maj", "min(9)": "min", "aug": "maj"}
METER_NAMES = ("4/4", "3/4", "6/8")


@dataclass(frozen=True)
class Corrections:
    key: Key | None = None
    bpm: float | None = None
    meter: str | None = None  # one of METER_NAMES
    downbeat: float | None = None  # seconds of the first bar line
    chords: tuple[tuple[float, float, Chord], ...] = ()  # (start, end, chord), in time order

    @property
    def given(self) -> tuple[str, ...]:
        """The names of the values given: "key", "bpm", "meter", "downbeat", "chords"."""
        return tuple(name for name in ("key", "bpm", "meter", "downbeat", "chords") if getattr(self, name))

    def chord_at(self, seconds: float) -> Chord:
        for start, end, chord in self.chords:
            if start <= seconds < end:
                return chord
        return CHORDS[0]


def given_values(key: str | None = None, bpm: float | None = None, meter: str | None = None,
                 downbeat: float | None = None, chords: str | Path | None = None) -> Corrections:
    """Corrections from what a command line or the studio page was given (empty values: read from the mix)."""
    if meter and meter not in METER_NAMES:
        raise SynthGenError(f"meter '{meter}': one of {', '.join(METER_NAMES)}")
    if bpm is not None and not 0 < bpm <= 400:
        raise SynthGenError(f"tempo {bpm}: between 0 and 400 BPM")
    if downbeat is not None and downbeat < 0:
        raise SynthGenError(f"first downbeat {downbeat}: seconds from the start, not negative")
    return Corrections(key=parse_key(key) if key and key.strip() else None, bpm=bpm or None, meter=meter or None,
                       downbeat=downbeat, chords=read_chords(chords) if chords else ())


def _pitch_class(name: str, text: str) -> int:
    name = FLATS.get(name, name)
    if name not in PITCH_NAMES:
        raise SynthGenError(f"'{text}': no such note name '{name}' (C, C#, Db, ... B)")
    return PITCH_NAMES.index(name)


def parse_key(text: str) -> Key:
    """"B minor", "Bm", "F#", "D dorian" -> Key (a bare note is major); anything else is refused with one line."""
    words = text.split()
    if len(words) == 1:
        words = [words[0][:-1], "minor"] if words[0].endswith("m") else [words[0], "major"]
    if len(words) != 2 or not words[0] or words[1].lower() not in KEY_MODES:
        raise SynthGenError(f"--key '{text}': give a note and a mode, e.g. 'B minor', 'F# major', 'D dorian'")
    return Key(_pitch_class(words[0][0].upper() + words[0][1:], text), words[1].lower())


def parse_chord(label: str) -> Chord:
    """A Harte label ("A:min7", "C", "N", "G:7/3") -> the nearest chord of the analysis's vocabulary."""
    label = label.strip()
    if label in ("N", "X"):
        return CHORDS[0]
    root, _, quality = label.split("/")[0].partition(":")
    quality = HARTE_ALIASES.get(quality, quality)
    if quality not in VOCABULARY:
        raise SynthGenError(f"chord '{label}': not one of {', '.join(VOCABULARY)} (Harte's syntax, e.g. A:min7)")
    return Chord(_pitch_class(root, label), quality)


def read_chords(path: str | Path) -> tuple[tuple[float, float, Chord], ...]:
    """Chords from a .lab ("start end label" lines) or a .json list of {start, end, label}; a bad file is refused
    with one line naming it."""
    path = Path(path)
    try:
        text = path.read_text()
        if path.suffix.lower() == ".json":
            rows = [(float(c["start"]), float(c["end"]), str(c["label"])) for c in json.loads(text)]
        else:
            rows = [(float(s), float(e), label) for s, e, label in (line.split(None, 2) for line in text.splitlines()
                                                                    if line.strip())]
        chords = tuple((start, end, parse_chord(label)) for start, end, label in sorted(rows))
    except OSError as err:
        raise SynthGenError(f"{path}: cannot be read ({err.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise SynthGenError(f"{path}: not a chord file (.lab lines 'start end label', or JSON [{{start, end, label}}]):"
                            f" {err}") from None
    except SynthGenError as err:
        raise SynthGenError(f"{path}: {err}") from None
    if not chords:
        raise SynthGenError(f"{path}: no chords in it")
    return chords
