"""Train what the mix analysis learns from SynthStems' truth: the chord classifier, the beat-period scorer and the
key model.

    python -m synthgen.training.analysis $DATA/train-record $DATA/train-classic --out synthgen/analysis/analysis.npz

Each track's backing (mixture minus synth: what a producer gives SynthGen) is read once by the analysis's own
features. The chord classifier (`analysis.chord_model`) learns the chord sounding in the middle of every true beat
from that beat's chroma, named by the nearest chord of the analysis's vocabulary (add9 reads as its triad, a
half-diminished seventh as dim). The beat-period scorer (`analysis.beats.PeriodScorer`) learns, track by track,
to rate the true period above every other candidate (a softmax over the candidates). The key model
(`analysis.key.KeyModel`) learns the true key among 48 (four modes) from the mix's chroma. Each is fitted by Adam
on everything at once; the run prints their accuracy on a held-out tenth of the tracks and writes all three into
one .npz (`analysis.weights`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from synthgen.analysis.beats import PeriodScorer, lag_features
from synthgen.analysis.chord_model import QUALITIES, ChordModel, rotated
from synthgen.analysis.chords import VOCABULARY, beat_chroma
from synthgen.analysis.features import MixFeatures
from synthgen.analysis.key import KEY_MODES, Key, KeyModel, key_features
from synthgen.analysis.meter import MAX_PLACES, METERS, MeterModel, meter_features
from synthgen.analysis.weights import save_parts
from synthgen.data.synthstems.truth import backing

CHORD_HIDDEN, TEMPO_HIDDEN, LEARNING_RATE = 48, 16, 0.01
CHORD_STEPS, TEMPO_STEPS, KEY_STEPS, METER_STEPS = 1500, 800, 800, 300
WEIGHT_DECAY, HELD_OUT = 1e-3, 10  # every 10th track held out


def nearest_chord(root: int, intervals: tuple[int, ...]) -> int:
    """The index in CHORDS of the vocabulary's chord on `root` that shares the most tones (Jaccard) with it."""
    tones = set(intervals)
    overlap = [len(tones & set(VOCABULARY[q][0])) / len(tones | set(VOCABULARY[q][0])) for q in QUALITIES]
    return 1 + int(np.argmax(overlap)) * 12 + root


def read_track(folder: Path) -> dict:
    """A track's examples: chroma and chord at each true beat, candidate periods' features and the true one's index."""
    audio, sample_rate, truth = backing(folder)
    features = MixFeatures.of(audio, sample_rate)
    treble, bass = beat_chroma(features, truth.beats)
    middles = truth.beats + np.median(np.diff(truth.beats)) / 2
    lags, candidates = lag_features(features.envelopes(), features.onset_rate)
    true_lag = features.onset_rate * 60 / truth.bpm
    return dict(treble=treble, bass=bass, chords=np.array([nearest_chord(*truth.chord_at(t)) for t in middles]),
                envelopes={k: v for k, v in features.envelopes().items() if k != "novelty"},
                beat_frames=features.onset_frames(truth.beats),
                meter=list(METERS).index(truth.meter),
                candidates=candidates, period=int(np.argmin(np.abs(lags - true_lag))),
                key_features=key_features(features.treble, features.bass),
                key=KEY_MODES.index(truth.mode) * 12 + truth.tonic)


def _adam(parameters: list[torch.nn.Parameter], loss_of, steps: int, name: str) -> None:
    optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    for _ in tqdm(range(steps), desc=name, unit="step"):
        loss = loss_of()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def fit_chords(treble: np.ndarray, bass: np.ndarray, labels: np.ndarray) -> ChordModel:
    """A ChordModel fitted to beats' chroma [B, 12] x 2 and their chord indices [B]."""
    x, y = torch.from_numpy(rotated(treble, bass)).float(), torch.from_numpy(labels).long()
    w1 = torch.nn.Parameter(torch.randn(24, CHORD_HIDDEN) * 0.2)
    b1, w2 = torch.nn.Parameter(torch.zeros(CHORD_HIDDEN)), torch.nn.Parameter(torch.randn(CHORD_HIDDEN, len(QUALITIES)) * 0.2)
    b2, no_chord = torch.nn.Parameter(torch.zeros(len(QUALITIES))), torch.nn.Parameter(torch.tensor(-2.0))

    def loss():
        scores = (torch.relu(x @ w1 + b1) @ w2 + b2).permute(0, 2, 1).reshape(len(x), -1)
        return torch.nn.functional.cross_entropy(torch.cat([no_chord.expand(len(x), 1), scores], dim=1), y)

    _adam([w1, b1, w2, b2, no_chord], loss, CHORD_STEPS, "chords")
    return ChordModel(*(p.detach().numpy().astype(np.float32) for p in (w1, b1, w2, b2, no_chord)))


