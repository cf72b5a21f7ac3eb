"""What the evaluation suite measures: a model that writes a stem for a context, behind one interface."""

from __future__ import annotations

import numpy as np

from synthgen.files import model_directory
from synthgen.generate import generate_stem
from synthgen.generation_settings import GenerationSettings
from synthgen.pipeline import Pipeline


class SynthGenRenderer:
    """SynthGen sampling one stem per context (the first of `settings.variations`), as generated: mono,
    not yet placed or limited like a written file."""

    uses_text = True

    def __init__(self, pipeline: Pipeline, settings: GenerationSettings, name: str):
        self.pipeline, self.settings, self.name = pipeline, settings, name
        self.codec = pipeline.codec

    def render(self, context: np.ndarray, sample_rate: int, description: str) -> np.ndarray:
        """context [N] -> stem [N]."""
        return generate_stem(self.pipeline.model, self.codec, context, sample_rate, description, self.settings)[0]


def load_renderer(spec: str | None, settings: GenerationSettings, device: str = "cpu"):
    """A renderer for a model directory or run folder, SynthGen or baseline (None: the shipped default
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
    return SynthGenRenderer(Pipeline.from_pretrained(spec).to(device), settings, name)
