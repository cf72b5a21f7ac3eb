import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from synthgen.audio import load_audio, read_audio, set_channels, write_audio
from synthgen.errors import AudioError
from synthgen.resampling import resample
from tests.helpers.factories import pulsing_chord, tone, write

FORMATS = {"wav": dict(subtype="PCM_16"), "flac": dict(subtype="PCM_16"), "ogg": dict(subtype="VORBIS"),
           "mp3": dict(subtype="MPEG_LAYER_III")}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sr", [22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_read_round_trip(tmp_path, fmt, sr, channels):
    audio = tone(1.0, sr, channels, freq=440)
    path = write(tmp_path / f"x.{fmt}", audio, sr, **FORMATS[fmt])
    back, back_sr = read_audio(path)
    assert back_sr == sr and back.shape[0] == channels and back.dtype == np.float32
    if fmt in ("wav", "flac"):
        assert back.shape == audio.shape
        np.testing.assert_allclose(back, audio, atol=1e-4)
    else:  # lossy codecs: about the same length, and the same waveform up to a small delay
        assert abs(back.shape[1] - audio.shape[1]) < 0.1 * sr
        n = min(back.shape[1], audio.shape[1])
        a, b = audio[0, :n], back[0, :n]
        xcorr = np.fft.irfft(np.fft.rfft(b) * np.conj(np.fft.rfft(a)), n)  # circular, lag >= 0 first
        assert xcorr[:3000].max() / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.9


@pytest.mark.parametrize("sr_in,sr_out", [(44100, 32000), (22050, 32000), (48000, 44100)])
def test_resample_keeps_duration_and_pitch(sr_in, sr_out):
    audio = tone(2.0, sr_in, 2, freq=500)
    out = resample(audio, sr_in, sr_out)
    assert out.shape == (2, 2 * sr_out) and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out[0]))
    assert abs(np.argmax(spectrum) * sr_out / out.shape[1] - 500) < 2


def test_set_channels_downmix_and_upmix():
    stereo = np.stack([np.ones(10), -np.ones(10) * 3]).astype(np.float32)
    np.testing.assert_allclose(set_channels(stereo, 1), -np.ones((1, 10)))
    assert set_channels(stereo[:1], 2).shape == (2, 10)


def test_load_audio_converts(tmp_path):
    path = write(tmp_path / "x.flac", tone(1.5, 48000, 2), 48000)
    assert load_audio(path, 32000, 1).shape == (1, 48000)


def test_write_audio_is_atomic(tmp_path):
    path = tmp_path / "out" / "x.wav"
    write_audio(path, tone(0.5, 16000, 2), 16000)
    assert read_audio(path)[0].shape == (2, 8000)
    before = path.read_bytes()
    with pytest.raises(Exception):
        write_audio(path, tone(0.5, 16000, 2), 16000, subtype="NOT_A_SUBTYPE")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.wav"]


@pytest.mark.parametrize("name, file_format, subtype", [("x.wav", "WAV", "PCM_24"), ("x.FLAC", "FLAC", "PCM_24"),
                                                        ("x.ogg", "OGG", "VORBIS")])
def test_write_audio_follows_the_extension(tmp_path, name, file_format, subtype):
    audio = tone(0.5, 32000, 2) * 0.5
    write_audio(tmp_path / name, audio, 32000)
    info = sf.info(str(tmp_path / name))
    assert (info.format, info.subtype, info.channels, info.frames) == (file_format, subtype, 2, 16000)
    back, _ = read_audio(tmp_path / name)
    tolerance = 0.05 if file_format == "OGG" else 1e-5
    assert np.abs(back - audio).max() < tolerance


@pytest.mark.parametrize("name", ["x.mp3", "x.aiff", "x"])
def test_write_audio_refuses_other_extensions(tmp_path, name):
    with pytest.raises(AudioError, match="cannot write"):
        write_audio(tmp_path / name, tone(0.5, 16000), 16000)
    assert list(tmp_path.iterdir()) == []


def test_write_audio_gives_an_ordinary_file_mode(tmp_path):
    """The temporary file is private; the finished one follows the umask like any other file."""
    umask = os.umask(0o022)
    try:
        write_audio(tmp_path / "x.wav", tone(0.5, 16000), 16000)
    finally:
        os.umask(umask)
    assert (tmp_path / "x.wav").stat().st_mode & 0o777 == 0o644


