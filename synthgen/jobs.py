"""The jobs of a `synthgen generate` run (`job.Job`), planned and checked before a model is loaded.

    plan_jobs("song.flac", "synth.wav", "a soft pad", GenerationSettings(variations=2))
        -> [Job(mix=song.flac, prompt="a soft pad", stems=(synth_1.wav, synth_2.wav), ...)]
    check_jobs(jobs)  # every input readable and short enough, every output writable, nothing clobbered

Rules: every input is checked before any work starts, and one bad input stops the run before anything is
written. Under `accelerate launch` (or torchrun) each process checks every input and takes every N-th job
(`my_share`); with --resume a job whose outputs all exist is skipped (outputs are only ever renamed into place
complete, so an existing one is finished). An output may not be an input, a folder, or another output of the same run; its folder must be
writable and its disk must have room for it. In folder mode, two inputs with the same name and different
extensions (a.wav, a.flac) write a_wav.wav and a_flac.wav.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from synthgen.audio import AUDIO_EXTENSIONS, SAMPLE_RATE, output_format, probe_audio, wav_missing_bytes
from synthgen.errors import AudioError, SynthGenError
from synthgen.generation_settings import GenerationSettings
from synthgen.job import Job

BYTES_PER_SAMPLE = 3  # 24-bit WAV, the largest output format
MIDI_EXTENSIONS = (".mid", ".midi")


def _numbered(path: Path, variations: int) -> tuple[Path, ...]:
    """OUT.wav for one variation, OUT_1.wav ... OUT_n.wav for several."""
    if variations == 1:
        return (path,)
    return tuple(path.with_name(f"{path.stem}_{i + 1}{path.suffix}") for i in range(variations))


def plan_jobs(mix: str | Path, out: str | Path, prompt: str, settings: GenerationSettings,
              mix_out: str | Path | None = None, midi: str | Path | None = None, **options) -> list[Job]:
    """One job for a file, or one per audio file of a folder (outputs as WAV files in the `out` folder, previews
    and MIDI files in the `mix_out` and `midi` folders). `options`: Job's other fields (mix_gain_db, max_seconds, corrections)."""
    mix, out, variations = Path(mix), Path(out), settings.variations
    common = dict(prompt=prompt, settings=settings, **options)
    if not mix.is_dir():
        previews = _numbered(Path(mix_out), variations) if mix_out else ()
        midis = _numbered(Path(midi), variations) if midi else ()
        return [Job(mix, stems=_numbered(out, variations), previews=previews, midis=midis, **common)]
    files = sorted(p for p in mix.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise SynthGenError(f"{mix}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) in this folder")
    if out.is_file():
        raise SynthGenError(f"{out}: is a file; with a folder of mixes, --out is the folder to write stems into")
    shared = Counter(f.stem for f in files)
    jobs = []
    for f in files:
        name = f.stem if shared[f.stem] == 1 else f"{f.stem}_{f.suffix[1:].lower()}"
        previews = _numbered(Path(mix_out) / f"{name}.wav", variations) if mix_out else ()
        midis = _numbered(Path(midi) / f"{name}.mid", variations) if midi else ()
        jobs.append(Job(f, stems=_numbered(out / f"{name}.wav", variations), previews=previews, midis=midis, **common))
    return jobs


def check_jobs(jobs: list[Job]) -> list[str]:
    """Refuse the run (SynthGenError naming the file) if any input cannot be read or is over its job's max_seconds,
    or any output cannot be written. Returns warnings about inputs that can be used but may not be what the user
    thinks (a WAV file cut short)."""
    seconds = {job.mix: probe_audio(job.mix, job.max_seconds) for job in jobs}
    for part in {job.notes for job in jobs if job.notes is not None}:
        from synthgen.planner.midi_part import read_midi

        read_midi(Path(part))  # a part that cannot be read is refused before any work
    warnings = [f"{job.mix}: the file is cut short ({missing} bytes of audio its header promises are missing); "
                "using the part that is there" for job in jobs if (missing := wav_missing_bytes(job.mix))]
    inputs = {job.mix.resolve() for job in jobs}
    seen: set[Path] = set()
    room: Counter[Path] = Counter()
    for job in jobs:
        duration, sample_rate, channels = seconds[job.mix]
        for path in job.outputs:
            if path.is_dir():
                raise AudioError(path, "is a folder; give a file name to write to")
            resolved = path.resolve()
            if resolved in inputs:
                raise AudioError(path, "is an input of this run; refusing to overwrite it (choose another --out)")
            if resolved in seen:
                raise AudioError(path, "would be written twice in this run (--out, --mix-out and --midi must differ)")
            seen.add(resolved)
            if path not in job.midis:
                output_format(path)
            elif path.suffix.lower() not in MIDI_EXTENSIONS:
                raise AudioError(path, f"--midi writes MIDI files: name it {' or '.join(MIDI_EXTENSIONS)}")
            room[_writable_folder(path)] += int(duration * sample_rate * max(channels, 2) * BYTES_PER_SAMPLE)
    # streaming.py's working files, one file at a time: the mono mix at the codec's rate and each raw stem
    scratch = max(4 * seconds[job.mix][0] * (SAMPLE_RATE + len(job.stems) * seconds[job.mix][1]) for job in jobs)
    room[Path(tempfile.gettempdir())] += int(scratch)
    for folder, needed in room.items():
        free = shutil.disk_usage(folder).free
        if needed > free:
            what = "working files (set TMPDIR to a folder with room)" if folder == Path(tempfile.gettempdir()) else "outputs"
            raise SynthGenError(f"{folder}: not enough free disk space for the {what} "
                                f"({needed / 1e6:.1f} MB needed, {free / 1e6:.1f} MB free)")
    return warnings


def process_share() -> tuple[int, int, int]:
    """(rank, number of processes, processes on this machine) of a run started by `accelerate launch` or torchrun,
    from the environment they set; (0, 1, 1) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    return int(os.environ.get("RANK", 0)), world, int(os.environ.get("LOCAL_WORLD_SIZE", world))


def my_share(jobs: list[Job], rank: int, world: int, resume: bool = False) -> list[Job]:
    """The jobs process `rank` of `world` does: every world-th from its rank (each file once), less, with `resume`,
    those whose outputs all exist."""
    return [job for job in jobs[rank::world] if not (resume and all(path.exists() for path in job.outputs))]


def _writable_folder(path: Path) -> Path:
    """The nearest existing folder above `path`, checked by creating (and removing) a file in it."""
    folder = path.parent.absolute()
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise AudioError(path, f"cannot be written: {folder} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise AudioError(path, f"cannot be written in {folder} ({os.strerror(err.errno) if err.errno else err})") from None
    return folder
