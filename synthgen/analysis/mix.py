"""One reading of a mix for everything that needs one: beats, bars, meter, tempo map, chords per beat, key.

    analysis = analyze(audio [N], sample_rate)   # or analyze_file(path) in bounded memory, analyze_features(MixFeatures)
    analysis.beats [B], analysis.downbeats [D] (seconds), analysis.meter.name, analysis.tempo (BPM)
    analysis.beat_chords [B] (Chord), analysis.chord_segments() -> [(start, end, Chord)], analysis.key.name
    analysis.chart() -> "| Am | F | C | G7 |" by bar

The steps: features (`features`), the beat period and beats (`beats`), the meter and the first downbeat from what
each beat sounds like (`meter`), chords decoded per beat with changes likelier on bar lines (`chords`,
`chord_model`), and the key from the mix's chroma (`key`); a producer's `corrections` replace any of them. The
learned parts (beat-period scorer, meter pattern, chord classifier, key model) ship in analysis.npz (`weights`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthgen.analysis.beats import beat_strength, estimate_period, tempo_map, track_beats
from synthgen.analysis.chord_model import ChordModel
from synthgen.analysis.chords import CHORDS, Chord, beat_chroma, decode_chords
from synthgen.analysis.corrections import Corrections
from synthgen.analysis.description import BeatDescription, describe_beats
from synthgen.analysis.features import BLOCK_SECONDS, FeatureExtractor, MixFeatures
from synthgen.analysis.key import Key, KeyModel
from synthgen.analysis.meter import METERS, Meter, MeterModel, change_chances, meter_features
from synthgen.audio import probe_audio, read_blocks

FALLBACK_BPM = 120.0  # the grid laid over a mix with no beat to find (silence, a drone)


@dataclass
class MixAnalysis:
    seconds: float
    beats: np.ndarray  # [B] seconds
    meter: Meter
    first_downbeat: int  # index of the first bar's first beat in `beats`
    beat_chords: list[Chord]  # [B]
    chord_confidence: np.ndarray  # [B] 0..1
    key: Key | None
    given: tuple[str, ...] = ()  # what a producer gave instead of what was read (`corrections.Corrections.given`)
    description: BeatDescription | None = None  # what each beat sounds like (the note planner's input)

    @property
    def downbeats(self) -> np.ndarray:
        """Seconds of each bar's first beat [D]."""
        return self.beats[self.first_downbeat :: self.meter.beats_per_bar]

    @property
    def tempo(self) -> float:
        """The mean tempo in counted beats per minute: the slope of a line through the beat times (beats lie on
        the onset frames, 23 ms apart; the line averages that grain out)."""
        if len(self.beats) < 2:
            return FALLBACK_BPM
        return float(60.0 / np.polyfit(np.arange(len(self.beats)), self.beats, 1)[0])

    def tempo_map(self) -> list[tuple[float, float]]:
        """[(seconds, BPM of the counted beat)] where the tempo changes (`beats.tempo_map`)."""
        return tempo_map(self.beats)

    def chord_segments(self) -> list[tuple[float, float, Chord]]:
        """[(start, end, chord)] covering [0, seconds): consecutive beats of one chord joined; before the first
        beat N, the last chord held to the end."""
        segments: list[tuple[float, float, Chord]] = []
        if len(self.beats) and self.beats[0] > 0:
            segments.append((0.0, float(self.beats[0]), CHORDS[0]))
        ends = np.append(self.beats[1:], self.seconds)
        for start, end, chord in zip(self.beats, ends, self.beat_chords):
            if segments and segments[-1][2] == chord:
                segments[-1] = (segments[-1][0], float(end), chord)
            else:
                segments.append((float(start), float(end), chord))
        return segments

    def summary(self) -> str:
        """One line: "key B minor (given), 132 BPM, 4/4, chords 87 % sure"; what was given is marked."""
        mark = lambda name: " (given)" if name in self.given else ""  # noqa: E731
        sure = float(np.mean(self.chord_confidence)) if len(self.chord_confidence) else 0.0
        chords = "chords given" if "chords" in self.given else f"chords {100 * sure:.0f} % sure"
        return (f"key {self.key.name if self.key else '?'}{mark('key')}, {self.tempo:.0f} BPM{mark('bpm')}, "
                f"{self.meter.name}{mark('meter')}, {chords}")

    def chart(self) -> str:
        """A chord chart by bar, "| Am | F | C G | G7 |": each bar lists its chords in order, a repeated chord once."""
        beats_per_bar, bars = self.meter.beats_per_bar, []
        start = self.first_downbeat - beats_per_bar if self.first_downbeat else 0
        for first in range(start, len(self.beat_chords), beats_per_bar):
            names: list[str] = []
            for chord in self.beat_chords[max(first, 0) : first + beats_per_bar]:
                if not names or names[-1] != chord.name:
                    names.append(chord.name)
            bars.append(" ".join(names))
        return "| " + " | ".join(bars) + " |" if bars else "|"


