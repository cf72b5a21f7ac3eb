"""The bad-input corpus: every way a user can hand SynthGen a bad file, path or option is refused up front with
one line naming the problem, a non-zero exit, no traceback, nothing written and the inputs unchanged."""

import errno
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import synthgen.jobs
from synthgen.cli import main
from synthgen.pipeline import SynthGen
from tests.helpers.factories import make_tiny_model_dir, tone, write


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_tiny_model_dir(tmp_path_factory.mktemp("model") / "tiny")


def snapshot(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(root.rglob("*"))}


def run(argv, capsys):
    """`synthgen ARGV` in this process -> (exit code, the lines it wrote to stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err.strip().splitlines()


def assert_refused(argv, tmp_path, capsys, problem):
    before = snapshot(tmp_path)
    code, errors = run(argv, capsys)
    assert code not in (0, None) and len(errors) == 1 and problem in errors[0], errors
    assert "Traceback" not in errors[0]
    assert snapshot(tmp_path) == before  # nothing written, nothing changed


def _mix(tmp_path):
    return write(tmp_path / "song.wav", tone(1.0, 32000, 2), 32000)


GENERATE_CASES = {
    # name: (extra arguments after the mix, with {mix} and {tmp} filled in; the expected problem)
    "out is the input": (["--out", "{mix}"], "is an input of this run"),
    "mix-out is out": (["--out", "{tmp}/o.wav", "--mix-out", "{tmp}/o.wav"], "would be written twice"),
    "out is a folder": (["--out", "{tmp}"], "is a folder"),
    "out below a file": (["--out", "{mix}/o.wav"], "is a file, not a folder"),
    "mp3 out": (["--out", "{tmp}/o.mp3"], "cannot write '.mp3'"),
    "midi not .mid": (["--midi", "{tmp}/part.wav"], "--midi writes MIDI files"),
    "midi is the input": (["--midi", "{mix}"], "is an input of this run"),
    "no extension": (["--out", "{tmp}/o"], "cannot write 'no extension'"),
    "temperature nan": (["--temperature", "nan"], "--temperature: must be a finite number"),
    "temperature negative": (["--temperature", "-1"], "must be >= 0"),
    "top-p above one": (["--top-p", "1.5"], "--top-p: must be >= 0 and <= 1"),
    "top-p negative": (["--top-p", "-0.1"], "--top-p: must be >= 0 and <= 1"),
    "no variations": (["--variations", "0"], "--variations: must be >= 1"),
    "negative variations": (["--variations", "-3"], "--variations: must be >= 1"),
    "too many variations": (["--variations", "500"], "<= 16"),
    "variations not a number": (["--variations", "two"], "'two' is not an integer"),
    "loudness nan": (["--loudness", "nan"], "--loudness: must be a finite number"),
    "max-seconds nan": (["--max-seconds", "nan"], "--max-seconds: must be a finite number"),
    "guidance inf": (["--guidance-text", "inf"], "--guidance-text: must be a finite number"),
    "overlap over window": (["--window-seconds", "2", "--overlap-seconds", "3"], "--overlap-seconds must be less"),
    "empty prompt": (["--prompt", ""], "--prompt is empty"),
    "blank prompt": (["--prompt", "   "], "--prompt is empty"),
}


@pytest.mark.parametrize("case", GENERATE_CASES)
def test_generate_refuses_before_loading_a_model(case, tmp_path, capsys, monkeypatch, model_dir):
    monkeypatch.setattr(SynthGen, "from_pretrained", lambda *a: pytest.fail("the model was loaded"))
    mix = _mix(tmp_path)
    extra, problem = GENERATE_CASES[case]
    extra = [a.format(mix=mix, tmp=tmp_path) for a in extra]
    argv = ["generate", mix, "--prompt", "a pad", "--out", tmp_path / "out.wav", "--model", model_dir, *extra]
    assert_refused(argv, tmp_path, capsys, problem)


def test_full_disk_and_unwritable_folder_are_refused_up_front(tmp_path, capsys, monkeypatch, model_dir):
    monkeypatch.setattr(SynthGen, "from_pretrained", lambda *a: pytest.fail("the model was loaded"))
    mix = _mix(tmp_path)
    argv = ["generate", mix, "--prompt", "a pad", "--out", tmp_path / "new" / "out.wav", "--model", model_dir]
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(synthgen.jobs.shutil, "disk_usage", lambda _: usage._replace(free=1000))
    assert_refused(argv, tmp_path, capsys, "not enough free disk space")
    scratch = Path(tempfile.gettempdir())
    monkeypatch.setattr(synthgen.jobs.shutil, "disk_usage",
                        lambda folder: usage._replace(free=1000) if Path(folder) == scratch else usage)
    assert_refused(argv, tmp_path, capsys, "for the working files (set TMPDIR")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(synthgen.jobs.tempfile, "TemporaryFile", read_only)
    assert_refused(argv, tmp_path, capsys, "cannot be written in")


def test_a_bad_file_in_a_folder_stops_the_run_before_anything_is_written(tmp_path, capsys, model_dir):
    songs = tmp_path / "songs"
    write(songs / "a.wav", tone(1.0, 32000), 32000)
    (songs / "b.wav").write_text("not audio")
    write(songs / "c.flac", tone(1.0, 32000), 32000)
    assert_refused(["generate", songs, "--prompt", "a pad", "--out", tmp_path / "stems", "--model", model_dir],
                   tmp_path, capsys, "b.wav: not a readable audio file")


def _damage(model, how):
    if how == "config not JSON":
        (model / "config.json").write_text("{not json")
    elif how == "unknown setting":
        (model / "config.json").write_text('{"decoder": {}, "colour": "blue"}')
    elif how == "truncated weights":
        weights = model / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    elif how == "codec config not JSON":
        (model / "codec" / "config.json").write_text("[1, 2")
    elif how.startswith("codec."):  # "codec.FIELD=JSON VALUE" in a spectral codec's config
        from synthgen.codec import codec_from_preset

        shutil.rmtree(model / "codec")
        codec_from_preset("spectral", "tiny").save_pretrained(model / "codec")
        field, value = how.removeprefix("codec.").split("=")
        settings = json.loads((model / "codec" / "config.json").read_text())
        settings[field] = json.loads(value)
        (model / "codec" / "config.json").write_text(json.dumps(settings))
    elif how.startswith("decoder."):  # "decoder.FIELD=JSON VALUE"
        field, value = how.removeprefix("decoder.").split("=")
        settings = json.loads((model / "config.json").read_text())
        settings["decoder"][field] = json.loads(value)
        (model / "config.json").write_text(json.dumps(settings))


@pytest.mark.parametrize("how, problem", [("config not JSON", "config.json: not valid JSON"),
                                          ("unknown setting", "config.json: not a SynthGen model's settings"),
                                          ("truncated weights", "model.safetensors: missing or damaged weights"),
                                          ("codec config not JSON", "codec/config.json: not valid JSON"),
                                          ("decoder.hidden_size=1048576", "decoder.hidden_size is 1048576; a whole number"),
                                          ('decoder.hidden_size="32"', "decoder.hidden_size is '32'; a whole number"),
                                          ("decoder.vocab_size=274877906944", "decoder.vocab_size is 274877906944"),
                                          ("decoder.num_hidden_layers=3", "num_hidden_layers is 3, model.safetensors holds 2"),
                                          ("decoder.ffn_dim=128", "decoder.ffn_dim does not match model.safetensors"),
                                          ("codec.levels=[0, 0, 0, 0]", "each of levels is 0; a whole number from 2"),
                                          ("codec.hidden=100000000", "hidden is 100000000; a whole number from 1 to 4096")])
def test_a_damaged_model_is_named_in_one_line(how, problem, model_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(model_dir, model)
    _damage(model, how)
    mix = _mix(tmp_path)
    assert_refused(["generate", mix, "--prompt", "a pad", "--out", tmp_path / "out.wav", "--model", model],
                   tmp_path, capsys, problem)


@pytest.mark.parametrize("argv, problem", [
    (["prepare", "{tmp}", "--out", "{tmp}/cache", "--hop", "0"], "--hop: must be > 0"),
    (["prepare", "{tmp}", "--out", "{tmp}/cache", "--window", "nan"], "--window: must be a finite number"),
    (["train", "--data", "{tmp}", "--out", "{tmp}/run", "--batch-size", "0"], "--batch-size: must be >= 1"),
    (["train", "--data", "{tmp}", "--out", "{tmp}/run", "--lr", "nan"], "--lr: must be a finite number"),
    (["train-codec", "--data", "{tmp}", "--out", "{tmp}/run", "--steps", "-5"], "--steps: must be >= 1"),
    (["data", "synth", "{tmp}/ss", "--tracks", "0"], "--tracks: must be >= 1"),
])
def test_other_commands_refuse_bad_numbers(argv, problem, tmp_path, capsys):
    _mix(tmp_path)
    assert_refused([a.format(tmp=tmp_path) for a in argv], tmp_path, capsys, problem)


def test_folder_outputs_never_collide_and_a_cut_wav_is_used_with_a_warning(tmp_path, capsys, model_dir):
    songs = tmp_path / "songs"
    write(songs / "a.wav", tone(1.0, 32000), 32000)
    write(songs / "a.flac", tone(1.5, 32000), 32000)
    whole = write(songs / "cut.wav", tone(2.0, 32000), 32000, subtype="PCM_16")
    whole.write_bytes(whole.read_bytes()[: 44 + 2 * 32000])  # the header still promises 2 s
    code, errors = run(["generate", songs, "--prompt", "a pad", "--out", tmp_path / "stems", "--model", model_dir],
                       capsys)
    assert code == 0, errors
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == ["a_flac.wav", "a_wav.wav", "cut.wav"]
    assert sf.info(str(tmp_path / "stems" / "a_flac.wav")).frames == 48000
    assert sf.info(str(tmp_path / "stems" / "cut.wav")).frames == 32000
    assert any("cut.wav: the file is cut short" in line for line in errors)
    assert np.isfinite(sf.read(str(tmp_path / "stems" / "a_wav.wav"))[0]).all()


def _wav_with_header_rate(path: Path, rate: int) -> Path:
    """A 60-byte WAV whose header claims `rate` Hz (a hostile upload: a 1 Hz header once hung the loudness meter)."""
    import struct

    data = b"\0\0" * 30
    fmt = struct.pack("<HHIIHH", 1, 1, rate, 2 * rate, 2, 16)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.mark.parametrize("command", ["generate", "analyze"])
def test_a_header_with_an_impossible_rate_is_refused_at_once(command, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(SynthGen, "from_pretrained", lambda *a: pytest.fail("the model was loaded"))
    mix = _wav_with_header_rate(tmp_path / "sr1.wav", 1)
    extra = ["--prompt", "a pad", "--out", tmp_path / "o.wav"] if command == "generate" else []
    assert_refused([command, mix, *extra], tmp_path, capsys, "sr1.wav: sample rate 1 Hz is outside 2000-768000 Hz")


@pytest.mark.parametrize("rate, problem", [(1, "outside"), (0, "outside"), (-44100, "outside"), (10**9, "outside"),
                                           (44100.5, "not a whole number"), ("44100", "not a whole number"),
                                           (True, "not a whole number")])
def test_the_python_api_refuses_a_sample_rate_it_cannot_use(rate, problem, model_dir):
    from synthgen.errors import SynthGenError

    with pytest.raises(SynthGenError, match=problem):
        SynthGen.from_pretrained(model_dir).generate(tone(1.0, 32000, 1), rate, "a pad")


def test_the_python_api_refuses_nan_samples(model_dir):
    from synthgen.errors import SynthGenError

    audio = tone(1.0, 32000, 1)
    audio[0, 100] = np.nan
    with pytest.raises(SynthGenError, match="NaN or infinite"):
        SynthGen.from_pretrained(model_dir).generate(audio, 32000, "a pad")


@pytest.mark.parametrize("prompt", ["", "   ", None, 3])
def test_the_python_api_refuses_a_prompt_that_is_not_text(prompt, model_dir):
    from synthgen.errors import SynthGenError

    with pytest.raises(SynthGenError, match="non-empty string"):
        SynthGen.from_pretrained(model_dir).generate(tone(1.0, 32000, 1), 32000, prompt)


@pytest.mark.parametrize("setting, value, problem", [("top_k", 2.5, "top_k must be a whole number"),
                                                     ("variations", 2.0, "variations must be a whole number"),
                                                     ("seed", True, "seed must be a whole number"),
                                                     ("mono", "no", "mono must be True or False"),
                                                     ("temperature", "hot", "temperature must be a number"),
                                                     ("tempreature", 1.0, "unknown setting 'tempreature'")])
def test_the_python_api_checks_each_setting_as_the_command_line_does(setting, value, problem, model_dir):
    from synthgen.errors import SynthGenError

    with pytest.raises(SynthGenError, match=problem):
        SynthGen.from_pretrained(model_dir).generate(tone(1.0, 32000, 1), 32000, "a pad", **{setting: value})


def test_the_python_api_scales_integer_pcm_and_widens_half_precision(model_dir):
    import torch

    pipeline = SynthGen.from_pretrained(model_dir)
    audio = tone(2.0, 32000, 1)
    rms_db = lambda x: 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2))  # noqa: E731
    reference, _ = pipeline.generate(audio, 32000, "a pad")
    for pcm in (np.round(audio * 32767).astype(np.int16), np.round(audio * 2**31 * 0.999).astype(np.int32),
                np.round(audio * 127 + 128).astype(np.uint8)):
        stem, _ = pipeline.generate(pcm, 32000, "a pad")
        assert stem.dtype == np.float32 and stem.shape == audio.shape
        assert abs(rms_db(stem) - rms_db(reference)) < 1.5  # placed against the mix's level, so the mix was read at ±1
    half, _ = pipeline.generate(torch.from_numpy(audio).to(torch.bfloat16), 32000, "a pad")
    assert half.dtype == torch.bfloat16 and half.shape == audio.shape and torch.isfinite(half.float()).all()
    with pytest.raises(Exception, match="bool samples"):
        pipeline.generate(audio > 0, 32000, "a pad")


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_a_stopped_generate_leaves_nothing_behind(stop, tmp_path, model_dir):
    import os
    import signal
    import subprocess
    import sys
    import time

    temp, out = tmp_path / "temp", tmp_path / "out"
    temp.mkdir()
    out.mkdir()
    mix = write(tmp_path / "song.wav", tone(120.0, 32000, 2), 32000)
    process = subprocess.Popen([sys.executable, "-m", "synthgen", "generate", str(mix), "--prompt", "a pad",
                                "--model", str(model_dir), "--out", str(out / "synth.wav")],
                               env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any(temp.glob("synthgen-*/stem_0.f32")) and time.monotonic() < deadline:  # generating
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    process.send_signal(getattr(signal, stop))
    _, errors = process.communicate(timeout=60)
    assert process.returncode != 0 and b"interrupted" in errors and b"Traceback" not in errors
    assert list(temp.iterdir()) == [] and list(out.iterdir()) == []


def test_generate_sweeps_what_a_killed_run_left(tmp_path, model_dir):
    import os
    import subprocess
    import sys

    temp, out = tmp_path / "temp", tmp_path / "out"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    (temp / f"synthgen-{dead}-k1ll3d").mkdir(parents=True)  # as kill -9 leaves them
    (temp / f"synthgen-{dead}-k1ll3d" / "mix.f32").write_bytes(b"\0" * 1024)
    out.mkdir()
    (out / f".synth.wav.{dead}.a1b2.tmp").write_bytes(b"half a file")
    mix = write(tmp_path / "song.wav", tone(2.0, 32000, 1), 32000)
    done = subprocess.run([sys.executable, "-m", "synthgen", "generate", str(mix), "--prompt", "a pad", "--model",
                           str(model_dir), "--out", str(out / "synth.wav")], env={**os.environ, "TMPDIR": str(temp)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(temp.iterdir()) == [] and [p.name for p in out.iterdir()] == ["synth.wav"]
