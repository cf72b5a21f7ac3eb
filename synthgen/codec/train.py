"""Training an EnCodec (transformers' EncodecModel architecture) on the audio of a stem data set.

Losses: time-domain L1, multi-resolution STFT (spectral convergence + log magnitude), log-mel L1 and the
commitment loss. The first `warmup_steps` train a plain autoencoder; then the codebooks are initialised
by k-means on a batch of encoder outputs, follow exponential moving averages of the vectors assigned to
them (not gradients), and codes that fall out of use are replaced by random encoder outputs.

Audio tensors are [B, 1, N] at the codec's 32 kHz; encoder outputs are [B, D, T].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from synthgen.audio import from_int16, to_int16
from synthgen.codec.discriminator import MultiScaleSTFTDiscriminator, discriminator_loss, generator_losses
from synthgen.codec.encodec import Codec
from synthgen.data.sources import list_tracks, load_pair
from synthgen.data.synthstems.synth import midi_to_hz
from synthgen.errors import SynthGenError
from synthgen.eval.distances import mel_l1, multi_resolution_stft_loss, si_sdr
from synthgen.eval.metrics import harmonic_fit
from synthgen.eval.probes import frame_comb_share, pitch_class_profile
from synthgen.files import append_jsonl, atomic_directory, truncate_jsonl, write_atomic


@dataclass
class CodecTrainConfig:
    data: str
    out: str
    preset: str = "small"
    init: str | None = None  # start from this codec directory (fine-tuning) instead of a fresh preset
    steps: int = 20000
    batch_size: int = 16  # 16 x 0.5 s learnt pitch sooner than 8 x 1 s at the same cost (MODEL_CARD.md)
    segment_seconds: float = 0.5
    lr: float = 3e-4
    ema_decay: float = 0.99
    dead_code_threshold: float = 0.1  # EMA usage (vectors per step) below which a code is replaced
    commitment_weight: float = 0.25
    waveform_weight: float = 0.1  # time-domain L1; the only loss term that asks for the input's phase
    # train the decoder alone (needs `init`): encoder and codebooks stay as they are, so the codes (and any
    # token cache or language model made with them) stay valid while the decoder learns to render them
    decoder_only: bool = False
    # STFT sizes of the training loss: 4096 points (7.8 Hz bins) resolve the harmonics of low notes, so
    # pitch is learnt, not only the spectral envelope (held-out `harmony` stalled near 0.4 without it)
    stft_sizes: tuple[int, ...] = (512, 1024, 2048, 4096)
    # multi-scale STFT discriminator: weight of its adversarial + feature-matching losses (0: none). It can
    # be switched on when resuming a run trained without one; it starts fresh then.
    adversarial_weight: float = 0.0
    discriminator_channels: int = 32  # width of each scale's 2-D convolutions (cost grows with its square)
    warmup_steps: int = 500  # steps as a plain autoencoder before the codebooks start (k-means on that encoder)
    init_batches: int = 16  # batches of encoder outputs the k-means initialisation sees
    save_every: int = 200
    eval_every: int = 1000
    eval_segments: int = 32
    seed: int = 0
    num_threads: int | None = None


# ----- quantization with EMA codebooks -----
def _nearest(vectors: torch.Tensor, embed: torch.Tensor) -> torch.Tensor:
    """Index of the nearest code for each vector. vectors [M, D], embed [C, D] -> [M]."""
    distances = vectors.pow(2).sum(1, keepdim=True) - 2 * vectors @ embed.t() + embed.pow(2).sum(1)[None]
    return distances.argmin(dim=1)


def kmeans(vectors: torch.Tensor, k: int, iterations: int = 10, generator: torch.Generator | None = None) -> torch.Tensor:
    """k centroids [k, D] of vectors [M, D] (Lloyd's algorithm from a random sample)."""
    pick = torch.randint(len(vectors), (k,), generator=generator)
    centroids = vectors[pick].clone()
    for _ in range(iterations):
        assign = _nearest(vectors, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, assign, vectors)
        counts = torch.bincount(assign, minlength=k).float()
        used = counts > 0
        centroids[used] = sums[used] / counts[used, None]
    return centroids


def _init_book(book, vectors: torch.Tensor, vectors_per_step: int, generator: torch.Generator | None) -> None:
    """k-means centroids of vectors [M, D] as the codebook; usage counts scaled to vectors per step, so
    that codes no vector chose are soon replaced."""
    centroids = kmeans(vectors, book.embed.shape[0], generator=generator)
    counts = torch.bincount(_nearest(vectors, centroids), minlength=len(centroids)).float()
    book.embed.copy_(centroids)
    book.cluster_size.copy_(counts * vectors_per_step / len(vectors))
    book.embed_avg.copy_(centroids * book.cluster_size[:, None])
    book.inited.fill_(True)


@torch.no_grad()
def init_codebooks(codec: Codec, vectors: torch.Tensor, vectors_per_step: int, generator: torch.Generator | None = None) -> None:
    """Residual k-means: each codebook is fitted to what the codebooks before it leave of vectors [M, D]."""
    residual = vectors
    for layer in codec.model.quantizer.layers[: codec.num_codebooks]:
        _init_book(layer.codebook, residual, vectors_per_step, generator)
        residual = residual - layer.codebook.embed[_nearest(residual, layer.codebook.embed)]


def quantize(codec: Codec, embeddings: torch.Tensor, train: bool, decay: float, dead_threshold: float,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Residual vector quantization of embeddings [B, D, T] with the codec's codebooks.

    Returns quantized [B, D, T] (straight-through: gradients flow to the encoder), codes [K, B, T] and the
    commitment loss. In training, codebooks follow EMAs of their vectors (an uninitialised codebook is first
    fitted by k-means to this batch; `train_codec` fits them to many batches with init_codebooks).
    """
    b, d, t = embeddings.shape
    residual = embeddings.transpose(1, 2).reshape(-1, d)
    quantized = torch.zeros_like(residual)
    codes, commitment = [], embeddings.new_zeros(())
    for layer in codec.model.quantizer.layers[: codec.num_codebooks]:
        book = layer.codebook
        if train and not bool(book.inited):
            with torch.no_grad():
                _init_book(book, residual.detach(), len(residual), generator)
        index = _nearest(residual.detach(), book.embed)
        chosen = book.embed[index]
        if train:
            with torch.no_grad():
                onehot_counts = torch.bincount(index, minlength=book.embed.shape[0]).float()
                sums = torch.zeros_like(book.embed).index_add_(0, index, residual.detach())
                book.cluster_size.mul_(decay).add_(onehot_counts, alpha=1 - decay)
                book.embed_avg.mul_(decay).add_(sums, alpha=1 - decay)
                size = book.cluster_size.sum()
                smoothed = (book.cluster_size + 1e-5) / (size + book.embed.shape[0] * 1e-5) * size
                book.embed.copy_(book.embed_avg / smoothed[:, None])
                dead = book.cluster_size < dead_threshold
                if dead.any():
                    replace = residual.detach()[torch.randint(len(residual), (int(dead.sum()),), generator=generator)]
                    book.embed[dead] = replace
                    book.embed_avg[dead] = replace
                    book.cluster_size[dead] = 1.0
        commitment = commitment + F.mse_loss(residual, chosen.detach())
        quantized = quantized + chosen.detach()
        residual = residual - chosen.detach()
        codes.append(index.reshape(b, t))
    flat = embeddings.transpose(1, 2).reshape(-1, d)
    straight_through = flat + (quantized - flat).detach()
    return straight_through.reshape(b, t, d).transpose(1, 2), torch.stack(codes), commitment


# ----- data -----
class AudioPool:
    """Every stem (mixture and target) of a data folder, mono at the codec's rate, held in memory as int16."""

    def __init__(self, root: str, sample_rate: int, split: str, progress: bool = True):
        tracks = [t for t in list_tracks(root) if t.split == split]
        if not tracks:
            raise SynthGenError(f"{root}: no '{split}' tracks for codec training")
        self.stems = []
        for track in tqdm(tracks, desc=f"loading {split} audio", unit="track", disable=not progress):
            mixture, target = load_pair(track, sample_rate, 1, "extract")
            for audio in (mixture, target):
                self.stems.append(to_int16(audio[0]))

    def segments(self, count: int, length: int, generator: np.random.Generator) -> torch.Tensor:
        """`count` random segments [count, 1, length] (float), from random stems at random starts."""
        out = np.zeros((count, 1, length), np.float32)
        for i in range(count):
            stem = self.stems[generator.integers(len(self.stems))]
            start = generator.integers(max(1, len(stem) - length))
            piece = from_int16(stem[start : start + length])
            out[i, 0, : len(piece)] = piece
        return torch.from_numpy(out)


def held_out_audio(root: str, sample_rate: int, count: int, split: str = "valid", progress: bool = True) -> torch.Tensor:
    """The fixed held-out audio codecs are measured on: `count` segments of 2 s [count, 1, N] from the
    split's stems (always the same ones for the same data)."""
    pool = AudioPool(root, sample_rate, split, progress)
    return pool.segments(count, sample_rate * 2, np.random.default_rng(12345))


# ----- training -----
def _codec_losses(codec: Codec, audio: torch.Tensor, config: CodecTrainConfig, quantized_step: bool,
                  generator: torch.Generator | None = None,
                  discriminator: MultiScaleSTFTDiscriminator | None = None) -> tuple[torch.Tensor, dict, torch.Tensor]:
    """Training losses for a batch [B, 1, N] and the decoded batch [B, 1, N]. Without `quantized_step`
    (warm-up) the decoder reads the encoder's output directly, so the encoder learns features worth
    quantizing before the codebooks start; the discriminator (if any) joins on quantized steps."""
    if config.decoder_only:  # the codes as inference makes them (clone: out of inference mode)
        with torch.no_grad():
            quantized = codec.model.quantizer.decode(codec.encode(audio).transpose(0, 1).clone())
        commitment = quantized.new_zeros(())
    else:
        embeddings = codec.model.encoder(audio)
        if quantized_step:
            quantized, _, commitment = quantize(codec, embeddings, True, config.ema_decay, config.dead_code_threshold, generator)
        else:
            quantized, commitment = embeddings, embeddings.new_zeros(())
    decoded = codec.model.decoder(quantized)[..., : audio.shape[-1]]
    x, y = decoded[:, 0], audio[:, 0]
    parts = dict(l1=(x - y).abs().mean(), stft=multi_resolution_stft_loss(x, y, tuple(config.stft_sizes)),
                 mel=mel_l1(x, y, codec.sample_rate), commitment=commitment)
    loss = config.waveform_weight * parts["l1"] + parts["stft"] + parts["mel"] + config.commitment_weight * parts["commitment"]
    if discriminator is not None and quantized_step:
        with torch.no_grad():  # real audio's scores and features are targets only
            real = discriminator(audio)
        parts["adversarial"], parts["feature_matching"] = generator_losses(real, discriminator(decoded))
        loss = loss + config.adversarial_weight * (parts["adversarial"] + parts["feature_matching"])
    return loss, {k: float(v) for k, v in parts.items()}, decoded


NOTE_RANGE = range(36, 85)  # MIDI C2-C6: the registers SynthStems parts play in


def harmonic_notes(midi_notes, sample_rate: int, seconds: float = 1.0, partials: int = 8) -> torch.Tensor:
    """One steady note per MIDI number: partials 1..8 (below Nyquist) at amplitude 1/k, a 10 ms fade-in,
    peak 0.1. -> audio [notes, 1, N]."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    rows = []
    for midi in midi_notes:
        f0 = midi_to_hz(midi)
        wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, partials + 1) if k * f0 < sample_rate / 2)
        rows.append(0.1 * wave * np.minimum(1.0, t / 0.01) / np.abs(wave).max())
    return torch.from_numpy(np.stack(rows)).float()[:, None]


@torch.no_grad()
def note_pitch_accuracy(codec: Codec, midi_notes=NOTE_RANGE) -> float:
    """Share of plain harmonic notes (one per semitone, `harmonic_notes`) whose reconstruction's strongest
    pitch class is the note's own: does a codec keep the pitch of a single note? 1 for a transparent codec,
    1/12 by chance."""
    notes = harmonic_notes(midi_notes, codec.sample_rate).to(codec.device)
    decoded = codec.reconstruct(notes)[:, 0].float().cpu().numpy()
    hits = [int(np.argmax(pitch_class_profile(x, codec.sample_rate).mean(axis=0))) == midi % 12
            for x, midi in zip(decoded, midi_notes)]
    return float(np.mean(hits))


@torch.no_grad()
def evaluate_codec(codec: Codec, audio: torch.Tensor) -> dict:
    """Reconstruction of held-out audio [B, 1, N] through encode -> decode (spectral distances, SI-SDR,
    `harmony`: the chroma correlation of reconstruction and original, 1 when pitch survives the codec;
    `level_db`: the reconstruction's RMS against the original's, mean over segments; `frame_comb`: the
    share of the reconstruction's energy on multiples of the frame rate, the decoder's periodic artefact),
    `note_pitch` (`note_pitch_accuracy`, on synthetic notes rather than `audio`) and codebook usage."""
    codes = codec.encode(audio)
    decoded = codec.decode(codes)[..., : audio.shape[-1]]
    x, y = decoded[:, 0], audio[:, 0]
    perplexity = []
    for q in range(codes.shape[1]):
        counts = torch.bincount(codes[:, q].flatten(), minlength=codec.cardinality).float()
        p = counts[counts > 0] / counts.sum()
        perplexity.append(float(torch.exp(-(p * p.log()).sum())))
    decoded_np, original_np = x.float().cpu().numpy(), y.float().cpu().numpy()
    harmony = [harmonic_fit(a, b, codec.sample_rate) for a, b in zip(decoded_np, original_np)]
    level = 20 * np.log10((decoded_np.std(axis=1) + 1e-8) / (original_np.std(axis=1) + 1e-8))
    comb = [frame_comb_share(a, codec.sample_rate, codec.frame_rate) for a in decoded_np]
    return dict(stft_distance=float(multi_resolution_stft_loss(x, y)), mel_l1=float(mel_l1(x, y, codec.sample_rate)),
                si_sdr_db=float(si_sdr(x, y).mean()), harmony=float(np.nanmean(harmony)), level_db=float(level.mean()),
                frame_comb=float(np.mean(comb)), note_pitch=note_pitch_accuracy(codec), codebook_perplexity=perplexity, segments=int(audio.shape[0]))


def train_codec(config: CodecTrainConfig, resume: bool = False, progress: bool = True) -> Path:
    """Train (or resume) a codec; checkpoints in OUT/checkpoint.pt, the codec in OUT/codec, logs in OUT/log.jsonl."""
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    out = Path(config.out)
    checkpoint_path = out / "checkpoint.pt"
    if config.decoder_only and not config.init:
        raise SynthGenError("train-codec --decoder-only needs --init CODEC_DIR: the codec whose codes the decoder learns to render")
    if checkpoint_path.exists() and not resume:
        raise SynthGenError(f"{out}: already holds a codec run; pass --resume to continue it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if config.init:  # fine-tuning: its codebooks are in use already, so no warm-up and no k-means
        codec = Codec.from_pretrained(config.init).to(device)
        warmup_steps = 0
    else:
        codec = Codec.from_preset(config.preset, seed=config.seed).to(device)
        warmup_steps = config.warmup_steps
        for layer in codec.model.quantizer.layers:
            layer.codebook.inited.fill_(False)
    codec.model.train().requires_grad_(True)
    _freeze_untrained(codec, config)
    params = [p for p in codec.model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.lr, betas=(0.5, 0.9))
    discriminator = MultiScaleSTFTDiscriminator(channels=config.discriminator_channels).to(device) if config.adversarial_weight > 0 else None
    if discriminator is not None:
        discriminator_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=(0.5, 0.9))
    step = 0
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, weights_only=False, map_location=device)
        codec.model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if discriminator is not None and "discriminator" in state:
            saved_channels = state["config"].get("discriminator_channels", CodecTrainConfig.discriminator_channels)
            if saved_channels != config.discriminator_channels:
                raise SynthGenError(f"{checkpoint_path}: its discriminator has {saved_channels} channels, not "
                                    f"{config.discriminator_channels}; resume with --discriminator-channels {saved_channels}")
            discriminator.load_state_dict(state["discriminator"])
            discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
        torch.set_rng_state(state["torch_rng"].cpu())
        step = state["step"]
        truncate_jsonl(out / "log.jsonl", step)
    train_pool = AudioPool(config.data, codec.sample_rate, "train", progress)
    length = int(config.segment_seconds * codec.sample_rate)
    held_out = held_out_audio(config.data, codec.sample_rate, config.eval_segments, progress=progress).to(device)
    bar = tqdm(total=config.steps, initial=step, desc="train-codec", unit="step", disable=not progress)
    while step < config.steps:
        generator = np.random.default_rng([config.seed, step])
        batch = train_pool.segments(config.batch_size, length, generator).to(device)
        if step == warmup_steps and not bool(codec.model.quantizer.layers[0].codebook.inited):
            with torch.no_grad():
                sample = train_pool.segments(config.batch_size * config.init_batches, length, generator).to(device)
                embeddings = torch.cat([codec.model.encoder(part) for part in sample.split(config.batch_size)])
            init_codebooks(codec, embeddings.transpose(1, 2).reshape(-1, embeddings.shape[1]),
                           embeddings.shape[-1] * config.batch_size, torch.Generator().manual_seed(step))
        quantized_step = step >= warmup_steps
        loss, parts, decoded = _codec_losses(codec, batch, config, quantized_step, torch.Generator().manual_seed(step),
                                             discriminator)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        optimizer.step()
        if discriminator is not None and quantized_step:
            parts["discriminator"] = _discriminator_step(discriminator, discriminator_optimizer, batch, decoded.detach())
        step += 1
        append_jsonl(out / "log.jsonl", dict(step=step, loss=float(loss), **parts))
        bar.set_postfix(loss=f"{float(loss):.3f}", mel=f"{parts['mel']:.3f}")
        bar.update()
        if (step % config.eval_every == 0 or step == config.steps) and step > warmup_steps:
            codec.model.eval()
            metrics = evaluate_codec(codec, held_out)
            codec.model.train()
            append_jsonl(out / "log.jsonl", dict(step=step, **{f"valid_{k}": v for k, v in metrics.items()}))
            bar.write(f"step {step}: held-out mel L1 {metrics['mel_l1']:.3f}, SI-SDR {metrics['si_sdr_db']:.1f} dB, "
                      f"harmony {metrics['harmony']:.2f}, level {metrics['level_db']:+.1f} dB, "
                      f"frame-rate comb {metrics['frame_comb']:.2f}, note pitch {metrics['note_pitch']:.2f}, "
                      f"codebook perplexity {[round(p) for p in metrics['codebook_perplexity']]}")
        if step % config.save_every == 0 or step == config.steps:
            state = dict(model=codec.model.state_dict(), optimizer=optimizer.state_dict(), torch_rng=torch.get_rng_state(),
                         step=step, config=asdict(config))
            if discriminator is not None:
                state.update(discriminator=discriminator.state_dict(), discriminator_optimizer=discriminator_optimizer.state_dict())
            write_atomic(checkpoint_path, lambda tmp: torch.save(state, tmp))
            codec.model.eval()
            export = Codec(codec.model, name=f"trained:{config.init or config.preset}")
            _save_codec(export, out / "codec")
            codec.model.train().requires_grad_(True)
            _freeze_untrained(codec, config)
    bar.close()
    return out / "codec"


def _freeze_untrained(codec: Codec, config: CodecTrainConfig) -> None:
    """Codebooks follow EMAs, not gradients; with `decoder_only` the encoder is fixed as well."""
    codec.model.quantizer.requires_grad_(False)
    if config.decoder_only:
        codec.model.encoder.eval().requires_grad_(False)


def _discriminator_step(discriminator: MultiScaleSTFTDiscriminator, optimizer: torch.optim.Optimizer, real: torch.Tensor,
                        decoded: torch.Tensor) -> float:
    """One hinge-loss update of the discriminator on real and decoded batches [B, 1, N]; returns its loss."""
    loss = discriminator_loss(discriminator(real), discriminator(decoded))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _save_codec(codec: Codec, directory: Path) -> None:
    with atomic_directory(directory) as tmp:
        codec.save_pretrained(tmp)
