"""Reading a mix (synthgen/analysis/): beats, bars, meter and chords of songs the test plays, with known truth;
the chord chart, the .lab and the MIDI tempo map a producer takes away."""

import json
import subprocess
import sys

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from synthgen.analysis.corrections import Corrections, parse_key, read_chords
from synthgen.analysis.export import PICKUP_SECONDS, write_analysis, write_part
from synthgen.analysis.mix import analyze, analyze_file
from synthgen.errors import AudioError, SynthGenError
from synthgen.notes import Note

SR = 22050
PROGRESSION = [(0, (0, 4, 7), "C"), (9, (0, 3, 7), "Am"), (5, (0, 4, 7), "F"), (7, (0, 4, 7), "G")]


def _tone(midi: int, samples: int, decay: float) -> np.ndarray:
    t = np.arange(samples) / SR
    f = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(np.sin(2 * np.pi * f * k * t) / k**1.5 for k in range(1, 6)) * np.exp(-t * decay)


def _hit(kind: str, samples: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(samples) / SR
    if kind == "kick":
        return 1.5 * np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    noise = rng.standard_normal(samples)
    return (0.6 if kind == "snare" else 0.15) * noise * np.exp(-t * (25 if kind == "snare" else 60))


def play_song(meter: str, bpm: float, bars: int = 12, seed: int = 0) -> tuple[np.ndarray, float, int]:
    """A band playing PROGRESSION one chord a bar (chords, bass on the root, drums) -> (audio [N], beat seconds,
    beats per bar). 4/4 and 3/4 count quarters (hats on the eighths); 6/8 counts dotted quarters, two a bar, its
    hats on the six eighths."""
    rng = np.random.default_rng(seed)
    beats_per_bar, eighths_per_beat = {"4/4": (4, 2), "3/4": (3, 2), "6/8": (2, 3)}[meter]
    beat = 60.0 / bpm
    bar = beats_per_bar * beat
    out = np.zeros(int((bars * bar + 1.0) * SR))
    for b in range(bars):
        root, intervals, _ = PROGRESSION[b % len(PROGRESSION)]
        start, length = int(b * bar * SR), int(bar * SR)
        out[start : start + length] += 0.25 * sum(_tone(60 + root + i, length, 0.8) for i in intervals)
        out[start : start + length] += 0.4 * _tone(36 + root, length, 1.5)
        for k in range(beats_per_bar):
            at = int((b * bar + k * beat) * SR)
            out[at : at + 4000] += _hit("kick" if k == 0 or (meter == "4/4" and k == 2) else "snare", 4000, rng)
            for e in range(eighths_per_beat):
                hat = int((b * bar + (k + e / eighths_per_beat) * beat) * SR)
                out[hat : hat + 2000] += _hit("hat", 2000, rng)
    return (0.2 * out / np.abs(out).max()).astype(np.float32), beat, beats_per_bar


SLOW_WALTZ = pytest.mark.xfail(strict=True, reason="known shortfall: a waltz of this test's drums under 140 BPM reads "
                               "at its eighths or as 6/8 (SynthStems' own 3/4 songs read right: MODEL_CARD.md)")


@pytest.mark.parametrize("meter, bpm", [("4/4", 120.0), ("4/4", 140.0), ("3/4", 150.0), ("6/8", 84.0), ("6/8", 60.0),
                                        pytest.param("3/4", 90.0, marks=SLOW_WALTZ),
                                        pytest.param("3/4", 120.0, marks=SLOW_WALTZ)])
def test_beats_bars_and_chords_of_a_song_in_each_meter(meter, bpm):
    audio, beat, beats_per_bar = play_song(meter, bpm)
    analysis = analyze(audio, SR)
    true_beats = np.arange(0, 12 * beats_per_bar) * beat
    inside = true_beats[(true_beats > 1.0) & (true_beats < true_beats[-1] - beat)]
    nearest = np.abs(analysis.beats[None, :] - inside[:, None]).min(axis=1)
    assert (nearest < 0.07).all(), f"beats off by {nearest.max():.3f} s"
    assert (analysis.beats < true_beats[-1] + beat / 2).sum() == pytest.approx(len(true_beats), abs=1)
    assert analysis.meter.name == meter
    assert analysis.tempo == pytest.approx(bpm, rel=0.04)
    bar_lines = np.arange(13) * beats_per_bar * beat
    downbeats = analysis.downbeats[analysis.downbeats < bar_lines[-1] - beat]  # the song ends at its last bar line
    assert np.abs(downbeats[:, None] - bar_lines[None, :]).min(axis=1).max() < 0.07
    names = [chord.name for chord in analysis.beat_chords]
    middles = [np.searchsorted(analysis.beats, (b + 0.4) * beats_per_bar * beat) for b in range(1, 11)]  # a beat mid-bar
    assert [names[i] for i in middles] == [PROGRESSION[b % 4][2] for b in range(1, 11)]
    assert "| C | Am | F | G |" in analysis.chart()


def test_the_tempo_map_round_trips_through_pretty_midi_and_mido(tmp_path):
    audio, beat, _ = play_song("3/4", 150.0)
    analysis = analyze(audio, SR)
    write_analysis(analysis, tmp_path / "map.mid")
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "map.mid"))
    midi_beats = midi.get_beats()
    for t in analysis.beats[analysis.first_downbeat :]:  # pretty_midi lists beats up to the file's last event
        on_time = 0.005 if t > PICKUP_SECONDS else PICKUP_SECONDS  # a first bar line this early is taken as 0 s
        assert np.abs(midi_beats - t).min() < on_time or t > midi_beats[-1]
    downbeats = midi.get_downbeats()
    for t in analysis.downbeats:
        assert np.abs(downbeats - t).min() < 0.005 or t > midi_beats[-1]
    assert midi.time_signature_changes[-1].numerator == 3 and midi.time_signature_changes[-1].denominator == 4
    markers = [m.text for m in mido.MidiFile(tmp_path / "map.mid").tracks[0] if m.type == "marker"]
    assert markers[:4] == ["C", "Am", "F", "G"] or markers[1:5] == ["C", "Am", "F", "G"]
    assert {m.type for m in mido.MidiFile(tmp_path / "map.mid").tracks[0]} >= {"set_tempo", "key_signature"}


