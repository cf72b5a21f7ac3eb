import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from synthgen.codec import EncodecCodec, load_codec
from synthgen.codec.quantize import ema_quantize, kmeans
from synthgen.data.tones import harmonic_notes
from synthgen.eval.codec import note_pitch_accuracy
from synthgen.eval.distances import mel_l1, multi_resolution_stft_loss, si_sdr
from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset
from synthgen.resampling import resample


def test_reconstruction_metrics_on_known_cases():
    t = torch.arange(32000) / 32000
    clean = torch.sin(2 * torch.pi * 440 * t)[None]
    noisy = clean + 0.1 * torch.randn_like(clean)
    assert si_sdr(clean * 0.5, clean) > 60  # scale does not matter
    assert 15 < si_sdr(noisy, clean) < 25  # about 17 dB of added noise
    assert multi_resolution_stft_loss(clean, clean) < 1e-4 < multi_resolution_stft_loss(noisy, clean)
    assert mel_l1(clean, clean, 32000) < 1e-4 < mel_l1(noisy, clean, 32000)


class _Transposer:
    """A stand-in codec whose reconstruction is its input moved by `semitones` (0: transparent)."""

    sample_rate, device = 32000, torch.device("cpu")

    def __init__(self, semitones: int):
        self.semitones = semitones

    def reconstruct(self, audio: torch.Tensor) -> torch.Tensor:
        # played back at 32 kHz, audio resampled to a lower rate sounds higher
        lower = round(32000 / 2 ** (self.semitones / 12))
        moved = resample(audio[:, 0].numpy(), 32000, lower)  # the notes as channels [B, N']
        return torch.from_numpy(moved[:, : audio.shape[-1]]).float()[:, None]


def test_note_pitch_accuracy_tells_kept_pitch_from_moved_pitch():
    notes = harmonic_notes(range(36, 85), 32000)
    assert notes.shape == (49, 1, 32000) and float(notes.abs().max()) == pytest.approx(0.1, rel=1e-4)
    assert note_pitch_accuracy(_Transposer(0)) == 1.0
    assert note_pitch_accuracy(_Transposer(1)) == 0.0  # every note a semitone sharp: no pitch class kept
    assert note_pitch_accuracy(load_codec("tiny")) < 0.5  # an untrained codec keeps pitch by chance only


def test_kmeans_finds_clusters():
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = torch.cat([c + 0.1 * torch.randn(50, 2, generator=torch.Generator().manual_seed(i)) for i, c in enumerate(centers)])
    found = kmeans(points, 3, generator=torch.Generator().manual_seed(0))
    assert torch.cdist(found, centers).min(dim=0).values.max() < 0.5


