"""The key of a mix (four modes), and whether a stem stays in it.

    KeyModel.shipped()(treble [F, 12], bass [F, 12]) -> Key(tonic=9, mode="minor"), named "A minor"
    in_key_share(stem [N], sr, key) -> share of the stem's pitched energy on the key's scale (0..1)

The key is read from the mix's chroma (`features`) seen from each of the twelve tonics: the whole mix's treble and
bass, and the bass of its first and last eighths, scored by one linear map per mode learned from SynthStems' keys
(`synthgen.training.analysis`). Dorian and mixolydian keys share their notes with a major key; mir_eval and most
tools know only major and minor, so `Key.major_minor` names a dorian key minor and a mixolydian one major.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgen.analysis.features import unit_chroma
from synthgen.analysis.weights import LearnedPart
from synthgen.dsp import pitch_class_profile

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor
          "dorian": (0, 2, 3, 5, 7, 9, 10), "mixolydian": (0, 2, 4, 5, 7, 9, 10)}


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, C = 0
    mode: str  # "major", "minor", "dorian" or "mixolydian"

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.tonic + step) % 12 for step in SCALES[self.mode])

    @property
    def major_minor(self) -> str:
        """The name as mir_eval and most tools know keys: a dorian key as minor, a mixolydian one as major."""
        return f"{PITCH_NAMES[self.tonic]} {'minor' if self.mode in ('minor', 'dorian') else 'major'}"


KEY_MODES = ("major", "minor", "dorian", "mixolydian")


def key_features(treble: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """What a key is read from, seen from each of the twelve tonics -> [12, 48]: the mean unit chroma of the treble
    and of the bass over the whole mix, and of the bass over its first and last eighths (songs tend to start and
    end at home), each turned so that the tonic comes first. treble, bass: power per pitch class [F, 12]."""
    treble, bass = unit_chroma(treble), unit_chroma(bass)
    edge = max(1, len(bass) // 8)
    profiles = (treble.mean(axis=0), bass.mean(axis=0), bass[:edge].mean(axis=0), bass[-edge:].mean(axis=0))
    turn = (np.arange(12)[:, None] + np.arange(12)[None, :]) % 12  # [tonic, interval] -> pitch class
    return np.concatenate([profile[turn] for profile in profiles], axis=1)


@dataclass(frozen=True)
class KeyModel(LearnedPart):
    """A linear score per mode over `key_features` (trained by `synthgen.training.analysis`)."""

    PART = "key"

    weights: np.ndarray  # [modes, 48]
    bias: np.ndarray  # [modes]

    def __call__(self, treble: np.ndarray, bass: np.ndarray) -> Key | None:
        """The likeliest of the 48 keys (KEY_MODES x 12 tonics) of a mix's chroma [F, 12] x 2; None for silence."""
        if not np.any(treble) and not np.any(bass):
            return None
        return self.best(key_features(treble, bass))

    def best(self, features: np.ndarray) -> Key:
        """The best-scoring key of `key_features` [12, 48]."""
        scores = features @ self.weights.T + self.bias  # [tonic, mode]
        tonic, mode = np.unravel_index(int(np.argmax(scores)), scores.shape)
        return Key(int(tonic), KEY_MODES[mode])



def in_key_share(stem: np.ndarray, sample_rate: int, key: Key) -> float:
    """Share of the pitched energy of mono audio [N] that falls on `key`'s scale (nan for silence); a stem
    playing only scale notes scores near 1, random pitches 7/12."""
    profile = pitch_class_profile(np.asarray(stem, dtype=np.float64), sample_rate).sum(axis=0)
    total = profile.sum()
    return float(profile[list(key.pitch_classes)].sum() / total) if total > 0 else float("nan")
