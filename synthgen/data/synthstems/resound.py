"""SynthStems tracks with their backing played by a General MIDI SoundFont instead of their own band.

Each track's score.mid holds the backing parts beside the synth's; `resound_dataset` renders those backing parts
with FluidSynth and a SoundFont (`soundfont.render_midi`, its reverb and chorus on), brings them to the loudness of
the track's own backing, and writes a track whose synth.wav (scaled down only if the new sum would clip),
description and score are the original's: a mix the model has never heard, with its true stem. SynthGen keeps
`timgm6mb-soundfont` (TimGM6mb.sf2) out of training for exactly this out-of-distribution check.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf
from tqdm import tqdm

from synthgen.data.synthstems.generator import SPLIT_NAMES, write_track
from synthgen.data.synthstems.soundfont import DEFAULT_SOUNDFONT, render_midi
from synthgen.errors import SynthGenError


def resound_track(src: Path, dst: Path, soundfont: Path) -> None:
    """Write track `src` into `dst` with its backing played by `soundfont` at the original backing's RMS level."""
    synth, sr = sf.read(src / "synth.wav", dtype="int16")
    mixture, _ = sf.read(src / "mixture.wav", dtype="int16")
    old_backing = (mixture.astype(np.int32) - synth).astype(np.float64)
    backing = render_midi(pretty_midi.PrettyMIDI(str(src / "score.mid")), soundfont, sr, len(synth)).astype(np.float64)
    if synth.ndim == 2:  # a stereo track: the new backing in the centre
        backing = np.repeat(backing[:, None], synth.shape[1], axis=1)
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
