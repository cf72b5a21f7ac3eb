"""A lean incremental decoder for generation: the CodecLM decoder's own weights, a preallocated key/value
cache and one fused step, without the per-call bookkeeping of the training-time forward.

It computes exactly what `CodecLM.forward` computes (pre-norm MusicGen layers: self-attention without
biases, the feed-forward's activation, sinusoidal positions over prefix + steps); tests compare the two in float32.
A decoding step reads every weight once for a handful of rows. Its matrix products run in float32 or bfloat16
(`precision.auto_dtype` picks the faster on the machine); everything else (norms, attention, the cache) stays in
float32.
Shapes: R rows (variations x guidance), D hidden, H heads, K codebooks, V cardinality.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from synthgen.model.decoder import ACTIVATIONS, sinusoids, visibility
from synthgen.model.lm import CodecLM


class CachedDecoder:
    def __init__(self, model: CodecLM, rows: int, max_length: int, dtype: torch.dtype = torch.float32):
        decoder = model.decoder.model.decoder
        config = model.decoder.config
        self.heads_count = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.num_codebooks = model.num_codebooks
        self.cardinality = model.cardinality
        self.activation = ACTIVATIONS[config.activation_function]
        self.layers = []
        for layer in decoder.layers:
            attn = layer.self_attn
            self.layers.append(dict(  # the matrices transposed, [D_in, D_out], in `dtype`
                ln1=_norm(layer.self_attn_layer_norm),
                qkv=_matrix(torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]), dtype),
                out=_matrix(attn.out_proj.weight, dtype),
                ln2=_norm(layer.final_layer_norm),
                fc1=_matrix(layer.fc1.weight, dtype), fc2=_matrix(layer.fc2.weight, dtype),
            ))
        self.final_ln = _norm(decoder.layer_norm)
        self.heads = _matrix(torch.cat([head.weight for head in model.decoder.lm_heads]), dtype)  # [D, K * V]
        self.embeddings = torch.cat([e.weight for e in decoder.embed_tokens]).float()  # [K * (V + 1), D]
        self.offsets = (torch.arange(self.num_codebooks, device=model.device) * (self.cardinality + 1))[None, :, None]
        self.positions = sinusoids(max_length, config.hidden_size, model.device)
        shape = (len(decoder.layers), 2, rows, self.heads_count, max_length, self.head_dim)
        self.cache = torch.zeros(shape, device=model.device)  # each layer's keys and values
        self.key_mask = torch.zeros(rows, max_length, dtype=torch.bool, device=model.device)
        self.length = 0

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [R, K, n] -> summed codebook embeddings [R, n, D]."""
        return F.embedding(codes + self.offsets, self.embeddings).sum(dim=1)

    def __call__(self, states: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Append n positions (input states [R, n, D]; mask [R, n], False for padding) -> logits [R, K, n, V] (float32).

        The hidden states stay [R * n, D] between the layers, so that each residual projection is one addmm."""
        rows, n, width = states.shape
        start, end = self.length, self.length + n
        self.key_mask[:, start:end] = True if mask is None else mask
        h = (states.float() + self.positions[start:end]).reshape(rows * n, width)
        if n == 1:  # a step reads every position before it, and itself (`visibility` in a single mask slice)
            attend = self.key_mask[:, None, None, :end]
        else:
            attend = visibility(self.key_mask[:, :end], start)
        for p, cache in zip(self.layers, self.cache):
            x = F.layer_norm(h, (width,), *p["ln1"])
            qkv = _product(x, p["qkv"]).view(rows, n, 3, self.heads_count, self.head_dim).permute(2, 0, 3, 1, 4)
            cache[:, :, :, start:end] = qkv[1:]
            a = F.scaled_dot_product_attention(qkv[0], cache[0, :, :, :end], cache[1, :, :, :end], attn_mask=attend)
            h = _residual(h, a.transpose(1, 2).reshape(rows * n, width), p["out"])
            x = F.layer_norm(h, (width,), *p["ln2"])
            h = _residual(h, self.activation(_product(x, p["fc1"])), p["fc2"])
        self.length = end
        h = F.layer_norm(h, (width,), *self.final_ln)
        return _product(h, self.heads).view(rows, n, self.num_codebooks, self.cardinality).transpose(1, 2)


def _matrix(weight: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A linear layer's weight [D_out, D_in] as the right-hand matrix of x @ W: [D_in, D_out] in `dtype`."""
    return weight.detach().to(dtype).t()


def _product(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """x [M, D_in] (float32) @ matrix in the matrix's precision, returned in float32."""
    return x @ matrix if matrix.dtype == x.dtype else (x.to(matrix.dtype) @ matrix).float()


def _residual(h: torch.Tensor, x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """h + x @ matrix: one fused addmm in float32."""
    return torch.addmm(h, x, matrix) if matrix.dtype == h.dtype else h + _product(x, matrix)


def _norm(layer: torch.nn.LayerNorm) -> tuple:
    return layer.weight.float(), layer.bias.float(), layer.eps
