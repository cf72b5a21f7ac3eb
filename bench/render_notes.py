"""Does a renderer keep the notes it is given? SynthStems test tracks' true parts played by a renderer (the shipped
model's codec LM, or --renderer synth), transcribed (`synthgen.transcribe`) and matched to the score: note F1 with
onsets (mir_eval, 50 ms, offsets ignored), per role, beside the same measure on the true stem (the transcriber's own
ceiling on that role).

    python bench/render_notes.py $DATA/record --tracks 20 [--model DIR] [--renderer neural|synth] [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from synthgen.generation_settings import GenerationSettings
from synthgen.notes import Note
from synthgen.pipeline import SynthGen
from synthgen.transcribe import transcribe
from transcribe import note_f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a SynthStems folder")
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="the first seconds of each track")
    parser.add_argument("--model", default=None)
    parser.add_argument("--renderer", default="neural", choices=["neural", "synth"])
    args = parser.parse_args()
    pipeline = SynthGen.from_pretrained(args.model)
    settings = GenerationSettings(renderer=args.renderer)
    scores = defaultdict(lambda: defaultdict(list))
    for folder in tqdm(sorted((Path(args.data) / "test").iterdir())[: args.tracks], desc="tracks"):
        meta = json.loads((folder / "meta.json").read_text())
        mixture, sr = sf.read(folder / "mixture.wav", dtype="float32", always_2d=True)
        synth, _ = sf.read(folder / "synth.wav", dtype="float32", always_2d=True)
        n = int(args.seconds * sr)
        backing, truth = (mixture - synth)[:n].T, synth[:n].mean(axis=1)
        notes = [Note(*row) for row in meta["notes"] if row[0] < args.seconds]
        stem = pipeline.render(backing, sr, meta["description"], settings, notes=notes)[0][0]
        rows = lambda found: [(x.start, x.end, x.pitch) for x in found]  # noqa: E731
        scores[meta["role"]]["rendered"].append(note_f1(rows(notes), rows(transcribe(stem, sr))))
        scores[meta["role"]]["truth"].append(note_f1(rows(notes), rows(transcribe(truth, sr))))
    print(f"| role | tracks | note F1 rendered ({args.renderer}) | note F1 of the true stem |\n| --- | ---: | ---: | ---: |")
    for role, found in sorted(scores.items()):
        print(f"| {role} | {len(found['truth'])} | {np.mean(found['rendered']):.3f} | {np.mean(found['truth']):.3f} |")


if __name__ == "__main__":
    main()