def fit_tempo(candidates: list[np.ndarray], periods: list[int]) -> PeriodScorer:
    """A PeriodScorer that rates each track's true period above its other candidates ([L, F] per track)."""
    x = torch.from_numpy(np.stack(candidates)).float()  # every track has the same candidates
    y = torch.tensor(periods)
    w1 = torch.nn.Parameter(torch.randn(x.shape[2], TEMPO_HIDDEN) * 0.3)
    b1, w2 = torch.nn.Parameter(torch.zeros(TEMPO_HIDDEN)), torch.nn.Parameter(torch.randn(TEMPO_HIDDEN) * 0.3)
    loss = lambda: torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w2, y)  # noqa: E731
    _adam([w1, b1, w2], loss, TEMPO_STEPS, "tempo")
    return PeriodScorer(*(p.detach().numpy().astype(np.float32) for p in (w1, b1, w2)))


def fit_key(features: np.ndarray, keys: np.ndarray) -> KeyModel:
    """A KeyModel fitted to tracks' key features [N, 12, 48] and their keys [N] (mode * 12 + tonic)."""
    x, y = torch.from_numpy(features).float(), torch.from_numpy(keys).long()
    weights = torch.nn.Parameter(torch.zeros(len(KEY_MODES), x.shape[2]))
    bias = torch.nn.Parameter(torch.zeros(len(KEY_MODES)))
    logits = lambda: (torch.einsum("ntf,mf->nmt", x, weights) + bias[None, :, None]).reshape(len(x), -1)  # noqa: E731
    _adam([weights, bias], lambda: torch.nn.functional.cross_entropy(logits(), y), KEY_STEPS, "key")
    return KeyModel(weights.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32))


def fit_meter(tracks: list[dict], chords: ChordModel) -> MeterModel:
    """A MeterModel that rates each track's true meter, first downbeat on its first beat, above every other reading."""
    described = [torch.from_numpy(meter_features(t["envelopes"], t["beat_frames"], t["treble"], t["bass"],
                                                 np.exp(chords.log_probabilities(t["treble"], t["bass"])))).float()
                 for t in tracks]
    readings = [(m, meter, phase) for m, meter in enumerate(METERS.values()) for phase in range(meter.beats_per_bar)]
    truth = torch.tensor([readings.index((t["meter"], list(METERS.values())[t["meter"]], 0)) for t in tracks])
    weights = torch.nn.Parameter(torch.zeros(len(METERS), MAX_PLACES, described[0].shape[1]))
    bias = torch.nn.Parameter(torch.zeros(len(METERS)))

    def loss():
        scores = torch.stack([torch.stack([(x * weights[m, (torch.arange(len(x)) - phase) % meter.beats_per_bar]).sum(1)
                                           .mean() + bias[m] for m, meter, phase in readings]) for x in described])
        return torch.nn.functional.cross_entropy(scores, truth)

    _adam([weights, bias], loss, METER_STEPS, "meter")
    return MeterModel(weights.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path, help="SynthStems folders (their train/ tracks are read)")
    parser.add_argument("--out", type=Path, required=True, help="the .npz to write (synthgen/analysis/analysis.npz)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    folders = sorted(t.parent for d in args.data for t in (d / "train").glob("*/meta.json"))
    tracks = [read_track(f) for f in tqdm(folders, desc="features", unit="track")]
    train = [t for i, t in enumerate(tracks) if i % HELD_OUT]
    held = [t for i, t in enumerate(tracks) if not i % HELD_OUT]
    join = lambda part, key: np.concatenate([t[key] for t in part])  # noqa: E731
    chords = fit_chords(join(train, "treble"), join(train, "bass"), join(train, "chords"))
    scorer = fit_tempo([t["candidates"] for t in train], [t["period"] for t in train])
    chord_right = chords.log_probabilities(join(held, "treble"), join(held, "bass")).argmax(axis=1) == join(held, "chords")
    key = fit_key(np.stack([t["key_features"] for t in train]), np.array([t["key"] for t in train]))
    meter = fit_meter(train, chords)
    period_right = [abs(int(np.argmax(scorer(t["candidates"]))) - t["period"]) <= 1 for t in held]
    key_right = [key.best(t["key_features"]) == Key(t["key"] % 12, KEY_MODES[t["key"] // 12]) for t in held]
    print(f"held out: chords right on {chord_right.mean():.3f} of {len(chord_right)} beats (of 97), beat period right "
          f"in {np.mean(period_right):.3f} and key in {np.mean(key_right):.3f} of {len(held)} tracks")
    meter_right = [meter.read(meter_features(t["envelopes"], t["beat_frames"], t["treble"], t["bass"], np.exp(
        chords.log_probabilities(t["treble"], t["bass"])))) == (list(METERS.values())[t["meter"]], 0) for t in held]
    print(f"meter and first downbeat right in {np.mean(meter_right):.3f} of {len(held)} tracks (true beats)")
    save_parts(args.out, {"chords": chords.arrays(), "tempo": scorer.arrays(), "key": key.arrays(),
                          "meter": meter.arrays()})


if __name__ == "__main__":
    main()
