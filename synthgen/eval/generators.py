"""What the evaluation suite measures: anything that generates a stem for a mix, behind one interface
(`suite.StemGenerator`): a SynthGen pipeline or a baseline."""

from __future__ import annotations

import numpy as np

from synthgen.files import model_directory
from synthgen.generate import generate_stem
from synthgen.generation_settings import GenerationSettings
from synthgen.pipeline import SynthGen


class SynthGenGenerator:
    """A SynthGen pipeline sampling one stem per mix (the first of `settings.variations`), as generated: mono,
    not yet placed or limited like a written file."""

    uses_text = True

    def __init__(self, pipeline: SynthGen, settings: GenerationSettings, name: str):
        self.pipeline, self.settings, self.name = pipeline, settings, name
        self.codec = pipeline.codec

    def generate(self, mix: np.ndarray, sample_rate: int, prompt: str) -> np.ndarray:
        """mix [N] -> stem [N]."""
        return generate_stem(self.pipeline.model, self.codec, mix, sample_rate, prompt, self.settings)[0]


def load_generator(spec: str | None, settings: GenerationSettings, device: str = "cpu"):
    """A generator for a model directory or run folder, SynthGen or baseline (None: the shipped default
    model), named after its folder (a run's, for RUN/model)."""
    from synthgen.baselines import is_baseline_dir, load_baseline

    name = "default"
    if spec is not None:
        directory = model_directory(spec).resolve()
        name = directory.parent.name if directory.name == "model" else directory.name
    if spec is not None and is_baseline_dir(spec):
        baseline = load_baseline(spec).to(device)
        baseline.name = name
        return baseline
    return SynthGenGenerator(SynthGen.from_pretrained(spec).to(device), settings, name)
