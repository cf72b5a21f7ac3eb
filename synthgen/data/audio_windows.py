"""A data folder's windows as audio, for models that read waveforms rather than codes (the baselines).

The same tracks, splits and window plan as the token cache (`synthgen prepare`), mono at 32 kHz, held
in memory as int16 (180 SynthStems tracks of 30 s: about 0.7 GB).
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from synthgen.audio import SAMPLE_RATE
from synthgen.data.int16 import from_int16, to_int16
from synthgen.data.window_settings import WindowSettings
from synthgen.data.sources import list_tracks, load_pair
from synthgen.data.windows import cut, window_starts
from synthgen.errors import SynthGenError



class AudioWindows(Dataset):
    """Item: dict(mix [N] float32, target [N] float32, valid int (samples of real audio), prompt str)."""

    def __init__(self, root: str, split: str, windows: WindowSettings = WindowSettings(), mode: str = "accompaniment",
                 progress: bool = True):
        tracks = [t for t in list_tracks(root) if t.split == split]
        self.length = round(windows.window * SAMPLE_RATE)
        hop = round(windows.hop * SAMPLE_RATE)
        self.audio, self.index, self.prompts = [], [], []
        for track in tqdm(tracks, desc=f"loading {split} windows", unit="track", disable=not progress or not tracks):
            mix, target = load_pair(track, SAMPLE_RATE, 1, mode)
            self.audio.append((to_int16(mix), to_int16(target)))
            self.prompts.append(track.description)
            self.index += [(len(self.audio) - 1, w) for w in window_starts(mix.shape[1], self.length, hop, windows.tail)]
        if split == "train" and not self.index:
            raise SynthGenError(f"{root}: no training windows")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        track, window = self.index[i]
        mix, target = (torch.from_numpy(from_int16(cut(a, window, self.length)[0])) for a in self.audio[track])
        return dict(mix=mix, target=target, valid=window.valid, prompt=self.prompts[track])


def collate_audio(data: AudioWindows, indices: list[int], device: torch.device) -> dict:
    """A batch: mix and target [B, N], valid [B]."""
    items = [data[i] for i in indices]
    return dict(mix=torch.stack([it["mix"] for it in items]).to(device),
                target=torch.stack([it["target"] for it in items]).to(device),
                valid=torch.tensor([it["valid"] for it in items], device=device))
