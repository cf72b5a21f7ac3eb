"""Model v3's pipeline: the synth renderer and its voices, a producer's MIDI part (--notes), the plan written as MIDI
(--midi), the Python API's notes, and a long song whose key changes halfway."""

import subprocess
import sys

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from synthgen.analysis import analyze
from synthgen.dsp import pitch_class_profile
from synthgen.notes import Note
from synthgen.pipeline import SynthGen
from synthgen.planner.plan import PROGRAMS, SHIPPED, load_planner, plan_parts
from synthgen.planner.settings import PlanSettings
from synthgen.renderers.synth import synth_stream
from synthgen.renderers.voices import named_attributes, voice_for
from tests.helpers.factories import PROGRESSION_SR as SR, make_tiny_model_dir, progression

C_MAJOR, F_SHARP_MAJOR = {0, 2, 4, 5, 7, 9, 11}, {6, 8, 10, 11, 1, 3, 5}


def dominant_pitch_class(audio: np.ndarray, sr: int) -> int:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    spectrum[freqs < 30] = 0
    return int(round(12 * np.log2(freqs[np.argmax(spectrum)] / 440) + 69)) % 12


def test_synth_renderer_plays_each_note_and_carries_tails_across_blocks():
    notes = [Note(0.10, 0.90, 60, 0.8), Note(1.10, 1.90, 67, 0.8)]  # C4, then G4
    voice = voice_for("a dark sine lead")
    pieces = list(synth_stream(notes, total=2 * SR, sample_rate=SR, voice=voice, block_seconds=0.5))
    assert [len(p) for p in pieces] == [SR // 2] * 4 and all(p.dtype == np.float32 for p in pieces)
    audio = np.concatenate(pieces)
    assert dominant_pitch_class(audio[int(0.2 * SR) : int(0.8 * SR)], SR) == 0
    assert dominant_pitch_class(audio[int(1.2 * SR) : int(1.8 * SR)], SR) == 7
    assert np.abs(audio[int(0.55 * SR) : int(0.6 * SR)]).max() > 0.05  # the first note goes on past its block
    assert np.abs(audio[int(1.0 * SR) : int(1.05 * SR)]).max() < np.abs(audio[int(0.5 * SR) : int(0.55 * SR)]).max()


@pytest.mark.parametrize("prompt, named", [
    ("a soft dark pad holding the chords", dict(brightness="dark", attack="soft", role="pad")),
    ("a punchy synth bass", dict(attack="sharp", role="bass")),
    ("a bright plucky arpeggio", dict(brightness="bright", attack="sharp", role="arpeggio")),
])
def test_the_voice_has_every_attribute_the_prompt_names(prompt, named):
    assert named_attributes(prompt) == named
    voice = voice_for(prompt)
    assert {k: voice.attributes[k] for k in named} == named


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_tiny_model_dir(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def mix_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("mix") / "progression.wav"
    sf.write(path, progression(0), SR)  # I vi IV V in C at 120 BPM, 16 s
    return path


def run(*args):
    return subprocess.run([sys.executable, "-m", "synthgen", "generate", *map(str, args)], capture_output=True, text=True)


def read_part(path):
    """The MIDI file's part track: (program, name, notes as (start tick, end tick, pitch))."""
    track = mido.MidiFile(str(path)).tracks[-1]
    now, program, name, open_notes, notes = 0, None, None, {}, []
    for message in track:
        now += message.time
        if message.type == "program_change":
            program = message.program
        elif message.type == "track_name":
            name = message.name
        elif message.type == "note_on" and message.velocity:
            open_notes[message.note] = now
        elif message.type in ("note_off", "note_on"):
            notes.append((open_notes.pop(message.note), now, message.note))
    return program, name, sorted(notes)


def test_the_synth_renderer_plays_the_plan_and_midi_writes_it(model_dir, mix_path, tmp_path):
    out, midi = tmp_path / "bass.wav", tmp_path / "bass.mid"
    done = run(mix_path, "--prompt", "a punchy synth bass", "--out", out, "--midi", midi, "--renderer", "synth",
               "--model", model_dir)
    assert done.returncode == 0, done.stderr
    stem, sr = sf.read(out)
    assert sr == SR and len(stem) == len(progression(0))
    program, name, notes = read_part(midi)
    assert program == PROGRAMS["bass"] and "bass" in name
    assert len(notes) >= 16
    assert all(a[1] <= b[0] for a, b in zip(notes, notes[1:]))  # a bass line: one note at a time
    assert all(start % 40 == 0 for start, _, _ in notes)  # on the plan's grid: 12 ticks of the 480 of a beat
    assert np.mean([pitch % 12 in C_MAJOR for _, _, pitch in notes]) >= 0.9
    chords = [{0, 4, 7}, {9, 0, 4}, {5, 9, 0}, {7, 11, 2}] * 2  # I vi IV V, a bar (4 beats of 480 ticks, 2 s) each
    bar_of = lambda tick: min(tick // (4 * 480), 7)  # noqa: E731
    assert np.mean([pitch % 12 in chords[bar_of(start)] for start, _, pitch in notes]) >= 0.8  # chord tones
    assert sum(a[2] != b[2] for a, b in zip(notes, notes[1:])) >= 4  # the line moves with the chords
    played = [[p % 12 for start, _, p in notes if bar_of(start) == bar] for bar in range(8)]
    for bar, pcs in enumerate(played):  # the stem sounds the notes of the plan
        profile = pitch_class_profile(stem[int((2 * bar + 0.1) * sr) : int((2 * bar + 1.9) * sr)], sr).sum(axis=0)
        assert int(np.argmax(profile)) in pcs


def write_midi(path, pitches, drums=False):
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    part = pretty_midi.Instrument(0, is_drum=drums)
    part.notes = [pretty_midi.Note(100, p, 2.0 * i, 2.0 * i + 1.9) for i, p in enumerate(pitches)]
    midi.instruments.append(part)
    midi.write(str(path))
    return path


def test_a_producers_midi_part_is_rendered_on_the_mixs_grid(model_dir, mix_path, tmp_path):
    part = write_midi(tmp_path / "part.mid", [69, 74, 71, 76])  # A, D, B, E: one a bar
    out, midi = tmp_path / "lead.wav", tmp_path / "lead.mid"
    done = run(mix_path, "--prompt", "a dark sine lead", "--out", out, "--notes", part, "--midi", midi,
               "--renderer", "synth", "--model", model_dir)
    assert done.returncode == 0, done.stderr
    stem, sr = sf.read(out)
    for bar, pitch in enumerate([69, 74, 71, 76]):
        assert dominant_pitch_class(stem[int((2 * bar + 0.3) * sr) : int((2 * bar + 1.6) * sr)], sr) == pitch % 12
    _, _, written = read_part(midi)
    assert [p for _, _, p in written[:4]] == [69, 74, 71, 76]  # --midi writes the part that was played


@pytest.mark.parametrize("content, problem", [
    (b"not a midi file", "not a readable MIDI file"),
    (None, "no notes outside its drum tracks"),
])
def test_a_bad_midi_part_is_refused_in_one_line_before_any_work(model_dir, mix_path, tmp_path, content, problem):
    part = tmp_path / "part.mid"
    if content is None:
        write_midi(part, [36, 38], drums=True)
    else:
        part.write_bytes(content)
    out = tmp_path / "stem.wav"
    done = run(mix_path, "--prompt", "a lead", "--out", out, "--notes", part, "--renderer", "synth", "--model", model_dir)
    assert done.returncode != 0 and problem in done.stderr and str(part) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()


def test_the_api_returns_the_notes_it_played(model_dir):
    pipeline = SynthGen.from_pretrained(model_dir)
    mix = progression(0)[: 8 * SR]
    stem, sr, notes = pipeline.generate(mix, SR, "a soft pad holding the chords", renderer="synth", return_notes=True)
    assert stem.shape == mix.shape and sr == SR and len(notes) > 4 and all(isinstance(n, Note) for n in notes)
    given = [Note(0.5, 1.5, 64, 0.9)]
    _, _, played = pipeline.generate(mix, SR, "a pad", renderer="synth", notes=given, return_notes=True)
    assert played == given
    _, _, none = pipeline.generate(mix, SR, "a pad", renderer="neural", return_notes=True)  # writes its own part
    assert none is None


def test_a_long_song_keeps_following_when_its_key_changes_halfway():
    mix = np.concatenate([progression(0, bars=12), progression(6, bars=12)])  # 48 s: C major, then F# major
    analysis = analyze(mix, SR)
    part = plan_parts(analysis, "a soft pad holding the chords", load_planner(), PlanSettings(), seed=0, variations=1)[0]
    first = [n.pitch % 12 for n in part if 2 < n.start < 22]
    second = [n.pitch % 12 for n in part if 27 < n.start < 46]
    assert len(first) >= 8 and len(second) >= 8
    assert np.mean([p in C_MAJOR for p in first]) >= 0.85
    assert np.mean([p in F_SHARP_MAJOR for p in second]) >= 0.85


def test_notes_on_a_block_edge_or_begun_before_the_stream_are_played():
    sr = 44100
    voice = voice_for("a dark sine lead")
    edge = Note(29.999988662131518, 30.5, 60, 0.8)  # rounds to the sample before its block when shifted twice
    before = Note(-0.5, 1.0, 67, 0.8)  # held across the start (a window of a longer song)
    audio = np.concatenate(list(synth_stream([before, edge], 31 * sr, sr, voice, block_seconds=10.0)))
    assert len(audio) == 31 * sr
    assert np.abs(audio[: int(0.5 * sr)]).max() > 0.05 and np.abs(audio[30 * sr + 2000 : 30 * sr + 9000]).max() > 0.05


def test_a_given_part_needs_a_renderer_that_can_play_it(model_dir, tmp_path):
    pipeline = SynthGen.from_pretrained(model_dir)  # a model without the notes condition
    with pytest.raises(Exception, match="cannot play a given one: use --renderer synth"):
        pipeline.generate(progression(0)[: 4 * SR], SR, "a pad", renderer="neural", notes=[Note(0.0, 1.0, 60, 0.8)])
    SynthGen(pipeline.model, pipeline.codec, planner_folder=SHIPPED).save_pretrained(tmp_path / "saved")
    assert (tmp_path / "saved" / "planner" / "config.json").is_file()  # a model folder keeps its planner
    assert SynthGen.from_pretrained(tmp_path / "saved").planner_folder == tmp_path / "saved" / "planner"
