"""What the two baselines share: saving and loading, the training interface, generating a stem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from synthgen.audio import SAMPLE_RATE
from synthgen.errors import SynthGenError
from synthgen.files import atomic_directory, model_directory
from synthgen.resampling import resample

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"
BASELINES: dict[str, type["AudioBaseline"]] = {}


class AudioBaseline(nn.Module):
    """Mix audio [B, N] in, synth audio out, at 32 kHz mono. Subclasses set `arch`, take their sizes as
    keyword arguments (saved as the config) and define `item_losses` and `synthesize`."""

    arch: str
    name: str  # the evaluation report's row (load_generator names it after its folder)
    sample_rate = SAMPLE_RATE
    uses_text = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        BASELINES[cls.arch] = cls

    def __init__(self, **config):
        super().__init__()
        self.config = config

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ----- training interface (synthgen.train) -----
    def item_losses(self, batch: dict) -> torch.Tensor:
        """Loss of each window of a batch (mix, target [B, N], valid [B]) -> [B]."""
        raise NotImplementedError

    def synthesize(self, mix: torch.Tensor) -> torch.Tensor:
        """mix [B, N] -> stem [B, N] at 32 kHz."""
        raise NotImplementedError

    def loss(self, batch: dict, condition: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
        """The mean loss and its parts [1] (one part: the baselines have no codebooks)."""
        loss = self.item_losses(batch).mean()
        return loss, loss.detach()[None]

    def validation_losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed loss [1] and the number of windows [1]."""
        losses = self.item_losses(batch)
        return losses.sum()[None], torch.tensor([float(len(losses))], device=losses.device)

    # ----- generating (synthgen.eval) -----
    @torch.no_grad()
    def generate(self, mix: np.ndarray, sample_rate: int, prompt: str) -> np.ndarray:
        """mix [N] -> stem [N] at sample_rate (the prompt is ignored)."""
        x = torch.from_numpy(resample(mix[None].astype(np.float32), sample_rate, self.sample_rate)).to(self.device)
        stem = self.synthesize(x)[0].float().cpu().numpy()
        out = resample(stem[None], self.sample_rate, sample_rate)[0]
        return np.pad(out, (0, max(0, len(mix) - len(out))))[: len(mix)]

    # ----- weights -----
    def save_pretrained(self, directory: str | Path) -> None:
        """config.json (arch and sizes) + model.safetensors, swapped in complete."""
        with atomic_directory(directory) as tmp:
            (tmp / CONFIG_NAME).write_text(json.dumps(dict(arch=self.arch, **self.config), indent=1))
            save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(tmp / WEIGHTS_NAME))


def is_baseline_dir(directory: str | Path) -> bool:
    """Whether a model directory (or run folder) holds a baseline rather than a SynthGen pipeline."""
    config = model_directory(directory) / CONFIG_NAME
    return config.is_file() and json.loads(config.read_text()).get("arch") in BASELINES


def load_baseline(directory: str | Path) -> AudioBaseline:
    directory = model_directory(directory)
    config = json.loads((directory / CONFIG_NAME).read_text())
    arch = config.pop("arch", None)
    if arch not in BASELINES:
        raise SynthGenError(f"{directory}: not a baseline model (arch {arch!r})")
    model = BASELINES[arch](**config)
    model.load_state_dict(load_file(str(directory / WEIGHTS_NAME)))
    return model.eval()
