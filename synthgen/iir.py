"""Streaming biquad filters in numpy, for the loudness meter's K-weighting and the stereo spreader's high-pass.

Written here because importing scipy.signal costs about a second of `synthgen generate`'s start-up (issue #20).
A filter is exact, not an approximation, and runs as matrix products instead of a loop over samples: within a
chunk of CHUNK samples the output is the input times a lower-triangular Toeplitz matrix of the impulse response,
plus the response to the state the chunk starts in. The chunks' start states follow the same kind of recurrence
one level up (state <- A^CHUNK state + the chunk's input carried to its end), solved GROUP chunks at a time by
one product; only the groups are a Python loop, and the state is carried across blocks. Tests compare it with
scipy.signal.lfilter.
"""

from __future__ import annotations

import numpy as np

CHUNK, GROUP = 64, 64  # samples per chunk, chunks per group (see Biquad)


def rbj_biquad(kind: str, hz: float, q: float, sample_rate: int, gain_db: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A biquad of the RBJ Audio EQ Cookbook -> (b [3], a [3]) with a[0] = 1. kind: "high_pass" (with q = 1/sqrt(2),
    the second-order Butterworth high-pass) or "high_shelf" (`gain_db` above `hz`)."""
    w0 = 2 * np.pi * hz / sample_rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "high_pass":
        b = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2])
        a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    elif kind == "high_shelf":
        g = 10 ** (gain_db / 40)
        root = 2 * np.sqrt(g) * alpha
        b = g * np.array([(g + 1) + (g - 1) * cos + root, -2 * ((g - 1) + (g + 1) * cos), (g + 1) + (g - 1) * cos - root])
        a = np.array([(g + 1) - (g - 1) * cos + root, 2 * ((g - 1) - (g + 1) * cos), (g + 1) - (g - 1) * cos - root])
    else:
        raise ValueError(f"unknown biquad kind '{kind}'")
    return b / a[0], a / a[0]


class Biquad:
    """One biquad over audio [C, n] that arrives block by block, in float64: call it on consecutive blocks.

    State space of the transposed direct form II: state s [2], y = s[0] + b0 x, s <- A s + B x.
    """

    def __init__(self, b: np.ndarray, a: np.ndarray, channels: int):
        transition = np.array([[-a[1], 1.0], [-a[2], 0.0]])  # A
        drive = np.array([b[1] - a[1] * b[0], b[2] - a[2] * b[0]])  # B
        powers = _powers(transition, CHUNK)  # [CHUNK + 1, 2, 2]
        self.free = powers[:CHUNK, 0]  # [CHUNK, 2]: output n samples after the state, for no input (C A^n)
        self.carry = (powers[:CHUNK] @ drive)[::-1].T.copy()  # [2, CHUNK]: A^(CHUNK-1-j) B, input j to the end
        impulse = np.concatenate([[b[0]], self.free[: CHUNK - 1] @ drive])  # h[0] = b0, h[m] = C A^(m-1) B
        self.toeplitz = _lower_toeplitz(impulse[:, None, None])[..., 0, 0]  # [CHUNK, CHUNK], output x input
        self.powers = powers
        # one level up: the start states of a group's chunks (and its end state), from the group's start state
        # and from the chunks' inputs carried to their ends, as flat matrices: [2, (GROUP + 1) * 2], [GROUP * 2, ...]
        chunk_powers = _powers(powers[CHUNK], GROUP)  # [GROUP + 1, 2, 2]
        self.group_free = chunk_powers.transpose(2, 0, 1).reshape(2, -1)
        lagged = np.concatenate([np.zeros((1, 2, 2)), chunk_powers[:GROUP]])  # chunk i's carry k chunks on: M^(k-1-i)
        carry = _lower_toeplitz(lagged)[:, :GROUP]  # [GROUP + 1, GROUP, 2, 2]
        self.group_carry = carry.transpose(1, 3, 0, 2).reshape(GROUP * 2, -1)
        self.group_step = chunk_powers[GROUP].T
        self.state = np.zeros((channels, 2))

    def __call__(self, block: np.ndarray) -> np.ndarray:
        """block [C, n] -> filtered [C, n] float64."""
        x = np.asarray(block, dtype=np.float64)
        out = np.empty_like(x)
        whole = x.shape[1] - x.shape[1] % CHUNK
        if whole:
            chunks = x[:, :whole].reshape(x.shape[0], -1, CHUNK)  # [C, J, CHUNK]
            starts = self._chunk_starts(chunks @ self.carry.T)  # [C, J, 2]
            out[:, :whole] = (chunks @ self.toeplitz.T + starts @ self.free.T).reshape(x.shape[0], whole)
        rest = x.shape[1] - whole
        if rest:
            tail = x[:, whole:]
            out[:, whole:] = tail @ self.toeplitz[:rest, :rest].T + self.state @ self.free[:rest].T
            self.state = self.state @ self.powers[rest].T + tail @ self.carry[:, CHUNK - rest :].T
        return out

    def _chunk_starts(self, carried: np.ndarray) -> np.ndarray:
        """Each chunk's start state, for chunks whose inputs carried to their ends are [C, J, 2]; advances the state."""
        channels, count = carried.shape[:2]
        groups = -(-count // GROUP)
        padded = np.zeros((channels, groups * GROUP, 2))
        padded[:, :count] = carried
        within = padded.reshape(channels, groups, -1) @ self.group_carry  # [C, groups, (GROUP + 1) * 2]
        group_starts = np.empty((channels, groups, 2))
        for g in range(groups):
            group_starts[:, g] = self.state
            self.state = self.state @ self.group_step + within[:, g, -2:]
        states = (within + group_starts @ self.group_free).reshape(channels, groups, GROUP + 1, 2)
        starts = states[:, :, :GROUP].reshape(channels, -1, 2)
        last = count - (groups - 1) * GROUP  # chunks in the last group (the padding's zeros come after them)
        self.state = states[:, -1, last].copy()
        return starts[:, :count]


def _powers(matrix: np.ndarray, count: int) -> np.ndarray:
    """[count + 1, 2, 2]: matrix^0 ... matrix^count."""
    powers = [np.eye(2)]
    for _ in range(count):
        powers.append(matrix @ powers[-1])
    return np.stack(powers)


def _lower_toeplitz(terms: np.ndarray) -> np.ndarray:
    """terms [n, a, b] -> [n, n, a, b] with [k, i] = terms[k - i] for i <= k, else zero."""
    lags = np.arange(len(terms))[:, None] - np.arange(len(terms))[None]
    return np.where((lags >= 0)[..., None, None], terms[np.clip(lags, 0, None)], 0.0)
