"""A parametric subtractive synthesizer, vectorised with numpy.

Oscillators (band-limited saw and pulse by polyBLEP, triangle, sine, a noise mix) with unison detune
and vibrato -> resonant low-pass filter whose cutoff follows its own envelope -> amplitude ADSR.
Audio is float64 [N] (mono) at the given sample rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import lfilter

WAVEFORMS = ("saw", "square", "pulse", "triangle", "sine")
FILTER_BLOCK = 128  # samples per block of the time-varying filter


@dataclass(frozen=True)
class Patch:
    """Every parameter of a synth sound."""

    waveform: str
    pulse_width: float = 0.5  # pulse waves only
    noise: float = 0.0  # noise mixed into the oscillators, 0..1
    unison: int = 1  # oscillators per note
    detune_cents: float = 0.0  # spread of the unison voices
    cutoff: float = 8000.0  # Hz, filter resting cutoff
    resonance: float = 0.707  # filter Q
    filter_env_octaves: float = 0.0  # cutoff raised by this many octaves at the envelope's peak
    filter_decay: float = 0.2  # s, decay of the filter envelope
    attack: float = 0.005  # s
    decay: float = 0.2  # s
    sustain: float = 0.8  # level 0..1
    release: float = 0.1  # s
    vibrato_rate: float = 5.0  # Hz
    vibrato_cents: float = 0.0

    def to_dict(self) -> dict:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _polyblep(phase: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """The polyBLEP correction that removes most aliasing from a unit step at phase 0."""
    out = np.zeros_like(phase)
    rising = phase < dt
    x = phase[rising] / dt[rising]
    out[rising] = x + x - x * x - 1.0
    falling = phase > 1.0 - dt
    x = (phase[falling] - 1.0) / dt[falling]
    out[falling] = x * x + x + x + 1.0
    return out


def oscillator(waveform: str, freq: np.ndarray, sr: int, phase0: float, pulse_width: float = 0.5) -> np.ndarray:
    """One oscillator following a per-sample frequency `freq` [N] (Hz). Returns [N] in [-1, 1]."""
    dt = freq / sr
    phase = (phase0 + np.cumsum(dt)) % 1.0
    if waveform == "sine":
        return np.sin(2 * np.pi * phase)
    if waveform == "triangle":
        return 4.0 * np.abs(phase - 0.5) - 1.0
    if waveform == "saw":
        return 2.0 * phase - 1.0 - _polyblep(phase, dt)
    width = 0.5 if waveform == "square" else pulse_width
    naive = np.where(phase < width, 1.0, -1.0)
    return naive + _polyblep(phase, dt) - _polyblep((phase + 1.0 - width) % 1.0, dt)


def adsr(n: int, gate: int, sr: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    """Envelope [n]: linear attack, exponential decay to `sustain` while the gate (samples) is open,
    exponential release after it."""
    t = np.arange(n) / sr
    a = max(attack, 1e-3)
    held = np.where(t < a, t / a, sustain + (1.0 - sustain) * np.exp(-(t - a) / max(decay, 1e-3) * 4.0))
    env = held.copy()
    if gate < n:
        level = held[max(gate - 1, 0)]
        env[gate:] = level * np.exp(-(t[gate:] - t[gate]) / max(release, 1e-3) * 5.0)
    return env


def lowpass_coefficients(cutoff: np.ndarray, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ biquad low-pass coefficients for each cutoff. Returns b [M, 3], a [M, 3]."""
    w = 2 * np.pi * np.clip(cutoff, 20.0, 0.45 * sr) / sr
    alpha = np.sin(w) / (2 * q)
    cos = np.cos(w)
    a0 = 1 + alpha
    b = np.stack([(1 - cos) / 2, 1 - cos, (1 - cos) / 2], axis=1) / a0[:, None]
    a = np.stack([np.ones_like(w), -2 * cos / a0, (1 - alpha) / a0], axis=1)
    return b, a


