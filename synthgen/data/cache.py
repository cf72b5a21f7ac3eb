"""The token cache: every window's mix and target encoded once, stored for memory-mapped reading.

Layout of a cache folder:
  cache.json             format version, codec identity, window settings, mode and the full track list
  tracks/<key>/
    context.npy          the mix's codes [W, K, T] int16 (W windows, K codebooks, T frames per window)
    target.npy           codes [W, K, T] int16
    chroma.npy           the mix's chroma [W, F, 12] float16 (synthgen.chroma, 7.8 frames/s)
    track.json           name, split, description, attributes (a SynthStems track's true notes among them), and
                         each window's start and valid frames

A track folder appears only once complete (written under a temporary name, then renamed), so a
killed `prepare` resumes where it stopped, and a cache reads as complete only when every track of
`cache.json` has its folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from synthgen.chroma import HOP as CHROMA_HOP
from synthgen.chroma import chroma
from synthgen.codec import Codec
from synthgen.data.sources import Track, load_pair
from synthgen.data.window_settings import WindowSettings
from synthgen.data.windows import cut, window_starts
from synthgen.errors import SynthGenError
from synthgen.files import write_text_atomic
from synthgen.notes import Note
from synthgen.roll import piano_roll

CACHE_FORMAT = 1


def _settings(codec: Codec, windows: WindowSettings, mode: str, source: str, target: str,
              tracks: list[Track]) -> dict:
    return dict(
        format=CACHE_FORMAT,
        codec=codec.identity(),
        window_seconds=windows.window,
        hop_seconds=windows.hop,
        tail=windows.tail,
        frames_per_window=math.ceil(windows.window * codec.sample_rate / codec.hop_length),
        mode=mode,
        source=source,
        target=target,
        tracks=[dict(key=t.key, name=t.name, split=t.split) for t in tracks],
    )


def _claim_cache(out: Path, settings: dict) -> None:
    """Create the cache's settings file, or check that an existing cache was made the same way."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "tracks").mkdir(exist_ok=True)
    path = out / "cache.json"
    if path.is_file():
        existing = json.loads(path.read_text())
        different = sorted(k for k in settings if existing.get(k) != settings[k])
        if different:
            raise SynthGenError(
                f"{out}: already holds a cache made with other settings ({', '.join(different)}); "
                "choose another --out or delete it"
            )
        return
    write_text_atomic(path, json.dumps(settings, indent=1, ensure_ascii=False))


