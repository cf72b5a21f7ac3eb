"""The MusicGen-Melody decoder in plain torch: a pre-norm transformer over [prefix; delayed code steps] with
one embedding table and one output head per codebook.

Its parameter names are those of transformers' `MusicgenMelodyForCausalLM` (`model.decoder.layers.0.self_attn.
q_proj.weight`, `lm_heads.0.weight`, ...), so every saved CodecLM, the pretrained 1.5B weights and the LoRA
target names carry over unchanged; a test compares the two in float32. Written here so that generation starts
without importing transformers (issue #20).

Shapes: B batch, P prefix length, S steps, L = P + S, D hidden size, K codebooks, V code cardinality.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu}


@dataclass
class DecoderConfig:
    """MusicGen-Melody's decoder settings; the defaults are transformers' (`MusicgenMelodyDecoderConfig`)."""

    vocab_size: int = 2048  # V, codes per codebook (the embeddings hold one more: the pad / start code)
    max_position_embeddings: int = 2048  # kept for the config's sake: the positions grow as needed
    num_hidden_layers: int = 24
    ffn_dim: int = 4096
    num_attention_heads: int = 16
    layerdrop: float = 0.0
    activation_function: str = "gelu"
    hidden_size: int = 1024
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation_dropout: float = 0.0
    initializer_factor: float = 0.02
    scale_embedding: bool = False  # never applied, in transformers either
    num_codebooks: int = 4
    audio_channels: int = 1
    pad_token_id: int = 2048
    bos_token_id: int = 2048

    def to_dict(self) -> dict:
        """The settings as a dict (what peft reads from a model's `config`, as from transformers' configs)."""
        return asdict(self)

    def __post_init__(self):
        if self.activation_function not in ACTIVATIONS:
            raise ValueError(f"activation_function '{self.activation_function}' (choose from {', '.join(ACTIVATIONS)})")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not a multiple of {self.num_attention_heads} heads")


def sinusoids(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """MusicGen's sinusoidal positions (tensor2tensor order: cosines, then sines) -> [length, dim] float32."""
    half = dim // 2
    frequencies = torch.exp(torch.arange(half, device=device).float() * -(math.log(10000) / (half - 1)))
    angles = torch.arange(length, device=device).float()[:, None] * frequencies[None]
    table = torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)
    return F.pad(table, (0, dim % 2))


def visibility(keys: torch.Tensor, start: int) -> torch.Tensor:
    """Which positions the positions [start, end) may read: keys [B, end] (False where dropped or padding) ->
    [B, 1, end - start, end], causal. Each position also reads itself, so that a row whose prefix is all dropped has
    no empty softmax; a dropped position is read by no other, so the others' outputs are unchanged."""
    end = keys.shape[1]
    rows = torch.arange(start, end, device=keys.device)[:, None]
    columns = torch.arange(end, device=keys.device)[None, :]
    return ((columns <= rows) & keys[:, None, None, :]) | (columns == rows)


class SelfAttention(nn.Module):
    def __init__(self, config: DecoderConfig):
        super().__init__()
        width = config.hidden_size
        self.heads = config.num_attention_heads
        self.dropout = config.attention_dropout
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(width, width, bias=False) for _ in range(4))

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """x [B, L, D], attend [B, 1, L, L] (True where a query may read a key) -> [B, L, D]."""
        b, length, width = x.shape
        q, k, v = (proj(x).view(b, length, self.heads, -1).transpose(1, 2) for proj in (self.q_proj, self.k_proj, self.v_proj))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(b, length, width))


class DecoderLayer(nn.Module):
    def __init__(self, config: DecoderConfig):
        super().__init__()
        self.self_attn = SelfAttention(config)
        self.self_attn_layer_norm = nn.LayerNorm(config.hidden_size)
        self.fc1 = nn.Linear(config.hidden_size, config.ffn_dim, bias=False)
        self.fc2 = nn.Linear(config.ffn_dim, config.hidden_size, bias=False)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size)
        self.activation = ACTIVATIONS[config.activation_function]
        self.dropout, self.activation_dropout = config.dropout, config.activation_dropout

    def forward(self, h: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """h [B, L, D] -> [B, L, D]."""
        h = h + F.dropout(self.self_attn(self.self_attn_layer_norm(h), attend), self.dropout, self.training)
        x = F.dropout(self.activation(self.fc1(self.final_layer_norm(h))), self.activation_dropout, self.training)
        return h + F.dropout(self.fc2(x), self.dropout, self.training)


class DecoderStack(nn.Module):
    """Embeddings, layers and the final norm (transformers' `MusicgenMelodyDecoder`)."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        self.embed_tokens = nn.ModuleList(nn.Embedding(config.vocab_size + 1, config.hidden_size)
                                          for _ in range(config.num_codebooks))
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_hidden_layers))
        self.layer_norm = nn.LayerNorm(config.hidden_size)
        self.dropout, self.layerdrop = config.dropout, config.layerdrop

    def forward(self, states: torch.Tensor, prefix: torch.Tensor, prefix_mask: torch.Tensor) -> torch.Tensor:
        """Step states [B, S, D] after the prefix [B, P, D] (mask [B, P], 0 where dropped) -> hidden [B, L, D]."""
        h = torch.cat([prefix, states], dim=1)
        keys = torch.cat([prefix_mask.bool(), prefix_mask.new_ones(states.shape[:2], dtype=torch.bool)], dim=1)
        attend = visibility(keys, 0)
        h = F.dropout(h + sinusoids(h.shape[1], h.shape[-1], h.device).to(h.dtype), self.dropout, self.training)
        for layer in self.layers:
            if self.training and random.uniform(0, 1) < self.layerdrop:
                continue
            h = layer(h, attend)
        return self.layer_norm(h)


class MusicGenDecoder(nn.Module):
    """The decoder with its output heads (transformers' `MusicgenMelodyForCausalLM`, by parameter name)."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        self.config = config
        self.model = nn.Module()  # transformers' `MusicgenMelodyModel` level, kept only for the parameter names
        self.model.decoder = DecoderStack(config)
        self.lm_heads = nn.ModuleList(nn.Linear(config.hidden_size, config.vocab_size, bias=False)
                                      for _ in range(config.num_codebooks))
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=config.initializer_factor)

    def forward(self, states: torch.Tensor, prefix: torch.Tensor, prefix_mask: torch.Tensor) -> torch.Tensor:
        """Step states [B, S, D] after the prefix [B, P, D] with its mask [B, P] -> logits [B, K, S, V]."""
        hidden = self.model.decoder(states, prefix, prefix_mask)[:, -states.shape[1] :]
        return torch.stack([head(hidden) for head in self.lm_heads], dim=1)
