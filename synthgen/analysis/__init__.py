"""Reading a mix: its beats, bars, meter, tempo map, chords per beat and key (`mix.MixAnalysis`), in files a DAW
reads (`export`); and whether a stem stays in the key (`key.in_key_share`)."""

from synthgen.analysis.key import Key, in_key_share  # noqa: F401
from synthgen.analysis.mix import MixAnalysis, analyze, analyze_file  # noqa: F401
