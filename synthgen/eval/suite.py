"""The audio evaluation suite: generate a stem for every held-out window and measure it.

Each window of a data folder's split (10 s, back to back) gives a mix (the mixture without the
synth in `accompaniment` mode, the whole mixture in `extract` mode), the true synth and its description, the
prompt. Every model generates a stem from the mix and the prompt; beside the models, references are
measured in the same run: the true stem (`truth`), the true stem of a window from another track in
the key furthest from this one (`other-key`) and, when a codec is given, the true stem encoded and
decoded by it (`truth-codec`): the best a model writing that codec's codes could score.

Rows of the report (means over windows):
  harmony     frame-wise chroma agreement between stem and mix          (higher fits better)
  follow      per beat of the mix, the stem's chroma cosine with the mix's at that beat minus its mean cosine with
              the mix's 3, 5, 7 and 9 beats away, over beats where the stem sounds (`metrics.follow`: a drone in
              the key scores about 0; higher follows the chord changes better)
  on_grid     share of the stem's onsets on the mix's eighth-note grid (within 50 ms)
  rhythm      share of the stem's onsets on one of the mix's onsets      (higher fits better)
  in_key      share of the stem's pitched energy on the scale of the mix's estimated key
              (`synthgen.analysis`; random pitches score 7/12 = 0.58, higher fits better)
  copy        band-wise correlation of stem and mix log energies: how much the stem copies the
              mix (the truth's value is the natural level; far above it, harmony and rhythm are unearned)
  brightness, attack, register, role
              share of windows where the stem's measured probe is nearest to the class the prompt
              asked for (class means fitted on the true stems of the same windows; SynthStems only)
  mrstft, mel_l1    distance to the true stem (lower is closer); si_sdr_db in extract mode
  frechet     Fréchet distance of the stems' embeddings to the true stems' (codec latents by default)
  rtf         seconds of audio generated per second of computing (models only)
Steering (`steering=True`, text-conditioned models only): the same mix generated for with a "bright" and
a "dark" prompt (and a "pad" and a "pluck" one) that are otherwise the same; the share of windows
where bright measures brighter (pad attacks slower) than its counterpart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import torch
from tqdm import tqdm

from synthgen.analysis import Key, MixAnalysis, analyze, in_key_share
from synthgen.codec import Codec
from synthgen.data.sources import list_tracks, load_pair
from synthgen.data.synthstems.describe import describe
from synthgen.data.window_settings import WindowSettings
from synthgen.data.windows import window_starts
from synthgen.errors import SynthGenError
from synthgen.eval.distances import mel_l1, multi_resolution_stft_loss, si_sdr
from synthgen.eval.metrics import (AttributeClassifier, Embedding, attack_time, attribute_probes, frechet_distance,
                                   follow, harmonic_fit, mix_copy, on_grid, onsets, rhythmic_fit, spectral_centroid)
from synthgen.files import write_text_atomic
from synthgen.notes import Note

ATTRIBUTES = ("brightness", "attack", "register", "role")
CODEC_REFERENCE = "truth-codec"


@dataclass
class EvalWindow:
    track: str
    start: float  # seconds into the track
    mix: np.ndarray  # [N]
    truth: np.ndarray  # [N]
    prompt: str  # the track's description
    attributes: dict = field(default_factory=dict)
    _analyses: dict = field(default_factory=dict, repr=False)  # the mix's analysis, by sample rate

    def analysis(self, sample_rate: int) -> MixAnalysis:
        """The mix's beats, chords and key (`synthgen.analysis.analyze`), read once."""
        if sample_rate not in self._analyses:
            self._analyses[sample_rate] = analyze(self.mix, sample_rate)
        return self._analyses[sample_rate]

    def key(self, sample_rate: int) -> Key | None:
        """The mix's estimated key (`analysis`)."""
        return self.analysis(sample_rate).key

    def notes(self) -> list[Note] | None:
        """The true part's notes within the window, in seconds from its start (None when they are not known)."""
        rows = self.attributes.get("notes")
        if rows is None:
            return None
        return [Note(a - self.start, b - self.start, p, v) for a, b, p, v in rows if b > self.start]


