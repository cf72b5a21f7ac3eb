"""Codec evaluation: what a codec keeps of held-out audio and of single notes, and how fast it runs.

Audio is [B, 1, N] at the codec's rate.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from synthgen.codec import Codec
from synthgen.data.tones import harmonic_notes
from synthgen.eval.distances import mel_l1, multi_resolution_stft_loss, si_sdr
from synthgen.eval.metrics import harmonic_fit
from synthgen.dsp import pitch_class_profile
from synthgen.eval.probes import frame_comb_share

NOTE_RANGE = range(36, 85)  # MIDI C2-C6: the registers SynthStems parts play in
HIGH_NOTE_RANGE = range(72, 97)  # MIDI C5-C7: high leads


@torch.no_grad()
def note_pitch_accuracy(codec: Codec, midi_notes=NOTE_RANGE) -> float:
    """Share of plain harmonic notes (one per semitone, `harmonic_notes`) whose reconstruction's strongest
    pitch class is the note's own: does a codec keep the pitch of a single note? 1 for a transparent codec,
    1/12 by chance."""
    notes = harmonic_notes(midi_notes, codec.sample_rate).to(codec.device)
    decoded = codec.reconstruct(notes)[:, 0].float().cpu().numpy()
    hits = [int(np.argmax(pitch_class_profile(x, codec.sample_rate).mean(axis=0))) == midi % 12
            for x, midi in zip(decoded, midi_notes)]
    return float(np.mean(hits))


def codebook_perplexity(codes: torch.Tensor, cardinality: int) -> list[float]:
    """Perplexity of each codebook's code distribution over codes [B, K, T] (cardinality when all are used
    equally often, 1 when one code is always chosen)."""
    out = []
    for q in range(codes.shape[1]):
        counts = torch.bincount(codes[:, q].flatten(), minlength=cardinality).float()
        p = counts[counts > 0] / counts.sum()
        out.append(float(torch.exp(-(p * p.log()).sum())))
    return out


@torch.no_grad()
def evaluate_codec(codec: Codec, audio: torch.Tensor) -> dict:
    """Reconstruction of held-out audio [B, 1, N] through encode -> decode (spectral distances, SI-SDR,
    `harmony`: the chroma correlation of reconstruction and original, 1 when pitch survives the codec;
    `level_db`: the reconstruction's RMS against the original's, mean over segments; `frame_comb`: the
    share of the reconstruction's energy on multiples of the frame rate, the decoder's periodic artefact),
    `note_pitch` and `note_pitch_high` (`note_pitch_accuracy` on C2-C6 and C5-C7, synthetic notes rather
    than `audio`), codebook usage and encode / decode speed in x real time."""
    start = time.perf_counter()
    codes = codec.encode(audio)
    encoded = time.perf_counter()
    decoded = codec.decode(codes)[..., : audio.shape[-1]]
    seconds = audio.shape[0] * audio.shape[-1] / codec.sample_rate
    speed = dict(encode_x_realtime=seconds / (encoded - start), decode_x_realtime=seconds / (time.perf_counter() - encoded))
    x, y = decoded[:, 0], audio[:, 0]
    decoded_np, original_np = x.float().cpu().numpy(), y.float().cpu().numpy()
    harmony = [harmonic_fit(a, b, codec.sample_rate) for a, b in zip(decoded_np, original_np)]
    level = 20 * np.log10((decoded_np.std(axis=1) + 1e-8) / (original_np.std(axis=1) + 1e-8))
    comb = [frame_comb_share(a, codec.sample_rate, codec.frame_rate) for a in decoded_np]
    return dict(stft_distance=float(multi_resolution_stft_loss(x, y)), mel_l1=float(mel_l1(x, y, codec.sample_rate)),
                si_sdr_db=float(si_sdr(x, y).mean()), harmony=float(np.nanmean(harmony)), level_db=float(level.mean()),
                frame_comb=float(np.mean(comb)), note_pitch=note_pitch_accuracy(codec),
                note_pitch_high=note_pitch_accuracy(codec, HIGH_NOTE_RANGE),
                codebook_perplexity=codebook_perplexity(codes, codec.cardinality), **speed, segments=int(audio.shape[0]))


TABLE_COLUMNS = (("note_pitch", "note pitch C2-C6", "{:.3f}"), ("note_pitch_high", "note pitch C5-C7", "{:.3f}"),
                 ("harmony", "held-out harmony", "{:.3f}"), ("frame_comb", "frame comb", "{:.3f}"),
                 ("level_db", "level dB", "{:+.1f}"), ("mel_l1", "mel L1", "{:.3f}"), ("si_sdr_db", "SI-SDR dB", "{:.1f}"),
                 ("codebook_perplexity", "perplexity per codebook", None),
                 ("encode_x_realtime", "encode x real time", "{:.0f}"), ("decode_x_realtime", "decode x real time", "{:.0f}"))


def codec_table(rows: list[dict]) -> str:
    """Markdown table of `evaluate_codec` results, one row per codec (each row also has `codec` and `kind`)."""
    lines = ["| codec | kind | " + " | ".join(title for _, title, _ in TABLE_COLUMNS) + " |",
             "|" + " --- |" * (len(TABLE_COLUMNS) + 2)]
    for row in rows:
        cells = [" ".join(str(round(p)) for p in row[key]) if fmt is None else fmt.format(row[key]) for key, _, fmt in TABLE_COLUMNS]
        lines.append(f"| {row['codec']} | {row['kind']} | " + " | ".join(cells) + " |")
    suites = [row for row in rows if "suite" in row]
    if suites:
        keys = [k for k in ("harmony", "attack", "role") if k in suites[0]["suite"]["truth"]]
        lines += ["", f"eval-audio references on {suites[0]['suite']['windows']} test windows (truth: the true stems; "
                  "truth-codec: the same through the codec):", "",
                  "| codec | " + " | ".join(f"truth {k} | truth-codec {k}" for k in keys) + " |", "|" + " --- |" * (1 + 2 * len(keys))]
        for row in suites:
            cells = [f"{row['suite']['truth'][k]:.3f} | {row['suite']['truth_codec'][k]:.3f}" for k in keys]
            lines.append(f"| {row['codec']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def truth_through_codec(codec: Codec, data: str, split: str = "test", windows: int | None = None, progress: bool = True) -> dict:
    """eval-audio's reference rows for a codec alone: `truth` (the true synth stems) and `truth-codec` (the same
    through this codec, the ceiling of any language model writing its codes), each a dict of suite measures
    (harmony, attack, role ...), on the split's 10 s windows."""
    from synthgen.eval.suite import CODEC_REFERENCE, eval_windows, run_suite

    chosen = eval_windows(data, split, codec.sample_rate, limit=windows)
    rows = run_suite([], chosen, codec.sample_rate, progress=progress, codec=codec)["rows"]
    return dict(truth=rows["truth"], truth_codec=rows[CODEC_REFERENCE], windows=len(chosen))


