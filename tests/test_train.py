import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from synthgen.errors import SynthGenError
from synthgen.model import CodecLM
from synthgen.training.lm import TrainConfig, Trainer, rank_batches
from tests.helpers.factories import make_track_layout

RUN = [sys.executable, "-m", "synthgen"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    make_track_layout(root / "data", {"train": 7, "valid": 1, "test": 2}, seconds=3.0)
    subprocess.run([*RUN, "prepare", root / "data", "--out", root / "cache", "--window", "2", "--hop", "1", "--codec", "tiny"],
                   check=True, capture_output=True)
    return root / "cache"  # 14 training windows


def losses(run):
    return {r["step"]: r["loss"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "loss" in r}


@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize("windows", [13, 14, 30])
def test_each_window_once_per_epoch(world, windows):
    order = list(range(windows))
    seen = [i for rank in range(world) for batch in rank_batches(order, 4, rank, world) for i in batch]
    assert len(seen) == len(set(seen))
    assert len(seen) >= windows - world + 1  # only a last global batch smaller than the world is skipped
    counts = [len(rank_batches(order, 4, rank, world)) for rank in range(world)]
    assert len(set(counts)) == 1 and all(batch for r in range(world) for batch in rank_batches(order, 4, r, world))


def test_resume_after_sigkill_reproduces_losses(cache, tmp_path):
    args = ["--data", cache, "--preset", "tiny", "--steps", 80, "--batch-size", 2, "--save-every", 5,
            "--eval-every", 40, "--warmup", 5, "--lr", "3e-3"]
    straight = subprocess.run([*RUN, "train", *map(str, args), "--out", tmp_path / "straight"], capture_output=True, text=True)
    assert straight.returncode == 0, straight.stderr[-2000:]

    run = tmp_path / "killed"
    proc = subprocess.Popen([*RUN, "train", *map(str, args), "--out", str(run)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = run / "checkpoint" / "trainer_state.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (state.is_file() and json.loads(state.read_text())["step"] >= 10):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "model").exists(), "training must be killed before it ends"

    refused = subprocess.run([*RUN, "train", *map(str, args), "--out", str(run)], capture_output=True, text=True)
    assert refused.returncode != 0 and "--resume" in refused.stderr
    resumed = subprocess.run([*RUN, "train", *map(str, args), "--out", str(run), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = losses(tmp_path / "straight"), losses(run)
    assert sorted(a) == sorted(b) == list(range(1, 81))
    assert all(a[s] == pytest.approx(b[s], rel=1e-6, abs=1e-7) for s in a)
    assert a[80] < a[1]


def test_distributed_training_on_two_cpu_processes(cache, tmp_path):
    proc = subprocess.run(
        ["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
         "--dynamo_backend", "no", "tests/helpers/distributed_train.py", str(cache), str(tmp_path / "run")],
        capture_output=True, text=True, timeout=600, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / "run" / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world"] for r in ranks] == [2, 2]
    assert ranks[0]["weights"] == ranks[1]["weights"]
    for epoch in ("epoch0", "epoch1"):
        seen = [i for r in ranks for batch in r[epoch] for i in batch]
        assert sorted(seen) == list(range(ranks[0]["windows"]))  # 14 windows: every one once
    assert CodecLM.from_pretrained(tmp_path / "run").num_codebooks == 4


def test_eval_reports_model_and_references(cache, tmp_path):
    trainer = Trainer(TrainConfig(data=str(cache), out=str(tmp_path / "run"), preset="tiny", steps=3, batch_size=4,
                                  save_every=3, eval_every=3), progress=False)
    trainer.train()
    proc = subprocess.run([*RUN, "eval", "--model", tmp_path / "run", "--data", cache], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "run" / "eval_test.json").read_text())
    assert set(report["results"]) == {"model", "model, no text", "model, no mix", "model, no conditions", "unigram"}
    assert report["windows"] == 4
    for row in report["results"].values():
        assert len(row["cross_entropy_codebooks"]) == 4
        assert row["perplexity_codebooks"][0] == pytest.approx(2.718281828 ** row["cross_entropy_codebooks"][0])
    assert "| unigram |" in (tmp_path / "run" / "eval_test.md").read_text()


def test_init_fine_tunes_a_trained_model(cache, tmp_path):
    Trainer(TrainConfig(data=str(cache), out=str(tmp_path / "run"), preset="tiny", steps=3, batch_size=4, save_every=3,
                        eval_every=3, lr=3e-3), progress=False).train()
    trained = CodecLM.from_pretrained(tmp_path / "run").state_dict()
    tuned = Trainer(TrainConfig(data=str(cache), out=str(tmp_path / "tuned"), init=str(tmp_path / "run"), steps=2,
                                batch_size=4, save_every=2, eval_every=2), progress=False)
    start = tuned.model.state_dict()
    assert trained.keys() <= start.keys() and all(torch.equal(start[k], v) for k, v in trained.items())  # not a new `small`
    tuned.train()
    after = CodecLM.from_pretrained(tmp_path / "tuned").state_dict()
    assert any(not torch.equal(after[k], v) for k, v in trained.items())
    refused = subprocess.run([*RUN, "train", "--data", cache, "--out", tmp_path / "lstm", "--arch", "lstm", "--init",
                              tmp_path / "run"], capture_output=True, text=True)
    assert refused.returncode != 0 and "--init" in refused.stderr


def test_the_exported_model_is_the_one_with_the_lowest_validation_loss(cache, tmp_path, monkeypatch):
    config = TrainConfig(data=str(cache), out=str(tmp_path / "run"), preset="tiny", steps=20, batch_size=2, eval_every=10,
                         save_every=100, warmup=2, lr=3e-3)
    trainer = Trainer(config, resume=False, progress=False)
    scripted = {10: 1.0, 20: 2.0}  # the last validation is worse than the first
    snapshots = {}

    def validate():
        snapshots[trainer.step] = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        return dict(step=trainer.step, valid_loss=scripted[trainer.step], valid_loss_parts=[scripted[trainer.step]] * 4)

    monkeypatch.setattr(trainer, "validate", validate)
    exported = CodecLM.from_pretrained(trainer.train()).state_dict()
    name = next(k for k in exported if "decoder" in k and k.endswith("weight"))
    assert torch.equal(exported[name], snapshots[10][name]) and not torch.equal(exported[name], snapshots[20][name])
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [(r["step"], r["best"]) for r in log if "valid_loss" in r] == [(10, True), (20, False)]
    assert json.loads((tmp_path / "run" / "checkpoint" / "trainer_state.json").read_text())["best_valid"] == 1.0


def test_synthstems_descriptions_are_reworded_each_epoch_from_the_same_attributes(tmp_path):
    from synthgen.data.cache import CodeCache
    from synthgen.data.synthstems.describe import BRIGHTNESS, can_describe
    from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset
    from synthgen.data.batches import Paraphrased

    generate_dataset(tmp_path / "data", 3, SynthStemsConfig(seconds=3.0, seed=4), (1.0, 0.0, 0.0), progress=False)
    assert subprocess.run([*RUN, "prepare", tmp_path / "data", "--out", tmp_path / "cache", "--window", "2", "--hop", "1",
                           "--codec", "tiny"],
                          capture_output=True).returncode == 0
    cache = CodeCache(tmp_path / "cache", split="train")
    data = Paraphrased(cache, seed=0)
    wordings = []
    for epoch in range(4):
        data.set_epoch(epoch)
        wordings.append([data[i]["prompt"] for i in range(len(data))])
    assert wordings[0] != wordings[1] and len({w[0] for w in wordings}) > 1  # a track is not one fixed sentence
    data.set_epoch(1)
    assert [data[i]["prompt"] for i in range(len(data))] == wordings[1]  # the same epoch: the same words (resume)
    for i in range(len(data)):
        attributes = cache.window(i)["attributes"]
        assert can_describe(attributes)
        said = [w[i] for w in wordings]
        assert all(any(word in text for word in BRIGHTNESS[attributes["brightness"]]) for text in said)  # same brightness
        assert torch.equal(data[i]["target"], cache[i]["target"])


def test_eval_refuses_a_cache_made_by_another_codec(cache, tmp_path):
    Trainer(TrainConfig(data=str(cache), out=str(tmp_path / "run"), preset="tiny", steps=1, batch_size=4, save_every=1,
                        eval_every=1), progress=False).train()
    other = tmp_path / "other-codec"
    subprocess.run([*RUN, "prepare", cache.parent / "data", "--out", other, "--window", "2", "--hop", "1", "--codec",
                    "spectral:tiny"], check=True, capture_output=True)
    proc = subprocess.run([*RUN, "eval", "--model", tmp_path / "run", "--data", other], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "its codes were made by codec 'preset:spectral:tiny'" in proc.stderr


def test_the_model_trains_in_train_mode_at_every_step_across_exports(cache, tmp_path, monkeypatch):
    trainer = Trainer(TrainConfig(data=str(cache), out=str(tmp_path / "run"), preset="tiny", steps=6, batch_size=2,
                                  eval_every=2, save_every=100), progress=False)
    modes = []
    forward = trainer.model.loss

    def spy(batch, condition="train"):
        modes.append(trainer.model.training)
        return forward(batch, condition)

    monkeypatch.setattr(trainer.model, "loss", spy)
    trainer.train()
    assert modes == [True] * 6  # exports at steps 2, 4 and 6 leave dropout on for the steps after them
    assert CodecLM.from_pretrained(tmp_path / "run").training is False  # what was exported is ready for inference


def test_a_lora_run_keeps_training_its_adapters_after_an_export(tmp_path):
    from synthgen.model.pretrained import from_musicgen_melody
    from tests.helpers.factories import make_tiny_musicgen_melody

    snapshot = make_tiny_musicgen_melody(tmp_path / "musicgen")
    from_musicgen_melody(snapshot)[1].save_pretrained(tmp_path / "codec")
    make_track_layout(tmp_path / "data", {"train": 2, "valid": 1}, seconds=3.0)
    subprocess.run([*RUN, "prepare", tmp_path / "data", "--out", tmp_path / "cache", "--window", "2", "--hop", "1",
                    "--codec", tmp_path / "codec"], check=True, capture_output=True)
    trainer = Trainer(TrainConfig(data=str(tmp_path / "cache"), out=str(tmp_path / "run"), preset="musicgen-melody",
                                  pretrained=str(snapshot), lora=True, steps=4, batch_size=2, eval_every=1,
                                  save_every=100, lr=1e-2), progress=False)
    adapters = {}

    def adapter_weights():
        return {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_" in n}

    finish = trainer._finish_step

    def spy(parts, bar):
        finish(parts, bar)  # validates and exports at every step
        adapters[trainer.step] = adapter_weights()

    trainer._finish_step = spy
    trainer.train()
    assert adapters[1] and all(len(a) == len(adapters[1]) for a in adapters.values())  # adapters not merged away
    for step in (2, 3, 4):
        assert any(not torch.equal(adapters[step][n], adapters[step - 1][n]) for n in adapters[step])


def test_a_damaged_latest_checkpoint_resumes_from_the_previous_one(cache, tmp_path, capsys):
    config = TrainConfig(data=str(cache), out=str(tmp_path / "run"), preset="tiny", steps=10, batch_size=2,
                         save_every=5, eval_every=10, warmup=2, lr=3e-3)
    Trainer(config, progress=False).train()
    straight = losses(tmp_path / "run")
    run = tmp_path / "run"
    assert json.loads((run / "checkpoint.previous" / "trainer_state.json").read_text())["step"] == 5
    for weights in (run / "checkpoint").glob("*.safetensors"):
        weights.write_bytes(weights.read_bytes()[:100])
    capsys.readouterr()
    trainer = Trainer(config, resume=True, progress=False)
    assert trainer.step == 5
    warning = capsys.readouterr().err
    assert "damaged checkpoint" in warning and "resumed from" in warning and "checkpoint.previous" in warning
    trainer.train()
    assert losses(run) == pytest.approx(straight, rel=1e-6, abs=1e-7)

    for folder in (run / "checkpoint", run / "checkpoint.previous"):
        (folder / "trainer_state.json").write_text("{")
    with pytest.raises(SynthGenError, match="no checkpoint could be loaded"):
        Trainer(config, resume=True, progress=False)
