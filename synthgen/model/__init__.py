"""The codec language model (`CodecLM`), its conditioning and its presets."""

from synthgen.model.lm import CodecLM, CodecLMConfig
from synthgen.model.presets import PRESETS, build_model

__all__ = ["PRESETS", "CodecLM", "CodecLMConfig", "build_model"]
