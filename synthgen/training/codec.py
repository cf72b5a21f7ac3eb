"""Training a codec on the audio of a stem data set: `spectral` (the default) or `encodec`.

A run folder holds checkpoint.pt (network, optimizer, RNG, step; the one before as checkpoint.previous.pt), log.jsonl (one line per step, and one
per held-out evaluation) and codec/ (the latest codec, loadable with `load_codec`). A resumed run
continues with the data it would have seen: every step's batch is drawn from a generator seeded by
(seed, step).

- spectral: AdamW, warm-up then cosine decay; loss = L1 on log magnitude (optionally weighted towards low
  bins) + relative L1 on linear magnitude + a pitch-class loss on each frame's chroma + a penalty that keeps
  the pre-FSQ values out of tanh saturation. Batches mix stems with random tones (`data/tones.py`). The network never sees a waveform: the loss is on magnitude frames, and Griffin-Lim
  is only for listening and evaluation.
- encodec: time-domain L1, multi-resolution STFT, log-mel L1 and commitment losses; the first
  `warmup_steps` train a plain autoencoder, then the codebooks start from k-means and follow EMAs
  (`codec/quantize.py`); optionally a multi-scale STFT discriminator.

Audio batches are [B, 1, N] at 32 kHz.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from synthgen.chroma import chroma_filters
from synthgen.codec import EncodecCodec, SpectralCodec, codec_from_preset, load_codec
from synthgen.codec.quantize import ema_quantize, init_codebooks, saturation_penalty
from synthgen.codec.spectral import log_magnitude
from synthgen.data.audio_pool import AudioPool, held_out_audio
from synthgen.data.tones import random_tones
from synthgen.errors import SynthGenError
from synthgen.eval.codec import evaluate_codec
from synthgen.eval.distances import mel_l1, multi_resolution_stft_loss
from synthgen.files import append_jsonl, atomic_directory, truncate_jsonl
from synthgen.training.checkpoints import checkpoints, load_checkpoint, refuse_a_started_run, save_checkpoint
from synthgen.training.codec_config import CodecTrainConfig, EncodecTrainConfig, SpectralTrainConfig
from synthgen.training.discriminator import MultiScaleSTFTDiscriminator, discriminator_loss, generator_losses


# ----- the spectral kind -----
class SpectralTrainer:
    """Training state of a spectral codec: the network and its AdamW optimizer."""

    def __init__(self, config: SpectralTrainConfig, device: torch.device):
        self.config = config
        codec = load_codec(config.init) if config.init else codec_from_preset("spectral", config.preset, config.seed)
        if not isinstance(codec, SpectralCodec):
            raise SynthGenError(f"--init {config.init}: not a spectral codec")
        self.codec = codec.to(device)
        self.net = codec.net
        self.train_mode()
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=config.lr)
        self.autoencoder_steps = 0  # FSQ has nothing to initialise: quantized from the first step
        self.chroma_filters = chroma_filters(codec.sample_rate, codec.config.n_fft).to(device)  # [12, F]
        weights = torch.arange(codec.config.bins, device=device).clamp(min=1).float() ** -config.octave_weighting
        self.bin_weights = (weights / weights.mean())[:, None]  # [F, 1]
        self.tones: torch.Tensor | None = None

    def train_mode(self) -> None:
        self.net.train().requires_grad_(True)

    def learning_rate(self, step: int) -> float:
        c = self.config
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        progress = (step - c.warmup_steps) / max(1, c.steps - c.warmup_steps)
        return c.min_lr + (c.lr - c.min_lr) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    def prepare(self, pool: AudioPool, length: int, fresh: bool, progress: bool) -> None:
        """A bank of random tones to draw from; on a fresh run, the per-bin mean log-magnitude of the data."""
        generator = np.random.default_rng([self.config.seed, 2**32 - 1])  # apart from the per-step streams
        count = 512 if self.config.tone_share > 0 else 0
        self.tones = torch.cat([random_tones(64, length, self.codec.sample_rate, generator)
                                for _ in tqdm(range(count // 64), desc="random tones", disable=not progress)] or [torch.zeros(0, 1, length)])
        if fresh and not self.config.init:
            sample = pool.segments(256, length, generator).to(self.codec.device)
            with torch.no_grad():
                self.net.bin_mean.copy_(log_magnitude(sample, self.codec.config.n_fft).mean(dim=(0, 2)))

    def batch(self, pool: AudioPool, length: int, generator: np.random.Generator, step: int) -> torch.Tensor:
        """[B, 1, length]: stems, with `tone_share` of the rows random tones at a random gain."""
        size = self.config.batch_size
        tones = int(round(size * self.config.tone_share))
        stems = pool.segments(size - tones, length, generator)
        if not tones:
            return stems
        pick = torch.from_numpy(generator.integers(len(self.tones), size=tones))
        gain = torch.from_numpy(generator.uniform(0.25, 1.5, size=(tones, 1, 1))).float()
        return torch.cat([stems, self.tones[pick] * gain])

    def step(self, audio: torch.Tensor, step: int) -> dict:
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(step)
        target = log_magnitude(audio, self.codec.config.n_fft)
        values = self.net.encode(target)
        quantized, _ = self.net.quantizer(values)
        predicted = self.net.decode(quantized)
        magnitude, predicted_magnitude = target.exp(), predicted.exp()
        parts = dict(log_l1=((predicted - target).abs() * self.bin_weights).mean(),
                     linear_l1=(predicted_magnitude - magnitude).abs().sum() / magnitude.sum(),
                     chroma=self.chroma_loss(predicted_magnitude, magnitude),
                     saturation=saturation_penalty(values))
        loss = (parts["log_l1"] + parts["linear_l1"] + self.config.chroma_weight * parts["chroma"]
                + self.config.saturation_weight * parts["saturation"])
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 10.0)
        self.optimizer.step()
        return dict(loss=float(loss), lr=self.learning_rate(step), **{k: float(v) for k, v in parts.items()})

    def chroma_loss(self, predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Pitch-class loss between magnitudes [B, F, T]: L1 between each frame's chroma normalised to sum 1,
        frames weighted by their share of the target's energy. It asks for the notes' pitch directly, where
        the spectral losses spread their weight over every bin."""
        p, q = (torch.einsum("cf,bft->bct", self.chroma_filters, m) for m in (predicted, target))
        p, q = p / (p.sum(1, keepdim=True) + 1e-6), q / (q.sum(1, keepdim=True) + 1e-6)
        energy = target.pow(2).sum(1)
        return ((p - q).abs().sum(1) * energy).sum() / (energy.sum() + 1e-9)

    def state_dict(self) -> dict:
        return dict(model=self.net.state_dict(), optimizer=self.optimizer.state_dict())

    def load_state_dict(self, state: dict, checkpoint: Path) -> None:
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])


