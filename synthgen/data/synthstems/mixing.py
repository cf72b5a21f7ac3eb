"""Mix a SynthStems `record` track like a record, in stereo, keeping the stems exact: mixture = backing + synth.

Each part (drums, bass, keys, layer, maybe a vocal) is set to its level while it plays (`playing_rms_db`), and
gets a channel strip (pedalboard: high-pass, an EQ bell, a compressor), a place in the stereo field and
a send to a shared reverb and, for some parts, a tempo-synced delay. The sends are linear, so each stem carries
its own share of the returns. Some songs pump: the band and the synth duck after every kick (sidechain). The
mix bus's compressor and limiter compute one gain curve on the sum and apply it to both stems, so the synth
stem is exactly what the mixture holds. Audio is float64 [2, N]; parts come in mono [N].
"""

from __future__ import annotations

import numpy as np
from pedalboard import Compressor, Delay, HighpassFilter, Pedalboard, PeakFilter, Reverb
from scipy.ndimage import minimum_filter1d, uniform_filter1d

PART_LEVELS = {"drums": (-21.0, -18.0), "bass": (-24.0, -20.0), "keys": (-26.0, -21.0), "layer": (-30.0, -25.0),
               "vocal": (-21.0, -17.0)}  # RMS dB
PAN = {"drums": (-0.1, 0.1), "bass": (0.0, 0.0), "keys": (-0.6, 0.6), "layer": (-0.5, 0.5), "vocal": (-0.05, 0.05),
       "synth": (-0.35, 0.35)}
HIGHPASS_HZ = {"drums": (20, 40), "bass": (25, 45), "keys": (80, 200), "layer": (120, 250), "vocal": (80, 140)}
SYNTH_HIGHPASS_HZ = {"low": (20, 30), "mid": (30, 80), "high": (60, 150)}  # by the synth's register
REVERB_SEND = {"drums": (0.0, 0.15), "bass": (0.0, 0.05), "keys": (0.1, 0.35), "layer": (0.2, 0.5), "vocal": (0.15, 0.4),
               "synth": (0.05, 0.35)}
SYNTH_LEVEL_DB = (-12.0, 3.0)  # the synth's RMS against the backing's
PUMP = 0.3  # the share of songs with sidechain pumping
CEILING_DB = -1.0


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x**2) + 1e-12)


def at_level(x: np.ndarray, db: float) -> np.ndarray:
    """x scaled to an RMS of `db` dB (silence stays silent)."""
    return x * 10 ** ((db - rms_db(x)) / 20) if np.any(x) else x


PLAYING_FRAME = 0.05  # s
PLAYING_RANGE_DB = 40.0  # frames this far under the loudest are rests


