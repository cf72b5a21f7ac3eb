"""How fast the note planner writes a part: seconds of music planned per second, for SynthStems test songs.

    python bench/plan.py DATA [--planner DIR] [--tracks 10] [--threads 1]

The mix analysis is not counted (its speed is `bench/analysis.py`'s); the planner's sampling is, with guidance
(two rows) and without, one torch thread unless told. Run it on an idle machine.
"""

import argparse
import json
import time
from pathlib import Path

import torch

from synthgen.analysis import analyze
from synthgen.data.synthstems.truth import backing
from synthgen.planner.plan import load_planner, plan_events
from synthgen.planner.settings import PlanSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--planner", default=None, help="planner folder (default: the shipped one)")
    parser.add_argument("--tracks", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    planner = load_planner(args.planner)
    songs = []
    for track in sorted((args.data / "test").iterdir())[: args.tracks]:
        audio, sample_rate, _ = backing(track)
        songs.append((analyze(audio, sample_rate), json.loads((track / "meta.json").read_text())["description"]))
    plan_events(*songs[0], planner)  # warm-up
    for guidance in (PlanSettings().plan_guidance, 1.0):
        settings = PlanSettings(plan_guidance=guidance)
        seconds = notes = 0.0
        start = time.perf_counter()
        for i, (analysis, prompt) in enumerate(songs):
            notes += len(plan_events(analysis, prompt, planner, settings, seed=i))
            seconds += analysis.seconds
        spent = time.perf_counter() - start
        print(f"guidance {guidance:g}: {seconds:.0f} s of music planned in {spent:.2f} s: {seconds / spent:.0f}x real "
              f"time ({notes / seconds:.1f} notes/s of music, {args.threads} thread(s), {len(songs)} songs)")


if __name__ == "__main__":
    main()
