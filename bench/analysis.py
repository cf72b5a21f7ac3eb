"""How well `synthgen.analysis` reads mixes whose truth is known: SynthStems folders, measured with mir_eval.

    python bench/analysis.py $DATA/record $DATA/resound $DATA/ood [--tracks 60] [--split test] [--out runs/bench/analysis]

Each track's backing (mixture minus synth: what a producer gives SynthGen) is analysed; beats and downbeats are
scored by F-measure (70 ms window, the first 5 s trimmed as mir_eval does), chords by duration-weighted majmin and
sevenths accuracy (chords outside a vocabulary left out, as mir_eval leaves them; majmin also for chords decoded from
chord-tone templates on the same beats, the baseline of the learned classifier), the key by mir_eval's weighted
score (dorian read as minor, mixolydian as major), the tempo within 4 % (and with the double, half, triple or
third allowed). Prints a Markdown table and writes it with a JSON of every track into --out.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import mir_eval
import numpy as np
from tqdm import tqdm

from synthgen.analysis.chords import CHORDS, beat_chroma, decode_chords, template_log_probabilities
from synthgen.analysis.features import MixFeatures
from synthgen.analysis.meter import change_chances
from synthgen.analysis.mix import analyze_features
from synthgen.data.synthstems.truth import SongTruth, backing

COLUMNS = ("beat F", "downbeat F", "majmin", "sevenths", "majmin templates", "key", "tempo 4%", "tempo any octave",
           "meter")


def with_template_chords(analysis, features: MixFeatures):
    """The same analysis with its chords decoded from the chord-tone templates instead of the classifier (the
    baseline the classifier is measured against)."""
    treble, bass = beat_chroma(features, analysis.beats)
    changes = change_chances(len(analysis.beats), analysis.meter, analysis.first_downbeat)
    path, confidence = decode_chords(template_log_probabilities(treble, bass), changes)
    return replace(analysis, beat_chords=[CHORDS[i] for i in path], chord_confidence=confidence)


def chord_scores(truth: SongTruth, analysis) -> tuple[float, float]:
    """(majmin, sevenths) duration-weighted accuracies; nan where no reference chord is in the vocabulary."""
    reference, labels = truth.harte()
    estimated = np.array([[s, e] for s, e, _ in analysis.chord_segments()])
    estimated_labels = [c.label for _, _, c in analysis.chord_segments()]
    reference, labels = mir_eval.util.adjust_intervals(reference, labels, 0, analysis.seconds, "N", "N")
    estimated, estimated_labels = mir_eval.util.adjust_intervals(estimated, estimated_labels, 0, analysis.seconds, "N", "N")
    intervals, ref, est = mir_eval.util.merge_labeled_intervals(reference, labels, estimated, estimated_labels)
    durations = mir_eval.util.intervals_to_durations(intervals)
    out = []
    for compare in (mir_eval.chord.majmin, mir_eval.chord.sevenths):
        scores = compare(ref, est)
        out.append(mir_eval.chord.weighted_accuracy(scores, durations) if (scores >= 0).any() else float("nan"))
    return out[0], out[1]


def score_track(folder: Path) -> dict:
    audio, sample_rate, truth = backing(folder)
    started = time.perf_counter()
    features = MixFeatures.of(audio, sample_rate)
    analysis = analyze_features(features)
    seconds = time.perf_counter() - started
    trim = mir_eval.beat.trim_beats
    ratio = analysis.tempo / truth.bpm
    majmin, sevenths = chord_scores(truth, analysis)
    return {
        "track": folder.name, "beat F": mir_eval.beat.f_measure(trim(truth.beats), trim(analysis.beats)),
        "downbeat F": mir_eval.beat.f_measure(trim(truth.downbeats), trim(analysis.downbeats)),
        "majmin": majmin, "sevenths": sevenths,
        "majmin templates": chord_scores(truth, with_template_chords(analysis, features))[0],
        "key": mir_eval.key.weighted_score(truth.major_minor_key, analysis.key.major_minor) if analysis.key else 0.0,
        "tempo 4%": float(abs(ratio - 1) < 0.04),
        "tempo any octave": float(min(abs(ratio * m - 1) for m in (1, 2, 0.5, 3, 1 / 3)) < 0.04),
        "meter": float(analysis.meter.name == truth.meter), "true": f"{truth.meter} {truth.bpm:.0f} {truth.key}",
        "read": f"{analysis.meter.name} {analysis.tempo:.0f} {analysis.key.name if analysis.key else '-'}",
        "audio seconds": len(audio) / sample_rate, "analysis seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path, help="SynthStems folders")
    parser.add_argument("--split", default="test")
    parser.add_argument("--tracks", type=int, default=60, help="at most this many tracks of each set")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/analysis"))
    args = parser.parse_args()
    header = "| set | tracks | " + " | ".join(COLUMNS) + " | speed (x real time) |"
    lines, everything = [header, "|" + " --- |" * (len(COLUMNS) + 3)], {}
    for data in args.sets:
        folders = sorted(p.parent for p in (data / args.split).glob("*/meta.json"))[: args.tracks]
        rows = [score_track(f) for f in tqdm(folders, desc=data.name, unit="track")]
        everything[data.name] = rows
        means = [np.nanmean([r[c] for r in rows]) for c in COLUMNS]
        speed = sum(r["audio seconds"] for r in rows) / sum(r["analysis seconds"] for r in rows)
        lines.append(f"| {data.name} | {len(rows)} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {speed:.0f} |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "analysis.md").write_text(table + "\n")
    (args.out / "analysis.json").write_text(json.dumps(everything, indent=1))


if __name__ == "__main__":
    main()
