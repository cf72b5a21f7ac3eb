"""Model presets: `tiny` for tests, `small` (the shipped size), `musicgen-melody` from a local snapshot."""

from __future__ import annotations

from pathlib import Path

from synthgen.errors import SynthGenError
from synthgen.model.lm import SynthGen, SynthGenConfig
from synthgen.model.text import TextEncoder

# Decoder sizes; vocab_size and num_codebooks come from the codec.
DECODERS = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, ffn_dim=64, dropout=0.0),
    "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, ffn_dim=1024, dropout=0.1),
}
PRESETS = (*DECODERS, "musicgen-melody")
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "weights" / "default"


def load_model(directory: str | Path | None = None) -> SynthGen:
    """A trained model: the given run folder or model directory, or the one shipped in the package."""
    if directory is None:
        if not (DEFAULT_MODEL / "config.json").is_file():
            raise SynthGenError("no --model given and this installation ships no default model")
        directory = DEFAULT_MODEL
    return SynthGen.from_pretrained(directory)


def build_model(preset: str, num_codebooks: int, cardinality: int, pretrained: str | Path | None = None,
                lora: bool = False) -> SynthGen:
    """A new model of a preset for a codec with `num_codebooks` codebooks of `cardinality` codes."""
    if preset == "musicgen-melody":
        from synthgen.model.pretrained import from_musicgen_melody

        if pretrained is None:
            raise SynthGenError("--preset musicgen-melody needs --pretrained DIR (a local facebook/musicgen-melody snapshot)")
        return from_musicgen_melody(pretrained, lora=lora)
    if preset not in DECODERS:
        raise SynthGenError(f"unknown preset '{preset}' (choose from {', '.join(PRESETS)})")
    decoder = dict(DECODERS[preset], vocab_size=cardinality, num_codebooks=num_codebooks,
                   pad_token_id=cardinality, bos_token_id=cardinality)
    config = SynthGenConfig(decoder=decoder, preset=preset)
    return SynthGen(config, TextEncoder.load("minilm"))
