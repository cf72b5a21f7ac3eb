"""SoundFont playback for SynthStems: General MIDI parts played by FluidSynth (pyfluidsynth, with Debian's
libfluidsynth3) from a SoundFont, each call alone or one after another on one player.

    render_midi(midi, "/usr/share/sounds/sf2/TimGM6mb.sf2", 32000, samples) -> audio [N] float32, mono
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path

import numpy as np
import pretty_midi

from synthgen.data.synthstems.sf3 import decompressed
from synthgen.errors import SynthGenError

DRUM_CHANNEL, DRUM_BANK = 9, 128
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")  # Debian's timgm6mb-soundfont: never in training
SYNTH_PART = "synth"  # the instrument of score.mid that is the target stem, never re-rendered
BLOCK = 64  # FluidSynth renders in blocks of this many samples


@functools.cache
def _write_float():
    """libfluidsynth's fluid_synth_write_float. pyfluidsynth only reads 16-bit samples, which FluidSynth dithers
    with noise that differs from process to process; the float output has no dither, so a track sounds the same
    whichever worker renders it."""
    library = ctypes.CDLL(ctypes.util.find_library("fluidsynth") or "libfluidsynth.so.3")
    write = library.fluid_synth_write_float
    write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                      ctypes.c_int, ctypes.c_int]
    write.restype = ctypes.c_int
    return write


class SoundFontPlayer:
    """A FluidSynth with one SoundFont loaded (an .sf3 through its decompressed copy, `sf3.decompressed`), that
    plays parts one after another. A new player gives the same audio for the same calls; a player's audio may
    depend on what it played before, so a SynthStems track uses a player of its own.

        with SoundFontPlayer(soundfont, 32000, effects=False) as player:
            bass = player.render([instrument], samples)  # [samples] float32, mono
    """

    def __init__(self, soundfont: str | Path, sample_rate: int, effects: bool = True):
        try:
            import fluidsynth
        except ImportError as err:
            raise SynthGenError(f"SoundFont rendering needs pyfluidsynth and Debian's libfluidsynth3, which setup.sh "
                                f"installs ({err})") from None
        self.sample_rate, self.rendered = sample_rate, 0
        self.synth = fluidsynth.Synth(samplerate=float(sample_rate), **{
            "synth.reverb.active": int(effects), "synth.chorus.active": int(effects),
            "synth.dynamic-sample-loading": 1})  # only the samples of the programs played are read
        self.font = self.synth.sfload(str(decompressed(soundfont)))
        if self.font < 0:
            self.synth.delete()
            raise SynthGenError(f"{soundfont}: not a SoundFont FluidSynth can load")

    def __enter__(self) -> "SoundFontPlayer":
        return self

    def __exit__(self, *exc) -> None:
        self.synth.delete()

    def render(self, instruments: list[pretty_midi.Instrument], samples: int) -> np.ndarray:
        """The notes of `instruments` (one MIDI channel each; drums on the drum channel) for `samples` samples
        -> [samples] float32, mono."""
        synth = self.synth
        if self.rendered:  # silence what the last call left sounding, and start on a block
            synth.system_reset()
            self._stereo(BLOCK - self.rendered % BLOCK)
        events, melodic = [], iter(c for c in range(16) if c != DRUM_CHANNEL)
        for inst in instruments:
            channel = DRUM_CHANNEL if inst.is_drum else next(melodic, None)
            if channel is None:
                raise SynthGenError("a score with more than 15 melodic parts: MIDI has 15 melodic channels")
            synth.program_select(channel, self.font, DRUM_BANK if inst.is_drum else 0, 0 if inst.is_drum else inst.program)
            for note in inst.notes:
                events += [(note.start, 1, channel, note.pitch, note.velocity), (note.end, 0, channel, note.pitch, 0)]
        pieces, position = [], 0
        for time, on, channel, pitch, velocity in sorted(events):  # at one instant, note-offs come first
            at = min(samples, int(round(time * self.sample_rate)))
            if at > position:
                pieces.append(self._stereo(at - position))
                position = at
            synth.noteon(channel, pitch, velocity) if on else synth.noteoff(channel, pitch)
        if position < samples:
            pieces.append(self._stereo(samples - position))
        self.rendered = BLOCK + samples
        if not pieces:
            return np.zeros(samples, np.float32)
        return np.concatenate(pieces).mean(axis=1)[:samples]

    def _stereo(self, frames: int) -> np.ndarray:
        """The next `frames` frames of the synth's output, float32 [frames, 2]."""
        out = np.zeros((frames, 2), np.float32)
        _write_float()(self.synth.synth, frames, out.ctypes.data, 0, 2, out.ctypes.data, 1, 2)
        return out


def render_midi(midi: pretty_midi.PrettyMIDI, soundfont: str | Path, sample_rate: int, samples: int,
                skip: tuple[str, ...] = (SYNTH_PART,)) -> np.ndarray:
    """The instruments of `midi` (but those named in `skip`) played by `soundfont` with FluidSynth's reverb and
    chorus -> [samples] float32, mono."""
    with SoundFontPlayer(soundfont, sample_rate) as player:
        return player.render([i for i in midi.instruments if i.name not in skip], samples)
