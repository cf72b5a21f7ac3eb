"""Sample-rate conversion with soxr at one quality, for whole arrays and for audio that arrives block by block."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import soxr

QUALITY = "HQ"  # soxr's, for every resampling


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample [C, N] audio from sr_in to sr_out. Returns [C, N'] float32."""
    if sr_in == sr_out:
        return audio
    out = soxr.resample(audio.T, sr_in, sr_out, quality=QUALITY)
    return np.ascontiguousarray(out.T, dtype=np.float32)


def stream_resampler(sr_in: int, sr_out: int, channels: int) -> Callable[..., np.ndarray]:
    """A resampler of consecutive blocks [n, C] -> [n', C] (float32), called with last=True on the final one to
    flush what it holds back; the identity at equal rates."""
    if sr_in == sr_out:
        return lambda x, last=False: x
    stream = soxr.ResampleStream(sr_in, sr_out, channels, dtype="float32", quality=QUALITY)
    return lambda x, last=False: stream.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)
