"""The model that ships inside the package: small enough, loadable, and used by the README's main command."""

import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from synthgen.files import DEFAULT_MODEL
from synthgen.pipeline import SynthGen
from synthgen.planner.plan import PROGRAMS

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "backing.flac"


def test_the_shipped_model_v3_loads_by_default_with_its_planner_and_is_at_most_60_mb():
    files = [p for p in DEFAULT_MODEL.rglob("*") if p.is_file()]
    assert (DEFAULT_MODEL / "config.json").is_file() and (DEFAULT_MODEL / "codec" / "config.json").is_file()
    assert sum(p.stat().st_size for p in files) <= 60 * 2**20
    pipeline = SynthGen.from_pretrained()  # no directory: the shipped one
    assert pipeline.model.config.preset == "small" and pipeline.codec.name == str((DEFAULT_MODEL / "codec").resolve())
    assert pipeline.model.config.notes and pipeline.model.notes_proj[1].weight.abs().sum() > 0  # the renderer
    assert pipeline.planner_folder == DEFAULT_MODEL / "planner" and pipeline.planner.config.layers > 0


def test_readme_main_command_writes_a_synth_track_and_its_plan_for_the_example(tmp_path):
    out, midi = tmp_path / "synth.wav", tmp_path / "synth.mid"
    done = subprocess.run([sys.executable, "-m", "synthgen", "generate", str(EXAMPLE), "--prompt",
                           "a soft dark pad holding the chords", "--out", str(out), "--midi", str(midi)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    part = mido.MidiFile(str(midi)).tracks[-1]
    assert [m.program for m in part if m.type == "program_change"] == [PROGRAMS["pad"]]
    assert sum(m.type == "note_on" and m.velocity > 0 for m in part) >= 8  # the plan's notes
    mix, stem = sf.info(str(EXAMPLE)), sf.info(str(out))
    assert (stem.samplerate, stem.channels, stem.frames) == (mix.samplerate, mix.channels, mix.frames)
    audio, _ = sf.read(out)
    assert np.isfinite(audio).all() and np.sqrt((audio**2).mean()) > 1e-3  # a real, audible part


def test_the_shipped_codec_is_the_spectral_one_that_keeps_pitch():
    from synthgen.codec import load_codec
    from synthgen.eval.codec import note_pitch_accuracy

    files = [p for p in (DEFAULT_MODEL / "codec").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 8 * 2**20
    codec = load_codec(DEFAULT_MODEL / "codec")
    assert (codec.kind, codec.cardinality, codec.num_codebooks) == ("spectral", 1024, 4)
    assert note_pitch_accuracy(codec, range(60, 72)) == 1.0  # every pitch class of the octave above middle C
