"""What the evaluation suite measures: anything that generates a stem for a mix, behind one interface
(`suite.StemGenerator`): a SynthGen pipeline or a baseline."""

from __future__ import annotations

import numpy as np

from synthgen.files import model_directory
from synthgen.notes import Note
from synthgen.generation_settings import GenerationSettings
from synthgen.pipeline import SynthGen


class SynthGenGenerator:
    """A SynthGen pipeline sampling one stem per mix (the first of `settings.variations`), as rendered: mono,
    not yet placed or limited like a written file. With true_notes, it plays each window's true part instead of
    a plan (the suite passes it)."""

    uses_text = True

    def __init__(self, pipeline: SynthGen, settings: GenerationSettings, name: str, true_notes: bool = False):
        self.pipeline, self.settings, self.name, self.true_notes = pipeline, settings, name, true_notes
        self.codec = pipeline.codec

    def generate(self, mix: np.ndarray, sample_rate: int, prompt: str, notes: list[Note] | None = None) -> np.ndarray:
        """mix [N] -> stem [N] (notes: the part to play, in seconds from the mix's start)."""
        return self.pipeline.render(mix[None], sample_rate, prompt, self.settings, notes=notes)[0][0]


def load_generator(spec: str | None, settings: GenerationSettings, device: str = "cpu", true_notes: bool = False):
    """A generator for a model directory or run folder, SynthGen or baseline (None: the shipped default
    model), named after its folder (a run's, for RUN/model) and, for SynthGen, how it plays (the synth renderer,
    the true notes)."""
    from synthgen.baselines import is_baseline_dir, load_baseline

    name = "default"
    if spec is not None:
        directory = model_directory(spec).resolve()
        name = directory.parent.name if directory.name == "model" else directory.name
    if spec is not None and is_baseline_dir(spec):
        baseline = load_baseline(spec).to(device)
        baseline.name = name
        return baseline
    if settings.renderer != GenerationSettings().renderer:
        name += f" ({settings.renderer})"
    if true_notes:
        name += " (true notes)"
    return SynthGenGenerator(SynthGen.from_pretrained(spec).to(device), settings, name, true_notes)
