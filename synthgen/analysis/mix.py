"""One reading of a mix for everything that needs one: beats, bars, meter, tempo map, chords per beat, key.

    analysis = analyze(audio [N], sample_rate)   # or analyze_file(path) in bounded memory, analyze_features(MixFeatures)
    analysis.beats [B], analysis.downbeats [D] (seconds), analysis.meter.name, analysis.tempo (BPM)
    analysis.beat_chords [B] (Chord), analysis.chord_segments() -> [(start, end, Chord)], analysis.key.name
    analysis.chart() -> "| Am | F | C | G7 |" by bar

The steps: features (`features`), the beat period and beats (`beats`), the harmonic change at each beat and how
the beats divide give the meter and the first downbeat (`meter`), chords are decoded per beat with changes
likelier on bar lines (`chords`), and the key is read from the mix's chroma (`key`). The learned parts (chord
classifier, beat-period scorer, key model) ship in analysis.npz (`weights`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthgen.analysis.beats import beat_strength, estimate_period, tempo_map, track_beats
from synthgen.analysis.chord_model import ChordModel
from synthgen.analysis.chords import CHORDS, Chord, beat_chroma, decode_chords
from synthgen.analysis.features import BLOCK_SECONDS, FeatureExtractor, MixFeatures
from synthgen.analysis.key import Key, KeyModel
from synthgen.analysis.meter import METERS, Meter, beat_subdivision, change_chances, meter_and_downbeat
from synthgen.audio import probe_audio, read_blocks

FALLBACK_BPM = 120.0
BASS_CHANGE_WEIGHT = 0.3  # the bass chroma's part in the harmonic change (a kick's pitch sweep moves it too)  # the grid laid over a mix with no beat to find (silence, a drone)


@dataclass
class MixAnalysis:
    seconds: float
    beats: np.ndarray  # [B] seconds
    meter: Meter
    first_downbeat: int  # index of the first bar's first beat in `beats`
    beat_chords: list[Chord]  # [B]
    chord_confidence: np.ndarray  # [B] 0..1
    key: Key | None

    @property
    def downbeats(self) -> np.ndarray:
        """Seconds of each bar's first beat [D]."""
        return self.beats[self.first_downbeat :: self.meter.beats_per_bar]

    @property
    def tempo(self) -> float:
        """The median tempo in counted beats per minute."""
        return float(60.0 / np.median(np.diff(self.beats))) if len(self.beats) > 1 else FALLBACK_BPM

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
        """One line: "key B minor, 132 BPM, 4/4, chords 87 % sure"."""
        key = self.key.name if self.key else "?"
        sure = float(np.mean(self.chord_confidence)) if len(self.chord_confidence) else 0.0
        return f"key {key}, {self.tempo:.0f} BPM, {self.meter.name}, chords {100 * sure:.0f} % sure"

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


def harmonic_change(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """How much the beat's chroma differs from the previous beat's [B] (0 for the first), 0..1."""
    chroma = np.concatenate([treble, BASS_CHANGE_WEIGHT * bass], axis=1) / np.sqrt(1 + BASS_CHANGE_WEIGHT**2)
    similarity = (chroma[1:] * chroma[:-1]).sum(axis=1)
    return np.concatenate([[0.0], 1 - similarity])


def chord_log_probabilities(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """Each beat's chord log-probabilities [B, len(CHORDS)] from the shipped classifier; a silent beat is N."""
    log_probabilities = ChordModel.shipped().log_probabilities(treble, bass)
    silent = ~treble.any(axis=1)
    log_probabilities[silent] = np.log(1e-12)
    log_probabilities[silent, 0] = 0.0  # N
    return log_probabilities


def analyze_features(features: MixFeatures, beats: np.ndarray | None = None, meter: Meter | None = None,
                     first_downbeat: int | None = None) -> MixAnalysis:
    """The MixAnalysis of a mix's features; beat times [B], the meter and the first downbeat's index, when given
    (a producer's corrections), replace what would be read."""
    rate = features.onset_rate
    subdivision = meter.subdivision if meter else 2
    if beats is None:
        envelopes = features.envelopes()
        period = estimate_period(envelopes, rate)
        if period is None:
            beats = _grid(features.seconds, FALLBACK_BPM)
        else:
            beat_frames = track_beats(beat_strength(envelopes), rate, period)
            beats = np.interp(beat_frames, np.arange(len(features.onset)), features.onset_times)
            subdivision = meter.subdivision if meter else beat_subdivision(features.onset, beat_frames)
    treble, bass = beat_chroma(features, beats)
    read_meter, read_first = meter_and_downbeat(harmonic_change(treble, bass), subdivision)
    meter = meter or read_meter
    first = first_downbeat if first_downbeat is not None else read_first % meter.beats_per_bar
    path, confidence = decode_chords(chord_log_probabilities(treble, bass), change_chances(len(beats), meter, first))
    chords = [CHORDS[i] for i in path]
    key = KeyModel.shipped()(features.treble, features.bass)
    return MixAnalysis(features.seconds, beats, meter, first, chords, confidence, key)


def analyze(audio: np.ndarray, sample_rate: int) -> MixAnalysis:
    """The MixAnalysis of mono audio [N] (a mix's channels averaged)."""
    return analyze_features(MixFeatures.of(np.asarray(audio, dtype=np.float32), sample_rate))


def analyze_file(path: str | Path, max_seconds: float | None = None) -> MixAnalysis:
    """The MixAnalysis of an audio file, read block by block (its channels averaged) in bounded memory; a bad file
    is refused with one line naming it (AudioError), as `generate` refuses it."""
    _, sample_rate, _ = probe_audio(path, max_seconds)
    extractor = FeatureExtractor(sample_rate)
    for block in read_blocks(path, int(BLOCK_SECONDS * sample_rate)):
        extractor.add(block.mean(axis=0))
    return analyze_features(extractor.finish())
