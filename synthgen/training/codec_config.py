"""Settings of codec training, per kind (no heavy imports: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from synthgen.options import check_bounds, option


@dataclass
class CodecTrainConfig:
    """Settings every kind shares; `SpectralTrainConfig` and `EncodecTrainConfig` add their own."""

    data: str = option("data folder (its train split is learnt, its valid split measured)")
    out: str = option("run folder")
    preset: str = option("codec size: tiny | small (| large for spectral)", default="small")
    init: str | None = option("start from this codec directory (fine-tuning) instead of a fresh preset", default=None)
    steps: int = option("optimizer steps", default=20000, at_least=1)
    batch_size: int = option("segments per step", default=16, at_least=1)
    segment_seconds: float = option("length of each segment", default=0.5, above=0)
    lr: float = option("learning rate", default=3e-4, above=0)
    save_every: int = option("steps between checkpoints", default=200, at_least=1)
    eval_every: int = option("steps between held-out evaluations", default=1000, at_least=1)
    eval_segments: int = option("2 s held-out segments measured", default=32, at_least=1)
    seed: int = option("seed of the data order and initialisation", default=0, at_least=0)
    num_threads: int | None = option("torch threads (one is fastest for a small codec on a busy CPU)", default=None, at_least=1)

    kind = ""

    def __post_init__(self):
        check_bounds(self)


@dataclass
class SpectralTrainConfig(CodecTrainConfig):
    kind = "spectral"
    steps: int = option("optimizer steps", default=50000, at_least=1)
    batch_size: int = option("segments per step", default=8, at_least=1)
    lr: float = option("peak learning rate (AdamW; cosine decay to min_lr)", default=1e-3, above=0)
    min_lr: float = option("learning rate at the last step", default=1e-4, at_least=0)
    warmup_steps: int = option("steps of linear learning-rate warm-up", default=100, at_least=0)
    tone_share: float = option("share of each batch that is random tones and chords (data/tones.py)", default=0.25, at_least=0, at_most=1)
    saturation_weight: float = option("weight of the penalty on pre-FSQ values beyond ±2", default=1.0)
    chroma_weight: float = option("weight of the pitch-class loss (L1 between frames' normalised chroma)", default=1.0)
    octave_weighting: float = option("the log-magnitude loss weighs bin k by (1/k)^this, normalised (0: every bin "
                                     "alike; 1: every octave alike, so low notes' harmonics count)", default=0.0)
    save_every: int = option("steps between checkpoints", default=1000, at_least=1)
    eval_every: int = option("steps between held-out evaluations", default=5000, at_least=1)


@dataclass
class EncodecTrainConfig(CodecTrainConfig):
    kind = "encodec"
    batch_size: int = option("segments per step (16 x 0.5 s learnt pitch sooner than 8 x 1 s, MODEL_CARD.md)", default=16, at_least=1)
    ema_decay: float = option("codebook EMA decay", default=0.99, at_least=0, at_most=1)
    dead_code_threshold: float = option("EMA usage (vectors per step) below which a code is replaced", default=0.1)
    commitment_weight: float = option("weight of the commitment loss", default=0.25)
    waveform_weight: float = option("weight of the time-domain L1, the only loss term that asks for the input's phase", default=0.1)
    decoder_only: bool = option("train the decoder alone (needs --init): the codes, and caches and models made with "
                               "them, stay valid", default=False)
    # 4096 points (7.8 Hz bins) resolve the harmonics of low notes (held-out harmony stalled near 0.4 without it)
    stft_sizes: tuple[int, ...] = option("STFT sizes of the spectral loss", default=(512, 1024, 2048, 4096))
    adversarial_weight: float = option("weight of the multi-scale STFT discriminator's losses (0: none; can be "
                                      "switched on when resuming, the discriminator then starts fresh)", default=0.0)
    discriminator_channels: int = option("discriminator width (cost grows with its square)", default=32)
    warmup_steps: int = option("steps as a plain autoencoder before the codebooks start (k-means on that encoder)", default=500)
    init_batches: int = option("batches of encoder outputs the k-means initialisation sees", default=16)


TRAIN_CONFIGS = {config.kind: config for config in (SpectralTrainConfig, EncodecTrainConfig)}


def kind_options(kind: str) -> set[str]:
    """The config fields that only `kind` has (the CLI refuses them for the other kind)."""
    shared = {f.name for f in fields(CodecTrainConfig)}
    return {f.name for f in fields(TRAIN_CONFIGS[kind])} - shared
