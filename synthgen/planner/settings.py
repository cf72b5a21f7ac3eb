"""How the note planner samples (no heavy imports: the command line builds its options from it)."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.options import check_bounds, option


@dataclass
class PlanSettings:
    plan_guidance: float = option("classifier-free guidance of the note planner (1: none)", 2.0, at_least=1, at_most=10)
    plan_temperature: float = option("note planner sampling temperature", 0.8, above=0, at_most=5)
    plan_top_p: float = option("note planner nucleus sampling mass", 0.9, above=0, at_most=1)

    def __post_init__(self):
        check_bounds(self)
