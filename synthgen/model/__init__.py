"""The SynthGen language model, its conditioning and its presets."""

from synthgen.model.lm import SynthGen, SynthGenConfig
from synthgen.model.presets import PRESETS, build_model

__all__ = ["PRESETS", "SynthGen", "SynthGenConfig", "build_model"]
