"""MusicGen's delay pattern: codebook k is shifted k steps later, so that one decoder step predicts
codebook 0 of frame t together with codebook k of frame t - k.

For K = 4 codebooks and T frames (P = pad id = cardinality), the delayed sequence has T + K - 1 steps:

    step:        0    1    2    3    4   ...  T-1    T   T+1  T+2
    codebook 0:  a0   a1   a2   a3   a4  ...  aT-1   P    P    P
    codebook 1:  P    b0   b1   b2   b3  ...  bT-2  bT-1  P    P
    codebook 2:  P    P    c0   c1   c2  ...  cT-3  cT-2 cT-1  P
    codebook 3:  P    P    P    d0   d1  ...  dT-4  dT-3 dT-2 dT-1

The decoder reads step s - 1 (a column of P before step 0, MusicGen's BOS) and predicts step s. The
P positions are never predicted: the loss masks them, and sampling writes P there.
"""

from __future__ import annotations

import torch


def apply_delay(codes: torch.Tensor, pad_id: int) -> torch.Tensor:
    """codes [B, K, T] -> delayed [B, K, T + K - 1], P where no code sits."""
    b, k, t = codes.shape
    out = codes.new_full((b, k, t + k - 1), pad_id)
    for q in range(k):
        out[:, q, q : q + t] = codes[:, q]
    return out


def undo_delay(delayed: torch.Tensor) -> torch.Tensor:
    """delayed [B, K, S] -> codes [B, K, S - K + 1]."""
    k = delayed.shape[1]
    t = delayed.shape[2] - k + 1
    return torch.stack([delayed[:, q, q : q + t] for q in range(k)], dim=1)


def code_mask(num_codebooks: int, valid_frames: torch.Tensor, frames: int) -> torch.Tensor:
    """Which steps of a delayed sequence hold a real code of a frame < valid_frames.

    valid_frames [B] -> bool [B, K, frames + K - 1].
    """
    steps = torch.arange(frames + num_codebooks - 1, device=valid_frames.device)
    frame = steps[None, :] - torch.arange(num_codebooks, device=valid_frames.device)[:, None]  # [K, S]
    return (frame[None] >= 0) & (frame[None] < valid_frames[:, None, None])


def decoder_inputs(delayed: torch.Tensor, pad_id: int) -> torch.Tensor:
    """What the decoder reads to predict `delayed` [B, K, S]: the sequence one step late, P first."""
    return torch.cat([delayed.new_full(delayed.shape[:2] + (1,), pad_id), delayed[..., :-1]], dim=-1)
