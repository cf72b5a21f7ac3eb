"""Settings of codec training, per kind (no heavy imports: the command line builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def _help(text: str, **kwargs):
    return field(metadata=dict(help=text), **kwargs)


@dataclass
class CodecTrainConfig:
    """Settings every kind shares; `SpectralTrainConfig` and `EncodecTrainConfig` add their own."""

    data: str = _help("data folder (its train split is learnt, its valid split measured)")
    out: str = _help("run folder")
    preset: str = _help("codec size: tiny | small (| large for spectral)", default="small")
    init: str | None = _help("start from this codec directory (fine-tuning) instead of a fresh preset", default=None)
    steps: int = _help("optimizer steps", default=20000)
    batch_size: int = _help("segments per step", default=16)
    segment_seconds: float = _help("length of each segment", default=0.5)
    lr: float = _help("learning rate", default=3e-4)
    save_every: int = _help("steps between checkpoints", default=200)
    eval_every: int = _help("steps between held-out evaluations", default=1000)
    eval_segments: int = _help("2 s held-out segments measured", default=32)
    seed: int = _help("seed of the data order and initialisation", default=0)
    num_threads: int | None = _help("torch threads (one is fastest for a small codec on a busy CPU)", default=None)

    kind = ""


@dataclass
class SpectralTrainConfig(CodecTrainConfig):
    kind = "spectral"
    steps: int = _help("optimizer steps", default=50000)
    batch_size: int = _help("segments per step", default=8)
    lr: float = _help("peak learning rate (AdamW; cosine decay to min_lr)", default=1e-3)
    min_lr: float = _help("learning rate at the last step", default=1e-4)
    warmup_steps: int = _help("steps of linear learning-rate warm-up", default=100)
    tone_share: float = _help("share of each batch that is random tones and chords (data/tones.py)", default=0.25)
    saturation_weight: float = _help("weight of the penalty on pre-FSQ values beyond ±2", default=1.0)
    chroma_weight: float = _help("weight of the pitch-class loss (L1 between frames' normalised chroma)", default=1.0)
    save_every: int = _help("steps between checkpoints", default=1000)
    eval_every: int = _help("steps between held-out evaluations", default=5000)


@dataclass
class EncodecTrainConfig(CodecTrainConfig):
    kind = "encodec"
    batch_size: int = _help("segments per step (16 x 0.5 s learnt pitch sooner than 8 x 1 s, MODEL_CARD.md)", default=16)
    ema_decay: float = _help("codebook EMA decay", default=0.99)
    dead_code_threshold: float = _help("EMA usage (vectors per step) below which a code is replaced", default=0.1)
    commitment_weight: float = _help("weight of the commitment loss", default=0.25)
    waveform_weight: float = _help("weight of the time-domain L1, the only loss term that asks for the input's phase", default=0.1)
    decoder_only: bool = _help("train the decoder alone (needs --init): the codes, and caches and models made with "
                               "them, stay valid", default=False)
    # 4096 points (7.8 Hz bins) resolve the harmonics of low notes (held-out harmony stalled near 0.4 without it)
    stft_sizes: tuple[int, ...] = _help("STFT sizes of the spectral loss", default=(512, 1024, 2048, 4096))
    adversarial_weight: float = _help("weight of the multi-scale STFT discriminator's losses (0: none; can be "
                                      "switched on when resuming, the discriminator then starts fresh)", default=0.0)
    discriminator_channels: int = _help("discriminator width (cost grows with its square)", default=32)
    warmup_steps: int = _help("steps as a plain autoencoder before the codebooks start (k-means on that encoder)", default=500)
    init_batches: int = _help("batches of encoder outputs the k-means initialisation sees", default=16)


TRAIN_CONFIGS = {config.kind: config for config in (SpectralTrainConfig, EncodecTrainConfig)}


def kind_options(kind: str) -> set[str]:
    """The config fields that only `kind` has (the CLI refuses them for the other kind)."""
    shared = {f.name for f in fields(CodecTrainConfig)}
    return {f.name for f in fields(TRAIN_CONFIGS[kind])} - shared