def _bad_files(tmp_path):
    (tmp_path / "notaudio.wav").write_text("hello, I am text")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), 32000)
    nan = tone(0.5, 32000)
    nan[0, 100] = np.nan
    sf.write(tmp_path / "nan.wav", nan.T, 32000, subtype="FLOAT")
    return {
        "missing.wav": "no such file",
        "notaudio.wav": "not a readable audio file",
        "empty.wav": "empty audio file",
        "nan.wav": "NaN",
    }


def test_bad_files_raise_one_line_errors(tmp_path):
    for name, problem in _bad_files(tmp_path).items():
        with pytest.raises(AudioError) as err:
            read_audio(tmp_path / name)
        message = str(err.value)
        assert str(tmp_path / name) in message and problem in message and "\n" not in message


@pytest.mark.parametrize("bad", ["missing.wav", "notaudio.wav", "empty.wav", "nan.wav"])
def test_cli_reports_bad_file_without_traceback(tmp_path, bad):
    problems = _bad_files(tmp_path)
    data = tmp_path / "data"
    (data / "mix").mkdir(parents=True)
    (data / "synth").mkdir()
    write(data / "synth" / "synth_0.wav", tone(1.0, 32000), 32000)
    mix = data / "mix" / "mix_0.wav"
    if bad != "missing.wav":
        mix.write_bytes((tmp_path / bad).read_bytes())
    else:  # the mix exists but its synth stem does not
        write(mix, tone(1.0, 32000), 32000)
        (data / "synth" / "synth_0.wav").unlink()
    out = tmp_path / "cache"
    proc = subprocess.run([sys.executable, "-m", "synthgen", "prepare", str(data), "--out", str(out), "--codec", "tiny"],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1 and lines[0].startswith("synthgen: error: ") and "Traceback" not in proc.stderr
    named = "synth_0.wav" if bad == "missing.wav" else "mix_0.wav"
    assert named in lines[0]
    if bad != "missing.wav":
        assert problems[bad] in lines[0]
    assert not (out / "tracks").exists() or not any((out / "tracks").iterdir())


def test_biquad_equals_scipy_across_any_blocks():
    """iir.Biquad (numpy, no scipy at run time) filters as scipy.signal.lfilter does, its state carried over blocks
    that cross its chunks and groups at odd places; the RBJ high-pass at Q 1/sqrt(2) is scipy's Butterworth."""
    from scipy.signal import butter, lfilter

    from synthgen.iir import Biquad, rbj_biquad

    x = np.random.default_rng(0).standard_normal((2, 50_000))
    for b, a in (rbj_biquad("high_shelf", 1500.0, 1 / np.sqrt(2), 44100, 4.0), rbj_biquad("high_pass", 38.0, 0.5, 48000)):
        want = lfilter(b, a, x, axis=1)
        for sizes in ([50_000], [1, 63, 64, 4095, 4097, 20_000, 21_780], [9_999] * 6):
            biquad = Biquad(b, a, channels=2)
            edges = np.cumsum([0, *sizes])[:-1]
            got = np.concatenate([biquad(x[:, e : e + n]) for e, n in zip(edges, sizes)] + [biquad(x[:, sum(sizes) :])], axis=1)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * np.abs(want).max())
    butter_b, butter_a = butter(2, 250.0, "highpass", fs=44100)
    np.testing.assert_allclose(np.concatenate(rbj_biquad("high_pass", 250.0, 1 / np.sqrt(2), 44100)),
                               np.concatenate([butter_b, butter_a]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sr", [32000, 44100, 48000])
def test_streaming_loudness_equals_pyloudnorm(sr):
    import pyloudnorm

    from synthgen.loudness import LoudnessMeter

    rng = np.random.default_rng(sr)
    music = np.stack([pulsing_chord(7.3, sr), pulsing_chord(7.3, sr)[::-1]]) + 0.02 * rng.standard_normal((2, int(7.3 * sr)))
    music[:, sr : 2 * sr] *= 0.001  # a quiet passage for the gates
    meter = LoudnessMeter(sr, channels=2)
    for start in range(0, music.shape[1], 12_345):
        meter.add(music[:, start : start + 12_345])
    assert meter.integrated() == pytest.approx(pyloudnorm.Meter(sr).integrated_loudness(music.T), abs=1e-4)
