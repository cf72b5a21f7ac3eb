"""How often `synthgen.analysis` finds the key and tempo that SynthStems tracks were made in.

    python bench/key_tempo.py DATA [DATA ...]   # SynthStems folders (`data synth`, `data resound`)

Measured on each folder's test split, on the backing (mixture minus synth, what `generate` is given):
the key exactly, the key or its relative (same scale), the tempo within 4 %, the tempo within 4 % of it,
its half or its double; and how much of the true synth's pitched energy sits on the true key's scale
(the level a stem that fits the key reaches in `eval-audio`'s in_key column).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from synthgen.analysis import Key, estimate_key, estimate_tempo, in_key_share


def relative(key: Key) -> Key:
    return Key((key.tonic + 9) % 12, "minor") if key.mode == "major" else Key((key.tonic + 3) % 12, "major")


def measure(root: Path) -> dict:
    counts = dict(key=0, key_or_relative=0, tempo=0, tempo_or_octave=0)
    shares, tracks, start = [], sorted((root / "test").iterdir()), time.perf_counter()
    for track in tqdm(tracks, desc=root.name, unit="track"):
        meta = json.loads((track / "meta.json").read_text())
        mixture, sr = sf.read(track / "mixture.wav", dtype="float32")
        synth, _ = sf.read(track / "synth.wav", dtype="float32")
        truth, key, bpm = Key(meta["key_tonic"], meta["mode"]), estimate_key(mixture - synth, sr), estimate_tempo(mixture - synth, sr)
        counts["key"] += key == truth
        counts["key_or_relative"] += key in (truth, relative(truth))
        if bpm is not None:
            counts["tempo"] += abs(bpm / meta["tempo"] - 1) < 0.04
            counts["tempo_or_octave"] += min(abs(bpm / meta["tempo"] - r) for r in (1, 2, 0.5)) < 0.04
        shares.append(in_key_share(synth, sr, truth))
    seconds = time.perf_counter() - start
    return dict({k: v / len(tracks) for k, v in counts.items()}, tracks=len(tracks),
                truth_in_key=float(np.nanmean(shares)), seconds_per_track=seconds / len(tracks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path)
    for root in parser.parse_args().data:
        r = measure(root)
        print(f"{root}: {r['tracks']} tracks; key {r['key']:.0%} (or its relative {r['key_or_relative']:.0%}); "
              f"tempo {r['tempo']:.0%} (or half/double {r['tempo_or_octave']:.0%}); true synth in key "
              f"{r['truth_in_key']:.3f}; {r['seconds_per_track']:.2f} s per 30 s track")


if __name__ == "__main__":
    main()
