"""The generated part as MIDI notes: an in-house multi-pitch tracker for synth stems.

    notes = transcribe(stem [N], sample_rate)       -> [Note(start, end, pitch, velocity)]
    write_part_midi(stem [C, N], sample_rate, "part.mid", analysis)   # its notes on the mix's tempo map

How: an 8192-point STFT every 10 ms; each MIDI pitch from C1 to C7 gets a salience, the weighted sum of the
magnitudes at its first harmonics, kept only where its own fundamental sounds (no sub-octave ghosts); per
frame, pitches are picked greedily (the most salient first, its harmonics and sub-harmonics then discounted)
while they stay within SALIENCE_FLOOR_DB of the frame's best, with one voice below C3; a pitch held over
consecutive frames (gaps up to GAP_SECONDS bridged) is a note, cut again where the stem's energy rises
sharply (a new attack on the same pitch; a smaller rise below C3), and kept when at least MIN_NOTE_SECONDS
long. Measured on SynthStems (true notes in meta.json): `python bench/transcribe.py DATA`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import binary_closing

from synthgen.analysis.export import write_part
from synthgen.analysis.mix import MixAnalysis
from synthgen.dsp import stft_chunks
from synthgen.notes import Note

N_FFT, HOP_SECONDS = 8192, 0.01
PITCHES = np.arange(24, 97)  # C1 .. C7
HARMONICS = np.array([1.0, 0.8, 0.6, 0.45, 0.35, 0.25])  # weight of harmonic h = 1, 2, ...
MAX_VOICES = 4
FUNDAMENTAL_SHARE = 0.25  # a pitch's fundamental must reach this share of its strongest harmonic
FUNDAMENTAL_FLOOR_DB = 30.0  # ... and be within this of the frame's strongest bin
SALIENCE_FLOOR_DB = 12.0  # a further voice must be within this of the frame's most salient pitch
SILENCE_DB = 45.0  # frames this far below the loudest frame hold no notes
GAP_SECONDS = 0.08  # a pitch missing for at most this long between two frames that hold it is held through
LOW_REGISTER = 48  # below C3 a frame holds at most one voice
MIN_NOTE_SECONDS = 0.06
ONSET_RISE_DB = 6.0  # an energy rise this sharp within a held pitch starts a new note
LOW_ONSET_RISE_DB = 3.0  # ... below C3, where repeated notes of one pitch (basslines) ring into each other
SYNTH_PROGRAM = 81  # General MIDI "Lead 2 (sawtooth)"


def _salience(magnitude: np.ndarray, sample_rate: int) -> np.ndarray:
    """[frames, bins] magnitudes -> [frames, pitches] harmonic-sum salience (linear); 0 where the pitch's own
    fundamental is missing (FUNDAMENTAL_SHARE), which rules out the sub-octaves that a note's harmonics imply."""
    bin_hz = sample_rate / N_FFT
    partials = []
    for h in range(1, len(HARMONICS) + 1):
        bins = np.round(440.0 * 2 ** ((PITCHES - 69) / 12) * h / bin_hz).astype(int)
        # the strongest of the nearest bin and its neighbours: a detuned or vibrato partial still counts
        peak = np.maximum.reduce([magnitude[:, np.clip(bins + d, 0, magnitude.shape[1] - 1)] for d in (-1, 0, 1)])
        partials.append(np.where(bins < magnitude.shape[1] - 1, peak, 0.0))
    partials = np.stack(partials)  # [harmonics, frames, pitches]
    salience = np.tensordot(HARMONICS, partials, axes=1)
    fundamental_ok = (partials[0] >= FUNDAMENTAL_SHARE * partials.max(axis=0)) & (
        partials[0] >= 10 ** (-FUNDAMENTAL_FLOOR_DB / 20) * magnitude.max(axis=1, keepdims=True))
    return np.where(fundamental_ok, salience, 0.0)