class StemGenerator(Protocol):
    """Anything that generates a stem for a mix: SynthGen or a baseline (`eval.generators`)."""

    name: str
    uses_text: bool

    def generate(self, mix: np.ndarray, sample_rate: int, prompt: str) -> np.ndarray:
        """mix [N] -> stem [N], both mono at sample_rate."""


def eval_windows(root: str | Path, split: str, sample_rate: int, seconds: float = WindowSettings.window, mode: str = "accompaniment",
                 limit: int | None = None) -> list[EvalWindow]:
    """Back-to-back windows of the split's tracks, taken round-robin over tracks (first windows of every
    track, then second ones...) up to `limit`."""
    tracks = [t for t in list_tracks(root) if t.split == split]
    if not tracks:
        raise SynthGenError(f"{root}: no '{split}' tracks to evaluate")
    length = round(seconds * sample_rate)
    per_track = []
    for track in tracks:
        mix, target = load_pair(track, sample_rate, 1, mode)
        per_track.append([EvalWindow(track.name, w.start / sample_rate, mix[0, w.start : w.start + length],
                                     target[0, w.start : w.start + length], track.description, track.attributes)
                          for w in window_starts(mix.shape[1], length, length, "drop")])
    ordered = [ws[rank] for rank in range(max(map(len, per_track))) for ws in per_track if rank < len(ws)]
    if not ordered:
        raise SynthGenError(f"{root}: no '{split}' track is at least {seconds:g} s long")
    return ordered[:limit]


def other_key_truths(windows: list[EvalWindow]) -> list[np.ndarray]:
    """For each window, the true stem of a window of another track whose scale shares the fewest pitch
    classes with this one's (the first such window after it, cyclically)."""
    out = []
    for i, window in enumerate(windows):
        scale = set(window.attributes.get("scale", []))
        candidates = [windows[(i + k) % len(windows)] for k in range(1, len(windows))]
        candidates = [w for w in candidates if w.track != window.track] or candidates or [window]
        best = min(candidates, key=lambda w: len(scale & set(w.attributes.get("scale", []))))
        out.append(best.truth)
    return out


def _through_codec(codec: Codec, audio: np.ndarray) -> np.ndarray:
    """Mono audio [N] at the codec's rate, encoded and decoded: [N]."""
    x = torch.from_numpy(np.asarray(audio, dtype=np.float32))[None, None].to(codec.device)
    return codec.reconstruct(x)[0, 0].float().cpu().numpy()


def _closeness(stem: np.ndarray, truth: np.ndarray, sample_rate: int, mode: str) -> dict:
    x, y = torch.from_numpy(stem[None].astype(np.float32)), torch.from_numpy(truth[None].astype(np.float32))
    out = dict(mrstft=float(multi_resolution_stft_loss(x, y)), mel_l1=float(mel_l1(x, y, sample_rate)))
    if mode == "extract":
        out["si_sdr_db"] = float(si_sdr(x, y)[0])
    return out


def stem_measures(stem: np.ndarray, window: EvalWindow, sample_rate: int, mode: str) -> dict:
    """Everything measured on one stem of one window (before class adherence, which needs all windows)."""
    key, beats = window.key(sample_rate), window.analysis(sample_rate).beats
    return dict(harmony=harmonic_fit(stem, window.mix, sample_rate), rhythm=rhythmic_fit(stem, window.mix, sample_rate),
                follow=follow(stem, window.mix, sample_rate, beats), on_grid=on_grid(stem, sample_rate, beats),
                in_key=in_key_share(stem, sample_rate, key) if key else float("nan"),
                copy=mix_copy(stem, window.mix, sample_rate), probes=attribute_probes(stem, sample_rate),
                **_closeness(stem, window.truth, sample_rate, mode))


