import json
import os
import subprocess
import sys

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
import torch

import synthgen.generate as generation
import synthgen.streaming as streaming
from synthgen.errors import AudioError, SynthGenError
from synthgen.generate import generate_stem, sample_window, window_plan
from synthgen.generation_settings import GenerationSettings
from synthgen.job import Job
from synthgen.loudness import integrated_loudness
from synthgen.model import build_model
from synthgen.pipeline import SynthGen
from synthgen.placement import mix_preview
from tests.helpers.factories import make_tiny_model_dir, peak_dbfs, tone, write

SETTINGS = dict(window_seconds=2.0, overlap_seconds=0.5)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_tiny_model_dir(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="module")
def pipeline(model_dir):
    return SynthGen.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def model(pipeline):
    return pipeline.model


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_output_matches_input_length_rate_and_channels(pipeline, sr, channels):
    mix = tone(2.3, sr, channels)
    stem, out_sr = pipeline.generate(mix, sr, "a bright saw lead", **SETTINGS)
    assert out_sr == sr and stem.shape == mix.shape and stem.dtype == np.float32
    assert np.abs(stem).max() <= 10 ** (-1 / 20) + 1e-6
    if channels == 2:  # a mono model's stem, spread in stereo: the fold-down is the stem itself
        centred, _ = pipeline.generate(mix, sr, "a bright saw lead", mono=True, **SETTINGS)
        np.testing.assert_array_equal(centred[0], centred[1])
        fold = (stem[0] + stem[1]) / 2
        gain = fold @ centred[0] / (centred[0] @ centred[0])  # the two are brought to the level separately
        assert abs(20 * np.log10(gain)) < 1.0
        np.testing.assert_allclose(fold, gain * centred[0], atol=1e-5)


def test_same_seed_same_output_bit_for_bit(pipeline):
    mix = tone(2.0, 32000)
    a, _ = pipeline.generate(mix, 32000, "a dark pad", seed=3, **SETTINGS)
    b, _ = pipeline.generate(mix, 32000, "a dark pad", seed=3, **SETTINGS)
    c, _ = pipeline.generate(mix, 32000, "a dark pad", seed=4, **SETTINGS)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_guidance_scale_one_is_no_guidance(model, monkeypatch):
    mix_codes = torch.randint(0, 64, (1, 4, 30))
    chroma = torch.rand(1, 8, 12)
    plain = GenerationSettings(guidance_text=1.0, guidance_mix=1.0)
    codes, _ = sample_window(model, "a bright lead", mix_codes, chroma, plain, torch.Generator().manual_seed(0))
    # the same with every guidance row computed in the batch, weighted by (scale - 1) = 0
    monkeypatch.setattr(generation, "_guidance_rows",
                        lambda s, notes: [("full", 1.0, 1.0, 1.0), ("no_text", 0.0, 1.0, 1.0), ("no_mix", 1.0, 0.0, 1.0)])
    guided, _ = sample_window(model, "a bright lead", mix_codes, chroma, plain, torch.Generator().manual_seed(0))
    assert torch.equal(codes, guided)
    strong = GenerationSettings(guidance_text=3.0, guidance_mix=2.0)
    other, _ = sample_window(model, "a bright lead", mix_codes, chroma, strong, torch.Generator().manual_seed(0))
    assert not torch.equal(codes, other)


@pytest.fixture(scope="module")
def model_with_frame_chroma(model_dir):
    model = SynthGen.from_pretrained(model_dir).model
    model.add_frame_chroma()
    torch.nn.init.normal_(model.frame_chroma_proj.weight, std=0.5)
    return model


@pytest.mark.parametrize("previous_frames", [0, 7])
@pytest.mark.parametrize("frame_chroma", [False, True])
def test_cached_loop_logits_equal_a_full_forward(model, model_with_frame_chroma, previous_frames, frame_chroma):
    model = model_with_frame_chroma if frame_chroma else model
    mix_codes = torch.randint(0, 64, (1, 4, 25))
    chroma = torch.rand(1, 8, 12)
    previous = torch.randint(0, 64, (2, 4, previous_frames)) if previous_frames else None
    settings = GenerationSettings(variations=2, guidance_text=1.0, precision="fp32")
    codes, logits = sample_window(model, "soft pad", mix_codes, chroma, settings, torch.Generator().manual_seed(0),
                                  previous_codes=previous, keep_logits=True)
    if previous is not None:
        assert torch.equal(codes[:, :, :previous_frames], previous)
    ones = torch.ones(2)
    full = model.logits_for(codes, mix_codes.expand(2, -1, -1), chroma.expand(2, -1, -1), ["soft pad"] * 2, ones, ones)
    torch.testing.assert_close(logits, full, rtol=1e-4, atol=1e-4)  # every step, the previous codes' included