def test_a_part_lands_on_the_mix_s_tempo_map(tmp_path):
    audio, beat, _ = play_song("4/4", 96.0)
    analysis = analyze(audio, SR)
    notes = [Note(4 * beat, 5 * beat, 60, 100 / 127), Note(6.5 * beat, 7 * beat, 64, 80 / 127)]
    write_part(notes, analysis, tmp_path / "part.mid", 81, "synthgen")
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "part.mid"))
    back = midi.instruments[0].notes
    assert [(n.pitch, n.velocity) for n in back] == [(60, 100), (64, 80)]
    assert [n.start for n in back] == pytest.approx([n.start for n in notes], abs=0.02)
    assert midi.instruments[0].program == 81 and midi.instruments[0].name == "synthgen"
    assert np.median(60 / np.diff(midi.get_beats())) == pytest.approx(96.0, rel=0.04)
    assert [p.name for p in tmp_path.iterdir()] == ["part.mid"]  # no temporary file left


def test_json_and_lab_say_the_same_chords(tmp_path):
    audio, _, _ = play_song("4/4", 110.0)
    analysis = analyze(audio, SR)
    write_analysis(analysis, tmp_path / "a.json")
    write_analysis(analysis, tmp_path / "a.lab")
    data = json.loads((tmp_path / "a.json").read_text())
    lab = [line.split("\t") for line in (tmp_path / "a.lab").read_text().splitlines()]
    assert [c["label"] for c in data["chords"]] == [row[2] for row in lab]
    assert data["meter"] == "4/4" and abs(data["tempo"] - 110) < 4
    assert float(lab[-1][1]) == pytest.approx(analysis.seconds, abs=1e-3)


