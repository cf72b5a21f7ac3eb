"""Reading a mix: its key, tempo, beats, bars and chords (MixAnalysis), and whether a stem stays in the key."""

from synthgen.analysis.key import (Key, describe_mix, estimate_key, estimate_tempo, in_key_share,  # noqa: F401
                                   onset_envelope)
