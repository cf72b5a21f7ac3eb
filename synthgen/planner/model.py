"""The note planner: a small causal transformer over a part's steps on the beat grid (`grid`).

A step is a BEAT (it opens beat b and carries b's mix conditions) or a NOTE (tick, pitch, length). Every step's
input is the sum of its own embedding, the projected conditions of its beat [FEATURES] and the projected prompt
embedding [TEXT]; either condition is replaced by a learned null vector for a share of training sequences
(condition dropout), so that sampling can guide (`sampling`). From each step's state three heads predict the
next step, one after the other (a compound token): what comes (the next BEAT, or a NOTE at one of the TICKS
ticks), then the note's pitch given its tick, then its length given both.

No position embedding: order comes from the causal mask and the tick and bar-place inputs, so the context slides
freely over any length (`step` keeps at most `context` steps of keys and values).

    batch = dict(kind, tick, pitch, duration [N, S] long, conditions [N, S, FEATURES], text [N, TEXT],
                 next_event, next_pitch, next_duration [N, S] long (-100: no target), mix_on, text_on [N] bool)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from synthgen.analysis.description import TICKS
from synthgen.errors import SynthGenError
from synthgen.planner.conditions import FEATURES
from synthgen.planner.grid import DURATIONS, LOWEST, PITCHES

BEAT, NOTE = 0, 1  # step kinds
EVENTS = 1 + TICKS  # what comes next: 0 the next beat, 1 + t a note at tick t
IGNORE = -100


@dataclass
class PlannerConfig:
    width: int = 128
    layers: int = 4
    heads: int = 4
    dropout: float = 0.1
    context: int = 256  # steps attended at sampling (and the longest training sequence)
    text_size: int = 384  # MiniLM's sentence embedding
    features: int = FEATURES
    mix_dropout: float = 0.2
    text_dropout: float = 0.2


class Block(nn.Module):
    def __init__(self, config: PlannerConfig):
        super().__init__()
        self.heads = config.heads
        self.norm1, self.norm2 = nn.LayerNorm(config.width), nn.LayerNorm(config.width)
        self.qkv = nn.Linear(config.width, 3 * config.width)
        self.out = nn.Linear(config.width, config.width)
        self.ff = nn.Sequential(nn.Linear(config.width, 4 * config.width), nn.GELU(), nn.Linear(4 * config.width, config.width))
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, cache: list | None = None, context: int = 0) -> torch.Tensor:
        """x [N, S, W] -> [N, S, W]; causal over S, or, with `cache` ([keys, values] of earlier steps, updated in
        place, at most `context` kept), each step attends to the cached steps and itself."""
        n, s, w = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(n, s, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], dim=2)[:, :, -context:], torch.cat([cache[1], v], dim=2)[:, :, -context:]
            cache[:] = [k, v]
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None,
                                                  dropout_p=self.drop.p if self.training else 0.0)
        x = x + self.drop(self.out(attended.transpose(1, 2).reshape(n, s, w)))
        return x + self.drop(self.ff(self.norm2(x)))


class NotePlanner(nn.Module):
    def __init__(self, config: PlannerConfig = PlannerConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.kind = nn.Embedding(2, w)
        self.tick = nn.Embedding(TICKS, w)
        self.pitch_class, self.octave = nn.Embedding(12, w), nn.Embedding(PITCHES // 12 + 2, w)
        self.duration = nn.Embedding(len(DURATIONS), w)
        self.mix = nn.Linear(config.features, w)
        self.text = nn.Linear(config.text_size, w)
        self.null_mix, self.null_text = nn.Parameter(torch.zeros(w)), nn.Parameter(torch.zeros(w))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(w)
        self.event_head = nn.Linear(w, EVENTS)
        self.pitch_head = nn.Sequential(nn.Linear(w, w), nn.GELU(), nn.Linear(w, PITCHES))
        self.duration_head = nn.Sequential(nn.Linear(w, w), nn.GELU(), nn.Linear(w, len(DURATIONS)))
        self.out_tick = nn.Embedding(TICKS, w)
        self.out_pitch_class, self.out_octave = nn.Embedding(12, w), nn.Embedding(PITCHES // 12 + 2, w)

    # ----- pieces -----
    def pitch_embedding(self, pitch: torch.Tensor, out: bool = False) -> torch.Tensor:
        """MIDI pitches [...] -> [..., W]: a pitch class plus an octave (so what is learnt in one octave carries)."""
        classes, octaves = (self.out_pitch_class, self.out_octave) if out else (self.pitch_class, self.octave)
        return classes(pitch % 12) + octaves((pitch - LOWEST) // 12 + 1)

    def step_inputs(self, kind: torch.Tensor, tick: torch.Tensor, pitch: torch.Tensor, duration: torch.Tensor) -> torch.Tensor:
        """The steps' own embeddings [..., W] from their fields [...] (long)."""
        x = self.kind(kind) + self.tick(tick)
        return x + (kind == NOTE).unsqueeze(-1) * (self.pitch_embedding(pitch.clamp(min=LOWEST)) + self.duration(duration))

    def condition_inputs(self, conditions: torch.Tensor, text: torch.Tensor, mix_on: torch.Tensor,
                         text_on: torch.Tensor) -> torch.Tensor:
        """What the conditions add to each step [N, S, W]: conditions [N, S, FEATURES], text [N, TEXT]; mix_on,
        text_on [N] bool (False: that condition's null vector)."""
        mix = torch.where(mix_on[:, None, None], self.mix(conditions), self.null_mix)
        text = torch.where(text_on[:, None], self.text(text), self.null_text)
        return mix + text[:, None, :]

    def embed(self, batch: dict, mix_on: torch.Tensor, text_on: torch.Tensor) -> torch.Tensor:
        """The steps' inputs [N, S, W]."""
        return (self.step_inputs(batch["kind"], batch["tick"], batch["pitch"], batch["duration"])
                + self.condition_inputs(batch["conditions"], batch["text"], mix_on, text_on))

    def states(self, x: torch.Tensor, caches: list | None = None) -> torch.Tensor:
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], self.config.context)
        return self.norm(x)

    def event_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.event_head(h)

    def pitch_logits(self, h: torch.Tensor, tick: torch.Tensor) -> torch.Tensor:
        return self.pitch_head(h + self.out_tick(tick))

    def duration_logits(self, h: torch.Tensor, tick: torch.Tensor, pitch: torch.Tensor) -> torch.Tensor:
        return self.duration_head(h + self.out_tick(tick) + self.pitch_embedding(pitch.clamp(min=LOWEST), out=True))

    # ----- training -----
    def losses(self, batch: dict, mix_on: torch.Tensor, text_on: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed cross-entropies [3] (event, pitch, length) and their target counts [3]."""
        h = self.states(self.embed(batch, mix_on, text_on))
        target_tick = (batch["next_event"] - 1).clamp(min=0)
        pitch = batch["next_pitch"]
        logits = [self.event_logits(h), self.pitch_logits(h, target_tick),
                  self.duration_logits(h, target_tick, pitch.clamp(min=LOWEST))]
        targets = [batch["next_event"], torch.where(pitch >= 0, pitch - LOWEST, IGNORE), batch["next_duration"]]
        sums = torch.stack([F.cross_entropy(lg.flatten(0, 1), t.flatten(), ignore_index=IGNORE, reduction="sum")
                            for lg, t in zip(logits, targets)])
        counts = torch.stack([(t != IGNORE).sum() for t in targets])
        return sums, counts

    def loss(self, batch: dict, mode: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
        """The mean cross-entropy per target and its parts [3]; conditions dropped at their rates."""
        n = batch["kind"].shape[0]
        device = batch["kind"].device
        mix_on = torch.rand(n, device=device) >= self.config.mix_dropout
        text_on = torch.rand(n, device=device) >= self.config.text_dropout
        sums, counts = self.losses(batch, mix_on, text_on)
        parts = sums / counts.clamp(min=1)
        return sums.sum() / counts[0].clamp(min=1), parts.detach()

    def validation_losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed cross-entropies and counts [3] with every condition on."""
        on = torch.ones(batch["kind"].shape[0], dtype=torch.bool, device=batch["kind"].device)
        return self.losses(batch, on, on)

    # ----- files -----
    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(dict(kind="note-planner", **asdict(self.config)), indent=1))
        save_file({k: v.detach().to(torch.float16).contiguous() for k, v in self.state_dict().items()},
                  str(directory / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "NotePlanner":
        directory = Path(directory)
        try:
            settings = json.loads((directory / "config.json").read_text())
        except (OSError, ValueError) as err:
            raise SynthGenError(f"{directory}: not a note planner ({err})") from None
        if settings.pop("kind", None) != "note-planner":
            raise SynthGenError(f"{directory / 'config.json'}: not a note planner's config")
        try:
            model = cls(PlannerConfig(**settings))
        except TypeError as err:
            raise SynthGenError(f"{directory / 'config.json'}: {err}") from None
        state = {k: v.float() for k, v in load_file(str(directory / "model.safetensors")).items()}
        model.load_state_dict(state)
        return model.eval()