def steering_prompts(attributes: dict, seed: int) -> dict[str, str]:
    """Prompts for the same part that differ in brightness (bright/dark) or in role and attack
    (pad/pluck), worded alike: each pair is drawn with the same random choices."""
    changes = dict(bright=dict(brightness="bright"), dark=dict(brightness="dark"),
                   pad=dict(role="pad", attack="slow"), pluck=dict(role="stabs", attack="sharp"))
    return {name: describe({**attributes, **change}, np.random.default_rng(seed)) for name, change in changes.items()}


def _steering(generator: StemGenerator, window: EvalWindow, sample_rate: int, seed: int) -> dict:
    prompts = steering_prompts(window.attributes, seed)
    stems = {name: generator.generate(window.mix, sample_rate, prompt) for name, prompt in prompts.items()}
    attack = {name: attack_time(stems[name], sample_rate, list(onsets(stems[name], sample_rate))) for name in ("pad", "pluck")}
    return dict(bright_brighter=float(spectral_centroid(stems["bright"], sample_rate) > spectral_centroid(stems["dark"], sample_rate)),
                pad_slower=float(np.nan_to_num(attack["pad"], nan=0.0) > np.nan_to_num(attack["pluck"], nan=0.0)))


def _mean(values: list[float]) -> float:
    """The mean of the values that are numbers; nan (without numpy's warning) when none is, e.g. `follow` on windows
    with too few beats."""
    values = np.asarray(values, dtype=float)
    return float(values[~np.isnan(values)].mean()) if (~np.isnan(values)).any() else float("nan")


def _summarise(measures: list[dict], truths: list[dict], windows: list[EvalWindow], embeddings: np.ndarray | None,
               truth_embeddings: np.ndarray | None) -> dict:
    row = {key: _mean([m[key] for m in measures]) for key in measures[0] if key != "probes"}
    for attribute in ATTRIBUTES:
        labelled = [(t["probes"][attribute], m["probes"][attribute], w.attributes[attribute])
                    for t, m, w in zip(truths, measures, windows) if attribute in w.attributes]
        if labelled:
            classifier = AttributeClassifier([t for t, _, _ in labelled], [y for _, _, y in labelled])
            row[attribute] = float(np.mean([classifier.predict(m) == y for _, m, y in labelled]))
    if embeddings is not None:
        row["frechet"] = frechet_distance(embeddings, truth_embeddings)
    return row


def _generate_all(generator: StemGenerator, windows: list[EvalWindow], sample_rate: int, mode: str, steering: bool,
                  seed: int, progress: bool) -> tuple[list[np.ndarray], list[dict], float, list[dict]]:
    """A generator's stem for every window: (stems, their measures, seconds spent generating, steering results)."""
    stems, measures, seconds, steer = [], [], 0.0, []
    for i, window in enumerate(tqdm(windows, desc=generator.name, disable=not progress)):
        began = time.perf_counter()
        played = {"notes": window.notes()} if getattr(generator, "true_notes", False) else {}
        stems.append(generator.generate(window.mix, sample_rate, window.prompt, **played))
        seconds += time.perf_counter() - began
        measures.append(stem_measures(stems[-1], window, sample_rate, mode))
        if steering and generator.uses_text and window.attributes:
            steer.append(_steering(generator, window, sample_rate, seed + i))
    return stems, measures, seconds, steer


def _reference_stems(windows: list[EvalWindow], codec: Codec | None, progress: bool) -> dict[str, list[np.ndarray]]:
    """The reference rows' stems: the truth, the truth from another key, and (with a codec) the truth through it."""
    stems = {"truth": [w.truth for w in windows], "other-key": other_key_truths(windows)}
    if codec is not None:
        stems[CODEC_REFERENCE] = [_through_codec(codec, w.truth) for w in tqdm(windows, desc=CODEC_REFERENCE,
                                                                               disable=not progress)]
    return stems


