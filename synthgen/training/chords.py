"""Train the analysis's chord classifier (`synthgen.analysis.chord_model`) on SynthStems' true chords.

    python -m synthgen.training.chords DATA [DATA ...] --out synthgen/analysis/chord_model.npz

Each track's backing (mixture minus synth: what a producer gives SynthGen) is read by the analysis's own
features; the chroma of every true beat is paired with the chord sounding at its middle, named by the nearest
chord of the analysis's vocabulary (add9 reads as its triad, a half-diminished seventh as dim). The network is
fitted by Adam on all beats at once; the run prints the accuracy on a held-out tenth of the tracks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from synthgen.analysis.chord_model import ChordModel, QUALITIES, rotated
from synthgen.analysis.chords import CHORDS, VOCABULARY, beat_chroma
from synthgen.analysis.features import MixFeatures
from synthgen.data.synthstems.truth import SongTruth

HIDDEN, STEPS, LEARNING_RATE, HELD_OUT = 48, 1500, 0.01, 0.1


def nearest_chord(root: int, intervals: tuple[int, ...]) -> int:
    """The index in CHORDS of the vocabulary's chord on `root` that shares the most tones (Jaccard) with it."""
    tones = set(intervals)
    overlap = [len(tones & set(VOCABULARY[q][0])) / len(tones | set(VOCABULARY[q][0])) for q in QUALITIES]
    return 1 + QUALITIES.index(QUALITIES[int(np.argmax(overlap))]) * 12 + root


def track_examples(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(treble [B, 12], bass [B, 12], chord index [B]) at a track's true beats."""
    truth = SongTruth.of(json.loads((folder / "meta.json").read_text()))
    mix, sr = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)
    synth, _ = sf.read(folder / "synth.wav", dtype="float32", always_2d=True)
    treble, bass = beat_chroma(MixFeatures.of((mix - synth).mean(axis=1), sr), truth.beats)
    middles = truth.beats + np.median(np.diff(truth.beats)) / 2
    return treble, bass, np.array([nearest_chord(*truth.chord_at(t)) for t in middles])


def fit(treble: np.ndarray, bass: np.ndarray, labels: np.ndarray, seed: int = 0) -> ChordModel:
    """A ChordModel fitted to beats' chroma [B, 12] x 2 and their chord indices [B]."""
    torch.manual_seed(seed)
    x = torch.from_numpy(rotated(treble, bass)).float()
    y = torch.from_numpy(labels).long()
    w1 = torch.nn.Parameter(torch.randn(24, HIDDEN) * 0.2)
    b1, w2 = torch.nn.Parameter(torch.zeros(HIDDEN)), torch.nn.Parameter(torch.randn(HIDDEN, len(QUALITIES)) * 0.2)
    b2, no_chord = torch.nn.Parameter(torch.zeros(len(QUALITIES))), torch.nn.Parameter(torch.tensor(-2.0))
    optimizer = torch.optim.Adam([w1, b1, w2, b2, no_chord], lr=LEARNING_RATE, weight_decay=1e-4)
    for _ in tqdm(range(STEPS), desc="chords", unit="step"):
        scores = (torch.relu(x @ w1 + b1) @ w2 + b2).permute(0, 2, 1).reshape(len(x), -1)
        logits = torch.cat([no_chord.expand(len(x), 1), scores], dim=1)
        loss = torch.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return ChordModel(*(p.detach().numpy().astype(np.float32) for p in (w1, b1, w2, b2, no_chord)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path, help="SynthStems folders (their train/ tracks are read)")
    parser.add_argument("--out", type=Path, required=True, help="the .npz to write")
    args = parser.parse_args(argv)
    folders = sorted(t.parent for d in args.data for t in (d / "train").glob("*/meta.json"))
    examples = [track_examples(f) for f in tqdm(folders, desc="features", unit="track")]
    held = set(range(0, len(examples), int(round(1 / HELD_OUT))))
    join = lambda part: [np.concatenate([e[i] for n, e in enumerate(examples) if (n in held) == part]) for i in range(3)]  # noqa: E731
    model = fit(*join(False))
    treble, bass, labels = join(True)
    accuracy = (model.log_probabilities(treble, bass).argmax(axis=1) == labels).mean()
    print(f"held-out beats: {len(labels)}, chord accuracy (vocabulary of {len(CHORDS)}) {accuracy:.3f}")
    model.save(args.out)


if __name__ == "__main__":
    main()