def _active_pitches(salience: np.ndarray, loud: np.ndarray) -> np.ndarray:
    """Greedy per-frame pitch picking -> [frames, pitches] bool."""
    active = np.zeros(salience.shape, bool)
    for t in np.flatnonzero(loud):
        s = salience[t].copy()
        best = s.max()
        for _ in range(MAX_VOICES):
            i = int(np.argmax(s))
            if s[i] <= 0 or 20 * np.log10(s[i] / best) < -SALIENCE_FLOOR_DB:
                break
            active[t, i] = True
            for h in (12, 19, 24, 28, 31):  # the picked note's harmonics (octave, twelfth, ...) lose their credit,
                for j in (i + h - 1, i + h, i + h + 1, i - h - 1, i - h, i - h + 1):  # as do its sub-harmonics
                    if 0 <= j < len(s):
                        s[j] *= 0.3
            s[max(0, i - 2) : i + 3] = 0.0  # and its neighbours, so one broad partial is not read as a cluster
            if PITCHES[i] < LOW_REGISTER:  # one voice down there: low partials are too broad to tell apart
                s[PITCHES < LOW_REGISTER] = 0.0
    return active


def transcribe(stem: np.ndarray, sample_rate: int) -> list[Note]:
    """Notes of mono audio [N] (see the module docstring); [] for silence."""
    stem = np.asarray(stem, dtype=np.float64)
    hop = int(round(HOP_SECONDS * sample_rate))
    frame_seconds = hop / sample_rate
    salience, energy_db = [], []
    for magnitude in stft_chunks(np.pad(stem, (N_FFT // 2, N_FFT // 2)), n_fft=N_FFT, hop=hop):
        salience.append(_salience(magnitude, sample_rate))
        energy_db.append(10 * np.log10(np.sum(magnitude**2, axis=1) + 1e-20))
    salience, energy_db = np.concatenate(salience), np.concatenate(energy_db)
    if energy_db.max() < -150:
        return []
    loud = energy_db > energy_db.max() - SILENCE_DB
    active = _active_pitches(salience, loud)
    bridge = int(GAP_SECONDS / frame_seconds)  # edges padded with themselves, so that closing keeps notes at the ends
    padded = np.pad(active, ((bridge, bridge), (0, 0)), mode="edge")
    active = binary_closing(padded, structure=np.ones((bridge + 1, 1), bool))[bridge : bridge + len(active)] & loud[:, None]
    short = np.concatenate([np.sum(m**2, axis=1) for m in stft_chunks(stem, n_fft=1024, hop=hop)])
    short_db = 10 * np.log10(np.convolve(short, np.ones(3) / 3, mode="same") + 1e-20)
    rise_db = np.zeros(len(active))
    n = min(len(short_db), len(active))
    rise_db[2:n] = short_db[2:n] - short_db[: n - 2]
    notes = []
    for column, pitch in enumerate(PITCHES):
        rises = rise_db > (LOW_ONSET_RISE_DB if pitch < LOW_REGISTER else ONSET_RISE_DB)
        held = np.diff(np.concatenate([[0], active[:, column].astype(int), [0]]))
        for a, b in zip(np.flatnonzero(held == 1), np.flatnonzero(held == -1)):
            cuts = [a, *[t for t in np.flatnonzero(rises[a + 3 : b - 3]) + a + 3], b]
            cuts = [c for i, c in enumerate(cuts) if i == 0 or c - cuts[i - 1] >= 3]  # one cut per attack
            for start, end in zip(cuts[:-1], cuts[1:]):
                if (end - start) * frame_seconds >= MIN_NOTE_SECONDS:
                    level = energy_db[start:end].max() - energy_db.max()
                    velocity = int(np.clip(127 + 2.5 * level, 1, 127)) / 127
                    notes.append(Note(start * frame_seconds, end * frame_seconds, int(pitch), velocity))
    return sorted(notes, key=lambda note: (note.start, note.pitch))


def write_part_midi(stem: np.ndarray, sample_rate: int, path: str | Path, analysis: MixAnalysis) -> None:
    """The notes of a placed stem [C, N] (folded to mono) as a MIDI file on the mix's tempo map (`analysis.export`)."""
    write_part(transcribe(np.atleast_2d(stem).mean(axis=0), sample_rate), analysis, path, SYNTH_PROGRAM, "synthgen")