# ----- the encodec kind -----
class EncodecTrainer:
    """Training state of an EnCodec: model, Adam, k-means/EMA codebooks and an optional discriminator."""

    def __init__(self, config: EncodecTrainConfig, device: torch.device):
        self.config = config
        if config.decoder_only and not config.init:
            raise SynthGenError("train-codec --decoder-only needs --init CODEC_DIR: the codec whose codes the decoder learns to render")
        if config.init:  # fine-tuning: its codebooks are in use already, so no warm-up and no k-means
            codec = load_codec(config.init)
            if not isinstance(codec, EncodecCodec):
                raise SynthGenError(f"--init {config.init}: not an EnCodec")
            self.autoencoder_steps = 0
        else:
            codec = codec_from_preset("encodec", config.preset, config.seed)
            self.autoencoder_steps = config.warmup_steps
            for layer in codec.model.quantizer.layers:
                layer.codebook.inited.fill_(False)
        self.codec = codec.to(device)
        self.layers = codec.model.quantizer.layers[: codec.num_codebooks]
        self.train_mode()
        self.params = [p for p in codec.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(self.params, lr=config.lr, betas=(0.5, 0.9))
        self.discriminator = None
        if config.adversarial_weight > 0:
            self.discriminator = MultiScaleSTFTDiscriminator(channels=config.discriminator_channels).to(device)
            self.discriminator_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr, betas=(0.5, 0.9))

    def train_mode(self) -> None:
        """Train what is trained: codebooks follow EMAs, not gradients; with `decoder_only` the encoder is fixed."""
        self.codec.model.train().requires_grad_(True)
        self.codec.model.quantizer.requires_grad_(False)
        if self.config.decoder_only:
            self.codec.model.encoder.eval().requires_grad_(False)

    def prepare(self, pool: AudioPool, length: int, fresh: bool, progress: bool) -> None:
        """Nothing before the first step: the codebooks start from k-means at the end of the warm-up."""

    def batch(self, pool: AudioPool, length: int, generator: np.random.Generator, step: int) -> torch.Tensor:
        """[B, 1, length] stems; at the end of the warm-up, also the k-means initialisation of the codebooks."""
        batch = pool.segments(self.config.batch_size, length, generator)
        if step == self.autoencoder_steps and not bool(self.layers[0].codebook.inited):
            with torch.no_grad():
                sample = pool.segments(self.config.batch_size * self.config.init_batches, length, generator).to(self.codec.device)
                embeddings = torch.cat([self.codec.model.encoder(part) for part in sample.split(self.config.batch_size)])
            init_codebooks(self.layers, embeddings.transpose(1, 2).reshape(-1, embeddings.shape[1]),
                           embeddings.shape[-1] * self.config.batch_size, torch.Generator().manual_seed(step))
        return batch

    def losses(self, audio: torch.Tensor, quantized_step: bool, generator: torch.Generator) -> tuple[torch.Tensor, dict, torch.Tensor]:
        """Training losses for a batch [B, 1, N] and the decoded batch [B, 1, N]. Without `quantized_step`
        (warm-up) the decoder reads the encoder's output directly, so the encoder learns features worth
        quantizing before the codebooks start; the discriminator (if any) joins on quantized steps."""
        config, model = self.config, self.codec.model
        if config.decoder_only:  # the codes as inference makes them (clone: out of inference mode)
            with torch.no_grad():
                quantized = model.quantizer.decode(self.codec.encode(audio).transpose(0, 1).clone())
            commitment = quantized.new_zeros(())
        else:
            embeddings = model.encoder(audio)
            if quantized_step:
                quantized, _, commitment = ema_quantize(self.layers, embeddings, True, config.ema_decay,
                                                        config.dead_code_threshold, generator)
            else:
                quantized, commitment = embeddings, embeddings.new_zeros(())
        decoded = model.decoder(quantized)[..., : audio.shape[-1]]
        x, y = decoded[:, 0], audio[:, 0]
        parts = dict(l1=(x - y).abs().mean(), stft=multi_resolution_stft_loss(x, y, tuple(config.stft_sizes)),
                     mel=mel_l1(x, y, self.codec.sample_rate), commitment=commitment)
        loss = config.waveform_weight * parts["l1"] + parts["stft"] + parts["mel"] + config.commitment_weight * parts["commitment"]
        if self.discriminator is not None and quantized_step:
            with torch.no_grad():  # real audio's scores and features are targets only
                real = self.discriminator(audio)
            parts["adversarial"], parts["feature_matching"] = generator_losses(real, self.discriminator(decoded))
            loss = loss + config.adversarial_weight * (parts["adversarial"] + parts["feature_matching"])
        return loss, parts, decoded

    def step(self, audio: torch.Tensor, step: int) -> dict:
        quantized_step = step >= self.autoencoder_steps
        loss, parts, decoded = self.losses(audio, quantized_step, torch.Generator().manual_seed(step))
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 10.0)
        self.optimizer.step()
        parts = {k: float(v) for k, v in parts.items()}
        if self.discriminator is not None and quantized_step:
            loss_d = discriminator_loss(self.discriminator(audio), self.discriminator(decoded.detach()))
            self.discriminator_optimizer.zero_grad()
            loss_d.backward()
            self.discriminator_optimizer.step()
            parts["discriminator"] = loss_d.item()
        return dict(loss=float(loss), **parts)

    def state_dict(self) -> dict:
        state = dict(model=self.codec.model.state_dict(), optimizer=self.optimizer.state_dict())
        if self.discriminator is not None:
            state.update(discriminator=self.discriminator.state_dict(),
                         discriminator_optimizer=self.discriminator_optimizer.state_dict())
        return state

    def load_state_dict(self, state: dict, checkpoint: Path) -> None:
        self.codec.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.discriminator is not None and "discriminator" in state:
            saved = state["config"].get("discriminator_channels", EncodecTrainConfig.discriminator_channels)
            if saved != self.config.discriminator_channels:
                raise SynthGenError(f"{checkpoint}: its discriminator has {saved} channels, not "
                                    f"{self.config.discriminator_channels}; resume with --discriminator-channels {saved}")
            self.discriminator.load_state_dict(state["discriminator"])
            self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])


