"""Cross-entropy of a model on a token cache, beside two references measured in the same run:
a unigram model (each codebook's code frequencies on the training split) and the same model with
its text and mix dropped; the model with only one of them dropped shows what each condition adds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from synthgen.data.cache import CodeCache
from synthgen.files import write_text_atomic
from synthgen.model import CodecLM
from synthgen.codec import Codec, check_same_codec
from synthgen.data.batches import collate


def unigram_cross_entropy(train: CodeCache, test: CodeCache) -> list[float]:
    """Per-codebook cross-entropy (nats) on `test` targets of code frequencies counted on `train`
    (add-one smoothed). Only the valid frames of each window count."""
    k, card = train.codec["num_codebooks"], train.codec["cardinality"]

    def counts(cache: CodeCache) -> np.ndarray:
        total = np.zeros((k, card))
        for i in range(len(cache)):
            item = cache[i]
            codes = item["target"][:, : item["valid_frames"]].numpy()
            for q in range(k):
                total[q] += np.bincount(codes[q], minlength=card)
        return total

    probabilities = counts(train) + 1.0
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    observed = counts(test)
    return list(-(observed * np.log(probabilities)).sum(axis=1) / observed.sum(axis=1))


@torch.no_grad()
def model_cross_entropy(model: CodecLM, data: CodeCache, condition: str, batch_size: int = 16,
                        progress: bool = True) -> list[float]:
    """Per-codebook cross-entropy (nats) of the model on every window of `data`."""
    sums = torch.zeros(model.num_codebooks)
    counts = torch.zeros(model.num_codebooks)
    for start in tqdm(range(0, len(data), batch_size), desc=f"eval ({condition})", unit="batch", disable=not progress):
        s, c = model.code_losses(collate(data, list(range(start, min(start + batch_size, len(data)))), model.device), condition)
        sums, counts = sums + s.cpu(), counts + c.cpu()
    return (sums / counts.clamp(min=1)).tolist()


def evaluate_codes(model: CodecLM, codec: Codec, cache_dir: str | Path, split: str = "test", batch_size: int = 16,
                   progress: bool = True) -> dict:
    """Cross-entropy and perplexity per codebook for the model and the two references, on a cache made with
    the model's codec."""
    data = CodeCache(cache_dir, split=split)
    train = CodeCache(cache_dir, split="train")
    check_same_codec(codec, data.codec, cache_dir)
    model.eval()
    rows = {
        "model": model_cross_entropy(model, data, "full", batch_size, progress),
        "model, no text": model_cross_entropy(model, data, "no_text", batch_size, progress),
        "model, no mix": model_cross_entropy(model, data, "no_mix", batch_size, progress),
        "model, no conditions": model_cross_entropy(model, data, "none", batch_size, progress),
        "unigram": unigram_cross_entropy(train, data),
    }
    return dict(
        split=split, windows=len(data), cache=str(cache_dir),
        results={name: dict(cross_entropy=float(np.mean(ce)), cross_entropy_codebooks=[float(x) for x in ce],
                            perplexity_codebooks=[math.exp(x) for x in ce])
                 for name, ce in rows.items()},
    )


def markdown_table(report: dict) -> str:
    k = len(next(iter(report["results"].values()))["cross_entropy_codebooks"])
    head = "| | mean CE | " + " | ".join(f"CE cb{q}" for q in range(k)) + " | " + " | ".join(f"ppl cb{q}" for q in range(k)) + " |"
    lines = [f"Cross-entropy (nats) and perplexity on the `{report['split']}` split ({report['windows']} windows)", "",
             head, "|" + "---|" * (2 + 2 * k)]
    for name, row in report["results"].items():
        cells = [f"{row['cross_entropy']:.3f}"] + [f"{x:.3f}" for x in row["cross_entropy_codebooks"]]
        cells += [f"{x:.1f}" for x in row["perplexity_codebooks"]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_report(report: dict, path: str | Path) -> None:
    """The report as JSON at `path` and as a Markdown table beside it (.md)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(report, indent=1))
    write_text_atomic(path.with_suffix(".md"), markdown_table(report))
