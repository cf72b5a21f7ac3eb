"""Model presets: `tiny` for tests, `small` (the shipped size), `musicgen-melody` from a local snapshot
(`model/pretrained.py`, which also gives the snapshot's codec)."""

from __future__ import annotations

from synthgen.errors import SynthGenError
from synthgen.model.lm import CodecLM, CodecLMConfig
from synthgen.model.text import TextEncoder

# Decoder sizes; vocab_size and num_codebooks come from the codec.
DECODERS = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ffn_dim=64, dropout=0.0),
    "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, ffn_dim=1024, dropout=0.1),
}
PRESETS = (*DECODERS, "musicgen-melody")


def build_model(preset: str, num_codebooks: int, cardinality: int) -> CodecLM:
    """A new model of an in-house preset for a codec with `num_codebooks` codebooks of `cardinality` codes
    (`musicgen-melody` comes with its own codec: `model.pretrained.from_musicgen_melody`)."""
    if preset not in DECODERS:
        raise SynthGenError(f"unknown preset '{preset}' (choose from {', '.join(PRESETS)})")
    decoder = dict(DECODERS[preset], vocab_size=cardinality, num_codebooks=num_codebooks,
                   pad_token_id=cardinality, bos_token_id=cardinality)
    config = CodecLMConfig(decoder=decoder, preset=preset)
    return CodecLM(config, TextEncoder.load("minilm"))
