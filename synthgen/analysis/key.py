"""What a producer wants to know about a mix: its key and its tempo; and whether a stem stays in that key.

    estimate_key(audio [N], sr)   -> Key(tonic=9, mode="minor"), named "A minor"
    estimate_tempo(audio [N], sr) -> beats per minute
    in_key_share(stem [N], sr, key) -> share of the stem's pitched energy on the key's scale (0..1)

Key: the mix's pitch-class energy between 100 Hz and 2 kHz (`pitch_class_profile`: each FFT bin to its
nearest semitone; the square root of each frame's share, so that no single loud chord decides) correlated with
Albrecht and Shanahan's major and minor profiles in all 12 transpositions; the best of the 24 wins. A key and
its relative (C major, A minor) share one scale and are often told apart wrongly; `in_key_share` does not care.
Tempo: the autocorrelation of the spectral flux between 60 and 180 BPM, weighted towards 120 (numpy only:
librosa's first call costs 2 s of start-up). Measured by `python bench/key_tempo.py`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from synthgen.analysis.features import unit_chroma
from synthgen.analysis.weights import part
from synthgen.dsp import pitch_class_profile, stft_chunks

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
PROFILES = {  # Albrecht & Shanahan (2013), from a corpus of pieces; tonic first
    "major": np.array([0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081]),
    "minor": np.array([0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052]),
}
KEY_BAND_HZ = (100.0, 2000.0)  # where chords and melodies carry their pitch classes; drums and hiss add little
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor
          "dorian": (0, 2, 3, 5, 7, 9, 10), "mixolydian": (0, 2, 4, 5, 7, 9, 10)}
TEMPO_RANGE = (60.0, 180.0)  # the tempi reported (a beat at half or double speed is folded in)
ONSET_FFT = 1024


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
class KeyModel:
    """A linear score per mode over `key_features` (trained by `synthgen.training.analysis`)."""

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

    def arrays(self) -> dict[str, np.ndarray]:
        return asdict(self)

    @staticmethod
    @lru_cache(maxsize=1)
    def shipped() -> "KeyModel":
        return KeyModel(**part("key"))


def estimate_key(audio: np.ndarray, sample_rate: int) -> Key | None:
    """The likeliest of the 24 major and minor keys of mono audio [N]; None for silence."""
    profile = np.sqrt(pitch_class_profile(np.asarray(audio, dtype=np.float64), sample_rate, *KEY_BAND_HZ)).sum(axis=0)
    if not profile.any():
        return None
    scores = {(tonic, mode): np.corrcoef(profile, np.roll(template, tonic))[0, 1]
              for mode, template in PROFILES.items() for tonic in range(12)}
    tonic, mode = max(scores, key=scores.get)
    return Key(tonic, mode)


def onset_envelope(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float]:
    """Spectral flux of mono audio [N]: the summed rise of log magnitudes per frame -> (envelope [T], frame rate)."""
    flux, previous = [], None
    for magnitude in stft_chunks(np.asarray(audio, dtype=np.float64), n_fft=ONSET_FFT, hop=ONSET_FFT // 4):
        level = np.log1p(100 * magnitude)
        steps = np.diff(level if previous is None else np.concatenate([previous, level]), axis=0)
        flux.append(np.maximum(steps, 0).sum(axis=1))
        previous = level[-1:]
    flux = np.concatenate(flux)
    return flux - flux.mean(), sample_rate / (ONSET_FFT // 4)


def estimate_tempo(audio: np.ndarray, sample_rate: int) -> float | None:
    """Beats per minute of mono audio [N]: the lag in TEMPO_RANGE where the onset envelope best repeats itself
    (autocorrelation, weighted towards 120 BPM by a one-octave log-normal prior, since a beat is also heard at
    half and double speed); None for audio without onsets."""
    envelope, frame_rate = onset_envelope(audio, sample_rate)
    if len(envelope) < 4 * frame_rate or not envelope.any():
        return None
    autocorrelation = np.fft.irfft(np.abs(np.fft.rfft(envelope, 2 * len(envelope))) ** 2)[: len(envelope)]
    lags = np.arange(int(frame_rate * 60 / TEMPO_RANGE[1]), int(frame_rate * 60 / TEMPO_RANGE[0]) + 1)
    prior = np.exp(-0.5 * np.log2(60 * frame_rate / lags / 120) ** 2)
    best = int(lags[np.argmax(autocorrelation[lags] * prior)])
    a, b, c = autocorrelation[best - 1 : best + 2]
    if a - 2 * b + c < 0:  # a peak: interpolate between frames
        best += 0.5 * (a - c) / (a - 2 * b + c)
    return float(60 * frame_rate / best)


def describe_mix(key: Key | None, bpm: float | None) -> str:
    """How the command line and the studio page show a mix's estimate: "key A minor, 120 BPM (estimated)"."""
    return f"key {key.name if key else '?'}, {f'{bpm:.0f}' if bpm else '?'} BPM (estimated)"


def in_key_share(stem: np.ndarray, sample_rate: int, key: Key) -> float:
    """Share of the pitched energy of mono audio [N] that falls on `key`'s scale (nan for silence); a stem
    playing only scale notes scores near 1, random pitches 7/12."""
    profile = pitch_class_profile(np.asarray(stem, dtype=np.float64), sample_rate).sum(axis=0)
    total = profile.sum()
    return float(profile[list(key.pitch_classes)].sum() / total) if total > 0 else float("nan")
