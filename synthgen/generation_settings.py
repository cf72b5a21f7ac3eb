"""How a stem is sampled (no heavy imports: the command line and the studio page read their defaults here)."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.options import option


@dataclass
class GenerationSettings:
    temperature: float = option("sampling temperature (0: always the likeliest code)", 1.0)
    top_k: int = option("sample among the k likeliest codes (0: off)", 250)
    top_p: float = option("sample among the likeliest codes that reach this probability (0: off)", 0.0)
    guidance_text: float = option("classifier-free guidance on the prompt (1: off)", 3.0)
    guidance_context: float = option("guidance on the mix (1: off)", 1.0)
    seed: int = option("seed: the same seed, input and settings give the same stem bit for bit", 0)
    variations: int = option("stems to write per input (OUT_1.wav, OUT_2.wav, ...)", 1)
    window_seconds: float = option("generation window: longer mixes are written window by window", 10.0)
    overlap_seconds: float = option("each window continues the last one's codes over this overlap", 2.5)
    precision: str = option("decoder weights while sampling: auto (bf16 where the CPU or GPU is fast with it)",
                            "auto", choices=["auto", "fp32", "bf16"])


SAMPLING_OPTIONS = ("temperature", "top_k", "top_p", "guidance_text", "guidance_context", "seed")
