"""The note planner (synthgen/planner/): its grid token format, grid alignment in simple and compound meters, and a
tiny planner trained here on a fixed progression, read from audio, that learns to play the chords."""

import numpy as np
import pytest
import torch

from synthgen.analysis import analyze
from synthgen.analysis.description import TICKS
from synthgen.data.synthstems.truth import SongTruth
from synthgen.eval.notes import measure_part, role_from_notes
from synthgen.notes import Note
from synthgen.planner.conditions import FEATURES, SLICES, beat_conditions, transpose
from synthgen.planner.grid import DURATIONS, Event, grid_times, to_events, to_notes, to_steps
from synthgen.planner.model import NOTE, NotePlanner, PlannerConfig
from synthgen.planner.rules import RULES
from synthgen.planner.sampling import sample_events
from synthgen.planner.settings import PlanSettings
from synthgen.training.planner import PlanWindows, collate_steps, save_data
from tests.helpers.factories import PROGRESSION_SR as SR, progression, progression_truth



def test_a_score_survives_the_trip_through_tokens():
    beats = np.cumsum(np.r_[0.2, np.linspace(0.5, 0.42, 15)])  # a tempo that speeds up, first beat at 0.2 s
    events = sorted({Event(b, t, p, d) for b, t, p, d in
                     [(0, 0, 48, 11), (0, 0, 52, 11), (0, 0, 55, 11), (1, 3, 60, 2), (1, 6, 62, 2), (2, 4, 64, 3),
                      (2, 8, 67, 3), (3, 2, 69, 1), (5, 7, 71, 6), (9, 11, 40, 19), (14, 0, 84, 20)]})
    notes = to_notes(events, beats, seconds=10.0)
    assert [n.pitch for n in notes] == [e.pitch for e in events]
    assert to_events(notes, beats) == events  # score -> tokens -> score -> tokens
    quarter = notes[0]
    assert quarter.start == pytest.approx(0.2) and quarter.end == pytest.approx(0.2 + 0.5)  # 12 ticks from beat 0
    steps = to_steps(events, first=0, beats=len(beats))
    assert (steps.kind == 0).sum() == len(beats) and (steps.kind == NOTE).sum() == len(events)
    back = [Event(int(b), int(t), int(p), int(d)) for k, b, t, p, d in
            zip(steps.kind, steps.beat, steps.tick, steps.pitch, steps.duration) if k == NOTE]
    assert back == events
    is_beat_next = np.append(steps.kind[1:], 0) == 0
    assert np.array_equal(steps.next_event == 0, is_beat_next)  # what comes next is the next step
    assert np.all(steps.next_pitch[~is_beat_next] == steps.pitch[1:][~is_beat_next[:-1]])


@pytest.mark.parametrize("meter, fractions, ticks", [
    ("6/8", [k / 6 for k in range(6)], [0, 2, 4, 6, 8, 10]),  # a dotted-quarter beat's sixteenths
    ("3/4", [0, 1 / 3, 2 / 3, 1 / 4, 3 / 4], [0, 4, 8, 3, 9]),  # triplet eighths and sixteenths of a quarter beat
])
def test_compound_and_triple_notes_land_on_exact_ticks_and_the_true_grid(meter, fractions, ticks):
    step = 0.125  # a sixteenth of 120 BPM
    beat = 6 * step if meter == "6/8" else 4 * step
    meta = dict(meter=meter, step_seconds=step, seconds=12.0, key_tonic=0, mode="major",
                chords=[dict(start=0.0, end=12.0, root=0, pitch_classes=[0, 4, 7])])
    truth = SongTruth.of(meta)
    assert truth.beats[1] == pytest.approx(beat)
    notes = [Note(b * beat + f * beat, b * beat + f * beat + 0.1, 60, 0.8) for b in range(4) for f in fractions]
    events = to_events(notes, truth.beats)
    assert sorted({e.tick for e in events}) == sorted(ticks)
    assert [e.beat for e in events] == sorted(b for b in range(4) for _ in fractions)
    replayed = to_notes(events, truth.beats, 12.0)
    assert np.allclose(sorted(n.start for n in replayed), sorted(n.start for n in notes))
    assert measure_part(replayed, truth, 12.0)["on_grid"] == 1.0
    late = [Note(b * beat + 0.06, b * beat + 0.2, 60, 0.8) for b in range(4)]  # 60 ms after each beat: off the grid
    assert measure_part(late, truth, 12.0)["on_grid"] == 0.0
    assert np.allclose(grid_times(np.array([1.5]), truth.beats), 1.5 * beat)


