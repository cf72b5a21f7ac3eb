"""Generation speed: our cached sampling loop against transformers' MusicgenMelodyForConditionalGeneration.generate()
on the same weights and settings, for the tiny and small presets, and the whole small pipeline.

    python bench/generate.py [--seconds 10] [--pipeline-seconds 30] [--threads 2]

Both loops: the same decoder, text encoder, projections and codec; the time-aligned context off (generate()
cannot take it); chroma and text prefix; classifier-free guidance 3 (two rows); top-k 250 sampling; the
same number of steps. generate() always decodes its codes to audio, so its LM time is its total minus our
measured decode time of the same codes. Goals: ours at least 2x faster; the pipeline at least 5x real time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import MusicgenMelodyConfig, MusicgenMelodyForConditionalGeneration
from transformers.utils import logging

from synthgen.audio import write_audio
from synthgen.chroma import chroma, dominant_pitch_class
from synthgen.codec import EncodecCodec
from synthgen.generate import sample_window
from synthgen.generation_settings import GenerationSettings
from synthgen.model import build_model
from synthgen.pipeline import Pipeline

CODECS = {"tiny": "tiny", "small": "small"}


def reference_model(model, codec: EncodecCodec) -> MusicgenMelodyForConditionalGeneration:
    """transformers' MusicGen-Melody assembled from our model's own modules (shared weights)."""
    config = MusicgenMelodyConfig(text_encoder=model.text_encoder.model.config.to_dict(),
                                  audio_encoder=codec.model.config.to_dict(),
                                  decoder=model.decoder.config.to_dict(), chroma_length=model.config.chroma_length)
    reference = MusicgenMelodyForConditionalGeneration(config, text_encoder=model.text_encoder.model,
                                                       audio_encoder=codec.model, decoder=model.decoder)
    reference.enc_to_dec_proj = model.text_proj
    reference.audio_enc_to_dec_proj = model.chroma_proj
    return reference.eval()


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@torch.inference_mode()
def compare(preset: str, seconds: float, repeats: int) -> dict:
    torch.manual_seed(0)
    codec = EncodecCodec.from_preset(CODECS[preset])
    model = build_model(preset, codec.num_codebooks, codec.cardinality).eval()
    model.config.use_context = False  # generate() has no time-aligned context
    frames = round(seconds * codec.frame_rate)
    audio = torch.randn(1, round(seconds * codec.sample_rate)) * 0.1
    features = chroma(audio, codec.sample_rate)
    prompt = "a bright saw lead carrying the melody"
    context = torch.zeros(1, codec.num_codebooks, frames, dtype=torch.long)
    settings = GenerationSettings(guidance_text=3.0, guidance_context=1.0, top_k=250)
    codes, _ = sample_window(model, prompt, context, features, settings, torch.Generator().manual_seed(0))
    ours = best_of(repeats, lambda: sample_window(model, prompt, context, features, settings, torch.Generator().manual_seed(0)))
    decode = best_of(repeats, lambda: codec.decode(codes))

    reference = reference_model(model, codec)
    tokens = model.text_encoder.tokenizer([prompt], return_tensors="pt")
    kwargs = dict(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"],
                  input_features=dominant_pitch_class(features), do_sample=True, top_k=250, guidance_scale=3.0,
                  max_new_tokens=frames + codec.num_codebooks - 1)
    reference.generate(**kwargs)
    theirs_total = best_of(repeats, lambda: reference.generate(**kwargs))
    theirs = max(theirs_total - decode, 1e-9)
    steps = frames + codec.num_codebooks - 1
    params = sum(p.numel() for p in model.decoder.parameters())
    return dict(preset=preset, params=params, steps=steps, ours=ours, theirs=theirs, theirs_total=theirs_total,
                decode=decode, seconds=seconds)


def pipeline(seconds: float) -> dict:
    """Read a stereo 44.1 kHz file, encode, LM with guidance, decode, write: the small preset end to end."""
    torch.manual_seed(0)
    codec = EncodecCodec.from_preset("small")
    pipe = Pipeline(build_model("small", codec.num_codebooks, codec.cardinality).eval(), codec)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "song.wav"
        t = np.arange(round(seconds * 44100)) / 44100
        write_audio(source, np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)]), 44100)
        start = time.perf_counter()
        audio, sr, stems = pipe.render_file(source, "a soft dark pad holding the chords", GenerationSettings())
        write_audio(Path(tmp) / "synth.wav", stems[0], sr)
        elapsed = time.perf_counter() - start
    return dict(seconds=seconds, elapsed=elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length of the loop comparison")
    parser.add_argument("--pipeline-seconds", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    print(f"torch {torch.__version__}, {args.threads} threads; {args.seconds:.0f} s of audio, guidance 3, top-k 250")
    print(f"{'preset':8} {'decoder':>9} {'steps':>6} {'ours s':>8} {'ours fr/s':>10} {'generate() s':>13} "
          f"{'its fr/s':>9} {'speed-up':>9} {'ours RTF':>9}")
    for preset in ("tiny", "small"):
        r = compare(preset, args.seconds, args.repeats)
        print(f"{preset:8} {r['params'] / 1e6:8.2f}M {r['steps']:6d} {r['ours']:8.2f} {r['steps'] / r['ours']:10.1f} "
              f"{r['theirs']:13.2f} {r['steps'] / r['theirs']:9.1f} {r['theirs'] / r['ours']:8.2f}x "
              f"{r['seconds'] / r['ours']:8.2f}x   (generate() total with decode {r['theirs_total']:.2f} s, decode {r['decode']:.2f} s)")
    p = pipeline(args.pipeline_seconds)
    rtf = p["seconds"] / p["elapsed"]
    print(f"small pipeline: {p['seconds']:.0f} s stereo 44.1 kHz file -> stem in {p['elapsed']:.1f} s = {rtf:.2f}x real time "
          f"(goal >= 5x): {'PASS' if rtf >= 5 else 'FAIL'}")


if __name__ == "__main__":
    main()
