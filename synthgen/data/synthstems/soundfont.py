"""SynthStems tracks with their backing played by a General MIDI SoundFont instead of the built-in instruments.

Each track's score.mid holds the backing parts (chords, bass, drums) beside the synth's; `resound_dataset`
renders those backing parts with FluidSynth (pyfluidsynth, with Debian's libfluidsynth3) and a SoundFont,
brings them to the loudness of the track's own backing, and writes a track whose synth.wav (scaled down only
if the new sum would clip), description and score are the original's: a mix the model has never heard, with its true stem. SynthGen keeps
`timgm6mb-soundfont` (TimGM6mb.sf2) out of training for exactly this out-of-distribution check.

    render_midi(midi, "/usr/share/sounds/sf2/TimGM6mb.sf2", 32000, samples) -> audio [N] float32, mono
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf
from tqdm import tqdm

from synthgen.data.synthstems.generator import SPLIT_NAMES, write_track
from synthgen.errors import SynthGenError

DRUM_CHANNEL, DRUM_BANK = 9, 128
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")  # Debian's timgm6mb-soundfont: never in training
SYNTH_PART = "synth"  # the instrument of score.mid that is the target stem, never re-rendered


def render_midi(midi: pretty_midi.PrettyMIDI, soundfont: str | Path, sample_rate: int, samples: int,
                skip: tuple[str, ...] = (SYNTH_PART,)) -> np.ndarray:
    """The instruments of `midi` (but those named in `skip`) played by `soundfont` -> [samples] float32, mono."""
    try:
        import fluidsynth
    except ImportError as err:
        raise SynthGenError(f"SoundFont rendering needs pyfluidsynth and Debian's libfluidsynth3, which setup.sh "
                            f"installs ({err})") from None
    synth = fluidsynth.Synth(samplerate=float(sample_rate))
    try:
        font = synth.sfload(str(soundfont))
        if font < 0:
            raise SynthGenError(f"{soundfont}: not a SoundFont FluidSynth can load")
        events, melodic = [], iter(c for c in range(16) if c != DRUM_CHANNEL)
        for inst in (i for i in midi.instruments if i.name not in skip):
            channel = DRUM_CHANNEL if inst.is_drum else next(melodic, None)
            if channel is None:
                raise SynthGenError("a score with more than 15 melodic parts: MIDI has 15 melodic channels")
            synth.program_select(channel, font, DRUM_BANK if inst.is_drum else 0, 0 if inst.is_drum else inst.program)
            for note in inst.notes:
                events += [(note.start, 1, channel, note.pitch, note.velocity), (note.end, 0, channel, note.pitch, 0)]
        pieces, position = [], 0
        for time, on, channel, pitch, velocity in sorted(events):  # at one instant, note-offs come first
            at = min(samples, int(round(time * sample_rate)))
            if at > position:
                pieces.append(synth.get_samples(at - position))
                position = at
            synth.noteon(channel, pitch, velocity) if on else synth.noteoff(channel, pitch)
        if position < samples:
            pieces.append(synth.get_samples(samples - position))
    finally:
        synth.delete()
    if not pieces:
        return np.zeros(samples, np.float32)
    stereo = np.concatenate(pieces).reshape(-1, 2).astype(np.float32) / 32768
    return stereo.mean(axis=1)[:samples]


def resound_track(src: Path, dst: Path, soundfont: Path) -> None:
    """Write track `src` into `dst` with its backing played by `soundfont` at the original backing's RMS level."""
    synth, sr = sf.read(src / "synth.wav", dtype="int16")
    mixture, _ = sf.read(src / "mixture.wav", dtype="int16")
    old_backing = (mixture.astype(np.int32) - synth).astype(np.float64)
    backing = render_midi(pretty_midi.PrettyMIDI(str(src / "score.mid")), soundfont, sr, len(synth)).astype(np.float64)
    backing *= np.sqrt(np.mean(old_backing**2) / max(np.mean((backing * 32767) ** 2), 1e-12)) * 32767
    headroom = min(1.0, 32000 / max(np.abs(backing + synth).max(), 1.0))  # keep the sum in 16 bits, synth included
    synth16 = np.round(synth * headroom).astype(np.int16)
    meta = json.loads((src / "meta.json").read_text())
    meta["backing_soundfont"] = Path(soundfont).name
    track = dict(backing=np.round(backing * headroom).astype(np.int16), synth=synth16, meta=meta,
                 description=(src / "description.txt").read_text().strip(),
                 midi=pretty_midi.PrettyMIDI(str(src / "score.mid")))
    write_track(dst, track, sr)


def resound_dataset(src: str | Path, out: str | Path, soundfont: str | Path = DEFAULT_SOUNDFONT, splits: tuple[str, ...] = SPLIT_NAMES,
                    progress: bool = True) -> int:
    """Every track of `splits` in the SynthStems folder `src`, re-sounded into `out` (resumable: finished tracks
    are kept). Returns how many tracks were written now."""
    src, out, soundfont = Path(src), Path(out), Path(soundfont)
    if not soundfont.is_file():
        raise SynthGenError(f"{soundfont}: no such SoundFont (Debian's timgm6mb-soundfont installs {DEFAULT_SOUNDFONT})")
    tracks = [t for split in splits for t in sorted((src / split).glob("*/score.mid"))]
    if not tracks:
        raise SynthGenError(f"{src}: no SynthStems tracks (with score.mid) in {', '.join(splits)}")
    jobs = [t.parent for t in tracks if not (out / t.parent.parent.name / t.parent.name).is_dir()]
    for track in tqdm(jobs, desc="resound", unit="track", disable=not progress):
        (out / track.parent.name).mkdir(parents=True, exist_ok=True)
        resound_track(track, out / track.parent.name / track.name, soundfont)
    return len(jobs)
