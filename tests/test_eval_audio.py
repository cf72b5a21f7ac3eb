"""The audio evaluation suite on SynthStems windows: references that must separate, and the command."""

import json

import numpy as np
import pytest
import torch

from tests.helpers.factories import make_tiny_model_dir
from synthgen.cli import main
from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset
from synthgen.eval.suite import eval_windows, other_key_truths, run_suite, steering_prompts

SR = 32000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthstems")
    generate_dataset(out, 12, SynthStemsConfig(seconds=8.0, seed=5), (0.25, 0.0, 0.75), workers=2, progress=False)
    return out


def test_windows_are_back_to_back_and_round_robin(data):
    windows = eval_windows(data, "test", SR, seconds=4.0)
    tracks = sorted({w.track for w in windows})
    assert len(windows) == 2 * len(tracks) and len(tracks) >= 6
    assert [w.start for w in windows[: len(tracks)]] == [0.0] * len(tracks)  # first windows of every track first
    assert all(len(w.mix) == len(w.truth) == 4 * SR for w in windows)
    assert len(eval_windows(data, "test", SR, seconds=4.0, limit=5)) == 5


def test_other_key_reference_comes_from_another_track_in_a_distant_key(data):
    windows = eval_windows(data, "test", SR, seconds=4.0)
    for window, other in zip(windows, other_key_truths(windows)):
        source = next(w for w in windows if w.truth is other)
        assert source.track != window.track
        shared = set(window.attributes["scale"]) & set(source.attributes["scale"])
        assert len(shared) < 7


def test_truth_fits_its_mix_better_than_the_other_key_reference(data):
    windows = eval_windows(data, "test", SR, seconds=4.0)
    rows = run_suite([], windows, SR, progress=False)["rows"]
    truth, other = rows["truth"], rows["other-key"]
    assert truth["harmony"] > other["harmony"] + 0.1
    assert truth["in_key"] > 0.8 and truth["in_key"] > other["in_key"] + 0.1  # on the mix's scale
    assert truth["mrstft"] == pytest.approx(0.0, abs=1e-3) and other["mrstft"] > 0.5
    for attribute in ("brightness", "attack", "register", "role"):
        assert 0.0 <= other[attribute] <= 1.0
        assert truth[attribute] >= other[attribute], attribute


def test_codec_reference_measures_the_truth_after_the_codec(data):
    class HalfGainCodec:  # keeps pitch and timing, loses level: harmony as the truth's, distance above 0
        device = torch.device("cpu")

        def reconstruct(self, audio):
            return 0.5 * audio

    windows = eval_windows(data, "test", SR, seconds=4.0, limit=4)
    rows = run_suite([], windows, SR, progress=False, codec=HalfGainCodec())["rows"]
    assert list(rows) == ["truth", "other-key", "truth-codec"]
    assert rows["truth-codec"]["harmony"] == pytest.approx(rows["truth"]["harmony"], abs=1e-6)
    assert rows["truth-codec"]["mrstft"] > 0.1 and rows["truth"]["mrstft"] == pytest.approx(0.0, abs=1e-3)


def test_steering_prompts_differ_only_in_the_asked_attribute():
    attributes = dict(role="lead", brightness="warm", attack="soft", waveform="saw", register="mid", unison=1,
                      vibrato=False, effects=[], speed="steady", tempo=120.0, key="C major")
    prompts = steering_prompts(attributes, seed=3)
    assert prompts["bright"] != prompts["dark"] and prompts["pad"] != prompts["pluck"]
    assert steering_prompts(attributes, seed=3) == prompts


def test_eval_audio_command_writes_report_plots_and_audio(data, tmp_path, capsys):
    model = make_tiny_model_dir(tmp_path / "tiny")
    out = tmp_path / "report"
    assert main(["eval-audio", "--model", str(model), "--data", str(data), "--out", str(out), "--window", "3",
                 "--windows", "2", "--steering", "--plots", "1", "--device", "cpu"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert list(report["rows"]) == ["truth", "other-key", "truth-codec", "tiny"]
    # the true stem through the model's (random, tiny) codec: a ceiling that has lost something
    assert report["rows"]["truth-codec"]["mrstft"] > 0.1 and "rtf" not in report["rows"]["truth-codec"]
    row = report["rows"]["tiny"]
    assert {"harmony", "rhythm", "brightness", "mrstft", "mel_l1", "frechet", "rtf", "bright_brighter", "pad_slower"} <= set(row)
    assert row["rtf"] > 0 and np.isfinite(row["frechet"]) and report["rows"]["truth"]["frechet"] == pytest.approx(0, abs=1e-6)
    assert "| tiny |" in (out / "report.md").read_text() and "| tiny |" in capsys.readouterr().out
    assert (out / "metrics.png").stat().st_size > 0 and (out / "window_0.png").stat().st_size > 0
    assert sorted(p.name for p in (out / "audio").iterdir()) == [
        "window_0_mix.flac", "window_0_other-key.flac", "window_0_tiny.flac", "window_0_truth-codec.flac",
        "window_0_truth.flac"]


def test_eval_audio_refuses_a_split_without_tracks(data, tmp_path, capsys):
    model = make_tiny_model_dir(tmp_path / "tiny")
    assert main(["eval-audio", "--model", str(model), "--data", str(data), "--split", "valid", "--out", str(tmp_path / "r")]) != 0
    assert "no 'valid' tracks" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("spec, problem", [("nocolon", "expected MODULE:FUNCTION"), ("no_such_module_x:f", "cannot import"),
                                           ("json:no_such_function", "json has no no_such_function")])
def test_eval_audio_refuses_a_bad_embedding_name_before_any_work(data, tmp_path, capsys, spec, problem):
    model = make_tiny_model_dir(tmp_path / "tiny")
    assert main(["eval-audio", "--model", str(model), "--data", str(data), "--embedding", spec, "--out", str(tmp_path / "r")]) == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
