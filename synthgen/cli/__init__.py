"""The `synthgen` command line: the parser and `main`. Each command lives in a module of this package
(`generate`, `analyze`, `data`, `training`, `evaluate`) that declares its own arguments (`add_commands`); options are
documented in the README and in `--help`."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from synthgen.cli import analyze, data, evaluate, generate, training
from synthgen.errors import SynthGenError

COMMAND_MODULES = (generate, analyze, data, training, evaluate)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (usage is one `--help` away); subcommands inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="synthgen", description="Generate a synth track that fits a mix.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('synthgen').__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for stop in (signal.SIGTERM, signal.SIGHUP):  # stopped by kill or a closed terminal: clean up as for Ctrl-C
        signal.signal(stop, signal.default_int_handler)
    try:
        return args.run(args)
    except SynthGenError as err:
        print(f"synthgen: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthgen: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The `synthgen` console command: `main`, then, after `generate`, an exit that skips the interpreter's teardown
    (freeing torch's modules takes about 0.35 s of every run). `generate` has written, closed and renamed every
    output before it returns; the other commands (training, data with its worker processes, the studio page) end
    the ordinary way."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] == ["generate"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