def test_ema_quantizer_learns_and_replaces_dead_codes():
    codec = EncodecCodec.from_preset("tiny")
    for layer in codec.model.quantizer.layers:
        layer.codebook.inited.fill_(False)
    embeddings = torch.randn(4, 16, 50, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    quantized, codes, commitment = ema_quantize(codec.model.quantizer.layers, embeddings, True, 0.9, 0.5, torch.Generator().manual_seed(0))
    assert quantized.shape == embeddings.shape and codes.shape == (4, 4, 50)
    assert codes[0].unique().numel() > 20  # k-means initialisation spreads the codes
    (quantized.sum() + commitment).backward()  # straight-through: gradients reach the encoder's output
    assert embeddings.grad is not None and embeddings.grad.abs().sum() > 0
    embeddings = embeddings.detach()
    first = commitment.item()
    for _ in range(20):
        _, _, commitment = ema_quantize(codec.model.quantizer.layers, embeddings, True, 0.9, 0.5, torch.Generator().manual_seed(1))
    assert float(commitment) < first
    assert (codec.model.quantizer.layers[0].codebook.cluster_size >= 0.5).float().mean() > 0.05


@pytest.mark.slow
def test_train_codec_runs_resumes_and_exports(tmp_path):
    generate_dataset(tmp_path / "data", 4, SynthStemsConfig(seconds=3.0, seed=2), (0.5, 0.5, 0.0), progress=False)
    args = [sys.executable, "-m", "synthgen", "train-codec", "--kind", "encodec", "--data", str(tmp_path / "data"),
            "--out", str(tmp_path / "run"), "--preset", "tiny", "--batch-size", "2", "--save-every", "5", "--eval-every", "10", "--warmup-steps", "3"]
    first = subprocess.run([*args, "--steps", "10"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    assert subprocess.run([*args, "--steps", "20"], capture_output=True, text=True).returncode != 0  # needs --resume
    # the second half switches the discriminator on, as a long run trained without one would
    resumed = subprocess.run([*args, "--steps", "20", "--resume", "--adversarial-weight", "1"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == list(range(1, 21))
    adversarial = [r for r in log if "discriminator" in r]
    assert [r["step"] for r in adversarial] == list(range(11, 21))
    assert all(np.isfinite([r["adversarial"], r["feature_matching"], r["discriminator"]]).all() for r in adversarial)
    assert "discriminator" in torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    narrower = subprocess.run([*args, "--steps", "21", "--resume", "--adversarial-weight", "1", "--discriminator-channels", "8"],
                              capture_output=True, text=True)
    assert narrower.returncode != 0 and "resume with --discriminator-channels 32" in narrower.stderr
    valid = [r for r in log if "valid_mel_l1" in r]
    assert [r["step"] for r in valid] == [10, 20]
    assert all(len(r["valid_codebook_perplexity"]) == 4 and np.isfinite(r["valid_si_sdr_db"]) for r in valid)
    assert all(0 <= r["valid_frame_comb"] <= 1 and np.isfinite(r["valid_level_db"]) for r in valid)
    assert all(0 <= r["valid_note_pitch"] <= 1 for r in valid)
    codec = load_codec(tmp_path / "run" / "codec")
    audio = torch.randn(1, 1, 32000, generator=torch.Generator().manual_seed(0))
    assert codec.encode(audio).shape == (1, 4, 50)

    # fine-tuning that codec: quantized from the first step (no warm-up, no new k-means), codes kept
    tuned = subprocess.run([*args[:9], str(tmp_path / "tuned"), "--init", str(tmp_path / "run" / "codec"), "--steps", "3",
                            "--warmup-steps", "500", "--batch-size", "2", "--eval-every", "3"], capture_output=True, text=True)
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    first = json.loads((tmp_path / "tuned" / "log.jsonl").read_text().splitlines()[0])
    assert first["step"] == 1 and first["commitment"] > 0
    same = (load_codec(tmp_path / "tuned" / "codec").encode(audio)[:, 0] == codec.encode(audio)[:, 0]).float().mean()
    assert same > 0.5

    # the decoder alone: the codes, and so the fingerprint that caches and models check, stay the same
    assert subprocess.run([*args[:9], str(tmp_path / "nope"), "--decoder-only", "--steps", "1"],
                          capture_output=True, text=True).returncode != 0  # needs --init
    assert not (tmp_path / "nope").exists()  # and stops before making its run folder
    decoder = subprocess.run([*args[:9], str(tmp_path / "decoder"), "--init", str(tmp_path / "run" / "codec"), "--steps", "3",
                              "--batch-size", "2", "--eval-every", "3", "--decoder-only", "--waveform-weight", "1"],
                             capture_output=True, text=True)
    assert decoder.returncode == 0, decoder.stderr[-2000:]
    rendered = load_codec(tmp_path / "decoder" / "codec")
    codes = codec.encode(audio)
    assert torch.equal(rendered.encode(audio), codes)
    assert rendered.identity()["fingerprint"] == codec.identity()["fingerprint"]
    assert not torch.allclose(rendered.decode(codes), codec.decode(codes))

    # the held-out numbers of the finished codec on their own, as train-codec reported them at its last step
    measured = subprocess.run([sys.executable, "-m", "synthgen", "eval-codec", "--codec", str(tmp_path / "run" / "codec"),
                               "--data", str(tmp_path / "data"), "--out", str(tmp_path / "codec.json")], capture_output=True, text=True)
    assert measured.returncode == 0, measured.stderr[-2000:]
    report = json.loads((tmp_path / "codec.json").read_text())
    assert report["codecs"][0]["mel_l1"] == pytest.approx(valid[-1]["valid_mel_l1"], rel=1e-4) and report["codecs"][0]["segments"] == 32


@pytest.mark.slow
def test_train_spectral_codec_runs_resumes_and_refuses_other_kinds_options(tmp_path):
    generate_dataset(tmp_path / "data", 4, SynthStemsConfig(seconds=3.0, seed=2), (0.5, 0.5, 0.0), progress=False)
    args = [sys.executable, "-m", "synthgen", "train-codec", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
            "--preset", "tiny", "--batch-size", "4", "--save-every", "4", "--eval-every", "8", "--eval-segments", "2"]
    first = subprocess.run([*args, "--steps", "8"], capture_output=True, text=True)  # --kind spectral is the default
    assert first.returncode == 0, first.stderr[-2000:]
    resumed = subprocess.run([*args, "--steps", "12", "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 13))
    assert all(np.isfinite([r["log_l1"], r["linear_l1"], r["chroma"], r["saturation"]]).all() for r in steps)
    assert steps[0]["lr"] < steps[5]["lr"]  # warm-up
    valid = [r for r in log if "valid_note_pitch" in r]
    assert [r["step"] for r in valid] == [8, 12]
    assert all(0 <= r["valid_note_pitch_high"] <= 1 and r["valid_decode_x_realtime"] > 0 for r in valid)
    codec = load_codec(tmp_path / "run" / "codec")
    assert codec.kind == "spectral" and codec.cardinality == 1024
    assert codec.net.bin_mean.abs().sum() > 0  # the data's mean log-magnitude, not the zeros it starts from
    wrong = subprocess.run([*args[:7], str(tmp_path / "x"), "--ema-decay", "0.9"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "--ema-decay is an option of --kind encodec, not spectral" in wrong.stderr
    assert not (tmp_path / "x").exists()
    other = subprocess.run([*args, "--steps", "13", "--resume", "--kind", "encodec"], capture_output=True, text=True)
    assert other.returncode == 2 and "resume it with --kind spectral" in other.stderr
