"""The synth renderer (`--renderer synth`): a part's notes played by the project's own synthesizer (`engine`, the one
SynthStems renders with) in the prompt's voice (`voices.voice_for`), block by block in memory that does not grow with
the song. Dry (no effects) and codec-free: the reference that tells the plan's quality from the neural renderer's.

    for piece in synth_stream(notes, total=n, sample_rate=32000, voice=voice_for(prompt)): ...   # [m] float32
    for pieces in synth_parts(parts, n, 32000, prompt, seed=0): ...    # each variation's pieces
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.signal import lfilter

from synthgen.notes import Note
from synthgen.renderers.voices import Voice, voice_for
from synthgen.synth.engine import render_event, render_part

BLOCK_SECONDS = 10.0
DC_POLE = 0.9995  # the DC blocker's pole: -3 dB near 2.5 Hz at 32 kHz (a pulse wave's offset removed, no bass lost)


def synth_stream(notes: list[Note], total: int, sample_rate: int, voice: Voice, seed: int = 0,
                 block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The notes played for `total` samples -> pieces [m] float32 in order, adding up to `total`. A note is rendered
    in the block it starts in (one that began before the stream, at its start); its tail (the rest of the note and its
    release) carries into the next blocks. A DC blocker (one zero at DC, one pole at DC_POLE) runs across the blocks."""
    patch = voice.patch
    render = lambda pitches, gate: render_event(patch, pitches, gate, sample_rate, (seed, *pitches, gate))  # noqa: E731
    block = max(1, round(block_seconds * sample_rate))
    onsets = [(max(round(n.start * sample_rate), 0), n) for n in sorted(notes, key=lambda note: note.start)]
    carried, dc_state = np.zeros(0), np.zeros(1)
    for start in range(0, total, block):
        end = min(start + block, total)
        offset = start / sample_rate
        here = [Note((onset - start) / sample_rate, n.end - offset, n.pitch, n.velocity) for onset, n in onsets
                if start <= onset < end]
        length = max([end - start, len(carried)] + [round((n.end + patch.release) * sample_rate) + 1 for n in here])
        audio = render_part(here, length, sample_rate, render)
        audio[: len(carried)] += carried
        carried = audio[end - start :]
        out, dc_state = lfilter([1.0, -1.0], [1.0, -DC_POLE], audio[: end - start], zi=dc_state)
        yield out.astype(np.float32)


def synth_parts(parts: list[list[Note]], total: int, sample_rate: int, prompt: str, seed: int) -> list[Iterator[np.ndarray]]:
    """Each variation's part in the prompt's voice (variation i seeded seed + i): one `synth_stream` per part."""
    voice = voice_for(prompt)
    return [synth_stream(part, total, sample_rate, voice, seed + i) for i, part in enumerate(parts)]
