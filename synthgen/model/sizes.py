"""Model sizes checked before anything is allocated: a config.json's decoder sizes against sane upper bounds and
against the tensor shapes its model.safetensors' header holds (read without loading a tensor), so a hostile or
mistaken config is refused in one line naming the file and the field, never built first.

    check_sizes(Path("model/config.json"), settings, Path("model/model.safetensors"))
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from safetensors import SafetensorError, safe_open

from synthgen.errors import SynthGenError
from synthgen.model.decoder import DecoderConfig

LIMITS = dict(vocab_size=1 << 16, num_hidden_layers=256, ffn_dim=1 << 16, num_attention_heads=256, hidden_size=1 << 14,
              num_codebooks=64, max_position_embeddings=1 << 20)  # MusicGen-Melody 1.5B: 2048, 48, 6144, 24, 1536, 4
DECODER = "decoder.model.decoder."


def header_shapes(weights: Path) -> dict[str, list[int]]:
    """Each tensor's shape, from the safetensors header alone."""
    try:
        with safe_open(str(weights), "pt") as f:
            return {name: list(f.get_slice(name).get_shape()) for name in f.keys()}
    except (OSError, SafetensorError) as err:
        raise SynthGenError(f"{weights}: missing or damaged weights ({str(err).splitlines()[0]})") from None


def check_sizes(config: Path, settings: dict, weights: Path) -> None:
    """Refuse a config whose decoder sizes are not whole numbers within LIMITS, or disagree with the weights."""
    given = settings.get("decoder")
    if not isinstance(given, dict):
        raise SynthGenError(f"{config}: 'decoder' must be a table of the decoder's sizes")
    for name, limit in LIMITS.items():
        value = given.get(name, 1)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise SynthGenError(f"{config}: decoder.{name} is {value!r}; a whole number from 1 to {limit} was expected")
    sizes = {**asdict(DecoderConfig()), **given}
    vocab, hidden, ffn = sizes["vocab_size"], sizes["hidden_size"], sizes["ffn_dim"]
    if hidden % sizes["num_attention_heads"]:
        raise SynthGenError(f"{config}: decoder.hidden_size {hidden} is not a multiple of num_attention_heads "
                            f"{sizes['num_attention_heads']}")
    shapes = header_shapes(weights)
    layers = len({name.split(".")[4] for name in shapes if name.startswith(DECODER + "layers.")})
    expected = [("vocab_size", f"{DECODER}embed_tokens.0.weight", [vocab + 1, hidden]),
                ("hidden_size", "decoder.lm_heads.0.weight", [vocab, hidden]),
                ("ffn_dim", f"{DECODER}layers.0.fc1.weight", [ffn, hidden])]
    for field, tensor, shape in expected:
        if tensor in shapes and shapes[tensor] != shape:
            raise SynthGenError(f"{config}: decoder.{field} does not match {weights.name} ({tensor} is {shapes[tensor]}, "
                                f"the config makes it {shape})")
    if layers and layers != sizes["num_hidden_layers"]:
        raise SynthGenError(f"{config}: decoder.num_hidden_layers is {sizes['num_hidden_layers']}, {weights.name} holds "
                            f"{layers} layers")
    heads = sum(name.startswith("decoder.lm_heads.") for name in shapes)
    if heads and heads != sizes["num_codebooks"]:
        raise SynthGenError(f"{config}: decoder.num_codebooks is {sizes['num_codebooks']}, {weights.name} holds {heads} "
                            "codebooks' heads")
