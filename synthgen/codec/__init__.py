"""Audio codecs that turn audio into discrete codes and back: one contract (`base.Codec`), two kinds.

A codec is named by a folder written by `save_pretrained` (its config.json tells the kind), a Hugging Face Hub
id of one (e.g. `facebook/encodec_32khz`), or by a preset:
`tiny` / `small` (EnCodec, as in earlier releases) or `KIND:PRESET` (e.g. `spectral:small`, `encodec:tiny`).
"""

from __future__ import annotations

from pathlib import Path

from synthgen.codec.base import HOP_LENGTH, NUM_CODEBOOKS, SAMPLE_RATE, Codec, check_same_codec
from synthgen.codec.encodec import ENCODEC_PRESETS, EncodecCodec
from synthgen.codec.spectral import SPECTRAL_PRESETS, SpectralCodec
from synthgen.errors import SynthGenError
from synthgen.files import read_json
from synthgen.hub import resolve

CODEC_KINDS = {"encodec": EncodecCodec, "spectral": SpectralCodec}
CODEC_PRESETS = {"encodec": ENCODEC_PRESETS, "spectral": SPECTRAL_PRESETS}


def codec_from_preset(kind: str, preset: str, seed: int = 0) -> Codec:
    """A new, seeded codec of a kind's preset."""
    if kind not in CODEC_KINDS:
        raise SynthGenError(f"unknown codec kind '{kind}' (choose from {', '.join(CODEC_KINDS)})")
    return CODEC_KINDS[kind].from_preset(preset, seed=seed)


def _preset_names() -> list[str]:
    return [*ENCODEC_PRESETS, *(f"{kind}:{name}" for kind, presets in CODEC_PRESETS.items() for name in presets)]


def load_codec(spec: str | Path) -> Codec:
    """A codec from a directory written by `save_pretrained`, a Hugging Face Hub id of one (`hub.resolve`), or a
    preset name (see the module docstring)."""
    directory = resolve(spec)
    if directory.is_dir():
        config_path = directory / "config.json"
        if not config_path.is_file():
            raise SynthGenError(f"{directory}: not a codec directory (no config.json)")
        config = read_json(config_path)
        kind = config.get("kind", "encodec" if config.get("model_type") == "encodec" else None)
        if kind not in CODEC_KINDS:
            raise SynthGenError(f"{directory}: not a codec of a known kind ({', '.join(CODEC_KINDS)})")
        return CODEC_KINDS[kind].from_pretrained(directory)
    kind, _, preset = str(spec).rpartition(":")
    if str(spec) in _preset_names():
        return codec_from_preset(kind or "encodec", preset)
    raise SynthGenError(f"codec '{spec}': not a directory and not a preset (presets: {', '.join(_preset_names())})")


__all__ = ["CODEC_KINDS", "CODEC_PRESETS", "HOP_LENGTH", "NUM_CODEBOOKS", "SAMPLE_RATE", "Codec", "EncodecCodec",
           "SpectralCodec", "check_same_codec", "codec_from_preset", "load_codec"]
