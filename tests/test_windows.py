import numpy as np
import pytest

from synthgen.data.int16 import from_int16, to_int16
from synthgen.data.windows import cut, window_starts

SR = 1000  # samples per "second" in these tests


@pytest.mark.parametrize("seconds,pad,drop", [
    (3, [(0, 3000)], []),                                    # shorter than a window
    (10, [(0, 10000)], [(0, 10000)]),                          # exactly one window
    (12, [(0, 10000), (5000, 7000)], [(0, 10000)]),            # a 2 s tail
    (20, [(0, 10000), (5000, 10000), (10000, 10000)], [(0, 10000), (5000, 10000), (10000, 10000)]),
    (21, [(0, 10000), (5000, 10000), (10000, 10000), (15000, 6000)], [(0, 10000), (5000, 10000), (10000, 10000)]),
])
def test_window_counts_and_tail_rules(seconds, pad, drop):
    n = seconds * SR
    assert [(w.start, w.valid) for w in window_starts(n, 10 * SR, 5 * SR, "pad")] == pad
    assert [(w.start, w.valid) for w in window_starts(n, 10 * SR, 5 * SR, "drop")] == drop


def test_pad_covers_every_sample_and_drop_stays_inside():
    for n in range(1, 40000, 997):
        pad = window_starts(n, 10 * SR, 3 * SR, "pad")
        assert pad[-1].start + pad[-1].valid == n
        assert all(w.start + w.valid <= n for w in window_starts(n, 10 * SR, 3 * SR, "drop"))


def test_cut_is_sample_exact_and_zero_padded():
    audio = np.arange(2 * 12000, dtype=np.float32).reshape(2, 12000)
    windows = window_starts(12000, 10000, 5000, "pad")
    last = cut(audio, windows[-1], 10000)
    np.testing.assert_array_equal(last[:, :7000], audio[:, 5000:12000])
    assert not last[:, 7000:].any()
    np.testing.assert_array_equal(cut(audio, windows[0], 10000), audio[:, :10000])


def test_bad_settings():
    with pytest.raises(ValueError):
        window_starts(100, 0, 5)
    with pytest.raises(ValueError):
        window_starts(100, 10, 5, "wrap")


def test_int16_packing_round_trips_within_one_step_and_clips():
    audio = np.array([0.0, 0.5, -0.25, 1.5, -1.5], dtype=np.float32)
    packed = to_int16(audio)
    assert packed.dtype == np.int16 and packed[3] == 32767 and packed[4] == -32768
    np.testing.assert_allclose(from_int16(packed)[:3], audio[:3], atol=1 / 32767)
    assert from_int16(packed).dtype == np.float32
