"""How well a part's notes play to a song (`synthgen eval-notes`), measured against the song's true beats and
chords (a SynthStems track's meta.json), never against the analysis a plan was made from.

    measure_part(notes, truth, seconds) -> dict of one part's measures (MEASURES)
    role_from_notes(notes, beat_seconds) -> "pad" | "stabs" | "bass" | "arpeggio" | "lead" | None
    evaluate_notes(folder, planner, ...) -> one set's report {"rows": {row: {column: value}}, ...}

Per part:
- chord_tone: the share of note onsets whose pitch class is in the chord sounding ONSET_LAG after the onset;
- change: the share of the song's chord changes at which the part's pitch-class set changes (the notes sounding
  in the beat before the change against those in the beat after; changes where either beat is silent are left out);
- on_grid: the share of onsets within GRID_TOLERANCE of the true sixteenth grid, swung (triplet) eighths included;
- density (notes/s), duration (mean, s), register (median MIDI pitch), polyphony (mean notes sounding while any
  sound), and the role recognised from the notes (`role_from_notes`).
A part without notes scores 0 on the shares. A row's numbers are means over tracks; `role` is the share of
tracks whose recognised role is the one the description asks for (`planner.prompt.prompt_role`); density and
duration are also reported per asked role, and `density_fit` is the share of roles whose mean density is within
DENSITY_TOLERANCE of the truth's. `score` is the mean of chord_tone, change, on_grid, role and density_fit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synthgen.data.synthstems.truth import SongTruth
from synthgen.notes import Note
from synthgen.planner.grid import grid_times
from synthgen.planner.prompt import ROLES, prompt_role

ONSET_LAG = 0.03  # seconds
GRID_TOLERANCE = 0.025  # seconds
GRID_FRACTIONS = {"simple": (0, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 3 / 4), "compound": tuple(k / 6 for k in range(6))}
FRAME = 0.02  # seconds: the polyphony's sampling step
POLYPHONIC = 1.7  # mean notes sounding at or above which a part is chordal (a pad or stabs)
LOW = 52  # median pitch below which a single line is a bass (E3)
SUSTAINED = 0.8  # share of a chordal part's span with a note sounding at or above which it is a pad
ARPEGGIO_REPEATS, ARPEGGIO_STEPS = 0.05, 0.35  # shares of an arpeggio's top-line moves: repeats, steps
DENSITY_TOLERANCE = 0.3
SCORED = ("chord_tone", "change", "on_grid", "role", "density_fit")
COLUMNS = ("score", *SCORED, "density", "duration", "register", "polyphony")


def _sounding(notes: list[Note]) -> np.ndarray:
    """The number of notes sounding [T] at FRAME steps from the first onset to the last release."""
    times = np.arange(min(n.start for n in notes), max(n.end for n in notes), FRAME)
    return sum(((times >= n.start) & (times < n.end)).astype(int) for n in notes)


def polyphony(notes: list[Note]) -> float:
    """The mean number of notes sounding, over the FRAME steps where any sounds."""
    sounding = _sounding(notes) if notes else np.zeros(1)
    return float(sounding[sounding > 0].mean()) if (sounding > 0).any() else 0.0


def role_from_notes(notes: list[Note], beat_seconds: float) -> str | None:
    """The role a part's notes show. Chordal parts (mean polyphony >= POLYPHONIC) are pads when a note sounds
    through at least SUSTAINED of their span, else stabs. A single line is a bass when its median pitch is below
    LOW; an arpeggio when its onsets come at most half a beat apart (median) and its top line never repeats a pitch
    (< ARPEGGIO_REPEATS of its moves) and seldom moves by step (< ARPEGGIO_STEPS: one or two semitones); else a
    lead. Measured on the truth of each set (the `truth` row's `role`)."""
    if not notes:
        return None
    if polyphony(notes) >= POLYPHONIC:
        return "pad" if np.mean(_sounding(notes) > 0) >= SUSTAINED else "stabs"
    if np.median([n.pitch for n in notes]) < LOW:
        return "bass"
    top: dict[float, int] = {}
    for n in notes:
        top[round(n.start, 3)] = max(top.get(round(n.start, 3), 0), n.pitch)
    onsets = sorted(top)
    if len(onsets) < 4:
        return "lead"
    moves = np.abs(np.diff([top[t] for t in onsets]))
    fast = np.median(np.diff(onsets)) <= 0.55 * beat_seconds
    if fast and np.mean(moves == 0) < ARPEGGIO_REPEATS and np.mean((moves >= 1) & (moves <= 2)) < ARPEGGIO_STEPS:
        return "arpeggio"
    return "lead"


def _grid(truth: SongTruth, seconds: float) -> np.ndarray:
    """The true grid's times [G]: sixteenths and triplet eighths of every beat (a 6/8 beat's sixteenths)."""
    fractions = GRID_FRACTIONS["compound" if truth.meter == "6/8" else "simple"]
    count = int(np.ceil(seconds / (truth.beats[1] - truth.beats[0]))) + 1 if len(truth.beats) > 1 else 1
    positions = (np.arange(count)[:, None] + np.array(fractions)[None, :]).ravel()
    return grid_times(positions, truth.beats)


def _pitch_classes(notes: list[Note], start: float, end: float, margin: float = 0.05) -> set[int]:
    return {n.pitch % 12 for n in notes if n.start < end - margin and n.end > start + margin}


def measure_part(notes: list[Note], truth: SongTruth, seconds: float) -> dict:
    """One part's measures against its song's truth (see the module's docstring)."""
    beat = float(np.median(np.diff(truth.beats))) if len(truth.beats) > 1 else 0.5
    measures = dict(density=len(notes) / seconds, role_heard=role_from_notes(notes, beat))
    if not notes:
        return dict(measures, chord_tone=0.0, change=0.0, on_grid=0.0, duration=0.0, register=float("nan"), polyphony=0.0)
    onsets = np.array([n.start for n in notes])
    chords = [truth.chord_at(t + ONSET_LAG) for t in onsets]
    in_chord = [(n.pitch - root) % 12 in intervals for n, (root, intervals) in zip(notes, chords)]
    grid = _grid(truth, seconds)
    on_grid = np.abs(onsets[:, None] - grid[None, :]).min(axis=1) <= GRID_TOLERANCE
    changed = []
    for (_, _, root_a, int_a), (start, _, root_b, int_b) in zip(truth.chords, truth.chords[1:]):
        if {(root_a + i) % 12 for i in int_a} != {(root_b + i) % 12 for i in int_b} and start + beat <= seconds:
            before, after = _pitch_classes(notes, start - beat, start), _pitch_classes(notes, start, start + beat)
            if before and after:
                changed.append(before != after)
    return dict(measures, chord_tone=float(np.mean(in_chord)), change=float(np.mean(changed)) if changed else float("nan"),
                on_grid=float(on_grid.mean()), duration=float(np.mean([n.end - n.start for n in notes])),
                register=float(np.median([n.pitch for n in notes])), polyphony=polyphony(notes))


def summarize(parts: list[dict], reference: dict | None = None) -> dict:
    """A row from its parts' measures (each with "role_asked"); density_fit against `reference`, the truth row's
    "by_role" (None: the row is the truth)."""
    mean = lambda key: float(np.nanmean([p[key] for p in parts])) if parts else float("nan")  # noqa: E731
    row = {key: mean(key) for key in ("chord_tone", "change", "on_grid", "density", "duration", "register", "polyphony")}
    row["role"] = float(np.mean([p["role_heard"] == p["role_asked"] for p in parts]))
    by_role = {}
    for role in ROLES:
        mine = [p for p in parts if p["role_asked"] == role]
        if mine:
            by_role[role] = dict(tracks=len(mine), density=float(np.mean([p["density"] for p in mine])),
                                 duration=float(np.mean([p["duration"] for p in mine])))
    row["by_role"] = by_role
    reference = by_role if reference is None else reference
    fits = [abs(by_role[r]["density"] / reference[r]["density"] - 1) <= DENSITY_TOLERANCE
            for r in by_role if reference.get(r, {}).get("density")]
    row["density_fit"] = float(np.mean(fits)) if fits else float("nan")
    row["score"] = float(np.mean([row[k] for k in SCORED]))
    return row


def markdown_table(rows: dict) -> str:
    lines = ["| row | " + " | ".join(COLUMNS) + " |", "| --- |" + " ---: |" * len(COLUMNS)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.2f}" if c in ("density", "register", "polyphony")
                                                else f"{row[c]:.3f}" for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def role_table(rows: dict) -> str:
    """Density (notes/s) and mean duration (s) per asked role, one column pair per row."""
    roles = [r for r in ROLES if any(r in row["by_role"] for row in rows.values())]
    lines = ["| role | " + " | ".join(f"{name} density | {name} duration" for name in rows) + " |",
             "| --- |" + " ---: | ---: |" * len(rows)]
    for role in roles:
        cells = []
        for row in rows.values():
            r = row["by_role"].get(role)
            cells.append(f"{r['density']:.2f} | {r['duration']:.2f}" if r else "– | –")
        lines.append(f"| {role} ({rows[next(iter(rows))]['by_role'].get(role, {}).get('tracks', 0)} tracks) | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(report: dict, path: Path) -> None:
    """The report as JSON at `path` and as Markdown tables beside it (.md)."""
    from synthgen.files import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(report, indent=1))
    settings = ", ".join(f"{k} {v}" for k, v in report["settings"].items())
    text = ["# Notes evaluation\n", f"Planner: {report['planner']}; {settings}.\n"]
    for name, result in report["sets"].items():
        text += [f"## {name} ({result['tracks']} tracks)\n", markdown_table(result["rows"]),
                 "\nPer role (density in notes/s, mean duration in s):\n", role_table(result["rows"])]
    write_text_atomic(path.with_suffix(".md"), "\n".join(text))


# ----- a set's report -----
def _tracks(folder: Path, split: str, tracks: int | None) -> list[tuple[Path, dict]]:
    """The split's track folders with their meta.json, those with true notes, at most `tracks`."""
    from synthgen.errors import SynthGenError

    found = sorted(p for p in (folder / split).glob("*") if (p / "meta.json").is_file())
    usable = [(p, meta) for p in found if "notes" in (meta := json.loads((p / "meta.json").read_text()))]
    if not usable:
        raise SynthGenError(f"{folder}: no {split} tracks with true notes (a SynthStems folder from `synthgen data`)")
    return usable[:tracks]


def plan_rows(analysis, prompt: str, planner, settings, seed: int) -> dict[str, list[Note]]:
    """Every planned row's notes for one mix: each rule on every track, the rule of the prompt's role, and the
    planner with and without guidance."""
    from dataclasses import replace

    from synthgen.planner.grid import to_notes
    from synthgen.planner.plan import plan_notes
    from synthgen.planner.rules import RULES

    rows = {f"rule: {name}": to_notes(rule(analysis), analysis.beats, analysis.seconds) for name, rule in RULES.items()}
    rows["rules by role"] = plan_notes(analysis, prompt)
    if planner is not None:
        rows[f"planner (guidance {settings.plan_guidance:g})"] = plan_notes(analysis, prompt, planner, settings, seed)
        rows["planner, no guidance"] = plan_notes(analysis, prompt, planner, replace(settings, plan_guidance=1.0), seed)
    return rows


def evaluate_notes(folder: str | Path, planner=None, settings=None, split: str = "test", tracks: int | None = None,
                   seed: int = 0, rolls: Path | None = None) -> dict:
    """One set's report: {"tracks": N, "rows": {row: summary}}; piano rolls of a track per role in `rolls`."""
    from tqdm import tqdm

    from synthgen.analysis.mix import analyze
    from synthgen.data.synthstems.truth import backing
    from synthgen.plots import piano_rolls
    from synthgen.planner.settings import PlanSettings

    settings = settings or PlanSettings()
    folder = Path(folder)
    measured: dict[str, list[dict]] = {}
    rolled = set()
    for i, (track, meta) in enumerate(tqdm(_tracks(folder, split, tracks), desc=f"notes of {folder.name}", unit="track")):
        audio, sample_rate, truth = backing(track)
        seconds = len(audio) / sample_rate
        analysis = analyze(audio, sample_rate)
        parts = {"truth": [Note(*row) for row in meta["notes"]], **plan_rows(analysis, meta["description"], planner,
                                                                                settings, seed + i)}
        asked = prompt_role(meta["description"])
        for name, notes in parts.items():
            measured.setdefault(name, []).append(dict(measure_part(notes, truth, seconds), role_asked=asked))
        if rolls is not None and asked not in rolled:  # a piano roll of the first track asking for each role
            rolled.add(asked)
            rolls.mkdir(parents=True, exist_ok=True)
            shown = {k: v for k, v in parts.items() if k == "truth" or not k.startswith("rule:")}
            chart = [(s, e, c.name, c.pitch_classes) for s, e, c in analysis.chord_segments()]
            piano_rolls(shown, chart, seconds, rolls / f"{folder.name}-{asked}-{track.name}.png",
                        f"{folder.name}/{track.name}: \"{meta['description']}\" (chords as analysed from the mix)")
    truth = summarize(measured["truth"])
    rows = {name: truth if name == "truth" else summarize(parts, truth["by_role"]) for name, parts in measured.items()}
    return dict(tracks=len(measured["truth"]), rows=rows)
