"""The SynthGen language model, its conditioning and its presets."""

from synthgen.model.lm import SynthGen, SynthGenConfig
from synthgen.model.presets import DEFAULT_MODEL, PRESETS, build_model, load_model

__all__ = ["DEFAULT_MODEL", "PRESETS", "SynthGen", "SynthGenConfig", "build_model", "load_model"]
