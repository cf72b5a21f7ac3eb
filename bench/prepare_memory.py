"""Peak memory of `synthgen prepare` on 2 and on 20 tracks: it streams tracks, so the two should match.

    python bench/prepare_memory.py [--seconds 30] [--codec tiny]

Prints the peak RSS of each run and their ratio (goal: at most 1.5).
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from peak_rss import run_measured


def make_tracks(root: Path, count: int, seconds: float, sr: int = 44100) -> None:
    """Stereo 44.1 kHz tracks in the per-track layout: a chord backing and a synth line."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    for i in range(count):
        folder = root / "train" / f"track_{i:03d}"
        folder.mkdir(parents=True)
        synth = 0.3 * np.sin(2 * np.pi * rng.uniform(200, 800) * t)
        backing = sum(0.1 * np.sin(2 * np.pi * f * t) for f in rng.uniform(80, 400, 3))
        sf.write(folder / "synth.wav", np.stack([synth, synth], 1), sr)
        sf.write(folder / "mixture.wav", np.stack([synth + backing, synth + 0.9 * backing], 1), sr)


def peak_rss_mb(src: Path, out: Path, codec: str) -> tuple[float, float]:
    """Run prepare in a child process; return its peak RSS (MB) and wall time (s)."""
    return run_measured([sys.executable, "-m", "synthgen", "prepare", str(src), "--out", str(out), "--codec", codec])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--codec", default="tiny")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (2, 20):
            src = Path(tmp) / f"data{count}"
            make_tracks(src, count, args.seconds)
            results[count] = peak_rss_mb(src, Path(tmp) / f"cache{count}", args.codec)
            print(f"{count:3d} tracks of {args.seconds:.0f} s: peak RSS {results[count][0]:7.1f} MB, "
                  f"{results[count][1]:6.1f} s")
    ratio = results[20][0] / results[2][0]
    print(f"peak RSS ratio 20/2 tracks: {ratio:.2f} (goal <= 1.5): {'PASS' if ratio <= 1.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