def _grid(seconds: float, bpm: float) -> np.ndarray:
    return np.arange(0.0, max(seconds, 1e-9), 60.0 / bpm)


def _reach_the_start(beats: np.ndarray) -> np.ndarray:
    """Beats [B] continued back towards 0 s at the first interval while a whole beat fits (a song's first beat
    has no onset before it to lean on): [B'] >= [B]."""
    if len(beats) < 2:
        return beats
    interval = beats[1] - beats[0]
    count = int((beats[0] + 0.1 * interval) // interval)
    return np.concatenate([beats[0] - interval * np.arange(count, 0, -1), beats]).clip(min=0.0)


def chord_log_probabilities(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """Each beat's chord log-probabilities [B, len(CHORDS)] from the shipped classifier; a silent beat is N."""
    log_probabilities = ChordModel.shipped().log_probabilities(treble, bass)
    silent = ~treble.any(axis=1)
    log_probabilities[silent] = np.log(1e-12)
    log_probabilities[silent, 0] = 0.0  # N
    return log_probabilities


def _read_beats(features: MixFeatures, envelopes: dict[str, np.ndarray], bpm: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The beats in seconds [B] and in onset frames [B], at the given tempo or at the period read."""
    rate = features.onset_rate
    period = 60 * rate / bpm if bpm else estimate_period(envelopes, rate)
    if period is None:
        beats = _grid(features.seconds, FALLBACK_BPM)
    else:
        frames = track_beats(beat_strength(envelopes), rate, period)
        beats = _reach_the_start(np.interp(frames, np.arange(len(features.onset)), features.onset_times))
    return beats, features.onset_frames(beats)


def _read_bars(described: np.ndarray, beats: np.ndarray, given: Corrections) -> tuple[Meter, int]:
    """The meter and the first downbeat's index among the beats: the best reading of the beats' description
    [B, K], within the given meter, at the beat nearest the given downbeat."""
    model = MeterModel.shipped()
    if given.meter is None:
        meter, first = model.read(described)
    else:
        meter, scores = METERS[given.meter], model.scores(described)
        first = max(range(meter.beats_per_bar), key=lambda phase: scores[(meter.name, phase)])
    if given.downbeat is not None:
        first = int(np.argmin(np.abs(beats - given.downbeat)))
    return meter, first % meter.beats_per_bar


def analyze_features(features: MixFeatures, corrections: Corrections = Corrections()) -> MixAnalysis:
    """The MixAnalysis of a mix's features; what `corrections` gives (a producer's key, tempo, meter, first
    downbeat, chords) replaces what would be read."""
    envelopes = features.envelopes()
    beats, beat_frames = _read_beats(features, envelopes, corrections.bpm)
    treble, bass = beat_chroma(features, beats)
    chord_log_probs = chord_log_probabilities(treble, bass)
    described = meter_features(envelopes, beat_frames, treble, bass, np.exp(chord_log_probs))
    meter, first = _read_bars(described, beats, corrections)
    if corrections.chords:
        ends = np.append(beats[1:], features.seconds)
        chords = [corrections.chord_at((start + end) / 2) for start, end in zip(beats, ends)]
        confidence = np.ones(len(beats))
        chord_log_probs = np.log(np.maximum(np.eye(len(CHORDS))[[CHORDS.index(c) for c in chords]], 1e-12))
    else:
        path, confidence = decode_chords(chord_log_probs, change_chances(len(beats), meter, first))
        chords = [CHORDS[i] for i in path]
    key = corrections.key or KeyModel.shipped()(features.treble, features.bass)
    description = describe_beats(features, beats, treble, bass, chord_log_probs)
    return MixAnalysis(features.seconds, beats, meter, first, chords, confidence, key, corrections.given, description)


def analyze(audio: np.ndarray, sample_rate: int, corrections: Corrections = Corrections()) -> MixAnalysis:
    """The MixAnalysis of mono audio [N] (a mix's channels averaged)."""
    return analyze_features(MixFeatures.of(np.asarray(audio, dtype=np.float32), sample_rate), corrections)


def analyze_file(path: str | Path, max_seconds: float | None = None,
                 corrections: Corrections = Corrections()) -> MixAnalysis:
    """The MixAnalysis of an audio file, read block by block (its channels averaged) in bounded memory; a bad file
    is refused with one line naming it (AudioError), as `generate` refuses it."""
    _, sample_rate, _ = probe_audio(path, max_seconds)
    extractor = FeatureExtractor(sample_rate)
    for block in read_blocks(path, int(BLOCK_SECONDS * sample_rate)):
        extractor.add(block.mean(axis=0))
    return analyze_features(extractor.finish(), corrections)