TRAINERS = {"spectral": SpectralTrainer, "encodec": EncodecTrainer}


# ----- the loop -----
def train_codec(config: CodecTrainConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train (or resume) a codec of `config.kind`; returns the folder of the trained codec (OUT/codec)."""
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    out = Path(config.out)
    checkpoint_path = out / "checkpoint.pt"
    refuse_a_started_run(out, checkpoint_path, resume, "a codec run")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    trainer = TRAINERS[config.kind](config, device)
    out.mkdir(parents=True, exist_ok=True)
    step = _resume(trainer, checkpoint_path, out, device) if resume and checkpoints(checkpoint_path) else 0
    pool = AudioPool(config.data, trainer.codec.sample_rate, "train", progress)
    length = int(config.segment_seconds * trainer.codec.sample_rate)
    held_out = held_out_audio(config.data, trainer.codec.sample_rate, config.eval_segments, progress=progress).to(device)
    trainer.prepare(pool, length, fresh=step == 0, progress=progress)
    bar = tqdm(total=config.steps, initial=step, desc=f"train-codec ({config.kind})", unit="step", disable=not progress)
    while step < config.steps:
        audio = trainer.batch(pool, length, np.random.default_rng([config.seed, step]), step).to(device)
        record = trainer.step(audio, step)
        step += 1
        append_jsonl(out / "log.jsonl", dict(step=step, **record))
        bar.set_postfix(loss=f"{record['loss']:.3f}")
        bar.update()
        if (step % config.eval_every == 0 or step == config.steps) and step > trainer.autoencoder_steps:
            _evaluate(trainer, held_out, out, step, bar)
        if step % config.save_every == 0 or step == config.steps:
            _save(trainer, config, checkpoint_path, out, step)
    bar.close()
    return out / "codec"


def _resume(trainer, checkpoint_path: Path, out: Path, device: torch.device) -> int:
    """Load the newest good checkpoint into the trainer; returns its step."""
    def load(path: Path) -> dict:
        state = torch.load(path, weights_only=False, map_location=device)
        if state["config"].get("kind", "encodec") != trainer.config.kind:
            raise SynthGenError(f"{path}: a run of a {state['config'].get('kind', 'encodec')} codec; resume it "
                                f"with --kind {state['config'].get('kind', 'encodec')}")
        trainer.load_state_dict(state, path)
        return state

    state = load_checkpoint(checkpoint_path, load)
    torch.set_rng_state(state["torch_rng"].cpu())
    truncate_jsonl(out / "log.jsonl", state["step"])
    return state["step"]


def _evaluate(trainer, held_out: torch.Tensor, out: Path, step: int, bar: tqdm) -> None:
    trainer.codec.module.eval()
    metrics = evaluate_codec(trainer.codec, held_out)
    trainer.train_mode()
    append_jsonl(out / "log.jsonl", dict(step=step, **{f"valid_{k}": v for k, v in metrics.items()}))
    bar.write(f"step {step}: held-out mel L1 {metrics['mel_l1']:.3f}, SI-SDR {metrics['si_sdr_db']:.1f} dB, "
              f"harmony {metrics['harmony']:.2f}, level {metrics['level_db']:+.1f} dB, "
              f"frame-rate comb {metrics['frame_comb']:.2f}, note pitch {metrics['note_pitch']:.2f} "
              f"(C5-C7 {metrics['note_pitch_high']:.2f}), codebook perplexity {[round(p) for p in metrics['codebook_perplexity']]}")


def _save(trainer, config: CodecTrainConfig, checkpoint_path: Path, out: Path, step: int) -> None:
    state = dict(trainer.state_dict(), torch_rng=torch.get_rng_state(), step=step, config=dict(asdict(config), kind=config.kind))
    save_checkpoint(checkpoint_path, lambda tmp: torch.save(state, tmp))
    trainer.codec.module.eval()
    trainer.codec.name = f"trained:{config.init or config.preset}"
    with atomic_directory(out / "codec") as tmp:
        trainer.codec.save_pretrained(tmp)
    trainer.train_mode()
