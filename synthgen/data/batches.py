"""Batches of cached windows for the language model: `collate`, and `Paraphrased` prompts for training.

A batch: target, mix_codes [B, K, T] codes, chroma [B, F, 12], valid_frames [B], prompt (B strings), and notes
[B, T, R] (the target's piano roll) when every window's notes are known.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from synthgen.data.cache import CodeCache
from synthgen.data.synthstems.describe import can_describe, describe


class Paraphrased(Dataset):
    """Training windows whose prompt, the SynthStems description, is reworded every epoch: `describe` drawn again
    from the track's attributes, seeded by (seed, epoch, window). With one fixed description per track, the
    wording identifies the track and the text pathway learns track identities instead of attributes.
    Windows without describable attributes keep their description."""

    def __init__(self, cache: CodeCache, seed: int):
        self.cache, self.seed, self.epoch = cache, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.cache)

    def __getitem__(self, i: int) -> dict:
        item = self.cache[i]
        attributes = self.cache.window(i)["attributes"]
        if can_describe(attributes):
            item["prompt"] = describe(attributes, np.random.default_rng([self.seed, self.epoch, i]))
        return item


def collate(dataset: Dataset, indices: list[int], device: torch.device) -> dict:
    """A batch of cached windows: target, mix_codes [B, K, T], chroma [B, F, 12], valid_frames [B], prompt, and
    notes [B, T, R] where every window has them."""
    items = [dataset[i] for i in indices]
    names = ("target", "mix_codes", "chroma") + (("notes",) if all("notes" in it for it in items) else ())
    batch = {name: torch.stack([it[name] for it in items]).to(device) for name in names}
    batch["valid_frames"] = torch.tensor([it["valid_frames"] for it in items], device=device)
    batch["prompt"] = [it["prompt"] for it in items]
    return batch
