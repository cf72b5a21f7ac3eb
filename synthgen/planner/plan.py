"""A part's notes for a mix: the learned note planner, or the rule for the prompt's role when there is none.

    planner = load_planner()                      # the shipped one (synthgen/weights/default/planner), or a folder
    notes = plan_notes(analysis, prompt, planner, PlanSettings(), seed=0)   # [Note] in seconds
    parts = plan_parts(analysis, prompt, planner, PlanSettings(), seed=0, variations=2)   # one plan per variation
"""

from __future__ import annotations

from pathlib import Path

from synthgen.analysis.mix import MixAnalysis
from synthgen.notes import Note
from synthgen.planner.grid import Event, to_notes
from synthgen.planner.model import NotePlanner
from synthgen.planner.rules import rule_plan
from synthgen.planner.sampling import sample_events
from synthgen.planner.settings import PlanSettings

SHIPPED = Path(__file__).resolve().parent.parent / "weights" / "default" / "planner"
MONOPHONIC = ("bass", "lead")  # roles played one note at a time
# General MIDI programs (0-based, as MIDI files store them) of each role's part
PROGRAMS = {"lead": 81, "arpeggio": 80, "pad": 89, "stabs": 62, "bass": 38}  # saw lead, square lead, warm pad,
                                                                                # synth brass, synth bass


def load_planner(path: str | Path | None = None) -> NotePlanner:
    """A note planner from its folder (a run folder's model/ is found too); the shipped one by default."""
    path = Path(path) if path is not None else SHIPPED
    if (path / "model" / "config.json").is_file():
        path = path / "model"
    return NotePlanner.from_pretrained(path)


def plan_events(analysis: MixAnalysis, prompt: str, planner: NotePlanner | None = None,
                settings: PlanSettings = PlanSettings(), seed: int = 0) -> list[Event]:
    """The part's events on the analysis's beat grid: the planner's, or the prompt's rule plan without a planner or
    where the planner wrote no note at all (a part is asked for: silence is never the answer)."""
    if not len(analysis.beats):
        return []
    if planner is None:
        return rule_plan(analysis, prompt)
    from synthgen.planner.conditions import beat_conditions
    from synthgen.planner.prompt import prompt_embeddings

    events = sample_events(planner, beat_conditions(analysis), prompt_embeddings([prompt])[0], settings, seed)
    return events or rule_plan(analysis, prompt)


def plan_notes(analysis: MixAnalysis, prompt: str, planner: NotePlanner | None = None,
               settings: PlanSettings = PlanSettings(), seed: int = 0) -> list[Note]:
    """The part's notes in seconds, within the analysed mix's length."""
    return to_notes(plan_events(analysis, prompt, planner, settings, seed), analysis.beats, analysis.seconds)


def monophonic(notes: list[Note]) -> list[Note]:
    """One note at a time: of notes starting together the highest is kept, and each note ends where the next starts."""
    by_start: dict[float, Note] = {}
    for note in notes:
        if note.start not in by_start or note.pitch > by_start[note.start].pitch:
            by_start[note.start] = note
    line = [by_start[start] for start in sorted(by_start)]
    return [Note(n.start, min(n.end, after.start), n.pitch, n.velocity) for n, after in zip(line, line[1:])] + line[-1:]


def plan_parts(analysis: MixAnalysis, prompt: str, planner: NotePlanner | None, settings: PlanSettings, seed: int,
               variations: int) -> list[list[Note]]:
    """One plan per variation (seeds seed, seed + 1, ...); bass and lead lines monophonic."""
    from synthgen.planner.prompt import prompt_role

    parts = [plan_notes(analysis, prompt, planner, settings, seed + i) for i in range(variations)]
    return [monophonic(part) for part in parts] if prompt_role(prompt) in MONOPHONIC else parts
