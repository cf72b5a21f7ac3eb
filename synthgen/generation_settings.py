"""How a stem is sampled and placed in the output file (no heavy imports: the command line and the studio page
read their defaults here)."""

from __future__ import annotations

from dataclasses import dataclass

from synthgen.errors import SynthGenError
from synthgen.options import check_bounds, check_types, option

MAX_VARIATIONS = 16  # each variation is sampled as one more row of a batch: memory grows with them
PRECISIONS = ("auto", "fp32", "bf16")
RENDERERS = ("neural", "synth")  # the model's codec LM (with the notes condition: model v3), or synth.renderer


@dataclass
class GenerationSettings:
    temperature: float = option("sampling temperature (0: always the likeliest code)", 1.0, at_least=0, at_most=10)
    top_k: int = option("sample among the k likeliest codes (0: off)", 250, at_least=0)
    top_p: float = option("sample among the likeliest codes that reach this probability (0: off)", 0.0, at_least=0,
                           at_most=1)
    guidance_text: float = option("classifier-free guidance on the prompt (1: off)", 3.0, at_least=0, at_most=20)
    guidance_mix: float = option("guidance on the mix (1: off; model v3 hears the mix through its plan, a model v2 folder "
                                 "fits the mix's harmony best near 5: MODEL_CARD.md)", 1.0, at_least=0, at_most=20,
                                 old_names=("guidance_context",))
    guidance_notes: float = option("guidance on the part's notes, for a model that renders them (1: off)", 3.0,
                                   at_least=0, at_most=20)
    seed: int = option("seed: the same seed, input and settings give the same stem bit for bit", 0,
                     at_least=0, at_most=2**63 - 1)
    variations: int = option("stems to write per input (OUT_1.wav, OUT_2.wav, ...)", 1, at_least=1,
                           at_most=MAX_VARIATIONS)
    window_seconds: float = option("generation window: longer mixes are written window by window", 10.0,
                                   at_least=1, at_most=30)
    overlap_seconds: float = option("each window continues the last one's codes over this overlap (less than the window)",
                                    2.5, at_least=0)
    level_db: float = option("stem loudness in LU against the mix's integrated loudness (as loud as the mix: 0)", -6.0,
                             at_least=-40, at_most=12)
    loudness: float | None = option("stem loudness in LUFS, instead of --level-db", None, at_least=-70, at_most=0,
                                    metavar="LUFS")
    mono: bool = option("a stereo mix gets the stem in the centre instead of a mono-compatible stereo spread", False)
    renderer: str = option("what plays the part: the project's own synthesizer (synth: the plan in a voice chosen from "
                           "the prompt, codec-free; measured the better, MODEL_CARD.md) or the model's codec language "
                           "model (neural)", "synth", choices=RENDERERS)
    precision: str = option("decoder weights while sampling: auto (bf16 on a GPU; on a CPU the faster of the two, "
                            "measured once on the machine: model/precision.py)",
                            "auto", choices=PRECISIONS)

    def __post_init__(self):
        """Refuse settings that cannot be sampled with, naming the option (the command line, the Python API and
        the studio page all build their settings here)."""
        check_types(self)
        check_bounds(self)
        if self.overlap_seconds >= self.window_seconds:
            raise SynthGenError(f"--overlap-seconds must be less than --window-seconds ({self.window_seconds}), "
                                f"got {self.overlap_seconds}")
        if self.renderer not in RENDERERS:
            raise SynthGenError(f"--renderer must be one of {', '.join(RENDERERS)}, got {self.renderer!r}")
        if self.precision not in PRECISIONS:
            raise SynthGenError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")


SAMPLING_OPTIONS = ("temperature", "top_k", "top_p", "guidance_text", "guidance_mix", "guidance_notes", "seed")