def time_varying_lowpass(x: np.ndarray, cutoff: np.ndarray, q: float, sr: int, keeps_moving: bool = False) -> np.ndarray:
    """Low-pass x [N] with a cutoff [N] that may change: blockwise biquads carrying the filter state.

    Once the cutoff stops moving (by 0.1 % a sample), the rest is filtered in one call; `keeps_moving` (a slow
    LFO) filters every block with its own cutoff.
    """
    moving = np.flatnonzero(np.abs(np.diff(cutoff)) > 1e-3 * cutoff[1:])
    steady = 0 if moving.size == 0 else min(len(x), (moving[-1] // FILTER_BLOCK + 1) * FILTER_BLOCK)
    steady = len(x) if keeps_moving else steady
    centers = np.arange(0, steady, FILTER_BLOCK) + FILTER_BLOCK // 2
    b, a = lowpass_coefficients(np.append(cutoff[np.minimum(centers, len(x) - 1)], cutoff[-1]), q, sr)
    y = np.empty_like(x)
    zi = np.zeros(2)
    for i, start in enumerate(range(0, steady, FILTER_BLOCK)):
        y[start : start + FILTER_BLOCK], zi = lfilter(b[i], a[i], x[start : start + FILTER_BLOCK], zi=zi)
    if steady < len(x):
        y[steady:], _ = lfilter(b[-1], a[-1], x[steady:], zi=zi)
    return y


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


@dataclass(frozen=True)
class Motion:
    """Movement over a patch (SynthStems' record style): a filter LFO, a rhythmic amplitude gate, a second voice an
    octave away, portamento. Note by note (`render_event`) the LFO and gate retrigger on every note, on the grid; a
    part with glide is played as one line (`render_line`)."""

    sweep_rate: float = 0.0  # Hz of the filter LFO; 0: none
    sweep_octaves: float = 0.0  # the cutoff swings this many octaves up and down
    gate_rate: float = 0.0  # Hz of the gate; 0: none
    gate_duty: float = 0.5  # the open share of each gate cycle
    octave: int = 0  # semitones to the doubling voice (12 or -12); 0: none
    glide: float = 0.0  # s: each note slides from where the line is over this (`glide_curve`); 0: none

    def to_dict(self) -> dict:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


GATE_RAMP = 0.004  # s: the gate opens and closes over this (no clicks)


def _oscillators(patch: Patch, pitches, t: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The patch's oscillator bank (unison voices, vibrato, noise) for each pitch: MIDI numbers, or per-sample
    MIDI curves [N]. Returns [N]."""
    vibrato = 2.0 ** (patch.vibrato_cents * np.minimum(t / 0.3, 1.0) * np.sin(2 * np.pi * patch.vibrato_rate * t) / 1200)
    spread = np.linspace(-1, 1, patch.unison) if patch.unison > 1 else np.zeros(1)
    x = np.zeros(len(t))
    for pitch in pitches:
        for offset in spread:
            freq = midi_to_hz(pitch) * 2.0 ** (offset * patch.detune_cents / 1200) * vibrato
            x += oscillator(patch.waveform, freq, sr, rng.random(), patch.pulse_width)
    x /= np.sqrt(len(pitches) * len(spread))
    if patch.noise > 0:
        x = (1 - patch.noise) * x + patch.noise * rng.uniform(-1, 1, len(t))
    return x


def _filtered(patch: Patch, x: np.ndarray, filter_env: np.ndarray, t: np.ndarray, sr: int, motion: Motion) -> np.ndarray:
    """x [N] through the patch's low-pass, its cutoff raised by the filter envelope [N] and swept by the motion's LFO."""
    cutoff = patch.cutoff * 2.0 ** (patch.filter_env_octaves * filter_env)
    sweeping = motion.sweep_rate > 0
    if sweeping:
        cutoff = cutoff * 2.0 ** (motion.sweep_octaves * np.sin(2 * np.pi * motion.sweep_rate * t - np.pi / 2))
    return time_varying_lowpass(x, cutoff, patch.resonance, sr, sweeping)


def _filter_envelope(patch: Patch, t: np.ndarray) -> np.ndarray:
    return np.exp(-t / max(patch.filter_decay, 1e-3) * 3.0) * np.minimum(t / max(patch.attack, 1e-3), 1.0)


def render_event(patch: Patch, pitches: tuple[int, ...], gate: int, sr: int, seed: tuple[int, ...],
                 motion: Motion = Motion()) -> np.ndarray:
    """One note or chord held for `gate` samples, plus its release tail, with `motion` (none by default).
    Returns [gate + release] float64."""
    if motion.octave:
        pitches = (*pitches, *(p + motion.octave for p in pitches))
    n = gate + int(patch.release * sr)
    t = np.arange(n) / sr
    x = _oscillators(patch, pitches, t, sr, np.random.default_rng(seed))
    x = _filtered(patch, x, _filter_envelope(patch, t), t, sr, motion) * adsr(n, gate, sr, patch.attack, patch.decay,
                                                                               patch.sustain, patch.release)
    if motion.gate_rate:
        cycle = (t * motion.gate_rate) % 1.0 / motion.gate_rate  # seconds into the gate's cycle
        opening = np.minimum(cycle / GATE_RAMP, 1.0)
        closing = np.clip((motion.gate_duty / motion.gate_rate - cycle) / GATE_RAMP, 0.0, 1.0)
        x = x * opening * closing
    return x


def glide_curve(notes, n_samples: int, sr: int, glide: float) -> np.ndarray:
    """The pitch [n_samples] (MIDI, fractional) of a line with portamento: each note holds its pitch until the
    next note starts, which slides there (linear in semitones) from where the line is, over `glide` seconds or
    half its own length if that is shorter, so that fast notes still land on their pitch."""
    starts = [min(int(round(note.start * sr)), n_samples) for note in notes]
    curve = np.full(n_samples, float(notes[0].pitch))
    for i, note in enumerate(notes):
        end = starts[i + 1] if i + 1 < len(notes) else n_samples
        curve[starts[i] : end] = note.pitch
        slide = min(int(round(glide * sr)), (end - starts[i]) // 2)
        if i and slide > 0:
            curve[starts[i] : starts[i] + slide] = np.linspace(curve[starts[i] - 1], note.pitch, slide, endpoint=False)
    return curve


def render_line(patch: Patch, notes, n_samples: int, sr: int, seed: tuple[int, ...], motion: Motion) -> np.ndarray:
    """A monophonic part played with portamento (`glide_curve`): one oscillator bank follows the
    line's pitch (and its octave double), and the amplitude and filter envelopes restart on every note. The filter
    LFO and the vibrato run from the line's start; there is no gate (a pad's motion). Returns [n_samples]."""
    if motion.gate_rate:
        raise ValueError("render_line plays no gate (a gated part is rendered note by note)")
    if not notes:
        return np.zeros(n_samples)
    notes = sorted(notes, key=lambda note: note.start)
    t = np.arange(n_samples) / sr
    curve = glide_curve(notes, n_samples, sr, motion.glide)
    x = _oscillators(patch, [curve] + ([curve + motion.octave] if motion.octave else []), t, sr,
                     np.random.default_rng(seed))
    amplitude, filter_env = np.zeros(n_samples), np.zeros(n_samples)
    release = int(patch.release * sr)
    for note in notes:
        start = int(round(note.start * sr))
        gate = max(int(round(note.end * sr)) - start, 1)
        length = min(gate + release, n_samples - start)
        if length <= 0:
            continue
        env = adsr(gate + release, gate, sr, patch.attack, patch.decay, patch.sustain, patch.release)
        window = slice(start, start + length)
        amplitude[window] = np.maximum(amplitude[window], env[:length] * note.velocity)
        filter_env[window] = np.maximum(filter_env[window], _filter_envelope(patch, t[:length]))
    return _filtered(patch, x, filter_env, t, sr, motion) * amplitude


def render_part(notes, n_samples: int, sr: int, render) -> np.ndarray:
    """Sum the events of a part into a track of n_samples. Notes that start and end together form one
    event (a chord); `render(pitches, gate)` makes an event's audio and is called once per distinct
    (pitches, gate), so repeated notes cost nothing."""
    events: dict[tuple[int, int], list] = {}
    for note in notes:
        start = int(round(note.start * sr))
        events.setdefault((start, int(round(note.end * sr)) - start), []).append(note)
    out = np.zeros(n_samples)
    cache: dict[tuple, np.ndarray] = {}
    for (start, gate), group in sorted(events.items()):
        if start >= n_samples or gate <= 0:
            continue
        key = (tuple(sorted(n.pitch for n in group)), gate)
        if key not in cache:
            cache[key] = render(key[0], gate)
        audio = cache[key][: n_samples - start]
        out[start : start + len(audio)] += audio * max(n.velocity for n in group)
    return out