@dataclass
class _Rows:
    """The suite's table as it fills: each row's metrics against the truth's, and the stems shown to `on_stems`."""

    windows: list[EvalWindow]
    sample_rate: int
    mode: str
    embedding: Embedding | None
    on_stems: Callable[[str, int, np.ndarray], None] | None
    progress: bool
    rows: dict = field(default_factory=dict)

    def __post_init__(self):
        self.truth_measures = [stem_measures(w.truth, w, self.sample_rate, self.mode)
                               for w in tqdm(self.windows, desc="truth", disable=not self.progress)]
        self.truth_embeddings = self.embed([w.truth for w in self.windows])

    def embed(self, stems: list[np.ndarray]) -> np.ndarray | None:
        if self.embedding is None:
            return None
        return np.concatenate([self.embedding(s, self.sample_rate) for s in stems])

    def add(self, name: str, stems: list[np.ndarray], measures: list[dict] | None = None) -> dict:
        """Add a row for `stems` (one per window), measured here unless `measures` are given. Returns the row."""
        if measures is None:
            measures = [stem_measures(s, w, self.sample_rate, self.mode) for s, w in zip(stems, self.windows)]
        self.rows[name] = _summarise(measures, self.truth_measures, self.windows, self.embed(stems), self.truth_embeddings)
        for i, stem in enumerate(stems if self.on_stems else []):
            self.on_stems(name, i, stem)
        return self.rows[name]


def run_suite(generators: list[StemGenerator], windows: list[EvalWindow], sample_rate: int, mode: str = "accompaniment",
              embedding: Embedding | None = None, steering: bool = False, seed: int = 0,
              on_stems: Callable[[str, int, np.ndarray], None] | None = None, progress: bool = True,
              codec: Codec | None = None) -> dict:
    """Measure every generator and the references on the windows (`truth-codec` when a codec at
    `sample_rate` is given). `on_stems(row, i, stem)` sees each stem (to keep a few for listening and
    plots). Returns dict(rows={name: metrics}, windows=..., settings=...)."""
    table = _Rows(windows, sample_rate, mode, embedding, on_stems, progress)
    for name, stems in _reference_stems(windows, codec, progress).items():
        table.add(name, stems, table.truth_measures if name == "truth" else None)
    for generator in generators:
        stems, measures, seconds, steer = _generate_all(generator, windows, sample_rate, mode, steering, seed, progress)
        row = table.add(generator.name, stems, measures)
        row["rtf"] = sum(len(w.mix) for w in windows) / sample_rate / max(seconds, 1e-9)
        row.update({key: float(np.mean([s[key] for s in steer])) for key in (steer[0] if steer else {})})
    return dict(rows=table.rows, windows=[dict(track=w.track, start=w.start, prompt=w.prompt) for w in windows],
                settings=dict(mode=mode, sample_rate=sample_rate, steering=steering, seed=seed))


# ----- the report -----
COLUMNS = ("harmony", "follow", "rhythm", "on_grid", "in_key", "copy", "brightness", "attack", "register", "role", "mrstft", "mel_l1", "si_sdr_db", "frechet",
           "rtf", "bright_brighter", "pad_slower")


def markdown_table(report: dict) -> str:
    rows = report["rows"]
    columns = [c for c in COLUMNS if any(c in r for r in rows.values())]
    lines = ["| row | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[c]:.3f}" if c in row else "–" for c in columns) + " |")
    return "\n".join(lines) + "\n"


def metric_bars(report: dict, path: Path) -> Path:
    """One bar chart per metric, one bar per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    columns = [c for c in COLUMNS if any(c in r for r in rows.values())]
    fig, axes = plt.subplots(1, len(columns), figsize=(2.2 * len(columns), 3.2))
    for ax, column in zip(np.atleast_1d(axes), columns):
        names = [n for n in rows if column in rows[n]]
        ax.bar(range(len(names)), [rows[n][column] for n in names], color="#2a6f97")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.set_title(column, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_report(report: dict, out: Path) -> None:
    """report.json, report.md and metrics.png in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "report.json", json.dumps(report, indent=1))
    write_text_atomic(out / "report.md", "# Audio evaluation\n\n" + markdown_table(report))
    metric_bars(report, out / "metrics.png")
