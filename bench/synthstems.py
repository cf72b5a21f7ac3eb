"""Speed of the SynthStems generator: real-time factor on one core and on all workers.

    python bench/synthstems.py [--tracks 20] [--seconds 30] [--workers 2] [--style record|classic]

Goal (record style, SynthStems 2): at least 40x real time on 2 cores.
"""

import argparse
import os
import tempfile
import time

from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset


def timed_run(tracks: int, seconds: float, workers: int, seed: int, style: str) -> float:
    """Generate and write `tracks` tracks; return the wall time in seconds."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        generate_dataset(out, tracks, SynthStemsConfig(seconds=seconds, seed=seed, style=style), workers=workers,
                         progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--style", default="record", choices=("record", "classic"))
    args = parser.parse_args()
    audio = args.tracks * args.seconds
    one = timed_run(args.tracks, args.seconds, 1, 0, args.style)
    print(f"{args.style} style, 1 worker : {args.tracks} tracks x {args.seconds:.0f} s in {one:6.1f} s = "
          f"{audio / one:6.1f}x real time per core")
    many = timed_run(args.tracks, args.seconds, args.workers, 1, args.style)
    print(f"{args.style} style, {args.workers} workers: {args.tracks} tracks x {args.seconds:.0f} s in {many:6.1f} s = "
          f"{audio / many:6.1f}x real time (goal >= 40x on 2 cores): {'PASS' if audio / many >= 40 else 'FAIL'}")


if __name__ == "__main__":
    main()
