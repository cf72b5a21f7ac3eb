"""Griffin-Lim for the spectral codec: how close it gets against the number of iterations and the starting
phase, and what it costs.

    python bench/griffin_lim.py DATA [--tracks 6] [--seconds 10] [--out runs/bench/griffin_lim]

DATA is a SynthStems folder; its test split's synth stems (leads, basses, pads, arpeggios) go through the shipped
codec, and the decoded magnitudes (what generation hands Griffin-Lim) are rebuilt with each starting phase:
`bin` (each bin turning at its own centre frequency: the start before issue #20) and `peak` (`peak_phase`: each
bin turning at its spectral peak's frequency, neighbours pi apart). Printed, and written to griffin_lim.md and
.json: the spectral convergence ||STFT(x)| - M| / |M| in dB (lower is closer) and the seconds per 10 s of audio;
griffin_lim.png shows one stem from each start alone, and as the earlier and the new decode give it.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import soundfile as sf
import torch
from tqdm import tqdm

from synthgen.audio import set_channels
from synthgen.codec.base import HOP_LENGTH
from synthgen.codec.spectral import griffin_lim, peak_phase, stft
from synthgen.pipeline import SynthGen
from synthgen.plots import waveforms_and_spectrograms
from synthgen.resampling import resample

ITERATIONS = (0, 4, 8, 12, 16, 24, 32)


def bin_phase(magnitude: torch.Tensor, n_fft: int) -> torch.Tensor:
    """The earlier start: each bin's phase advancing by 2 pi k hop / n_fft per frame."""
    bins, frames = magnitude.shape[-2:]
    advance = 2 * math.pi * HOP_LENGTH / n_fft
    return (advance * torch.arange(bins)[:, None] * torch.arange(frames)).expand_as(magnitude)


STARTS = {"bin": bin_phase, "peak": peak_phase}
PICTURES = (("bin", 0), ("bin", 32), ("peak", 0), ("peak", 12))  # each start alone, the earlier and the new decode


def convergence_db(audio: torch.Tensor, magnitude: torch.Tensor, n_fft: int) -> float:
    rebuilt = stft(audio, n_fft).abs()[..., : magnitude.shape[-1]]
    return 20 * math.log10(float((rebuilt - magnitude).norm() / magnitude.norm()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--tracks", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/griffin_lim"))
    args = parser.parse_args()
    codec = SynthGen.from_pretrained().codec
    n_fft, momentum = codec.config.n_fft, codec.config.griffin_lim_momentum
    magnitudes = []
    for track in sorted((args.data / "test").iterdir())[: args.tracks]:
        audio, sr = sf.read(track / "synth.wav", dtype="float32", frames=int(args.seconds * 48000))
        audio = resample(set_channels(audio.T, 1), sr, codec.sample_rate)[:, : int(args.seconds * codec.sample_rate)]
        magnitudes.append(codec.decode_magnitude(codec.encode(torch.from_numpy(audio)[None])))
    rows, pictures = [], {}
    for name, start in STARTS.items():
        for iterations in tqdm(ITERATIONS, desc=name):
            scores, seconds = [], 0.0
            for i, magnitude in enumerate(magnitudes):
                began = time.perf_counter()
                audio = griffin_lim(magnitude, n_fft, iterations, momentum, start(magnitude, n_fft))
                seconds += time.perf_counter() - began
                scores.append(convergence_db(audio, magnitude, n_fft))
                if i == 0 and (name, iterations) in PICTURES:
                    pictures[f"{name} {iterations}"] = audio[0].numpy()
            rows.append(dict(start=name, iterations=iterations, convergence_db=sum(scores) / len(scores),
                             seconds_per_10s=seconds / len(magnitudes) / args.seconds * 10))
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [f"Griffin-Lim on {len(magnitudes)} SynthStems test synth stems of {args.seconds:g} s through the shipped "
             f"codec (momentum {momentum}, {torch.get_num_threads()} threads)", "",
             "| start | iterations | spectral convergence (dB) | seconds per 10 s |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {r['start']} | {r['iterations']} | {r['convergence_db']:.2f} | {r['seconds_per_10s']:.3f} |" for r in rows]
    print("\n".join(lines))
    (args.out / "griffin_lim.md").write_text("\n".join(lines) + "\n")
    (args.out / "griffin_lim.json").write_text(json.dumps(rows, indent=1))
    waveforms_and_spectrograms(pictures, codec.sample_rate, args.out / "griffin_lim.png")


if __name__ == "__main__":
    main()
