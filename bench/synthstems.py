"""Speed of the SynthStems generator: real-time factor on one core and on all workers.

    python bench/synthstems.py [--tracks 20] [--seconds 30] [--workers 2]

Goal: at least 20x real time per core.
"""

import argparse
import os
import tempfile
import time

from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset


def timed_run(tracks: int, seconds: float, workers: int, seed: int) -> float:
    """Generate and write `tracks` tracks; return the wall time in seconds."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        generate_dataset(out, tracks, SynthStemsConfig(seconds=seconds, seed=seed), workers=workers, progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    audio = args.tracks * args.seconds
    one = timed_run(args.tracks, args.seconds, 1, seed=0)
    print(f"1 worker : {args.tracks} tracks x {args.seconds:.0f} s in {one:6.1f} s = {audio / one:6.1f}x real time per core "
          f"(goal >= 20x): {'PASS' if audio / one >= 20 else 'FAIL'}")
    many = timed_run(args.tracks, args.seconds, args.workers, seed=1)
    print(f"{args.workers} workers: {args.tracks} tracks x {args.seconds:.0f} s in {many:6.1f} s = {audio / many:6.1f}x real time")


if __name__ == "__main__":
    main()
