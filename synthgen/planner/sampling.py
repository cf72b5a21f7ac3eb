"""Writing a part with the note planner, beat by beat, with classifier-free guidance, temperature and top-p.

    events = sample_events(model, conditions [B, FEATURES], text [TEXT], PlanSettings(plan_guidance=2.0), seed=0)

Guidance runs two rows, one with both conditions and one with neither (their null vectors), and samples from
uncond + guidance * (cond - uncond) at every head. The grammar of the steps is kept by masking: a note's tick
never goes back within its beat, notes at one tick rise in pitch, at most MAX_AT_ONCE start together and
MAX_PER_BEAT in a beat.
"""

from __future__ import annotations

import numpy as np
import torch

from synthgen.analysis.description import TICKS
from synthgen.planner.grid import LOWEST, PITCHES, Event
from synthgen.planner.model import BEAT, NOTE, NotePlanner
from synthgen.planner.settings import PlanSettings

MAX_AT_ONCE, MAX_PER_BEAT = 6, 24


def _pick(logits: torch.Tensor, settings: PlanSettings, generator: torch.Generator) -> int:
    """One draw from logits [K] (masked entries at -inf) at the settings' temperature and top-p."""
    probs = torch.softmax(logits / settings.plan_temperature, dim=-1)
    ordered, order = probs.sort(descending=True)
    keep = ordered.cumsum(0) - ordered < settings.plan_top_p
    ordered = torch.where(keep, ordered, 0.0)
    return int(order[torch.multinomial(ordered / ordered.sum(), 1, generator=generator)])


class _Guided:
    """Logits of the rows (conditioned, and unconditioned when guiding) combined."""

    def __init__(self, guidance: float):
        self.guidance = guidance

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        if len(logits) == 1:
            return logits[0]
        return logits[1] + self.guidance * (logits[0] - logits[1])


@torch.no_grad()
def sample_events(model: NotePlanner, conditions: np.ndarray, text: np.ndarray, settings: PlanSettings = PlanSettings(),
                  seed: int = 0) -> list[Event]:
    """A part on the grid of the conditions' B beats [B, FEATURES] for a prompt embedding [TEXT]."""
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    guide = _Guided(settings.plan_guidance)
    rows = 1 if settings.plan_guidance == 1 else 2
    mix_on = text_on = torch.tensor([True, False][:rows])
    caches: list[list] = [[] for _ in model.blocks]
    cond = torch.as_tensor(conditions, dtype=torch.float32).expand(rows, -1, -1)
    text_row = torch.as_tensor(text, dtype=torch.float32).expand(rows, -1)
    beat_inputs = model.condition_inputs(cond, text_row, mix_on, text_on)  # [rows, B, W]
    events: list[Event] = []

    def step(kind: int, tick: int, pitch: int, duration: int, beat: int) -> torch.Tensor:
        fields = (torch.tensor([[kind]]), torch.tensor([[tick]]), torch.tensor([[pitch]]), torch.tensor([[duration]]))
        x = model.step_inputs(*fields) + beat_inputs[:, beat : beat + 1]
        return model.states(x, caches)[:, -1]

    for beat in range(len(conditions)):
        h = step(BEAT, 0, 0, 0, beat)
        tick, low, at_once, in_beat = 0, LOWEST - 1, 0, 0
        while in_beat < MAX_PER_BEAT:
            mask = torch.zeros(1 + TICKS, dtype=torch.bool)
            mask[1 + tick + (at_once >= MAX_AT_ONCE or low >= LOWEST + PITCHES - 1):] = True
            mask[0] = True
            choice = _pick(guide(model.event_logits(h)).masked_fill(~mask, -torch.inf), settings, generator)
            if choice == 0:
                break
            if choice - 1 > tick:
                tick, low, at_once = choice - 1, LOWEST - 1, 0
            ticks = torch.full((rows,), tick)
            pitch_logits = guide(model.pitch_logits(h, ticks))
            pitch_logits[: low - LOWEST + 1] = -torch.inf
            pitch = LOWEST + _pick(pitch_logits, settings, generator)
            pitches = torch.full((rows,), pitch)
            duration = _pick(guide(model.duration_logits(h, ticks, pitches)), settings, generator)
            events.append(Event(beat, tick, pitch, duration))
            low, at_once, in_beat = pitch, at_once + 1, in_beat + 1
            h = step(NOTE, tick, pitch, duration, beat)
    return events
