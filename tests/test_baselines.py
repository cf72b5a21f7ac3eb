"""The seed's baselines: they learn, they save and load, they train and evaluate through the same commands."""

import json

import numpy as np
import pytest
import torch

from synthgen.baselines import ConvEncoderDecoder, SynthLSTM, is_baseline_dir, load_baseline
from synthgen.cli import main
from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset

SR = 32000


def batch(seconds: float = 1.0) -> dict:
    """Context: a chord; target: a tone whose pitch follows the chord's root."""
    t = torch.arange(int(seconds * SR)) / SR
    roots = torch.tensor([110.0, 146.8])
    mix = torch.stack([0.2 * sum(torch.sin(2 * np.pi * r * m * t) for m in (1, 1.25, 1.5)) for r in roots])
    target = torch.stack([0.3 * torch.sin(2 * np.pi * 4 * r * t) for r in roots])
    return dict(mix=mix, target=target, valid=torch.tensor([len(t), len(t) // 2]))


@pytest.mark.parametrize("make, steps", [(lambda: SynthLSTM(hidden=64, layers=1), 60),
                                         (lambda: ConvEncoderDecoder(channels=(16, 32)), 200)])
def test_baseline_overfits_one_batch(make, steps):
    torch.manual_seed(0)
    model, data = make(), batch()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss, parts = model.loss(data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert parts.shape == (1,) and losses[-1] < 0.5 * losses[0]


def test_padding_past_the_valid_length_does_not_count():
    model, data = ConvEncoderDecoder(channels=(16, 32)), batch()
    changed = dict(data, target=data["target"].clone())
    changed["target"][1, data["valid"][1] :] = 1.0
    np.testing.assert_allclose(model.item_losses(data)[1].item(), model.item_losses(changed)[1].item(), rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: SynthLSTM(hidden=32, layers=1), lambda: ConvEncoderDecoder(channels=(8, 16))])
def test_save_load_round_trip_and_generate(make, tmp_path):
    model = make().eval()
    model.save_pretrained(tmp_path / "m")
    assert is_baseline_dir(tmp_path / "m") and not is_baseline_dir(tmp_path)
    loaded = load_baseline(tmp_path / "m")
    mix = batch()["mix"][0].numpy()
    torch.testing.assert_close(loaded.synthesize(torch.from_numpy(mix)[None]), model.synthesize(torch.from_numpy(mix)[None]))
    stem = loaded.generate(mix[::2].copy(), 16000, "ignored")  # another rate: same length back
    assert stem.shape == (len(mix) // 2,) and np.isfinite(stem).all()


def test_train_and_eval_audio_commands_take_a_baseline(tmp_path):
    data = tmp_path / "data"
    generate_dataset(data, 6, SynthStemsConfig(seconds=4.0, seed=2), (0.5, 0.0, 0.5), workers=2, progress=False)
    run = tmp_path / "convae"
    assert main(["train", "--arch", "convae", "--data", str(data), "--out", str(run), "--steps", "3",
                 "--batch-size", "2", "--eval-every", "3", "--save-every", "3"]) == 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3] and "valid_loss" in log[-1]
    assert main(["eval-audio", "--model", str(run), "--data", str(data), "--out", str(tmp_path / "r"),
                 "--window", "2", "--windows", "2", "--plots", "0"]) == 0
    row = json.loads((tmp_path / "r" / "report.json").read_text())["rows"]["convae"]
    assert "harmony" in row and "bright_brighter" not in row  # no steering for a model that reads no text


def test_baseline_refuses_a_token_cache(tmp_path, capsys):
    (tmp_path / "cache.json").write_text("{}")
    assert main(["train", "--arch", "lstm", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) != 0
    assert "reads the audio of a data folder" in capsys.readouterr().err
