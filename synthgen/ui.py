"""`synthgen ui`: a local Gradio studio page on the same Python API as the CLI.

Upload or record a mix (or start from the example mix), describe the synth, generate (Stop cancels); listen
to the stem and to the mix with the stem added (gain adjustable without generating again), see both as
waveforms and spectrograms on one time axis, read the mix's estimated key and tempo, and download the stems
and their MIDI transcriptions. A model folder can be chosen on the page; `--auth` puts a sign-in in front.

Files: uploads and results live in one temporary folder of the server's own (printed at start). A session's
results are deleted when it generates again, when the browser tab closes or after an hour; Gradio's copies of
uploads and results after an hour; and the whole folder when the server stops (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import uuid
from pathlib import Path

KEEP_SECONDS = 3600  # how long a session's results and Gradio's file copies are kept
READ = "read from the mix"  # the meter menu's choice for no correction
EXAMPLE_MIX = Path(__file__).resolve().parent.parent / "examples" / "backing.flac"  # in a source checkout
EXAMPLE_MIX_PROMPTS = ["a soft dark pad holding the chords", "a bright plucky arpeggio", "a deep sine bass holding down the low end"]
ABOUT = """**What this model can do.** It writes a mono synth part (lead, arpeggio, pad, stabs or bass) for a mix of up
to {minutes:g} minutes, following the mix's chords and the prompt's brightness and register, at the mix's
sample rate and length, {level:g} LU under the mix and spread in stereo: it plans the part's notes on the mix's beats
and chords (shown under the chord chart, and in the MIDI files), then plays them. **What it cannot (yet).** It was
trained on SynthStems, the project's procedural songs, only: real records with vocals and sampled instruments are
new to it, and it follows the chords it reads in the mix, mistakes included. The measured numbers are in
MODEL_CARD.md."""

EXAMPLE_PROMPTS = [
    "a soft dark pad holding the chords, slow swell",
    "a bright detuned saw lead carrying the melody",
    "a plucky square arpeggio playing a fast arpeggio",
    "punchy warm chord stabs, with a tempo-synced delay",
    "a deep sine bass holding down the low end",
]


def _new_result(workdir: Path, variations: int) -> tuple[Path, list[Path], list[Path]]:
    """A new folder of its own under `workdir` for a generation, and the paths of its stems and their MIDI."""
    folder = workdir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    stems = [folder / ("synth.wav" if variations == 1 else f"synth_{i + 1}.wav") for i in range(variations)]
    return folder, stems, [path.with_suffix(".mid") for path in stems]


def _finish_result(folder: Path, written) -> tuple:
    """Beside a generation's stems and MIDI: the mix (for previews) and a picture of it with the first stem and, under
    the chord chart, the notes it plays.
    Returns (stem and MIDI paths, picture path, the summary with key and tempo, the page's state)."""
    from synthgen.audio import read_audio, set_channels, write_audio
    from synthgen.plots import audio_and_notes

    job = written.job
    audio, sr = read_audio(job.mix)
    write_audio(folder / "mix.wav", audio, sr)
    stem, _ = read_audio(job.stems[0])
    parts = {"the synth's notes": written.notes[0]} if written.notes else {}
    picture = audio_and_notes({"mix": set_channels(audio, 1)[0], "synth": set_channels(stem, 1)[0]}, sr, parts,
                              written.analysis, folder / "picture.png")
    analysis = (f"**Mix**: {written.summary}. The MIDI files hold the synth's notes on the mix's tempo map.\n\n"
                f"**Chords by bar**: `{written.analysis.chart()}`")
    files = [str(path) for path in job.stems + job.midis]
    return files, str(picture), analysis, dict(folder=str(folder), synth=files[0])


def _remove_result(state) -> None:
    """Delete a generation's folder (when the session generates again, closes or expires)."""
    if state:
        shutil.rmtree(state["folder"], ignore_errors=True)


def _remix(state, gain_db):
    """The mix with the generated stem at gain_db, written beside them; None before any generation."""
    import soundfile as sf

    from synthgen.audio import write_audio
    from synthgen.placement import mix_preview

    folder = Path(state["folder"]) if state else None
    if folder is None or not folder.is_dir():  # nothing generated yet, or deleted after KEEP_SECONDS
        return None
    mix, sr = sf.read(folder / "mix.wav", dtype="float32", always_2d=True)
    synth, _ = sf.read(state["synth"], dtype="float32", always_2d=True)
    path = folder / f"mix_with_synth_{gain_db:+.1f}dB.wav"
    write_audio(path, mix_preview(mix.T, synth.T, gain_db), sr)
    return str(path)


def _whole(value, name: str) -> int:
    """A number from the page as an int; NaN, infinities and text are refused with a message."""
    from synthgen.errors import SynthGenError

    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise SynthGenError(f"{name} must be a whole number, got {value}") from None


class _Pipelines:
    """The pipelines the page has loaded, by model folder ("" is the one the server started with)."""

    def __init__(self, default):
        import threading

        self.loaded, self.lock = {"": default}, threading.Lock()

    def get(self, folder: str):
        from synthgen.pipeline import SynthGen

        folder = (folder or "").strip()
        with self.lock:
            if folder not in self.loaded:
                self.loaded[folder] = SynthGen.from_pretrained(folder)
            return self.loaded[folder]


def _generate_handler(pipelines: _Pipelines, workdir: Path, max_seconds: float):
    """The Generate button's function: generate for the mix into a new result folder, return what the page shows."""
    import gradio as gr

    from synthgen.analysis.corrections import given_values
    from synthgen.errors import SynthGenError
    from synthgen.generation_settings import GenerationSettings
    from synthgen.job import Job

    def generate(mix_path, prompt, temperature, top_k, top_p, guidance_text, guidance_mix, seed, variations,
                 key, bpm, meter, downbeat, chords, renderer, notes, gain_db, model_folder, previous,
                 progress=gr.Progress(track_tqdm=True)):
        if not mix_path:
            raise gr.Error("Upload or record a mix first.")
        if not prompt or not prompt.strip():
            raise gr.Error("Describe the synth you want in the prompt box.")
        try:
            settings = GenerationSettings(temperature=temperature, top_k=_whole(top_k, "top-k"), top_p=top_p,
                                          guidance_text=guidance_text, guidance_mix=guidance_mix,
                                          seed=_whole(seed, "seed"), variations=_whole(variations, "variations"),
                                          renderer=renderer)
            given = given_values(key, bpm or None, None if meter == READ else meter, downbeat, chords)
            folder, stems, midis = _new_result(workdir, settings.variations)
            job = Job(Path(mix_path), prompt.strip(), tuple(stems), settings, midis=tuple(midis), max_seconds=max_seconds,
                      corrections=given, notes=Path(notes) if notes else None)
            try:
                written = pipelines.get(model_folder).generate_file(job, progress=True)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        except SynthGenError as err:
            message = str(err).replace(str(mix_path), Path(mix_path).name)
            raise gr.Error(message.replace(str(notes), Path(notes).name) if notes else message) from None
        for warning in written.warnings:
            gr.Warning(warning)
        _remove_result(previous)
        files, picture, analysis, state = _finish_result(folder, written)
        return files[0], _remix(state, gain_db), picture, analysis, files, state

    return generate


def _input_column(defaults) -> dict:
    """The mix, the prompt, the examples, sampling and guidance, the model field, a MIDI part and the buttons."""
    import gradio as gr

    from synthgen.generation_settings import RENDERERS

    example = EXAMPLE_MIX.is_file()
    mix = gr.Audio(str(EXAMPLE_MIX) if example else None, sources=["upload", "microphone"], type="filepath",
                   label="Mix", elem_id="mix")
    prompt = gr.Textbox(EXAMPLE_MIX_PROMPTS[0] if example else "", label="Describe the synth",
                        placeholder=EXAMPLE_PROMPTS[0], elem_id="prompt")
    if example:
        gr.Examples(examples=[[str(EXAMPLE_MIX), p] for p in EXAMPLE_MIX_PROMPTS], inputs=[mix, prompt],
                    label="The example mix (16 s of drums, bass and piano) with prompts")
    gr.Examples(examples=[[p] for p in EXAMPLE_PROMPTS], inputs=[prompt], label="Example prompts")
    with gr.Accordion("Sampling and guidance", open=False):
        controls = dict(
            temperature=gr.Slider(0.0, 2.0, value=defaults.temperature, step=0.05, label="Temperature"),
            top_k=gr.Slider(0, 1024, value=defaults.top_k, step=1, label="Top-k (0: off)"),
            top_p=gr.Slider(0.0, 1.0, value=defaults.top_p, step=0.01, label="Top-p (0: off)"),
            guidance_text=gr.Slider(1.0, 6.0, value=defaults.guidance_text, step=0.1, label="Guidance on the prompt"),
            guidance_mix=gr.Slider(1.0, 6.0, value=defaults.guidance_mix, step=0.1, label="Guidance on the mix"),
            renderer=gr.Dropdown(list(RENDERERS), value=defaults.renderer, elem_id="renderer",
                                 label="Who plays the notes: the synthesizer, or the neural codec model"),
            seed=gr.Number(value=defaults.seed, precision=0, label="Seed"),
            variations=gr.Slider(1, 4, value=defaults.variations, step=1, label="Variations"),
            model_folder=gr.Textbox("", label="Model folder or run (empty: the one the server started with)",
                                    elem_id="model"))
    with gr.Accordion("What you know of the song (replaces what is read)", open=False):
        known = dict(
            key=gr.Textbox("", label='Key, e.g. "B minor" (empty: read)', elem_id="key"),
            bpm=gr.Number(None, label="Tempo in BPM (empty: read)", elem_id="bpm"),
            meter=gr.Dropdown([READ, "4/4", "3/4", "6/8"], value=READ, label="Meter", elem_id="meter"),
            downbeat=gr.Number(None, label="First bar line, seconds (empty: read)", elem_id="downbeat"),
            chords=gr.File(None, file_types=[".lab", ".json"], type="filepath", elem_id="chords",
                           label="Chords (.lab as `synthgen analyze --out` writes, or .json)"),
            notes=gr.File(None, file_types=[".mid", ".midi"], type="filepath", elem_id="notes",
                          label="Your own part (MIDI): played in the described sound, on the mix's beats, instead of a plan"))
    with gr.Row():
        button = gr.Button("Generate", variant="primary", elem_id="generate")
        stop = gr.Button("Stop", variant="stop", elem_id="stop")
    return dict(mix=mix, prompt=prompt, **controls, **known, button=button, stop=stop)


def _output_column() -> dict:
    """The stem, the preview with its gain, the picture, the key and tempo, the downloads."""
    import gradio as gr

    return dict(
        synth=gr.Audio(type="filepath", label="Synth stem", elem_id="synth", interactive=False),
        gain=gr.Slider(-24.0, 12.0, value=0.0, step=0.5, label="Synth gain in the preview (dB)"),
        preview=gr.Audio(type="filepath", label="Mix with synth", elem_id="preview", interactive=False),
        picture=gr.Image(type="filepath", label="Mix and synth", elem_id="picture", interactive=False, height=560),
        analysis=gr.Markdown(elem_id="analysis"),
        downloads=gr.File(label="Stems and their MIDI", file_count="multiple", interactive=False, elem_id="downloads"))


def build_app(pipeline, workdir: Path, max_seconds: float):
    """The Gradio Blocks for a loaded pipeline (the default; the page may load others); outputs go under `workdir`."""
    import gradio as gr

    from synthgen.generation_settings import GenerationSettings

    defaults = GenerationSettings()
    with gr.Blocks(title="SynthGen studio", delete_cache=(KEEP_SECONDS // 6, KEEP_SECONDS)) as app:
        gr.Markdown("# SynthGen studio\nDrop in a mix, describe a synth part, and hear it against the song.")
        with gr.Accordion("What this model can and cannot do", open=False):
            gr.Markdown(ABOUT.format(minutes=max_seconds / 60, level=-defaults.level_db))
        state = gr.State(None, time_to_live=KEEP_SECONDS, delete_callback=_remove_result)
        with gr.Row():
            with gr.Column():
                given = _input_column(defaults)
            with gr.Column():
                shown = _output_column()
        inputs = [given[name] for name in ("mix", "prompt", "temperature", "top_k", "top_p", "guidance_text",
                                           "guidance_mix", "seed", "variations", "key", "bpm", "meter", "downbeat",
                                           "chords", "renderer", "notes")]
        running = given["button"].click(
            _generate_handler(_Pipelines(pipeline), workdir, max_seconds),
            [*inputs, shown["gain"], given["model_folder"], state],
            [shown[name] for name in ("synth", "preview", "picture", "analysis", "downloads")] + [state])
        given["stop"].click(None, None, None, cancels=[running])
        shown["gain"].release(_remix, [state, shown["gain"]], [shown["preview"]])
    return app


def serve(model_dir: str | None, host: str, port: int, max_upload_mb: float, max_seconds: float,
          concurrency: int, auth: tuple[str, str] | None = None) -> None:
    """Load the model, then serve the page (behind a sign-in with `auth` = (user, password)) until interrupted."""
    from synthgen.files import sweep_stale

    sweep_stale(Path(tempfile.gettempdir()), r"synthgen-ui-(\d+)-\w+")  # the folders of pages that were killed
    workdir = Path(tempfile.mkdtemp(prefix=f"synthgen-ui-{os.getpid()}-"))
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "uploads")  # uploads land in the app's own folder too
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from synthgen.pipeline import SynthGen

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop on SIGTERM as on Ctrl-C, cleaning up
    app = None
    try:
        app = build_app(SynthGen.from_pretrained(model_dir), workdir / "outputs", max_seconds)
        app.queue(default_concurrency_limit=concurrency, max_size=32)
        print(f"SynthGen studio on http://{host}:{port} (files in {workdir})", flush=True)
        allowed = [str(workdir)] + ([str(EXAMPLE_MIX.parent)] if EXAMPLE_MIX.is_file() else [])
        app.launch(server_name=host, server_port=port, max_file_size=int(max_upload_mb * 1024 * 1024),
                   show_error=False, allowed_paths=allowed, quiet=True, auth=auth)
    except KeyboardInterrupt:
        pass
    finally:
        if app is not None:
            app.close()
        shutil.rmtree(workdir, ignore_errors=True)
