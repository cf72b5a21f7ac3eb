"""What the note planner reads in a prompt: its MiniLM sentence embedding, and (for the rule planner and the
measures) the role it asks for.

    prompt_embeddings(["a soft dark pad holding the chords"]) -> [N, TEXT] float32
    prompt_role("a punchy synth bass") -> "bass"
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

ROLES = ("pad", "arpeggio", "bass", "lead", "stabs")
ROLE_WORDS = {  # the first role whose words the prompt holds (in this order) is the one it asks for
    "arpeggio": r"\barp(eggio|eggiat\w*|s)?\b|cycling",
    "bass": r"\bbass|low end|sub\b",
    "stabs": r"\bstabs?\b|\bplucks\b|\bchops?\b|punching out short",
    "pad": r"\bpads?\b|\bchords?\b|\bstrings\b|\bsustain\w*|\bwash\b|\bholding",
    "lead": r"\blead\b|\bmelod\w*|\bline\b|\bhook\b|\btune\b",
}
DEFAULT_ROLE = "pad"


def prompt_role(prompt: str) -> str:
    """The role a prompt asks for (ROLE_WORDS), DEFAULT_ROLE when it names none."""
    text = prompt.lower()
    for role, words in ROLE_WORDS.items():
        if re.search(words, text):
            return role
    return DEFAULT_ROLE


@lru_cache(maxsize=1)
def _encoder():
    from synthgen.model.text import TextEncoder

    return TextEncoder.load("minilm")


def prompt_embeddings(prompts: list[str]) -> np.ndarray:
    """Unit mean-pooled MiniLM embeddings of prompts -> [N, TEXT]."""
    import torch

    states, mask = _encoder().encode(list(prompts))
    pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)
