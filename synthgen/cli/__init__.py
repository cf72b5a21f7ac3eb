"""The `synthgen` command line: the parser and `main`; each command lives in a module of this package
(`generate`, `data`, `training`, `evaluate`). Options are documented in the README and in `--help`."""

from __future__ import annotations

import argparse
import os
import sys

from synthgen.cli import data as data_commands
from synthgen.cli import evaluate as eval_commands
from synthgen.cli import generate as generate_commands
from synthgen.cli import training as training_commands
from synthgen.data.window_settings import WindowSettings
from synthgen.errors import SynthGenError
from synthgen.generation_settings import SAMPLING_OPTIONS, GenerationSettings
from synthgen.options import add_options, bounded
from synthgen.training.codec_config import TRAIN_CONFIGS
from synthgen.training.lm_config import TrainConfig


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants I/N (e.g. 0/4), got '{text}'") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard I/N needs 0 <= I < N, got '{text}'")
    return index, count


def _parse_auth(text: str) -> tuple[str, str]:
    user, colon, password = text.partition(":")
    if not (user and colon and password):
        raise argparse.ArgumentTypeError("--auth wants USER:PASSWORD")
    return user, password


def _parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"--splits wants TRAIN,VALID,TEST fractions (e.g. 0.9,0.05,0.05), got '{text}'")
    return parts


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    add_options(parser, GenerationSettings, skip=tuple(f for f in GenerationSettings.__dataclass_fields__ if f not in SAMPLING_OPTIONS))
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (usage is one `--help` away); subcommands inherit it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="synthgen", description="Generate a synth track that fits a mix.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('synthgen').__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", help="write a synth stem that fits a mix")
    generate.add_argument("mix", help="the mix (wav, flac, ogg, mp3), or a folder of them")
    generate.add_argument("--prompt", required=True, help='the synth you want, e.g. "a soft dark pad holding the chords"')
    generate.add_argument("--out", required=True, help="output file, .wav (24-bit), .flac or .ogg (a folder of WAV "
                          "files when MIX is a folder)")
    generate.add_argument("--model", default=None, help="model directory, run folder or Hugging Face Hub id, e.g. facebook/musicgen-melody (default: the shipped model)")
    generate.add_argument("--mix-out", default=None, help="also write the mix with the synth added (file or folder)")
    generate.add_argument("--midi", default=None, help="also write the generated part as MIDI notes at the mix's tempo "
                          "(a .mid file, or a folder when MIX is a folder)")
    generate.add_argument("--mix-gain-db", type=bounded(float, at_least=-60, at_most=24), default=0.0, help="gain of the synth in --mix-out")
    _add_sampling_options(generate)
    add_options(generate, GenerationSettings, skip=SAMPLING_OPTIONS)
    generate.add_argument("--max-seconds", type=bounded(float, above=0), default=600.0, help="refuse longer inputs")
    generate.add_argument("--resume", action="store_true", help="skip inputs whose outputs all exist (a folder run that "
                          "was stopped; under accelerate launch each process takes its share of the files)")
    generate.set_defaults(run=generate_commands.generate)

    ui = commands.add_parser("ui", help="a local web page: upload a mix, describe the synth, hear and see the result")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    ui.add_argument("--port", type=bounded(int, at_least=0, at_most=65535), default=7860)
    ui.add_argument("--model", default=None, help="model directory, run folder or Hugging Face Hub id, e.g. facebook/musicgen-melody (default: the shipped model)")
    ui.add_argument("--max-upload-mb", type=bounded(float, above=0), default=100.0, help="refuse larger uploads")
    ui.add_argument("--max-seconds", type=bounded(float, above=0), default=600.0, help="refuse longer mixes")
    ui.add_argument("--auth", type=_parse_auth, default=None, metavar="USER:PASSWORD",
                    help="sign-in for the page (required when --host is not this machine)")
    ui.add_argument("--concurrency", type=bounded(int, at_least=1), default=1, help="generations run at once; others wait in a queue")
    ui.set_defaults(run=generate_commands.ui)

    prepare = commands.add_parser("prepare", help="encode a stem data set into a token cache")
    prepare.add_argument("src", help="data folder (seed, MUSDB18-HQ, MUSDB18 .stem.mp4 or per-track layout)")
    prepare.add_argument("--out", required=True, help="cache folder to create or resume")
    prepare.add_argument("--source", default="auto", choices=["auto", "seed", "musdb", "musdb-stems", "tracks"])
    prepare.add_argument("--target", default="other", help="MUSDB stem to generate (default: other)")
    prepare.add_argument("--mode", default="accompaniment", choices=["accompaniment", "extract"],
                         help="context = mixture minus target (accompaniment) or the full mixture (extract)")
    prepare.add_argument("--codec", default="tiny", help="codec preset name, save_pretrained directory or Hugging Face Hub id (e.g. facebook/encodec_32khz)")
    add_options(prepare, WindowSettings)
    prepare.add_argument("--shard", type=_parse_shard, default=None, metavar="I/N",
                         help="encode only shard I of N (0-based); all shards write one cache")
    prepare.add_argument("--batch-size", type=bounded(int, at_least=1), default=8, help="windows encoded at once")
    prepare.set_defaults(run=data_commands.prepare)

    train = commands.add_parser("train", help="train a model on a token cache (use `accelerate launch -m synthgen train` to scale out)")
    add_options(train, TrainConfig, required=("data", "out"))
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.set_defaults(run=training_commands.train)

    codec = commands.add_parser("train-codec", help="train a codec (spectral or EnCodec) on the audio of a data folder",
                                description="Options a kind does not have are refused; defaults are the kind's own.")
    codec.add_argument("--kind", default="spectral", choices=list(TRAIN_CONFIGS), help="codec kind (default spectral)")
    add_options(codec, *TRAIN_CONFIGS.values(), required=("data", "out"), defaults=False)
    codec.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    codec.set_defaults(run=training_commands.train_codec)

    codec_eval = commands.add_parser("eval-codec", help="a codec's reconstruction of held-out audio (what train-codec reports)")
    codec_eval.add_argument("--codec", required=True, action="append",
                            help="codec directory (save_pretrained) or preset; repeat to compare codecs in one table")
    codec_eval.add_argument("--data", required=True, help="data folder (any layout `prepare` reads)")
    codec_eval.add_argument("--split", default="valid", choices=["train", "valid", "test"])
    codec_eval.add_argument("--segments", type=bounded(int, at_least=1), default=32, help="2 s segments (the same ones train-codec reports on)")
    codec_eval.add_argument("--suite-windows", type=bounded(int, at_least=0), default=0, metavar="N",
                            help="also measure eval-audio's truth and truth-codec rows on N test windows (harmony, attack, role)")
    codec_eval.add_argument("--out", help="also write the numbers to this JSON file (and the table beside it as .md)")
    codec_eval.add_argument("--plots", metavar="DIR", help="also write spectrograms of a lead, a pad and a mixture "
                            "through each codec into DIR")
    codec_eval.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    codec_eval.set_defaults(run=eval_commands.eval_codec)

    evaluate = commands.add_parser("eval", help="cross-entropy per codebook against unigram and unconditioned references")
    evaluate.add_argument("--model", required=True, help="run folder or exported model directory")
    evaluate.add_argument("--data", required=True, help="token cache")
    evaluate.add_argument("--split", default="test", choices=["train", "valid", "test"])
    evaluate.add_argument("--batch-size", type=bounded(int, at_least=1), default=16)
    evaluate.add_argument("--out", help="report JSON path (default: MODEL/eval_SPLIT.json, with a .md beside it)")
    evaluate.set_defaults(run=eval_commands.evaluate)

    audio_eval = commands.add_parser("eval-audio", help="generate for held-out windows and measure fit, prompt adherence and closeness")
    audio_eval.add_argument("--model", action="append", help="model directory or run folder; repeat to compare "
                            "(default: the shipped model)")
    audio_eval.add_argument("--data", required=True, help="data folder with descriptions (e.g. SynthStems)")
    audio_eval.add_argument("--split", default="test", choices=["train", "valid", "test"])
    audio_eval.add_argument("--out", default="eval-audio", help="report folder (report.json, report.md, PNGs, audio/)")
    audio_eval.add_argument("--mode", default="accompaniment", choices=["accompaniment", "extract"])
    audio_eval.add_argument("--window", type=bounded(float, at_least=1), default=WindowSettings.window, help="window length in seconds")
    audio_eval.add_argument("--windows", type=bounded(int, at_least=1), default=None, help="evaluate at most this many windows")
    audio_eval.add_argument("--steering", action="store_true", help="also render bright/dark and pad/pluck prompt pairs")
    audio_eval.add_argument("--embedding", default=None, help="module:function giving (audio, sr) -> frames [T, D] "
                            "for the Fréchet distance (default: the codec's latents)")
    audio_eval.add_argument("--plots", type=bounded(int, at_least=0), default=3, help="windows to plot and keep audio of")
    _add_sampling_options(audio_eval)
    audio_eval.set_defaults(run=eval_commands.eval_audio)

    data = commands.add_parser("data", help="make data sets").add_subparsers(dest="data_command", required=True,
                                                                           metavar="KIND")
    synth = data.add_parser("synth", help="SynthStems: procedural backing tracks with a synth part and its description")
    synth.add_argument("out_dir", help="folder to write <split>/<track>/ into (resumes if it exists)")
    synth.add_argument("--tracks", type=bounded(int, at_least=1), required=True, help="number of tracks")
    synth.add_argument("--seconds", type=bounded(float, at_least=1), default=30.0, help="length of each track")
    synth.add_argument("--seed", type=bounded(int, at_least=0), default=0, help="the same seed gives byte-identical tracks")
    synth.add_argument("--workers", type=bounded(int, at_least=1), default=os.cpu_count() or 1, help="parallel processes")
    synth.add_argument("--splits", type=_parse_fractions, default=(0.9, 0.05, 0.05), metavar="TRAIN,VALID,TEST",
                       help="split fractions (default 0.9,0.05,0.05)")
    synth.add_argument("--sample-rate", type=bounded(int, at_least=8000, at_most=192000), default=None, help="sample rate of the files (default: SynthGen's own)")
    synth.add_argument("--style", choices=("record", "classic"), default="record",
                       help="record: songs with sections, a sampled band and a stereo mix (SynthStems 2); classic: the "
                            "first SynthStems (mono, built-in instruments)")
    synth.add_argument("--ood", action="store_true",
                       help="the out-of-distribution set: bands from TimGM6mb (never in training) and a synth with a "
                            "deep, fast vibrato training never uses (record style)")
    synth.set_defaults(run=data_commands.data_synth)

    resound = data.add_parser("resound", help="SynthStems with the backing played by a General MIDI SoundFont (an "
                              "out-of-distribution test set with true stems)")
    resound.add_argument("src", help="a SynthStems folder (`data synth`)")
    resound.add_argument("out_dir", help="folder to write <split>/<track>/ into (resumes if it exists)")
    resound.add_argument("--soundfont", default=None,
                         help="SoundFont (.sf2/.sf3) to play the backing (default: Debian's TimGM6mb, never used "
                              "in training)")
    resound.add_argument("--splits", default="test", help="comma-separated splits to re-sound (default test)")
    resound.set_defaults(run=data_commands.data_resound)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
