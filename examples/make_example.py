"""Make examples/backing.flac: a 16 s SynthStems backing track (drums, bass, chords; no synth part).

    python examples/make_example.py

Stereo 44.1 kHz like a typical song, so the README's main command exercises resampling and channel
handling. The same command always writes the same file.
"""

from pathlib import Path

import numpy as np
import soundfile as sf

from synthgen.data.synthstems.generator import SynthStemsConfig, make_track

SEED, INDEX, SECONDS, RATE = 7, 0, 16.0, 44100


def main() -> None:
    track = make_track(SynthStemsConfig(seconds=SECONDS, sample_rate=RATE, seed=SEED, style="classic"), INDEX)
    backing = track["backing"]
    out = Path(__file__).with_name("backing.flac")
    sf.write(out, np.stack([backing, backing], axis=1), RATE, subtype="PCM_16")
    meta = track["meta"]
    print(f"{out}: {SECONDS:.0f} s, {meta['key']}, {meta['tempo']:.0f} BPM, {meta['groove']}, "
          f"{meta['backing_instrument']} ({meta['comping']}); its removed synth part was: {meta['description']}")


if __name__ == "__main__":
    main()
