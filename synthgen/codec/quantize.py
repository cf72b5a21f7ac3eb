"""Quantizers: finite scalar quantization (the spectral codec) and residual vector quantization with k-means
initialised, EMA-updated codebooks (training an EnCodec).

Shapes: B batch, T frames, D vector size, M vectors (B * T), C codes in a codebook, G groups.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


# ----- finite scalar quantization -----
class FSQ(nn.Module):
    """Finite scalar quantization (Mentzer et al. 2023) in G groups: each group of len(levels) values is
    bounded by tanh, rounded to levels[i] steps each and read as one code in 0..prod(levels)-1. Rounding
    passes gradients straight through; there is no codebook to collapse and no commitment loss.

    forward: values [B, G * len(levels), T] -> (quantized [B, G * len(levels), T] in [-1, 1], codes [B, G, T])
    """

    def __init__(self, levels: tuple[int, ...], groups: int):
        super().__init__()
        self.groups, self.dims = groups, len(levels)
        self.register_buffer("levels", torch.tensor(levels), persistent=False)
        self.register_buffer("basis", torch.cumprod(torch.tensor((1, *levels[:-1])), 0), persistent=False)
        self.codebook_size = math.prod(levels)

    def bound(self, values: torch.Tensor) -> torch.Tensor:
        """[B, G, D, T] -> values in (-L/2, L/2) per dimension, so rounding gives L integer steps
        (-L/2 .. L/2 - 1 for an even L, whose range is shifted by half a step)."""
        levels = self.levels[:, None].to(values.dtype)
        half = (levels - 1) * (1 - 1e-3) / 2
        offset = (levels % 2 == 0).to(values.dtype) * 0.5
        return torch.tanh(values + torch.atanh(offset / half)) * half - offset

    def forward(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, t = values.shape
        bounded = self.bound(values.reshape(b, self.groups, self.dims, t))
        rounded = bounded + (bounded.round() - bounded).detach()
        half_width = (self.levels // 2)[:, None]
        digits = rounded.detach().long() + half_width  # [B, G, D, T] in 0..L-1
        codes = (digits * self.basis[:, None]).sum(dim=2)
        return (rounded / half_width).reshape(b, -1, t), codes

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [B, G, T] -> quantized values [B, G * len(levels), T], as `forward` gives them."""
        b, _, t = codes.shape
        digits = codes[:, :, None] // self.basis[:, None] % self.levels[:, None]  # [B, G, D, T]
        half_width = (self.levels // 2)[:, None]
        return ((digits - half_width).float() / half_width).reshape(b, -1, t)


def saturation_penalty(values: torch.Tensor, limit: float = 2.0) -> torch.Tensor:
    """Mean squared excess of pre-FSQ values beyond ±limit: keeps them where tanh still has a slope (without
    it the codes went nearly binary, perplexity 2-14)."""
    return F.relu(values.abs() - limit).pow(2).mean()


# ----- residual vector quantization with EMA codebooks (transformers' EncodecModel quantizer) -----
def _nearest(vectors: torch.Tensor, embed: torch.Tensor) -> torch.Tensor:
    """Index of the nearest code for each vector. vectors [M, D], embed [C, D] -> [M]."""
    distances = vectors.pow(2).sum(1, keepdim=True) - 2 * vectors @ embed.t() + embed.pow(2).sum(1)[None]
    return distances.argmin(dim=1)


def kmeans(vectors: torch.Tensor, k: int, iterations: int = 10, generator: torch.Generator | None = None) -> torch.Tensor:
    """k centroids [k, D] of vectors [M, D] (Lloyd's algorithm from a random sample)."""
    pick = torch.randint(len(vectors), (k,), generator=generator)
    centroids = vectors[pick].clone()
    for _ in range(iterations):
        assign = _nearest(vectors, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, assign, vectors)
        counts = torch.bincount(assign, minlength=k).float()
        used = counts > 0
        centroids[used] = sums[used] / counts[used, None]
    return centroids


def _init_book(book, vectors: torch.Tensor, vectors_per_step: int, generator: torch.Generator | None) -> None:
    """k-means centroids of vectors [M, D] as the codebook; usage counts scaled to vectors per step, so
    that codes no vector chose are soon replaced."""
    centroids = kmeans(vectors, book.embed.shape[0], generator=generator)
    counts = torch.bincount(_nearest(vectors, centroids), minlength=len(centroids)).float()
    book.embed.copy_(centroids)
    book.cluster_size.copy_(counts * vectors_per_step / len(vectors))
    book.embed_avg.copy_(centroids * book.cluster_size[:, None])
    book.inited.fill_(True)


@torch.no_grad()
def init_codebooks(layers, vectors: torch.Tensor, vectors_per_step: int, generator: torch.Generator | None = None) -> None:
    """Residual k-means: each codebook of `layers` (EnCodec quantizer layers) is fitted to what the codebooks
    before it leave of vectors [M, D]."""
    residual = vectors
    for layer in layers:
        _init_book(layer.codebook, residual, vectors_per_step, generator)
        residual = residual - layer.codebook.embed[_nearest(residual, layer.codebook.embed)]


def _ema_update(book, residual: torch.Tensor, index: torch.Tensor, decay: float, dead_threshold: float,
                generator: torch.Generator | None) -> None:
    """Move the codebook towards the EMA of the vectors [M, D] assigned to it; replace codes out of use."""
    counts = torch.bincount(index, minlength=book.embed.shape[0]).float()
    sums = torch.zeros_like(book.embed).index_add_(0, index, residual)
    book.cluster_size.mul_(decay).add_(counts, alpha=1 - decay)
    book.embed_avg.mul_(decay).add_(sums, alpha=1 - decay)
    size = book.cluster_size.sum()
    smoothed = (book.cluster_size + 1e-5) / (size + book.embed.shape[0] * 1e-5) * size
    book.embed.copy_(book.embed_avg / smoothed[:, None])
    dead = book.cluster_size < dead_threshold
    if dead.any():
        replace = residual[torch.randint(len(residual), (int(dead.sum()),), generator=generator)]
        book.embed[dead] = replace
        book.embed_avg[dead] = replace
        book.cluster_size[dead] = 1.0


def ema_quantize(layers, embeddings: torch.Tensor, train: bool, decay: float, dead_threshold: float,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Residual vector quantization of embeddings [B, D, T] with the codebooks of `layers`.

    Returns quantized [B, D, T] (straight-through: gradients flow to the encoder), codes [K, B, T] and the
    commitment loss. In training, codebooks follow EMAs of their vectors (an uninitialised codebook is first
    fitted by k-means to this batch; codec training fits them to many batches with init_codebooks).
    """
    b, d, t = embeddings.shape
    residual = embeddings.transpose(1, 2).reshape(-1, d)
    quantized = torch.zeros_like(residual)
    codes, commitment = [], embeddings.new_zeros(())
    for layer in layers:
        book = layer.codebook
        if train and not bool(book.inited):
            with torch.no_grad():
                _init_book(book, residual.detach(), len(residual), generator)
        index = _nearest(residual.detach(), book.embed)
        chosen = book.embed[index]
        if train:
            with torch.no_grad():
                _ema_update(book, residual.detach(), index, decay, dead_threshold, generator)
        commitment = commitment + F.mse_loss(residual, chosen.detach())
        quantized = quantized + chosen.detach()
        residual = residual - chosen.detach()
        codes.append(index.reshape(b, t))
    flat = embeddings.transpose(1, 2).reshape(-1, d)
    straight_through = flat + (quantized - flat).detach()
    return straight_through.reshape(b, t, d).transpose(1, 2), torch.stack(codes), commitment