def test_a_tiny_planner_trained_on_a_progression_plays_its_chords(tmp_path):
    torch.manual_seed(0)
    read = []
    for tonic in (0, 2, 7):
        analysis = analyze(progression(tonic), SR)
        # the part to learn: the chord's tones as an eighth-note arpeggio, written from the analysis's chords
        events = [e for e in RULES["arpeggiate"](analysis) if e.tick % 6 == 0]
        read.append(dict(conditions=beat_conditions(analysis), events=np.array(events, dtype=np.int16).reshape(-1, 4),
                         description="a bright arpeggio", split="train", transcribed=False))
    read.append(dict(read[0], split="valid"))
    save_data(read, ("progressions",), tmp_path / "data.npz")
    model = NotePlanner(PlannerConfig(width=64, layers=2, heads=2, dropout=0.0))
    windows = PlanWindows(tmp_path / "data.npz", "train", model.config.context, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(160):
        windows.set_epoch(step)
        batch = collate_steps(windows, list(np.random.default_rng(step).choice(len(windows), 8)), "cpu")
        loss, _ = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # a key it never heard: the part must follow that song's chords
    analysis = analyze(progression(4), SR)
    truth = progression_truth(4)
    text = np.load(tmp_path / "data.npz")["text"][0]  # the prompt's embedding
    events = sample_events(model, beat_conditions(analysis), text, PlanSettings(plan_guidance=1.5, plan_temperature=0.5))
    notes = to_notes(events, analysis.beats, analysis.seconds)
    measured = measure_part(notes, truth, analysis.seconds)
    assert len(notes) > 2 * len(analysis.beats) * 0.8  # about two notes a beat, as taught
    assert measured["chord_tone"] >= 0.8
    assert measured["change"] >= 0.6  # the part it was taught changes at 6 of the 7 changes the analysis finds
    untrained = NotePlanner(PlannerConfig(width=64, layers=2, heads=2))
    random_notes = to_notes(sample_events(untrained, beat_conditions(analysis), text), analysis.beats, analysis.seconds)
    assert measure_part(random_notes, truth, analysis.seconds)["chord_tone"] < 0.5


def test_conditions_turn_with_a_transposition():
    analysis = analyze(progression(0, bars=4), SR)
    conditions = beat_conditions(analysis)
    assert conditions.shape == (len(analysis.beats), FEATURES) and np.isfinite(conditions).all()
    up = beat_conditions(analyze(progression(3, bars=4), SR))
    shifted = transpose(conditions, 3)
    n = min(len(up), len(shifted))
    # the chord of each beat, a pitch-class group, moves with the song; the song's place in the bar does not
    chord = SLICES["chord"]
    agree = np.mean([np.array_equal(a[chord], b[chord]) for a, b in zip(up[:n], shifted[:n])])
    assert agree >= 0.8
    assert np.allclose(shifted[:, SLICES["place"]], conditions[:, SLICES["place"]])


def test_saved_planner_loads_and_plans_the_same(tmp_path):
    torch.manual_seed(1)
    model = NotePlanner(PlannerConfig(width=32, layers=1, heads=2))
    model.save_pretrained(tmp_path / "planner")
    loaded = NotePlanner.from_pretrained(tmp_path / "planner")
    conditions = np.random.default_rng(0).random((6, FEATURES)).astype(np.float32)
    text = np.ones(384, np.float32) / np.sqrt(384)
    for m in (model, loaded):  # fp16 on disk: the same draws within rounding
        m.half().float()
    assert sample_events(model, conditions, text, seed=3) == sample_events(loaded, conditions, text, seed=3)
    assert all(e.tick < TICKS and e.duration < len(DURATIONS) for e in sample_events(loaded, conditions, text))


def test_the_role_is_recognised_from_the_notes():
    beat = 0.5
    chord = lambda t, length: [Note(t, t + length, p, 0.8) for p in (60, 64, 67)]  # noqa: E731
    pad = [n for bar in range(4) for n in chord(bar * 2.0, 2.0)]
    stabs = [n for b in range(16) for n in chord(b * beat + 0.25, 0.12)]
    bass = [Note(b * beat, b * beat + 0.4, (36, 36, 43, 41)[b % 4], 0.8) for b in range(16)]
    arpeggio = [Note(i * 0.125, i * 0.125 + 0.1, (60, 64, 67, 72)[i % 4], 0.8) for i in range(32)]
    melody = [Note(i * 0.25, i * 0.25 + 0.2, (64, 62, 60, 62, 64, 64, 64, 67)[i % 8], 0.8) for i in range(16)]
    assert [role_from_notes(part, beat) for part in (pad, stabs, bass, arpeggio, melody)] == \
        ["pad", "stabs", "bass", "arpeggio", "lead"]
    assert role_from_notes([], beat) is None


def test_train_planner_and_eval_notes_run_end_to_end(tmp_path):
    """A tiny run from a SynthStems folder through the command line: the exported planner plans the test songs and
    eval-notes writes its tables and piano rolls."""
    import json
    import subprocess
    import sys

    from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset

    data = tmp_path / "data"
    generate_dataset(data, 6, SynthStemsConfig(seconds=6.0, seed=5), (0.5, 0.17, 0.33), progress=False)
    run = [sys.executable, "-m", "synthgen"]
    train = subprocess.run(run + ["train-planner", "--data", str(data), "--out", str(tmp_path / "run"), "--width", "32",
                                  "--layers", "1", "--steps", "4", "--batch-size", "4", "--eval-every", "2",
                                  "--save-every", "2", "--workers", "1"], capture_output=True, text=True)
    assert train.returncode == 0, train.stderr
    again = subprocess.run(run + ["train-planner", "--data", str(data), "--out", str(tmp_path / "run")],
                           capture_output=True, text=True)
    assert again.returncode != 0 and "--resume" in again.stderr.strip().splitlines()[-1]
    out = tmp_path / "notes"
    evaluated = subprocess.run(run + ["eval-notes", "--data", str(data), "--planner", str(tmp_path / "run"), "--out",
                                      str(out)], capture_output=True, text=True)
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads((out / "notes.json").read_text())
    rows = report["sets"]["data"]["rows"]
    assert rows["truth"]["density_fit"] == 1.0 and rows["truth"]["on_grid"] > 0.8
    assert {"rules by role", "planner (guidance 2)", "planner, no guidance"} <= rows.keys()
    assert "| truth |" in (out / "notes.md").read_text() and any((out / "rolls").glob("*.png"))


@pytest.mark.parametrize("prompt, role", [("a soft warm pad holding the chords", "pad"),
                                          ("a punchy synth bass driving the groove down low", "bass"),
                                          ("a bright plucky arpeggio cycling through the chords", "arpeggio")])
def test_the_shipped_planner_plays_a_new_progression_in_the_role_asked(prompt, role):
    from synthgen.planner.plan import load_planner, plan_notes

    analysis = analyze(progression(4), SR)  # decaying piano-like chords and a kick: nothing like its training songs
    notes = plan_notes(analysis, prompt, load_planner(), seed=0)
    measured = measure_part(notes, progression_truth(4), analysis.seconds)
    assert measured["role_heard"] == role
    assert measured["chord_tone"] >= 0.7
    assert measured["on_grid"] >= 0.7
