"""Training the note planner (`synthgen train-planner`): the language-model loop's Trainer (Accelerate,
checkpoints, exact resume, logs, the best model exported to RUN/model) on windows of parts on their mix's grid.

    synthgen train-planner --data $DATA/plan-record $DATA/plan-classic --out runs/planner

What it learns from, per track of each data folder (any layout `data.sources` reads):
- the mix without the target, read by the same analysis inference runs (`analysis.analyze`), never the true
  chords: the conditions of every beat (`planner.conditions`);
- the part's notes: a SynthStems track's true score (meta.json's notes, as in score.mid's synth track); any other
  track's target stem transcribed (`transcribe`), the pseudo-labels `bench/transcribe.py` measures;
- its description, as a MiniLM sentence embedding.
That reading is done once (DATA_FILE in the run folder, reused on resume), two tracks at a time.

Windows of WINDOW_BEATS beats start every HOP_BEATS beats (shortened to fit the model's context); each epoch
transposes every training window by a seeded number of semitones (-5..+6: notes and the conditions' pitch-class
groups together), so that harmony is learnt relative to the chords.
"""

from __future__ import annotations

import json
import multiprocessing
from functools import lru_cache
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from synthgen.errors import SynthGenError
from synthgen.planner.conditions import beat_conditions, transpose
from synthgen.planner.grid import HIGHEST, LOWEST, Event, to_events, to_steps
from synthgen.planner.model import IGNORE, NotePlanner, PlannerConfig
from synthgen.training.planner_config import PlannerTrainConfig

DATA_FILE = "planner-data.npz"
WINDOW_BEATS, HOP_BEATS = 32, 8
TRANSPOSE = (-5, 6)


# ----- reading the tracks -----
def read_track(track) -> dict:
    """One track's conditions [B, FEATURES], events [E, 4] (beat, tick, pitch, length), description and whether
    its notes were transcribed."""
    from synthgen.analysis.mix import analyze
    from synthgen.notes import Note
    from synthgen.transcribe import transcribe

    mixture, target, sample_rate = track.read_stems()
    n = min(mixture.shape[1], target.shape[1])
    analysis = analyze((mixture[:, :n] - target[:, :n]).mean(axis=0), sample_rate)
    true_notes = track.attributes.get("notes")
    notes = [Note(*row) for row in true_notes] if true_notes is not None else transcribe(target[:, :n].mean(axis=0), sample_rate)
    events = to_events(notes, analysis.beats)
    return dict(conditions=beat_conditions(analysis), events=np.array(events, dtype=np.int16).reshape(-1, 4),
                description=track.description, split=track.split, transcribed=true_notes is None)


@lru_cache(maxsize=None)
def _tracks(folder: str) -> list:
    from synthgen.data.sources import list_tracks

    return [t for t in list_tracks(folder) if t.split in ("train", "valid")]


def _read_one(where: tuple[str, int]) -> dict:
    """The track at (folder, index) of `_tracks` (tracks do not pickle; each process lists a folder once)."""
    return read_track(_tracks(where[0])[where[1]])


def build_data(folders: tuple[str, ...], path: Path, workers: int) -> None:
    """Read every train and valid track of the data folders and save what training needs in `path`."""
    torch.set_num_threads(1)
    where = [(folder, i) for folder in folders for i in range(len(_tracks(folder)))]
    if not where:
        raise SynthGenError(f"{', '.join(folders)}: no train or valid tracks")
    progress = dict(total=len(where), desc="reading mixes", unit="track")
    if workers == 1:
        read = [_read_one(w) for w in tqdm(where, **progress)]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            read = list(tqdm(pool.imap(_read_one, where, chunksize=4), **progress))
    save_data(read, folders, path)


def save_data(read: list[dict], folders: tuple[str, ...], path: Path) -> None:
    """Tracks as `read_track` gives them, with their descriptions' embeddings, in one npz file at `path`."""
    from synthgen.planner.prompt import prompt_embeddings

    descriptions = [r["description"] for r in read]
    unique = sorted(set(descriptions))
    embeddings = np.concatenate([prompt_embeddings(unique[i : i + 256]) for i in range(0, len(unique), 256)])
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(tmp, conditions=np.concatenate([r["conditions"] for r in read]),
             beats=np.array([len(r["conditions"]) for r in read]), events=np.concatenate([r["events"] for r in read]),
             notes=np.array([len(r["events"]) for r in read]), text=embeddings,
             description=np.array([unique.index(d) for d in descriptions]),
             split=np.array([r["split"] for r in read]), transcribed=np.array([r["transcribed"] for r in read]),
             folders=np.array(folders))
    tmp.rename(path)


