"""What the tests run on, made by the tests: audio, data folders in every layout, tiny models; and a peak meter."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float, sr: int, channels: int = 1, freq: float = 220.0, seed: int = 0) -> np.ndarray:
    """A sine plus a little noise, [channels, N] float32, different in every channel."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sr)) / sr
    rows = [0.4 * np.sin(2 * np.pi * freq * (c + 1) * t) + 0.01 * rng.standard_normal(t.size) for c in range(channels)]
    return np.stack(rows).astype(np.float32)


def pulsing_chord(seconds: float, sr: int) -> np.ndarray:
    """A pulsing chord, bass to 4 kHz, [N] float32."""
    t = np.arange(int(seconds * sr)) / sr
    notes = [110.0, 220.0 * 2 ** (4 / 12), 220.0 * 2 ** (7 / 12), 880.0]
    x = sum(np.sin(2 * np.pi * f * k * t) / k for f in notes for k in range(1, 6)).astype(np.float32)
    return 0.1 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t)).astype(np.float32)


def peak_dbfs(audio: np.ndarray) -> float:
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def write(path: Path, audio: np.ndarray, sr: int, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.T, sr, **kwargs)
    return path


def make_seed_layout(root: Path, lengths: list[float], sr: int = 32000) -> Path:
    """mix/mix_<i>.wav, synth/synth_<i>.wav, description/des_<i>.txt (track 0 has no description)."""
    for i, seconds in enumerate(lengths):
        synth = tone(seconds, sr, freq=440, seed=i)
        write(root / "synth" / f"synth_{i}.wav", synth, sr)
        write(root / "mix" / f"mix_{i}.wav", synth + tone(seconds, sr, freq=110, seed=i + 100), sr)
        if i:
            (root / "description").mkdir(exist_ok=True)
            (root / "description" / f"des_{i}.txt").write_text(f"a bright lead number {i}\n")
    return root


def make_musdb_hq(root: Path, names: dict[str, list[str]], seconds: float = 3.0, sr: int = 44100) -> Path:
    """MUSDB18-HQ wav folders: <subset>/<track>/{mixture,drums,bass,other,vocals}.wav, stereo."""
    for subset, tracks in names.items():
        for j, name in enumerate(tracks):
            stems = {s: tone(seconds, sr, 2, freq=100 * (k + 1), seed=j) for k, s in
                     enumerate(("drums", "bass", "other", "vocals"))}
            for stem, audio in stems.items():
                write(root / subset / name / f"{stem}.wav", audio * 0.5, sr)
            write(root / subset / name / "mixture.wav", sum(stems.values()) * 0.5, sr)
    return root


def make_track_layout(root: Path, splits: dict[str, int], seconds: float = 3.0, sr: int = 32000) -> Path:
    """<split>/<track>/{mixture.wav, synth.wav, description.txt, meta.json}."""
    for split, count in splits.items():
        for i in range(count):
            folder = root / split / f"track_{i:03d}"
            synth = tone(seconds, sr, freq=330, seed=i)
            write(folder / "synth.wav", synth, sr)
            write(folder / "mixture.wav", synth + tone(seconds, sr, freq=110, seed=i + 7), sr)
            (folder / "description.txt").write_text(f"soft dark pad {split} {i}")
            (folder / "meta.json").write_text(f'{{"role": "pad", "index": {i}}}')
    return root


def make_musdb_stems(root: Path, names: dict[str, list[str]], seconds: float = 2.0) -> Path:
    """MUSDB18 <subset>/<track>.stem.mp4 files (5 AAC streams), made with ffmpeg."""
    scratch = root / "_wav"
    make_musdb_hq(scratch, names, seconds)
    for subset, tracks in names.items():
        for name in tracks:
            inputs = [scratch / subset / name / f"{s}.wav" for s in ("mixture", "drums", "bass", "other", "vocals")]
            cmd = ["ffmpeg", "-loglevel", "error", "-y"]
            for path in inputs:
                cmd += ["-i", str(path)]
            for k in range(len(inputs)):
                cmd += ["-map", str(k)]
            cmd += ["-c:a", "aac", "-b:a", "128k", str(root / subset / f"{name}.stem.mp4")]
            (root / subset).mkdir(parents=True, exist_ok=True)
            subprocess.run(cmd, check=True)
    shutil.rmtree(scratch)
    return root


