"""Training the mix analysis's learned parts (synthgen.training.analysis) on a few SynthStems songs it makes."""

import numpy as np

import synthgen.training.analysis as training
from synthgen.analysis.beats import PeriodScorer
from synthgen.analysis.chord_model import ChordModel
from synthgen.analysis.chords import CHORDS
from synthgen.analysis.key import KeyModel
from synthgen.analysis.meter import MeterModel
from synthgen.analysis.weights import part, save_parts
from synthgen.data.synthstems.generator import SynthStemsConfig, generate_dataset


def test_the_four_parts_train_and_load_like_the_shipped_ones(tmp_path, monkeypatch, capsys):
    for style in ("record", "classic"):
        generate_dataset(tmp_path / style, 3, SynthStemsConfig(seconds=8.0, seed=3, style=style),
                         fractions=(1.0, 0.0, 0.0), progress=False)
    for name in ("CHORD_STEPS", "TEMPO_STEPS", "KEY_STEPS", "METER_STEPS"):
        monkeypatch.setattr(training, name, 5)
    training.main([str(tmp_path / "record"), str(tmp_path / "classic"), "--out", str(tmp_path / "analysis.npz")])
    assert "held out: chords right on" in capsys.readouterr().out
    saved = np.load(tmp_path / "analysis.npz")
    assert {name.split("/")[0] for name in saved.files} == {"chords", "tempo", "key", "meter"}
    for cls in (ChordModel, PeriodScorer, KeyModel, MeterModel):  # the same arrays, shapes and names as shipped
        shipped = part(cls.PART)
        trained = {key.split("/", 1)[1]: saved[key] for key in saved.files if key.startswith(cls.PART + "/")}
        assert {k: v.shape for k, v in trained.items()} == {k: v.shape for k, v in shipped.items()}
    model = ChordModel(**{k.split("/", 1)[1]: saved[k] for k in saved.files if k.startswith("chords/")})
    chroma = np.eye(12)[[0, 4, 7]].sum(axis=0, keepdims=True) / np.sqrt(3)
    assert model.log_probabilities(chroma, chroma).shape == (1, len(CHORDS))
    save_parts(tmp_path / "again.npz", {"key": {"weights": saved["key/weights"], "bias": saved["key/bias"]}})
    assert set(np.load(tmp_path / "again.npz").files) == {"key/weights", "key/bias"}
