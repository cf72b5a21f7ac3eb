"""Peak memory of `synthgen generate` on a 1-minute and a 10-minute mix: it reads and writes block by block,
so the two should match.

    python bench/generate_memory.py [--minutes 1,10] [--model DIR]

Both runs write a stem and a preview (--mix-out) of a stereo 44.1 kHz FLAC mix with the shipped model (or --model).
Prints each run's peak RSS and wall time and the ratio of the longest to the shortest (goal: at most 1.2).
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from peak_rss import run_measured

SR = 44100


def make_mix(path: Path, minutes: float) -> None:
    """A stereo mix of changing chords over noise, written a minute at a time (so this script stays small)."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", SR, 2, format="FLAC") as f:
        for minute in range(int(np.ceil(minutes))):
            t = minute * 60 + np.arange(int(min(60, (minutes - minute) * 60) * SR)) / SR
            root = 110 * 2 ** (rng.integers(0, 12, len(t) // (2 * SR) + 1) / 12)[(t - minute * 60).astype(int) // 2]
            chord = sum(0.15 * np.sin(2 * np.pi * root * ratio * t) for ratio in (1, 1.26, 1.5))
            noise = 0.02 * rng.standard_normal((2, len(t)))
            f.write((chord + noise).T)


def run(mix: Path, out: Path, model: str | None) -> tuple[float, float]:
    """Generate in a child process; return its peak RSS (MB) and wall time (s)."""
    command = [sys.executable, "-m", "synthgen", "generate", str(mix), "--prompt", "a soft dark pad holding the chords",
               "--out", str(out / "synth.wav"), "--mix-out", str(out / "preview.wav"), "--max-seconds", "3600"]
    return run_measured(command + (["--model", model] if model else []))


def measure(minutes: list[float], model: str | None = None) -> list[str]:
    """Generate for a mix of each length; the lines to print: each run's peak RSS and time, then the ratio."""
    lines, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for length in minutes:
            mix = Path(tmp) / f"mix_{length:g}min.flac"
            make_mix(mix, length)
            peak, seconds = run(mix, Path(tmp), model)
            peaks.append(peak)
            lines.append(f"{length:g} min stereo 44.1 kHz mix -> stem and preview: peak RSS {peak:.0f} MB, {seconds:.0f} s")
            print(lines[-1], flush=True)
    ratio = peaks[-1] / peaks[0]
    lines.append(f"peak RSS ratio {minutes[-1]:g} min / {minutes[0]:g} min: {ratio:.2f} (goal <= 1.2): "
                 f"{'PASS' if ratio <= 1.2 else 'FAIL'}")
    print(lines[-1])
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="1,10", help="comma-separated mix lengths")
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    args = parser.parse_args()
    measure([float(m) for m in args.minutes.split(",")], args.model)


if __name__ == "__main__":
    main()
