"""Make SynthStems sets: sample each track in its style, write its files, resumably and in parallel.

Two styles (`config.STYLES`): `record` (the default, SynthStems 2, `record.make_record_track`) and `classic` (the
first SynthStems, `classic.make_classic_track`). A track folder holds mixture.wav (backing + synth, sample-exact
in 16-bit integers), synth.wav, description.txt, meta.json (every attribute) and score.mid. Track i of seed s
depends on (s, i) only, so the same seed gives byte-identical files whatever the number of workers.
"""

from __future__ import annotations

import json
import os
import shutil
from functools import partial
import multiprocessing
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from synthgen.data.synthstems.band import TRAINING_SOUNDFONT
from synthgen.data.synthstems.classic import make_classic_track
from synthgen.data.synthstems.config import SynthStemsConfig
from synthgen.data.synthstems.record import make_record_track
from synthgen.data.synthstems.sf3 import decompressed
from synthgen.errors import SynthGenError

SPLIT_NAMES = ("train", "valid", "test")


def make_track(config: SynthStemsConfig, index: int) -> dict:
    """Sample and render track `index` in the config's style. Returns dict(backing, synth: int16 [N] or [N, 2],
    meta, description, midi)."""
    return make_record_track(config, index) if config.style == "record" else make_classic_track(config, index)


def write_track(folder: Path, track: dict, sr: int) -> None:
    """Write a track's five files into `folder`, through a temporary folder renamed at the end."""
    tmp = folder.with_name(f".tmp-{folder.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    mixture = track["backing"].astype(np.int32) + track["synth"].astype(np.int32)
    sf.write(tmp / "mixture.wav", np.clip(mixture, -32768, 32767).astype(np.int16), sr, subtype="PCM_16")
    sf.write(tmp / "synth.wav", track["synth"], sr, subtype="PCM_16")
    (tmp / "description.txt").write_text(track["description"] + "\n")
    (tmp / "meta.json").write_text(json.dumps(track["meta"], indent=1, sort_keys=True))
    track["midi"].write(str(tmp / "score.mid"))
    os.rename(tmp, folder)


def assign_splits(count: int, fractions: tuple[float, float, float], seed: int) -> list[str]:
    """The split of each track: a seeded shuffle cut at the given train/valid/test fractions."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise SynthGenError(f"split fractions must be three non-negative numbers summing to 1, got {fractions}")
    n_valid, n_test = round(count * fractions[1]), round(count * fractions[2])
    order = np.random.default_rng([seed, 2**31]).permutation(count)
    splits = ["train"] * count
    for rank, index in enumerate(order):
        if rank < n_test:
            splits[index] = "test"
        elif rank < n_test + n_valid:
            splits[index] = "valid"
    return splits


def track_folder(out: Path, split: str, index: int) -> Path:
    return out / split / f"synth_{index:05d}"


def _make_and_write(job: tuple[int, Path], config: SynthStemsConfig) -> int:
    index, folder = job
    write_track(folder, make_track(config, index), config.sample_rate)
    return index


def generate_dataset(out: str | Path, tracks: int, config: SynthStemsConfig,
                     fractions: tuple[float, float, float] = (0.9, 0.05, 0.05), workers: int = 1,
                     progress: bool = True) -> int:
    """Write `tracks` tracks into out/<split>/synth_<i>/. Finished tracks are kept (resumable).
    Returns how many tracks were written now."""
    out = Path(out)
    splits = assign_splits(tracks, fractions, config.seed)
    jobs = [(i, track_folder(out, s, i)) for i, s in enumerate(splits) if not track_folder(out, s, i).is_dir()]
    for split in SPLIT_NAMES:
        (out / split).mkdir(parents=True, exist_ok=True)
    if config.style == "record" and jobs and not config.ood:
        decompressed(TRAINING_SOUNDFONT)  # once, before the workers need it
    work = partial(_make_and_write, config=config)
    with tqdm(total=tracks, initial=tracks - len(jobs), desc="synthstems", unit="track", disable=not progress) as bar:
        if workers > 1 and len(jobs) > 1:
            # spawn, not fork: a forked worker can inherit a lock held by FluidSynth's or torch's threads and hang
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                for _ in pool.imap_unordered(work, jobs):
                    bar.update()
        else:
            for job in jobs:
                work(job)
                bar.update()
    return len(jobs)
