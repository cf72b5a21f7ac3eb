"""Settings of note-planner training (no heavy imports: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.options import check_bounds, option


@dataclass
class PlannerTrainConfig:
    data: tuple[str, ...] = option("data folders (SynthStems, MUSDB18, the seed's layout, your own stems)")
    out: str = option("run folder (checkpoint, logs, exported planner in RUN/model)")
    width: int | None = option("model width (default: the planner's own)", None, at_least=16)
    layers: int | None = option("transformer layers (default: the planner's own)", None, at_least=1, at_most=24)
    steps: int = option("optimizer steps in total", 3000, at_least=1)
    batch_size: int = option("windows per process per micro-batch", 32, at_least=1)
    grad_accum: int = option("micro-batches per optimizer step", 1, at_least=1)
    lr: float = option("peak learning rate", 1e-3, above=0, at_most=1)
    weight_decay: float = option("AdamW weight decay", 0.01, at_least=0)
    warmup: int = option("linear warm-up steps before the cosine decay", 200, at_least=0)
    clip: float = option("gradient norm clipping (0: off)", 1.0, at_least=0)
    eval_every: int = option("steps between validations", 250, at_least=1)
    eval_windows: int = option("validation windows per validation", 256, at_least=1)
    save_every: int = option("steps between checkpoints", 250, at_least=1)
    mixed_precision: str = option("mixed precision", "no", choices=["no", "fp16", "bf16"])
    seed: int = option("seed of the initialisation, the data order and the transpositions", 0, at_least=0)
    num_threads: int | None = option("torch CPU threads", None, at_least=1)
    workers: int = option("processes reading the tracks' mixes", 2, at_least=1)

    def __post_init__(self):
        check_bounds(self)
