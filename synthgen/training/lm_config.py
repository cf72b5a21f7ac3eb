"""Settings of language-model (and baseline) training (no heavy imports: the command line builds its options
from them)."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.options import check_bounds, option


@dataclass
class TrainConfig:
    data: str = option("token cache from `synthgen prepare` (for --arch lstm or convae: the data folder itself)")
    out: str = option("run folder (checkpoint, logs, exported model)")
    arch: str = option("synthgen (the codec LM), or one of the seed's baselines (mel LSTM, conv encoder/decoder)", "synthgen",
                       choices=["synthgen", "lstm", "convae"])
    preset: str = option("tiny | small | musicgen-melody", "small")
    pretrained: str | None = option("facebook/musicgen-melody: a local snapshot or the Hub id (for --preset musicgen-melody)", None)
    init: str | None = option("fine-tune a trained SynthGen (model directory or run folder; the shipped one is "
                              "synthgen/weights/default) instead of a new --preset", None, metavar="MODEL")
    lora: bool = option("train LoRA adapters instead of the whole decoder", False)
    frame_chroma: bool = option("condition on the mix's full chroma at every frame too (fine-tuning a model without "
                                "it adds a projection that starts at zero)", False)
    notes: bool = option("render notes: condition on the target's piano roll (SynthStems' true notes) at every frame, the "
                         "renderer of model v3 (fine-tuning a model without it adds a projection that starts at zero)", False)
    steps: int = option("optimizer steps in total", 2000, at_least=1)
    batch_size: int = option("windows per process per micro-batch", 16, at_least=1)
    grad_accum: int = option("micro-batches per optimizer step", 1, at_least=1)
    lr: float = option("peak learning rate", 5e-4, above=0, at_most=1)
    weight_decay: float = option("AdamW weight decay", 0.01, at_least=0)
    warmup: int = option("linear warm-up steps before the cosine decay", 100, at_least=0)
    clip: float = option("gradient norm clipping (0: off)", 1.0, at_least=0)
    eval_every: int = option("steps between validations", 200, at_least=1)
    eval_windows: int = option("validation windows per validation", 64, at_least=1)
    save_every: int = option("steps between checkpoints", 100, at_least=1)
    mixed_precision: str = option("mixed precision", "no", choices=["no", "fp16", "bf16"])
    seed: int = option("seed of the initialisation and the data order", 0, at_least=0)
    num_threads: int | None = option("torch CPU threads", None, at_least=1)
    paraphrase: bool = option("keep each SynthStems track's one description instead of rewording it every epoch "
                              "(Paraphrased)", True)

    def __post_init__(self):
        check_bounds(self)