def test_a_file_is_read_in_blocks_like_the_array(tmp_path):
    audio, _, _ = play_song("4/4", 120.0)
    sf.write(tmp_path / "song.flac", np.stack([audio, audio], axis=1), SR)
    from_file, in_memory = analyze_file(tmp_path / "song.flac"), analyze(audio, SR)
    assert np.allclose(from_file.beats, in_memory.beats, atol=0.03)
    assert [c.name for c in from_file.beat_chords] == [c.name for c in in_memory.beat_chords]


def test_silence_and_bad_files(tmp_path):
    silent = analyze(np.zeros(SR * 5, np.float32), SR)
    assert silent.key is None and silent.tempo == pytest.approx(120.0)
    assert {c.name for c in silent.beat_chords} == {"N.C."}
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="junk.wav"):
        analyze_file(tmp_path / "junk.wav")
    with pytest.raises(AudioError, match="missing.wav"):
        analyze_file(tmp_path / "missing.wav")


def test_what_the_producer_gives_replaces_what_is_read(tmp_path):
    audio, beat, _ = play_song("4/4", 120.0)
    (tmp_path / "song.lab").write_text("0 8 A:min7\n8 16 D:maj\n16 30 N\n")
    given = Corrections(key=parse_key("B minor"), bpm=120.0, meter="3/4", downbeat=2 * beat,
                        chords=read_chords(tmp_path / "song.lab"))
    analysis = analyze(audio, SR, given)
    assert analysis.key.name == "B minor" and analysis.meter.name == "3/4"
    assert analysis.tempo == pytest.approx(120.0, rel=0.01)
    assert analysis.downbeats[0] == pytest.approx(2 * beat, abs=0.05)
    assert {c.name for c, t in zip(analysis.beat_chords, analysis.beats) if 1 < t < 7} == {"Am7"}
    assert {c.name for c, t in zip(analysis.beat_chords, analysis.beats) if 9 < t < 15} == {"D"}
    assert analysis.summary().startswith("key B minor (given), 120 BPM (given), 3/4 (given), chords given")


@pytest.mark.parametrize("text", ["H minor", "B", "B flat", "minor"])
def test_a_key_that_is_not_one_is_refused_in_one_line(text):
    if text == "B":
        assert parse_key(text).name == "B major"
        return
    with pytest.raises(SynthGenError, match="--key|note name"):
        parse_key(text)


def test_the_analyze_command(tmp_path):
    audio, _, _ = play_song("4/4", 120.0)
    sf.write(tmp_path / "song.wav", audio, SR)
    run = lambda *args: subprocess.run([sys.executable, "-m", "synthgen", "analyze", *map(str, args)],  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    done = run(tmp_path / "song.wav", "--out", tmp_path / "song.lab", "--out", tmp_path / "song.mid")
    assert done.returncode == 0, done.stderr
    assert "120 BPM, 4/4" in done.stdout and "| C | Am | F | G |" in done.stdout
    assert (tmp_path / "song.lab").is_file() and (tmp_path / "song.mid").is_file()
    (tmp_path / "bad.lab").write_text("0 1 C:maj\nzero one D:min\n")
    for args, problem in [((tmp_path / "missing.wav",), "missing.wav: no such file"),
                          ((tmp_path / "song.wav", "--out", tmp_path / "x.txt"), "x.txt: an analysis is written as"),
                          ((tmp_path / "song.wav", "--chords", tmp_path / "bad.lab"), "bad.lab: not a chord file"),
                          ((tmp_path / "song.wav", "--bpm", "-3"), "--bpm")]:
        failed = run(*args)
        assert failed.returncode != 0 and problem in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.lab", "song.lab", "song.mid", "song.wav"]
