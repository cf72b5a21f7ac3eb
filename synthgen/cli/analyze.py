"""`synthgen analyze`: what the analysis reads in a mix (key, tempo, meter, a chord chart by bar), and files for a
DAW (.json, a MIREX .lab of the chords, a MIDI tempo map with time signature, key signature and chord markers)."""

from __future__ import annotations

import argparse

from synthgen.cli.common import add_correction_options, corrections
from synthgen.job import Job
from synthgen.options import add_options


def add_commands(commands: argparse._SubParsersAction) -> None:
    """`analyze`."""
    parser = commands.add_parser("analyze", help="read a mix's key, tempo, meter and chords; write them for a DAW")
    parser.add_argument("mix", help="audio file (wav, flac, ogg, mp3)")
    parser.add_argument("--out", action="append", default=[], metavar="FILE.json|.lab|.mid",
                        help="also write the reading to this file (repeat for several formats)")
    add_options(parser, Job, only=("max_seconds",))
    add_correction_options(parser)
    parser.set_defaults(run=analyze)


def analyze(args: argparse.Namespace) -> int:
    from synthgen.analysis.export import check_format, write_analysis
    from synthgen.analysis.mix import analyze_file

    for out in args.out:
        check_format(out)
    analysis = analyze_file(args.mix, args.max_seconds, corrections(args))
    print(f"{args.mix}: {analysis.summary()}")
    print(analysis.chart())
    for out in args.out:
        write_analysis(analysis, out)
        print(f"wrote {out}")
    return 0
