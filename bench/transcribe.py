"""How well `synthgen.transcribe` writes down SynthStems synth parts, against the true notes in meta.json.

    python bench/transcribe.py DATA [--tracks 75]

Note F1 with onsets (mir_eval.transcription: onset within 50 ms, the same pitch, offsets ignored) of the
transcription of each test track's true synth.wav, per role (lead, arpeggio, bass, pad, stabs).
"""

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import mir_eval
import numpy as np
import soundfile as sf
from tqdm import tqdm

from synthgen.transcribe import transcribe


def note_f1(reference: list, estimate: list) -> float:
    def arrays(notes):
        intervals = np.array([[a, max(b, a + 0.01)] for a, b, *_ in notes]).reshape(-1, 2)
        pitches = 440.0 * 2 ** ((np.array([p for *_, p in notes], dtype=float) - 69) / 12)
        return intervals, pitches

    if not reference or not estimate:
        return float(not reference and not estimate)
    (ri, rp), (ei, ep) = arrays(reference), arrays(estimate)
    return mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, offset_ratio=None)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--tracks", type=int, default=75)
    args = parser.parse_args()
    scores, start = defaultdict(list), time.perf_counter()
    tracks = sorted((args.data / "test").iterdir())[: args.tracks]
    for track in tqdm(tracks, desc="transcribe", unit="track"):
        meta = json.loads((track / "meta.json").read_text())
        synth, sr = sf.read(track / "synth.wav", dtype="float32", always_2d=True)
        synth = synth.mean(axis=1)  # SynthStems 2 stems are stereo
        truth = [(a, min(b, meta["seconds"]), p) for a, b, p, _ in meta["notes"]]
        found = [(n.start, n.end, n.pitch) for n in transcribe(synth, sr)]
        scores[meta["role"]].append(note_f1(truth, found))
    seconds = time.perf_counter() - start
    for role, values in sorted(scores.items()):
        print(f"{role:9s} note F1 {np.mean(values):.3f} ({len(values)} tracks)")
    print(f"all       note F1 {np.mean([v for vs in scores.values() for v in vs]):.3f}; "
          f"{seconds / len(tracks):.2f} s per track")


if __name__ == "__main__":
    main()