def example_audio(data: str, sample_rate: int, seconds: float = 6.0) -> dict[str, np.ndarray]:
    """Audio to look at through a codec: a lead and a pad synth stem and a mixture, [N] each, the first
    `seconds` of the first valid or test track that has each (SynthStems' `role` attribute)."""
    from synthgen.data.sources import list_tracks, load_pair

    examples: dict[str, np.ndarray] = {}
    length = int(seconds * sample_rate)
    for track in [t for t in list_tracks(data) if t.split in ("valid", "test")]:
        role = track.attributes.get("role")
        wanted = [name for name in (f"{role} stem", "mixture") if name in ("lead stem", "pad stem", "mixture") and name not in examples]
        if wanted:
            mixture, target = load_pair(track, sample_rate, 1, "extract")
            for name in wanted:
                examples[name] = (mixture if name == "mixture" else target)[0, :length]
    return examples


def plot_reconstructions(codecs: dict[str, Codec], examples: dict[str, np.ndarray], out_dir) -> list:
    """One PNG per example in out_dir: the original above each codec's reconstruction (log-frequency
    spectrograms on one time axis). Returns the paths."""
    from pathlib import Path

    from synthgen.plots import waveforms_and_spectrograms

    paths = []
    for name, audio in examples.items():
        tracks = {"original": audio}
        for label, codec in codecs.items():
            x = torch.from_numpy(audio.astype(np.float32))[None, None].to(codec.device)
            tracks[label] = codec.reconstruct(x)[0, 0].float().cpu().numpy()
        sample_rate = next(iter(codecs.values())).sample_rate
        paths.append(waveforms_and_spectrograms(tracks, sample_rate, Path(out_dir) / f"{name.replace(' ', '_')}.png"))
    return paths
