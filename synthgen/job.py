"""One generation job: the mix to read, the prompt and settings, the files to write (no heavy imports: the command
line builds its options from it). Planned and checked in `jobs`, run by `SynthGen.generate_file`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synthgen.generation_settings import GenerationSettings
from synthgen.options import check_bounds, option


@dataclass(frozen=True)
class Job:
    """Passed whole from the command line or the studio page to `SynthGen.generate_file` and on to
    `streaming.generate_file`."""

    mix: Path
    prompt: str
    stems: tuple[Path, ...]  # one per variation
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    previews: tuple[Path, ...] = ()  # the mix with each stem added (--mix-out)
    midis: tuple[Path, ...] = ()  # each stem's notes (--midi)
    notes: Path | None = option("a MIDI file of the part to render instead of planning one (its notes, all tracks but "
                                "drums)", None, metavar="PART.mid")
    notes_tempo: str = option("--notes timing: bars laid on the mix's beat grid (grid) or the MIDI file's own tempo map "
                              "(midi)", "grid", choices=["grid", "midi"])
    mix_gain_db: float = option("gain of the synth in --mix-out", 0.0, at_least=-60, at_most=24)
    max_seconds: float | None = option("refuse longer mixes (seconds)", 600.0, above=0)  # None: no limit
    plan: object = None  # how the note planner samples (planner.settings.PlanSettings; None: its defaults)
    # the producer's key, tempo, meter and chords (analysis.corrections.Corrections; None: all read), not imported
    # here: the command line builds its options from this module before anything heavy loads
    corrections: object = None

    def __post_init__(self):
        check_bounds(self)

    @property
    def outputs(self) -> tuple[Path, ...]:
        return self.stems + self.previews + self.midis