# ----- windows -----
class PlanWindows(Dataset):
    """Windows of one split's tracks as model steps; training windows are transposed per epoch."""

    def __init__(self, path: Path, split: str, context: int, seed: int = 0, augment: bool = True):
        with np.load(path) as stored:
            data = {name: stored[name] for name in stored.files}
        self.text, self.seed, self.augment, self.epoch = data["text"], seed, augment, 0
        beat_ends, note_ends = np.cumsum(data["beats"]), np.cumsum(data["notes"])
        self.tracks = []  # (conditions [B, F], events, description index)
        for t in np.flatnonzero(data["split"] == split):
            conditions = data["conditions"][beat_ends[t] - data["beats"][t] : beat_ends[t]]
            events = [Event(*map(int, row)) for row in data["events"][note_ends[t] - data["notes"][t] : note_ends[t]]]
            self.tracks.append((conditions, events, int(data["description"][t])))
        self.windows = []  # (track, first beat, beats)
        for t, (conditions, events, _) in enumerate(self.tracks):
            per_beat = np.bincount([e.beat for e in events], minlength=len(conditions)) + 1
            for first in range(0, max(len(conditions) - HOP_BEATS // 2, 1), HOP_BEATS):
                beats = min(WINDOW_BEATS, len(conditions) - first)
                while beats > 1 and per_beat[first : first + beats].sum() > context:
                    beats -= 1
                self.windows.append((t, first, beats))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict:
        t, first, beats = self.windows[i]
        conditions, events, description = self.tracks[t]
        shift = 0
        if self.augment:
            shift = int(np.random.default_rng([self.seed, self.epoch, i]).integers(TRANSPOSE[0], TRANSPOSE[1] + 1))
        events = [e._replace(pitch=e.pitch + shift) for e in events if LOWEST <= e.pitch + shift <= HIGHEST]
        steps = to_steps(events, first, beats)
        return dict(steps._asdict(), conditions=transpose(conditions[first : first + beats], shift)[steps.beat],
                    text=self.text[description])


def collate_steps(data: Dataset, indices: list[int], device) -> dict:
    """Windows padded to the longest: step fields [N, S] (targets padded with IGNORE), conditions [N, S, F],
    text [N, TEXT]."""
    items = [data[i] for i in indices]
    longest = max(len(item["kind"]) for item in items)
    batch = {}
    for name in ("kind", "tick", "pitch", "duration", "next_event", "next_pitch", "next_duration"):
        fill = IGNORE if name.startswith("next") else 0
        batch[name] = torch.tensor(np.stack([np.pad(x[name], (0, longest - len(x[name])), constant_values=fill)
                                             for x in items]))
    batch["conditions"] = torch.tensor(np.stack([np.pad(x["conditions"], ((0, longest - len(x["conditions"])), (0, 0)))
                                                 for x in items]))
    batch["text"] = torch.tensor(np.stack([x["text"] for x in items]))
    return {k: v.to(device) for k, v in batch.items()}


def _data_file(config: PlannerTrainConfig, out: Path) -> Path:
    path = out / DATA_FILE
    if path.is_file() and list(np.load(path)["folders"]) != list(config.data):
        raise SynthGenError(f"{path}: read from other data folders; choose another --out")
    if not path.is_file():
        out.mkdir(parents=True, exist_ok=True)
        build_data(config.data, path, config.workers)
    return path


def train_planner(config: PlannerTrainConfig, resume: bool = False) -> Path:
    """Train (or resume) a note planner; returns the folder of the exported model."""
    from synthgen.training.checkpoints import refuse_a_started_run
    from synthgen.training.lm import Trainer

    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise SynthGenError(f"{out}: --out is a file; give a folder for the run")
    refuse_a_started_run(out, out / "checkpoint", resume)  # before minutes of reading the data
    torch.manual_seed(config.seed)
    sizes = {k: v for k, v in dict(width=config.width, layers=config.layers).items() if v is not None}
    model = NotePlanner(PlannerConfig(**sizes))
    path = _data_file(config, out)
    train = PlanWindows(path, "train", model.config.context, config.seed)
    valid = PlanWindows(path, "valid", model.config.context, augment=False)
    if not len(train):
        raise SynthGenError(f"{', '.join(config.data)}: no training windows")
    (out / "planner_config.json").write_text(json.dumps(asdict(config), indent=1))
    trainer = Trainer(config, resume=resume, task=(train, valid, model, None, collate_steps))
    return trainer.train()
