"""`synthgen generate` and `synthgen ui`: the main job."""

from __future__ import annotations

import argparse
import os
import sys

from synthgen.cli.common import (add_correction_options, add_model_option, add_sampling_options, corrections, device,
                                 generation_settings)
from synthgen.errors import SynthGenError
from synthgen.generation_settings import SAMPLING_OPTIONS, GenerationSettings
from synthgen.job import Job
from synthgen.options import add_options, bounded, config_from
from synthgen.planner.settings import PlanSettings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _parse_auth(text: str) -> tuple[str, str]:
    user, colon, password = text.partition(":")
    if not (user and colon and password):
        raise argparse.ArgumentTypeError("--auth wants USER:PASSWORD")
    return user, password


def add_commands(commands: argparse._SubParsersAction) -> None:
    """`generate` and `ui`."""
    parser = commands.add_parser("generate", help="write a synth stem that fits a mix")
    parser.add_argument("mix", help="the mix (wav, flac, ogg, mp3), or a folder of them")
    parser.add_argument("--prompt", required=True, help='the synth you want, e.g. "a soft dark pad holding the chords"')
    parser.add_argument("--out", required=True, help="output file, .wav (24-bit), .flac or .ogg (a folder of WAV "
                        "files when MIX is a folder)")
    add_model_option(parser)
    parser.add_argument("--mix-out", default=None, help="also write the mix with the synth added (file or folder)")
    parser.add_argument("--midi", default=None, help="also write the part's notes as MIDI on the mix's tempo map: the "
                        "plan the stem plays (a model without a plan: the stem transcribed); a .mid file, or a folder "
                        "when MIX is a folder")
    add_options(parser, Job, only=("notes", "notes_tempo"))
    add_options(parser, PlanSettings)
    add_options(parser, Job, only=("mix_gain_db",))
    add_sampling_options(parser)
    add_options(parser, GenerationSettings, skip=SAMPLING_OPTIONS)
    add_options(parser, Job, only=("max_seconds",))
    add_correction_options(parser)
    parser.add_argument("--resume", action="store_true", help="skip inputs whose outputs all exist (a folder run that "
                        "was stopped; under accelerate launch each process takes its share of the files)")
    parser.set_defaults(run=generate)

    parser = commands.add_parser("ui", help="a local web page: upload a mix, describe the synth, hear and see the result")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=bounded(int, at_least=0, at_most=65535), default=7860)
    add_model_option(parser)
    parser.add_argument("--max-upload-mb", type=bounded(float, above=0), default=100.0, help="refuse larger uploads")
    add_options(parser, Job, only=("max_seconds",))
    parser.add_argument("--auth", type=_parse_auth, default=None, metavar="USER:PASSWORD",
                        help="sign-in for the page (required when --host is not this machine)")
    parser.add_argument("--concurrency", type=bounded(int, at_least=1), default=1,
                        help="generations run at once; others wait in a queue")
    parser.set_defaults(run=ui)


def generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from synthgen.jobs import check_jobs, my_share, plan_jobs, process_share

    if not args.prompt.strip():
        raise SynthGenError("--prompt is empty: describe the synth you want")
    jobs = plan_jobs(args.mix, args.out, args.prompt, generation_settings(args), args.mix_out, args.midi,
                     mix_gain_db=args.mix_gain_db, max_seconds=args.max_seconds, corrections=corrections(args),
                     notes=args.notes, notes_tempo=args.notes_tempo, plan=config_from(PlanSettings, args))
    for warning in check_jobs(jobs):
        print(f"synthgen: warning: {warning}", file=sys.stderr)
    rank, world, local_world = process_share()
    jobs = my_share(jobs, rank, world, args.resume)
    if not jobs:
        return 0
    import torch

    from synthgen.pipeline import SynthGen  # after the checks: loading the model is the slow part

    target = device(args.device)
    if world > 1 and target == "cuda":
        target = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    elif world > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))  # the cores shared out
    pipeline = SynthGen.from_pretrained(args.model).to(target)
    for job in tqdm(jobs, desc="files", unit="file", disable=len(jobs) == 1):
        written = pipeline.generate_file(job, progress=True)
        for warning in written.warnings:
            print(f"synthgen: warning: {job.mix}: {warning}", file=sys.stderr)
        print(f"{job.mix} -> {', '.join(map(str, job.outputs))}: {written.summary}")
    return 0


def ui(args: argparse.Namespace) -> int:
    from synthgen.ui import serve

    if args.host not in LOOPBACK and args.auth is None:
        raise SynthGenError(f"--host {args.host} lets other machines reach the page: give --auth USER:PASSWORD")
    serve(args.model, args.host, args.port, args.max_upload_mb, args.max_seconds, args.concurrency, args.auth)
    return 0