def playing_rms_db(x: np.ndarray, sr: int) -> float:
    """The RMS (dB) of x [N] over the 50 ms frames where it plays (within PLAYING_RANGE_DB of its loudest frame),
    so that a part that rests for half the song is not pushed up to make up for it."""
    frame = min(int(PLAYING_FRAME * sr), len(x))
    energy = np.mean(x[: len(x) // frame * frame].reshape(-1, frame) ** 2, axis=1)
    playing = energy[energy >= energy.max() * 10 ** (-PLAYING_RANGE_DB / 10)]
    return 10 * np.log10(np.mean(playing) + 1e-12)


def at_playing_level(x: np.ndarray, db: float, sr: int) -> np.ndarray:
    """x scaled so that it plays at an RMS of `db` dB (`playing_rms_db`; silence stays silent)."""
    return x * 10 ** ((db - playing_rms_db(x, sr)) / 20) if np.any(x) else x


def _pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan, -1 (left) to 1 (right): [N] -> [2, N]."""
    angle = (position + 1) * np.pi / 4
    return np.stack([np.cos(angle) * mono, np.sin(angle) * mono]) * np.sqrt(2)


def _strip(rng: np.random.Generator, highpass_hz: tuple[float, float]) -> tuple[Pedalboard, dict]:
    settings = dict(highpass_hz=float(rng.uniform(*highpass_hz)), bell_hz=float(np.exp(rng.uniform(np.log(200), np.log(5000)))),
                    bell_db=float(rng.uniform(-4, 4)), threshold_db=float(rng.uniform(-30, -15)),
                    ratio=float(rng.uniform(1.5, 4.0)))
    board = Pedalboard([HighpassFilter(settings["highpass_hz"]), PeakFilter(settings["bell_hz"], settings["bell_db"], 1.0),
                        Compressor(settings["threshold_db"], settings["ratio"], attack_ms=5.0, release_ms=120.0)])
    return board, settings


def _process(board: Pedalboard, audio: np.ndarray, sr: int) -> np.ndarray:
    return board(audio.astype(np.float32), sr).astype(np.float64)


def _pump(kicks: list[float], samples: int, sr: int, depth: float, release: float) -> np.ndarray:
    """A sidechain gain curve [N]: down by `depth` at each kick, back with time constant `release` (s)."""
    gain = np.ones(samples)
    t = np.arange(int(5 * release * sr)) / sr
    dip = depth * np.exp(-t / release)
    for kick in kicks:
        start = int(round(kick * sr))
        length = min(len(dip), samples - start)
        if length > 0:
            gain[start : start + length] = np.minimum(gain[start : start + length], 1 - dip[:length])
    return gain


def _bus_gain(mix: np.ndarray, sr: int, threshold_db: float, ratio: float) -> np.ndarray:
    """The mix bus's gain curve [N]: a compressor on the 30 ms RMS of the sum, then a limiter that keeps every
    sample under CEILING_DB (the gain needed at each sample, min-filtered and averaged over 5 ms, is never more
    than what any sample in its window needs)."""
    level = np.sqrt(uniform_filter1d((mix**2).mean(axis=0), int(0.03 * sr)) + 1e-12)
    over = np.maximum(20 * np.log10(level) - threshold_db, 0)
    gain = uniform_filter1d(10 ** (-over * (1 - 1 / ratio) / 20), int(0.05 * sr))
    peak = np.abs(mix * gain).max(axis=0)
    need = np.minimum(1.0, 10 ** (CEILING_DB / 20) / np.maximum(peak, 1e-9))
    window = int(0.005 * sr) | 1
    return gain * uniform_filter1d(minimum_filter1d(need, window), window)


def mix_record(rng: np.random.Generator, parts: dict[str, np.ndarray], synth: np.ndarray, synth_register: str, sr: int,
               beat_seconds: float, kicks: list[float]) -> tuple[np.ndarray, np.ndarray, dict]:
    """Mix the backing parts (mono [N] each) and the synth (mono [N], in a REGISTERS register) -> (backing [2, N],
    synth [2, N], the mix's settings for meta.json), with backing + synth the mixture."""
    samples = len(synth)
    reverb = Pedalboard([Reverb(room_size=float(rng.uniform(0.3, 0.9)), damping=float(rng.uniform(0.2, 0.7)),
                                wet_level=1.0, dry_level=0.0, width=1.0)])
    delay = Pedalboard([Delay(delay_seconds=beat_seconds * float(rng.choice([0.5, 0.75, 1.0])),
                              feedback=float(rng.uniform(0.2, 0.45)), mix=1.0)])
    delayed = {"keys", "vocal", "synth"} & {*parts, "synth"} if rng.random() < 0.4 else set()
    pump = _pump(kicks, samples, sr, float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.08, 0.2))) if rng.random() < PUMP else None
    settings: dict = {"parts": {}, "reverb": reverb[0].room_size, "delay_on": sorted(delayed), "pump": pump is not None}
    stems = {"backing": np.zeros((2, samples)), "synth": np.zeros((2, samples))}
    sends = {"backing": np.zeros((2, samples)), "synth": np.zeros((2, samples))}
    echoes = {"backing": np.zeros((2, samples)), "synth": np.zeros((2, samples))}
    synth_level = float(rng.uniform(*SYNTH_LEVEL_DB))
    backing_db = rms_db(sum(at_playing_level(parts[p], float(np.mean(PART_LEVELS[p])), sr) for p in parts))
    for name, mono in [*parts.items(), ("synth", synth)]:
        stem = "synth" if name == "synth" else "backing"
        level = backing_db + synth_level if name == "synth" else float(rng.uniform(*PART_LEVELS[name]))
        board, strip = _strip(rng, SYNTH_HIGHPASS_HZ[synth_register] if name == "synth" else HIGHPASS_HZ[name])
        dry = at_playing_level(_process(board, at_playing_level(mono, level, sr)[None], sr)[0], level, sr)  # make-up gain
        if pump is not None and name != "drums":
            dry = dry * pump
        position, send = float(rng.uniform(*PAN[name])), float(rng.uniform(*REVERB_SEND[name]))
        stereo = _pan(dry, position)
        stems[stem] += stereo
        sends[stem] += stereo * send
        if name in delayed:
            echoes[stem] += stereo * 0.25
        settings["parts"][name] = dict(level_db=level, pan=position, reverb_send=send, **strip)
    for stem in stems:  # the returns are linear: each stem's sends through them are its share
        stems[stem] += _process(reverb, sends[stem], sr) + (_process(delay, echoes[stem], sr) if delayed else 0)
    above, ratio = float(rng.uniform(2, 8)), float(rng.uniform(1.5, 3.0))
    mix = stems["backing"] + stems["synth"]
    gain = _bus_gain(mix, sr, rms_db(mix) + above, ratio)
    settings.update(synth_level_db=synth_level, bus_threshold_over_rms_db=above, bus_ratio=ratio)
    return stems["backing"] * gain, stems["synth"] * gain, settings
