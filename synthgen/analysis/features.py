"""The features every reading of a mix starts from, computed block by block in bounded memory.

    features = MixFeatures.of(audio [N], sample_rate)       # an array at once
    extractor = FeatureExtractor(sample_rate); extractor.add(block [n]) ...; extractor.finish() -> MixFeatures

The mix is resampled (soxr's streams, so blocks join without seams) and read twice:
- onsets, at ONSET_RATE (22.05 kHz): 1024-point frames every 512 samples (43 frames/s), magnitudes summed into
  ONSET_BANDS log-spaced bands, log-compressed; the flux (the summed rise of each band from one frame to the next) of all bands, and of
  the bands under LOW_BAND_HZ (kick and bass), as envelopes [T];
- chroma, at CHROMA_RATE (11.025 kHz): 4096-point frames every 512 samples (21.5 frames/s, 2.7 Hz per bin), each
  bin's power given to its nearest semitone, in a treble band (chords and melody) and a bass band: [F, 12] each, C first.
A 10-minute mix keeps about 4 MB of features; the audio itself is never held whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr

ONSET_RATE, ONSET_FFT, ONSET_HOP = 22050, 1024, 512
CHROMA_RATE, CHROMA_FFT, CHROMA_HOP = 11025, 4096, 512
ONSET_BANDS, ONSET_RANGE_HZ, LOW_BAND_HZ = 40, (30.0, 10000.0), 200.0
TREBLE_HZ, BASS_HZ = (130.0, 2500.0), (35.0, 200.0)
BLOCK_SECONDS = 10.0
COMPRESSION = 0.5  # chroma power to this exponent before it is made unit length


@dataclass
class MixFeatures:
    onset: np.ndarray  # [T] spectral flux of all bands, one value per onset frame
    low_onset: np.ndarray  # [T] the same under LOW_BAND_HZ
    treble: np.ndarray  # [F, 12] power per pitch class in TREBLE_HZ
    bass: np.ndarray  # [F, 12] power per pitch class in BASS_HZ
    seconds: float  # the mix's length

    onset_rate = ONSET_RATE / ONSET_HOP  # frames per second
    chroma_rate = CHROMA_RATE / CHROMA_HOP

    @property
    def onset_times(self) -> np.ndarray:
        """Seconds at the centre of each onset frame [T]."""
        return (np.arange(len(self.onset)) * ONSET_HOP + ONSET_FFT / 2) / ONSET_RATE

    @property
    def chroma_times(self) -> np.ndarray:
        """Seconds at the centre of each chroma frame [F]."""
        return (np.arange(len(self.treble)) * CHROMA_HOP + CHROMA_FFT / 2) / CHROMA_RATE

    def onset_frames(self, seconds: np.ndarray) -> np.ndarray:
        """Times [B] as (fractional) onset frames [B]."""
        return np.interp(seconds, self.onset_times, np.arange(len(self.onset)))

    def envelopes(self) -> dict[str, np.ndarray]:
        """The envelopes at the onset frames that the beat period is read from: onset, low_onset, novelty [T]."""
        return {"onset": self.onset, "low_onset": self.low_onset, "novelty": harmonic_novelty(self)}

    @classmethod
    def of(cls, audio: np.ndarray, sample_rate: int) -> "MixFeatures":
        """Features of mono audio [N] held in memory."""
        extractor = FeatureExtractor(sample_rate)
        block = int(BLOCK_SECONDS * sample_rate)
        for start in range(0, len(audio), block):
            extractor.add(audio[start : start + block])
        return extractor.finish()


class _Frames:
    """Magnitude frames of a stream: n_fft-point Hann frames every `hop` samples, frame t starting at t * hop."""

    def __init__(self, n_fft: int, hop: int):
        self.n_fft, self.hop, self.window = n_fft, hop, np.hanning(n_fft).astype(np.float32)
        self.pending, self.started = np.zeros(0, np.float32), False

    def add(self, samples: np.ndarray) -> np.ndarray:
        """The magnitudes of every frame now complete -> [frames, n_fft // 2 + 1]."""
        self.pending = np.concatenate([self.pending, samples])
        if len(self.pending) < self.n_fft:
            return np.zeros((0, self.n_fft // 2 + 1), np.float32)
        count = (len(self.pending) - self.n_fft) // self.hop + 1
        frames = np.lib.stride_tricks.sliding_window_view(self.pending, self.n_fft)[: count * self.hop : self.hop]
        magnitudes = np.abs(np.fft.rfft(frames * self.window, axis=1)).astype(np.float32)
        self.pending, self.started = self.pending[count * self.hop :], True
        return magnitudes

    def finish(self) -> np.ndarray:
        """One last zero-padded frame when samples remain that no frame has covered -> [0 or 1, n_fft // 2 + 1]."""
        if len(self.pending) <= (self.n_fft - self.hop if self.started else 0):
            return np.zeros((0, self.n_fft // 2 + 1), np.float32)
        return self.add(np.zeros(self.n_fft - len(self.pending), np.float32))


def _band_matrix() -> np.ndarray:
    """Triangular filters on a log-frequency axis: onset FFT bins -> ONSET_BANDS bands [bins, bands]."""
    freqs = np.fft.rfftfreq(ONSET_FFT, 1 / ONSET_RATE)
    edges = np.geomspace(*ONSET_RANGE_HZ, ONSET_BANDS + 2)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise, fall = (freqs - low) / (centre - low), (high - freqs) / (high - centre)
    filters = np.maximum(0, np.minimum(rise, fall))
    return (filters / np.maximum(filters.sum(axis=1, keepdims=True), 1e-9)).T.astype(np.float32)


def _semitone_matrix(band: tuple[float, float]) -> tuple[slice, np.ndarray]:
    """The chroma FFT bins in `band`, and each one's nearest pitch class -> (bins, [bins, 12] of 0 and 1)."""
    freqs = np.fft.rfftfreq(CHROMA_FFT, 1 / CHROMA_RATE)
    bins = slice(int(np.searchsorted(freqs, band[0])), int(np.searchsorted(freqs, band[1], side="right")))
    classes = np.round(12 * np.log2(freqs[bins] / 440.0) + 69).astype(int) % 12
    return bins, (classes[:, None] == np.arange(12)).astype(np.float32)


class FeatureExtractor:
    """MixFeatures of a stream of mono blocks at `sample_rate`."""

    def __init__(self, sample_rate: int):
        self.sample_rate, self.samples = sample_rate, 0
        self.to_onset_rate = soxr.ResampleStream(sample_rate, ONSET_RATE, 1, dtype="float32", quality="HQ")
        self.to_chroma_rate = soxr.ResampleStream(ONSET_RATE, CHROMA_RATE, 1, dtype="float32", quality="HQ")
        self.onset_frames, self.chroma_frames = _Frames(ONSET_FFT, ONSET_HOP), _Frames(CHROMA_FFT, CHROMA_HOP)
        self.bands = _band_matrix()
        self.low_bands = np.geomspace(*ONSET_RANGE_HZ, ONSET_BANDS + 2)[1:-1] < LOW_BAND_HZ
        self.treble_map, self.bass_map = _semitone_matrix(TREBLE_HZ), _semitone_matrix(BASS_HZ)
        self.previous = None  # the last onset frame's log band levels
        self.parts: dict[str, list[np.ndarray]] = {"onset": [], "low_onset": [], "treble": [], "bass": []}

    def add(self, block: np.ndarray, last: bool = False) -> None:
        """Read the next mono block [n] (float)."""
        block = np.asarray(block, dtype=np.float32)
        self.samples += len(block)
        block = self.to_onset_rate.resample_chunk(block, last=last)
        self._onsets(self.onset_frames.add(block))
        self._chroma(self.chroma_frames.add(self.to_chroma_rate.resample_chunk(block, last=last)))

    def _onsets(self, magnitudes: np.ndarray) -> None:
        if not len(magnitudes):
            return
        levels = np.log1p(1000.0 * (magnitudes @ self.bands))  # [frames, bands]
        first = levels[:1] if self.previous is None else self.previous
        rise = np.maximum(np.diff(np.concatenate([first, levels]), axis=0), 0)
        self.previous = levels[-1:]
        self.parts["onset"].append(rise.mean(axis=1))
        self.parts["low_onset"].append(rise[:, self.low_bands].mean(axis=1))

    def _chroma(self, magnitudes: np.ndarray) -> None:
        if len(magnitudes):
            for name, (bins, classes) in (("treble", self.treble_map), ("bass", self.bass_map)):
                self.parts[name].append(magnitudes[:, bins] ** 2 @ classes)

    def finish(self) -> MixFeatures:
        """The features of everything added."""
        self.add(np.zeros(0, np.float32), last=True)
        self._onsets(self.onset_frames.finish())
        self._chroma(self.chroma_frames.finish())
        joined = {name: np.concatenate(parts) if parts else np.zeros((0,) if "onset" in name else (0, 12), np.float32)
                  for name, parts in self.parts.items()}
        return MixFeatures(**joined, seconds=self.samples / self.sample_rate)


def unit_chroma(power: np.ndarray) -> np.ndarray:
    """Power per pitch class [F, 12] as unit vectors of its square root (0 where silent) -> [F, 12]."""
    root = np.maximum(power, 0) ** COMPRESSION
    root = np.maximum(root - np.median(root, axis=1, keepdims=True), 0)  # the broadband floor (drums) removed
    norm = np.linalg.norm(root, axis=1, keepdims=True)
    return np.divide(root, norm, out=np.zeros_like(root), where=norm > 1e-6 * max(norm.max(initial=0), 1e-12))


def harmonic_novelty(features: MixFeatures, frames: int = 4) -> np.ndarray:
    """How much the harmony changes at each onset frame -> [T], 0..1: one minus the cosine between the mean
    chroma (treble and bass) of the `frames` chroma frames before and after, interpolated to the onset frames."""
    chroma = np.concatenate([unit_chroma(features.treble), unit_chroma(features.bass)], axis=1)
    padded = np.pad(np.cumsum(chroma, axis=0), ((1, 0), (0, 0)))
    index = np.arange(len(chroma))
    before = padded[index] - padded[np.maximum(index - frames, 0)]
    after = padded[np.minimum(index + frames, len(chroma))] - padded[index]
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    change = 1 - np.divide((before * after).sum(axis=1), norms, out=np.ones(len(chroma)), where=norms > 0)
    edges = features.chroma_times - (features.chroma_times[1] - features.chroma_times[0]) / 2 if len(chroma) > 1 else index
    return np.interp(features.onset_times, edges, change) if len(chroma) else np.zeros(len(features.onset))