def _encode_track(codec: Codec, track: Track, windows: WindowSettings, mode: str,
                  batch_size: int) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Encode one track's windows. Returns the arrays by file name ({context (the mix), target: codes [W, K, T]
    int16, chroma [W, F, 12] float16}) and each window's info."""
    mix, target = load_pair(track, codec.sample_rate, codec.channels, mode)
    length = round(windows.window * codec.sample_rate)
    hop = round(windows.hop * codec.sample_rate)
    spans = window_starts(mix.shape[1], length, hop, windows.tail)
    frames = math.ceil(length / codec.hop_length)
    arrays = {name: np.zeros((len(spans), codec.num_codebooks, frames), np.int16) for name in ("context", "target")}
    arrays["chroma"] = np.zeros((len(spans), 1 + length // CHROMA_HOP, 12), np.float16)
    for i in range(0, len(spans), batch_size):
        batch = spans[i : i + batch_size]
        for name, audio in (("context", mix), ("target", target)):
            stacked = torch.from_numpy(np.stack([cut(audio, w, length) for w in batch]))
            arrays[name][i : i + len(batch)] = codec.encode(stacked).numpy()
            if name == "context":
                arrays["chroma"][i : i + len(batch)] = chroma(stacked.mean(dim=1), codec.sample_rate).numpy()
    info = [dict(start_seconds=w.start / codec.sample_rate, valid_frames=math.ceil(w.valid / codec.hop_length))
            for w in spans]
    return arrays, info


def _write_track(out: Path, track: Track, arrays: dict[str, np.ndarray], info: list[dict]) -> None:
    final = out / "tracks" / track.key
    tmp = out / "tracks" / f".tmp-{track.key}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", array)
    meta = dict(name=track.name, split=track.split, description=track.description,
                attributes=track.attributes, windows=info)
    (tmp / "track.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    os.rename(tmp, final)


def missing_tracks(out: Path) -> list[str]:
    """Keys of the tracks in `cache.json` that have no finished folder yet."""
    out = Path(out)
    settings = json.loads((out / "cache.json").read_text())
    return [t["key"] for t in settings["tracks"] if not (out / "tracks" / t["key"]).is_dir()]


def prepare_cache(tracks: list[Track], out: str | Path, codec: Codec, *, windows: WindowSettings,
                  mode: str, source: str, target: str, shard: int = 0, num_shards: int = 1,
                  batch_size: int = 8, progress: bool = True) -> int:
    """Encode this shard's unfinished tracks into the cache at `out`. Returns how many it encoded.

    Tracks are streamed one at a time, so memory does not grow with their number. Shard `shard`
    of `num_shards` takes tracks shard, shard + num_shards, ...; all shards write one cache.
    """
    out = Path(out)
    _claim_cache(out, _settings(codec, windows, mode, source, target, tracks))
    mine = [t for i, t in enumerate(tracks) if i % num_shards == shard]
    todo = [t for t in mine if not (out / "tracks" / t.key).is_dir()]
    label = f"prepare {shard + 1}/{num_shards}" if num_shards > 1 else "prepare"
    with tqdm(total=len(mine), initial=len(mine) - len(todo), desc=label, unit="track",
              disable=not progress) as bar:
        for track in todo:
            bar.set_postfix_str(track.key[:40])
            _write_track(out, track, *_encode_track(codec, track, windows, mode, batch_size))
            bar.update()
    return len(todo)


class CodeCache(Dataset):
    """A finished token cache as a torch Dataset of windows, read by memory map.

    Item: dict(mix_codes [K, T] int64, target [K, T] int64, chroma [F, 12] float32, valid_frames int,
    prompt str (the track's description), index int; for a track whose attributes hold its notes, also
    notes [T, R] float32, the target's piano roll (`synthgen.roll`)).
    """

    def __init__(self, root: str | Path, split: str | None = None):
        self.root = Path(root)
        settings_path = self.root / "cache.json"
        if not settings_path.is_file():
            raise SynthGenError(f"{self.root}: not a token cache (no cache.json); run `synthgen prepare`")
        self.settings = json.loads(settings_path.read_text())
        if self.settings.get("format") != CACHE_FORMAT:
            raise SynthGenError(f"{self.root}: cache format {self.settings.get('format')} is not {CACHE_FORMAT}")
        missing = missing_tracks(self.root)
        if missing:
            raise SynthGenError(
                f"{self.root}: incomplete cache ({len(missing)} of {len(self.settings['tracks'])} tracks "
                "missing); run `synthgen prepare` again to finish it"
            )
        self.tracks = [t for t in self.settings["tracks"] if split is None or t["split"] == split]
        self.meta = [json.loads((self.root / "tracks" / t["key"] / "track.json").read_text()) for t in self.tracks]
        self.index = [(ti, wi) for ti, meta in enumerate(self.meta) for wi in range(len(meta["windows"]))]
        self._arrays: dict[int, dict[str, np.ndarray]] = {}
        self._notes: dict[int, list[Note] | None] = {}

    @property
    def codec(self) -> dict:
        return self.settings["codec"]

    def __len__(self) -> int:
        return len(self.index)

    def _track_arrays(self, track_index: int) -> dict[str, np.ndarray]:
        if track_index not in self._arrays:
            folder = self.root / "tracks" / self.tracks[track_index]["key"]
            self._arrays[track_index] = {name: np.load(folder / f"{name}.npy", mmap_mode="r")
                                         for name in ("context", "target", "chroma")}
        return self._arrays[track_index]

    def window(self, i: int) -> dict:
        """Everything known about window i: track name, split, start, description, attributes."""
        ti, wi = self.index[i]
        meta = self.meta[ti]
        return dict(track=meta["name"], split=meta["split"], description=meta["description"],
                    attributes=meta["attributes"], **meta["windows"][wi])

    def __getitem__(self, i: int) -> dict:
        ti, wi = self.index[i]
        arrays = self._track_arrays(ti)
        return dict(
            mix_codes=torch.from_numpy(arrays["context"][wi].astype(np.int64)),
            target=torch.from_numpy(arrays["target"][wi].astype(np.int64)),
            chroma=torch.from_numpy(arrays["chroma"][wi].astype(np.float32)),
            valid_frames=self.meta[ti]["windows"][wi]["valid_frames"],
            prompt=self.meta[ti]["description"],
            index=i,
            **self._roll(ti, wi),
        )

    def _roll(self, track_index: int, window_index: int) -> dict:
        """{"notes": the window's piano roll [T, R]} for a track whose notes are known, else {}."""
        if track_index not in self._notes:
            rows = self.meta[track_index]["attributes"].get("notes")
            self._notes[track_index] = None if rows is None else [Note(*row) for row in rows]
        notes = self._notes[track_index]
        if notes is None:
            return {}
        start = self.meta[track_index]["windows"][window_index]["start_seconds"]
        frames = self.settings["frames_per_window"]
        return {"notes": torch.from_numpy(piano_roll(notes, start, frames, self.codec["frame_rate"]))}