def make_tiny_musicgen_melody(directory: Path) -> Path:
    """A tiny random MusicGen-Melody (T5 + EnCodec + decoder) and a word-level tokenizer, saved the way
    a `facebook/musicgen-melody` snapshot is, so the pretrained path can be tested offline."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (MusicgenMelodyConfig, MusicgenMelodyDecoderConfig,
                              MusicgenMelodyForConditionalGeneration, PreTrainedTokenizerFast, T5Config)

    from synthgen.codec import EncodecCodec

    words = "a bright dark soft warm pad lead bass arpeggio synth saw sine holding the chords playing melody".split()
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>", eos_token="</s>")
    text = T5Config(vocab_size=len(vocab), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    audio = EncodecCodec.from_preset("tiny", seed=5).model.config
    decoder = MusicgenMelodyDecoderConfig(vocab_size=64, num_codebooks=4, hidden_size=24, num_hidden_layers=2,
                                          num_attention_heads=2, ffn_dim=48, pad_token_id=64, bos_token_id=64)
    config = MusicgenMelodyConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=decoder.to_dict(),
                                  chroma_length=20)
    torch.manual_seed(0)
    MusicgenMelodyForConditionalGeneration(config).save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


def make_tiny_model_dir(directory: Path) -> Path:
    """A tiny random SynthGen pipeline with a tiny codec whose codes vary with the audio, saved for loading."""
    import torch

    from synthgen.codec import EncodecCodec
    from synthgen.model import build_model
    from synthgen.pipeline import SynthGen

    torch.manual_seed(0)
    model = build_model("tiny", 4, 64)
    torch.nn.init.normal_(model.mix_proj.weight, std=0.5)
    codec = EncodecCodec.from_preset("tiny", seed=1)
    for layer in codec.model.quantizer.layers:
        torch.nn.init.normal_(layer.codebook.embed, std=0.05)
    model.config.chroma_length = 16
    SynthGen(model, codec).save_pretrained(directory)
    return directory


PROGRESSION_SR = 16000
PROGRESSION = [(0, (0, 4, 7)), (9, (0, 3, 7)), (5, (0, 4, 7)), (7, (0, 4, 7))]  # I vi IV V, a bar each


def _decaying_note(midi: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * PROGRESSION_SR)) / PROGRESSION_SR
    f = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 5)) * np.exp(-t * 1.0)


def progression(tonic: int, bpm: float = 120.0, bars: int = 8) -> np.ndarray:
    """The progression in a key as a backing: the chord's triad and its root in the bass, a kick on each beat."""
    beat = 60 / bpm
    out = []
    for bar in range(bars):
        root, intervals = PROGRESSION[bar % 4]
        chord = sum(_decaying_note(48 + (tonic + root + i) % 12, 4 * beat) for i in intervals)
        chord = chord + _decaying_note(36 + (tonic + root) % 12, 4 * beat)
        kick = np.zeros_like(chord)
        for b in range(4):
            start = int(b * beat * PROGRESSION_SR)
            thump = np.arange(600)
            kick[start : start + 600] += np.sin(2 * np.pi * 60 * thump / PROGRESSION_SR) * np.exp(-thump / 150) * 3
        out.append(chord + kick)
    return (0.05 * np.concatenate(out)).astype(np.float32)


def progression_truth(tonic: int, bpm: float = 120.0, bars: int = 8):
    """`progression`'s true beats and chords, as a SynthStems track's meta.json gives them."""
    from synthgen.data.synthstems.truth import SongTruth

    bar = 4 * 60 / bpm
    chords = [dict(start=b * bar, end=(b + 1) * bar, root=(tonic + PROGRESSION[b % 4][0]) % 12,
                   pitch_classes=[(tonic + PROGRESSION[b % 4][0] + i) % 12 for i in PROGRESSION[b % 4][1]])
              for b in range(bars)]
    return SongTruth.of(dict(meter="4/4", step_seconds=60 / bpm / 4, seconds=bars * bar, key_tonic=tonic, mode="major",
                             chords=chords))
