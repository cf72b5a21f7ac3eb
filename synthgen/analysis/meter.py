"""Meter and downbeats of a mix from its beats: a learned pattern of what happens at each place in the bar.

    meter_features(envelopes, beat_frames [B], treble [B, 12], bass [B, 12], chords [B, S]) -> [B, K] each beat
    MeterModel.shipped().read(features [B, K]) -> (Meter, index of the first downbeat)
    change_chances(beats, meter, first_downbeat) -> [B] chance of a chord change at each beat

Each beat is described by its onset, its low (kick and bass) onset, the onsets at its half and at its thirds (an
eighth or a triplet eighth under it), how much the harmony changes into it (chroma, and the chord classifier's
chance of a new chord) and whether it has a kick without a snare's brightness; and, the same for every beat, how
much more the mix's onsets fall on thirds of its beats than on halves. A meter reads as a weight vector for
each place in its bar (4/4: four, 3/4: three, 6/8: two dotted quarters); every meter at every phase is scored by
how well the beats match its places (the mean over the beats), and the best reading wins. The weights are learned
from SynthStems' true bars (`synthgen.training.analysis`): chords change on bar lines, kicks land on ones, snares
on backbeats, 6/8's beats divide in three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.analysis.weights import LearnedPart


@dataclass(frozen=True)
class Meter:
    name: str  # "4/4", "3/4" or "6/8"
    beats_per_bar: int  # counted beats
    subdivision: int  # 2: eighths; 3: the compound meter's eighths

    @property
    def quarter_per_beat(self) -> float:
        """Quarter notes per counted beat (MIDI tempo maps count quarters): 1, or 1.5 for 6/8's dotted quarter."""
        return self.subdivision / 2


METERS = {"4/4": Meter("4/4", 4, 2), "3/4": Meter("3/4", 3, 2), "6/8": Meter("6/8", 2, 3)}
MAX_PLACES = max(m.beats_per_bar for m in METERS.values())
CHANGE_ON_DOWNBEAT, CHANGE_MID_BAR, CHANGE_ELSEWHERE = 0.5, 0.15, 0.02


def _standard(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / max(values.std(), 1e-9)


def meter_features(envelopes: dict[str, np.ndarray], beat_frames: np.ndarray, treble: np.ndarray,
                   bass: np.ndarray, chords: np.ndarray) -> np.ndarray:
    """What each beat sounds like -> [B, K], each column but the last standardised over the mix (see the module's
    notes).
    envelopes: onset, low_onset [T] at the onset frames; beat_frames [B]; treble, bass: unit chroma per beat;
    chords: each beat's chord probabilities [B, S]."""
    onset, low = envelopes["onset"], envelopes["low_onset"]
    step = np.diff(beat_frames, append=beat_frames[-1] + (np.median(np.diff(beat_frames)) if len(beat_frames) > 1 else 1))
    at = lambda envelope, fraction: np.interp(beat_frames + fraction * step, np.arange(len(envelope)), envelope)  # noqa: E731
    chroma = np.concatenate([treble, bass], axis=1) / np.sqrt(2)
    harmonic = np.concatenate([[0.0], 1 - (chroma[1:] * chroma[:-1]).sum(axis=1)])
    new_chord = np.concatenate([[0.0], 1 - (chords[1:] * chords[:-1]).sum(axis=1)])
    on_beat, kick, half = at(onset, 0), at(low, 0), at(onset, 1 / 2)
    thirds = (at(onset, 1 / 3) + at(onset, 2 / 3)) / 2
    columns = [on_beat, kick, half, thirds, harmonic, new_chord, kick - on_beat]
    triplets = np.log((thirds.mean() + 1e-6) / (half.mean() + 1e-6))  # the whole mix: do its beats divide in 3?
    return np.stack([_standard(c) for c in columns] + [np.full(len(beat_frames), triplets)], axis=1)


@dataclass(frozen=True)
class MeterModel(LearnedPart):
    PART = "meter"

    weights: np.ndarray  # [meters, MAX_PLACES, K] what each place of each meter's bar sounds like
    bias: np.ndarray  # [meters]

    def scores(self, features: np.ndarray) -> dict[tuple[str, int], float]:
        """The score of every (meter, first downbeat index) reading of beats described by features [B, K]."""
        out = {}
        for m, (name, meter) in enumerate(METERS.items()):
            for phase in range(meter.beats_per_bar):
                places = (np.arange(len(features)) - phase) % meter.beats_per_bar
                out[(name, phase)] = float((features * self.weights[m, places]).sum(axis=1).mean() + self.bias[m])
        return out

    def read(self, features: np.ndarray) -> tuple[Meter, int]:
        """The best reading: (meter, index of the first downbeat among the beats)."""
        if len(features) < 2 * MAX_PLACES:
            return METERS["4/4"], 0
        scores = self.scores(features)
        name, phase = max(scores, key=scores.get)
        return METERS[name], phase



def change_chances(beats: int, meter: Meter, first_downbeat: int) -> np.ndarray:
    """The chance of a chord change at each of `beats` beats [B]: high on downbeats, less on a 4/4 bar's third
    beat (half-bar chords), low elsewhere."""
    position = (np.arange(beats) - first_downbeat) % meter.beats_per_bar
    chances = np.where(position == 0, CHANGE_ON_DOWNBEAT, CHANGE_ELSEWHERE)
    if meter.beats_per_bar == 4:
        chances = np.where(position == 2, CHANGE_MID_BAR, chances)
    return chances