def test_long_input_goes_through_windows_with_continuous_seams(pipeline, monkeypatch):
    seen = []
    original = generation.sample_window

    def spy(*args, **kwargs):
        codes, logits = original(*args, **kwargs)
        seen.append((kwargs.get("previous_codes", args[6] if len(args) > 6 else None), codes))
        return codes, logits

    monkeypatch.setattr(generation, "sample_window", spy)
    sr = 32000
    mix = tone(35.0, sr)
    settings = GenerationSettings(window_seconds=10.0, overlap_seconds=2.5)
    plan = window_plan(35 * 50, 500, 125)
    assert plan == [(0, 500), (375, 875), (750, 1250), (1125, 1625), (1500, 1750)]
    stem = generate_stem(pipeline.model, pipeline.codec, mix, sr, "a warm arp", settings)[0]
    assert stem.shape == (35 * sr,) and len(seen) == len(plan)
    for (_, written), (previous, _) in zip(seen, seen[1:]):
        assert torch.equal(previous, written[:, :, -125:])  # each window continues the last one's codes
    frame = 640
    rms = np.sqrt(np.mean(stem[: len(stem) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    for start, _ in plan[1:]:
        seam = start + 62  # the middle of the crossfade
        assert rms[seam] < 4 * np.median(rms[seam - 20 : seam + 20]) + 1e-6  # no jump or click at the seam


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "synthgen", "generate", *map(str, args)], capture_output=True, text=True)


def test_cli_writes_stems_and_preview(model_dir, tmp_path):
    mix = write(tmp_path / "song.ogg", tone(3.0, 44100, 2), 44100, subtype="VORBIS")
    proc = run_cli(mix, "--prompt", "a bright lead", "--out", tmp_path / "synth.wav", "--model", model_dir,
                   "--mix-out", tmp_path / "preview.wav", "--variations", "2", "--loudness", "-20",
                   "--midi", tmp_path / "part.mid")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "real time" in proc.stdout and " BPM, " in proc.stdout and "% sure" in proc.stdout
    for name in ("part_1.mid", "part_2.mid"):
        assert len(pretty_midi.PrettyMIDI(str(tmp_path / name)).instruments) == 1
    expected = sf.info(str(mix)).frames
    for name in ("synth_1.wav", "synth_2.wav", "preview_1.wav", "preview_2.wav"):
        info = sf.info(str(tmp_path / name))
        assert (info.samplerate, info.channels, info.frames) == (44100, 2, expected)
    folder = tmp_path / "songs"
    write(folder / "a.wav", tone(1.0, 48000), 48000)
    write(folder / "b.flac", tone(1.5, 22050, 2), 22050)
    proc = run_cli(folder, "--prompt", "pad", "--out", tmp_path / "stems", "--model", model_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sf.info(str(tmp_path / "stems" / "a.wav")).frames == 48000
    assert sf.info(str(tmp_path / "stems" / "b.wav")).channels == 2


def test_cli_writes_the_stem_at_its_level_in_stereo_or_mono_in_the_format_asked(model_dir, tmp_path):
    mix = write(tmp_path / "song.wav", tone(3.0, 44100, 2, seed=3) * 0.5, 44100)
    proc = run_cli(mix, "--prompt", "a pad", "--out", tmp_path / "stereo.flac", "--model", model_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sf.info(str(tmp_path / "stereo.flac")).format == "FLAC"
    stem, _ = sf.read(str(tmp_path / "stereo.flac"), dtype="float32")
    assert not np.allclose(stem[:, 0], stem[:, 1])  # spread in stereo by default
    mix_audio = sf.read(str(mix), dtype="float32")[0].T
    level = integrated_loudness(stem.T, 44100) - integrated_loudness(mix_audio, 44100)
    assert level <= -6.0 + 0.3 and peak_dbfs(stem) <= -1.0 + 1e-4  # 6 LU under the mix unless the peak is lower
    proc = run_cli(mix, "--prompt", "a pad", "--out", tmp_path / "mono.wav", "--model", model_dir, "--mono")
    assert proc.returncode == 0, proc.stderr[-2000:]
    stem, _ = sf.read(str(tmp_path / "mono.wav"), dtype="float32")
    assert np.array_equal(stem[:, 0], stem[:, 1])


def test_cli_bad_inputs(model_dir, tmp_path):
    (tmp_path / "text.wav").write_text("not audio")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), 32000)
    nan = tone(1.0, 32000)
    nan[0, 5] = np.nan
    sf.write(tmp_path / "nan.wav", nan.T, 32000, subtype="FLOAT")
    write(tmp_path / "long.wav", tone(4.0, 8000), 8000)
    cases = {"missing.wav": "no such file", "text.wav": "not a readable audio file", "empty.wav": "empty",
             "nan.wav": "NaN", "long.wav": "over the 3 s limit"}
    for name, problem in cases.items():
        out = tmp_path / f"out_{name}"
        proc = run_cli(tmp_path / name, "--prompt", "x", "--out", out, "--model", model_dir, "--max-seconds", "3")
        errors = [line for line in proc.stderr.splitlines() if line.startswith("synthgen: error")]
        assert proc.returncode != 0 and len(errors) == 1 and name in errors[0] and problem in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing half-written


def test_silent_mix_is_generated_from_the_prompt_with_a_warning(model_dir, tmp_path):
    mix = write(tmp_path / "silence.wav", np.zeros((1, 32000), np.float32), 32000)
    proc = run_cli(mix, "--prompt", "a bright lead", "--out", tmp_path / "out.wav", "--model", model_dir)
    assert proc.returncode == 0 and "silent" in proc.stderr
    assert sf.info(str(tmp_path / "out.wav")).frames == 32000


def test_sampling_filters():
    g = torch.Generator().manual_seed(0)
    logits = torch.tensor([[0.0, 3.0, 2.9, -1.0, 1.0]]).repeat(2000, 1)
    assert set(generation.sample_next(logits, 1.0, 2, 0.0, g).tolist()) == {1, 2}  # top-k keeps the 2 best
    probabilities = torch.softmax(logits[0], 0)
    assert probabilities[1] < 0.5 < probabilities[1] + probabilities[2]
    assert set(generation.sample_next(logits, 1.0, 0, 0.5, g).tolist()) == {1, 2}  # top-p 0.5 needs both
    free = generation.sample_next(logits, 1.0, 0, 0.0, g)
    shares = torch.bincount(free, minlength=5) / len(free)
    torch.testing.assert_close(shares, probabilities, atol=0.035, rtol=0)  # drawn as often as their probabilities
    assert generation.sample_next(logits[:3], 0.0, 0, 0.0, g).tolist() == [1, 1, 1]  # temperature 0: greedy
    cold = generation.sample_next(logits, 0.05, 0, 0.0, g)
    assert (cold == 1).float().mean() > 0.8  # a low temperature sharpens towards the best code
    with pytest.raises(SynthGenError, match="not finite"):
        generation.sample_next(torch.full((2, 5), float("nan")), 1.0, 2, 0.0, g)


def test_python_api_returns_the_inputs_type_and_layout_and_refuses_samples_first(pipeline):
    import synthgen
    from synthgen.errors import SynthGenError

    assert synthgen.SynthGen is SynthGen
    mix = tone(2.0, 32000, 2)
    stem, _ = pipeline.generate(torch.from_numpy(mix), 32000, "a pad", **SETTINGS)
    assert isinstance(stem, torch.Tensor) and stem.shape == (2, 64000) and stem.dtype == torch.float32
    mono, _ = pipeline.generate(mix[0], 32000, "a pad", **SETTINGS)
    assert isinstance(mono, np.ndarray) and mono.shape == (64000,)
    several, _ = pipeline.generate(mix[0], 32000, "a pad", variations=2, **SETTINGS)
    assert several.shape == (2, 64000)
    with pytest.raises(SynthGenError, match=r"looks like \[samples, channels\]"):
        pipeline.generate(mix.T, 32000, "a pad", **SETTINGS)  # soundfile.read's layout


@pytest.mark.parametrize("sr, channels, mono", [(44100, 2, False), (32000, 1, False), (48000, 2, True)])
def test_files_written_block_by_block_hold_what_the_arrays_hold(pipeline, tmp_path, monkeypatch, sr, channels, mono):
    monkeypatch.setattr(streaming, "BLOCK_SECONDS", 1)  # many blocks, a short last one
    mix = tone(4.3, sr, channels, seed=5) * 0.6
    path = write(tmp_path / "song.flac", mix, sr, subtype="PCM_24")
    mix = sf.read(str(path), dtype="float32", always_2d=True)[0].T
    settings = GenerationSettings(variations=2, mono=mono, **SETTINGS)
    stems, previews = [tmp_path / "a.wav", tmp_path / "b.flac"], [tmp_path / "pa.wav", tmp_path / "pb.wav"]
    written = pipeline.generate_file(Job(path, "a warm pad", tuple(stems), settings, tuple(previews), mix_gain_db=3.0))
    expected, _ = pipeline.generate_stems(mix, sr, "a warm pad", settings)
    assert (written.seconds, written.sample_rate, written.channels, written.silent) == (mix.shape[1] / sr, sr, channels, False)
    for stem, preview, placed in zip(stems, previews, expected):
        written = sf.read(str(stem), dtype="float32", always_2d=True)[0].T
        np.testing.assert_allclose(written, placed, atol=2e-6)  # 24-bit files
        written = sf.read(str(preview), dtype="float32", always_2d=True)[0].T
        np.testing.assert_allclose(written, mix_preview(mix, placed, 3.0), atol=2e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.flac", "pa.wav", "pb.wav", "song.flac"]


def test_a_file_damaged_in_the_middle_stops_the_generation_with_nothing_written(pipeline, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "BLOCK_SECONDS", 1)
    mix = tone(4.0, 32000)
    mix[0, 2 * 32000 + 7] = np.nan  # after the first and before the last second, which the up-front probe reads
    path = tmp_path / "nan.wav"
    sf.write(path, mix.T, 32000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav.*NaN"):
        pipeline.generate_file(Job(path, "a pad", (tmp_path / "out.wav",), GenerationSettings(**SETTINGS)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.wav"]


def test_accelerate_launch_shares_a_folder_out_each_file_once_and_resumes(model_dir, tmp_path):
    folder = tmp_path / "songs"
    for i, (name, sr) in enumerate([("a.wav", 32000), ("b.flac", 44100), ("c.wav", 22050)]):
        write(folder / name, tone(1.5, sr, 2, seed=i), sr)
    options = ["--prompt", "a warm pad", "--model", model_dir, "--window-seconds", "1", "--overlap-seconds", "0.25"]
    one = subprocess.run([sys.executable, "-m", "synthgen", "generate", folder, "--out", tmp_path / "one", *options],
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert one.returncode == 0, one.stderr[-2000:]
    launch = ["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision",
              "no", "--dynamo_backend", "no", "-m", "synthgen", "generate", str(folder), "--out", str(tmp_path / "two"),
              *map(str, options)]
    two = subprocess.run(launch, capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    assert sorted(line.split(" -> ")[0] for line in two.stdout.splitlines() if " -> " in line) == \
        sorted(str(folder / name) for name in ("a.wav", "b.flac", "c.wav"))  # each file once, over both processes
    for name in ("a.wav", "b.wav", "c.wav"):  # the same audio as one process with one thread
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    (tmp_path / "two" / "b.wav").unlink()
    written = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "two").iterdir()}
    again = subprocess.run(launch + ["--resume"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert [line.split(" -> ")[0] for line in again.stdout.splitlines() if " -> " in line] == [str(folder / "b.flac")]
    assert all((tmp_path / "two" / name).stat().st_mtime_ns == t for name, t in written.items())
    assert (tmp_path / "two" / "b.wav").read_bytes() == (tmp_path / "one" / "b.wav").read_bytes()


def test_guidance_on_the_mix_is_still_read_under_its_old_option_name():
    from synthgen.cli import build_parser

    parser = build_parser()
    argv = ["generate", "song.wav", "--prompt", "a pad", "--out", "synth.wav"]
    assert parser.parse_args(argv).guidance_mix == GenerationSettings().guidance_mix
    assert parser.parse_args([*argv, "--guidance-mix", "2"]).guidance_mix == 2.0
    assert parser.parse_args([*argv, "--guidance-context", "2.5"]).guidance_mix == 2.5
    generate_help = parser._subparsers._group_actions[0].choices["generate"].format_help()
    assert "--guidance-mix" in generate_help and "--guidance-context" not in generate_help


def test_auto_precision_is_measured_once_per_machine_and_model_size(tmp_path, monkeypatch):
    from synthgen.model import precision

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    measured = []
    real = precision.step_seconds

    def counting(model, dtype):
        measured.append((model.decoder.config.hidden_size, dtype))
        return real(model, dtype)

    monkeypatch.setattr(precision, "step_seconds", counting)
    monkeypatch.setattr(precision, "_CHOSEN", {})  # as a new process starts
    small = build_model("tiny", 4, 64)
    first = precision.auto_dtype(small)
    assert first in (torch.float32, torch.bfloat16) and len(measured) == 2  # each precision timed once
    cached = json.loads((tmp_path / "synthgen" / "precision" / "precision.json").read_text())
    (entry,) = cached.values()
    assert entry["choice"] == min(entry["step_seconds"], key=entry["step_seconds"].get)
    monkeypatch.setattr(precision, "_CHOSEN", {})  # another process: the choice comes from the cache file
    assert precision.auto_dtype(build_model("tiny", 4, 64)) == first and len(measured) == 2  # the same size: reused
    wider = build_model("tiny", 4, 128)  # another model size: measured again
    precision.auto_dtype(wider)
    assert len(measured) == 4 and len(json.loads((tmp_path / "synthgen" / "precision" / "precision.json").read_text())) == 2
