"""`synthgen ui`: a local Gradio studio page on the same Python API as the CLI.

Upload or record a mix, describe the synth, generate; listen to the stem and to the mix with the stem
added (gain adjustable without generating again), and see both as waveforms and spectrograms on one
time axis.

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

EXAMPLE_PROMPTS = [
    "a soft dark pad holding the chords, slow swell",
    "a bright detuned saw lead carrying the melody",
    "a plucky square arpeggio playing a fast arpeggio",
    "punchy warm chord stabs, with a tempo-synced delay",
    "a deep sine bass holding down the low end",
]


def _write_result(workdir: Path, audio, sr: int, stems: list) -> tuple[list[str], str, dict]:
    """A generation's files in a new folder of its own under `workdir`: the stems, the mix (for previews) and a
    picture of both. Returns (stem paths, picture path, the page's state)."""
    from synthgen.audio import set_channels, write_audio
    from synthgen.plots import waveforms_and_spectrograms

    folder = workdir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    files = []
    for i, placed in enumerate(stems):
        path = folder / ("synth.wav" if len(stems) == 1 else f"synth_{i + 1}.wav")
        write_audio(path, placed, sr)
        files.append(str(path))
    write_audio(folder / "mix.wav", audio, sr)
    picture = waveforms_and_spectrograms({"mix": set_channels(audio, 1)[0], "synth": set_channels(stems[0], 1)[0]},
                                         sr, folder / "picture.png")
    return files, str(picture), dict(folder=str(folder), synth=files[0])


def _remove_result(state) -> None:
    """Delete a generation's folder (when the session generates again, closes or expires)."""
    if state:
        shutil.rmtree(state["folder"], ignore_errors=True)


def _remix(state, gain_db):
    """The mix with the generated stem at gain_db, written beside them; None before any generation."""
    import soundfile as sf

    from synthgen.audio import mix_preview, write_audio

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


def build_app(pipeline, workdir: Path, max_seconds: float):
    """The Gradio Blocks for a loaded pipeline; outputs are written under `workdir`."""
    import gradio as gr

    from synthgen.audio import is_silent
    from synthgen.errors import SynthGenError
    from synthgen.generation_settings import GenerationSettings

    def generate(mix_path, prompt, temperature, top_k, top_p, guidance_text, guidance_context, seed, variations,
                 gain_db, previous, progress=gr.Progress(track_tqdm=True)):
        if not mix_path:
            raise gr.Error("Upload or record a mix first.")
        if not prompt or not prompt.strip():
            raise gr.Error("Describe the synth you want in the prompt box.")
        try:
            settings = GenerationSettings(temperature=temperature, top_k=_whole(top_k, "top-k"), top_p=top_p,
                                          guidance_text=guidance_text, guidance_context=guidance_context,
                                          seed=_whole(seed, "seed"), variations=_whole(variations, "variations"))
            audio, sr, stems = pipeline.render_file(mix_path, prompt.strip(), settings, max_seconds=max_seconds,
                                                    progress=True)
        except SynthGenError as err:
            raise gr.Error(str(err).replace(str(mix_path), Path(mix_path).name)) from None
        if is_silent(audio):
            gr.Warning("The mix is silent: the synth followed the prompt alone.")
        _remove_result(previous)
        files, picture, state = _write_result(workdir, audio, sr, stems)
        return files[0], _remix(state, gain_db), picture, files, state

    defaults = GenerationSettings()
    with gr.Blocks(title="SynthGen studio", delete_cache=(KEEP_SECONDS // 6, KEEP_SECONDS)) as app:
        gr.Markdown("# SynthGen studio\nDrop in a mix, describe a synth part, and hear it against the song.")
        state = gr.State(None, time_to_live=KEEP_SECONDS, delete_callback=_remove_result)
        with gr.Row():
            with gr.Column():
                mix = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Mix", elem_id="mix")
                prompt = gr.Textbox(label="Describe the synth", placeholder=EXAMPLE_PROMPTS[0], elem_id="prompt")
                gr.Examples(examples=[[p] for p in EXAMPLE_PROMPTS], inputs=[prompt], label="Example prompts")
                with gr.Accordion("Sampling and guidance", open=False):
                    temperature = gr.Slider(0.0, 2.0, value=defaults.temperature, step=0.05, label="Temperature")
                    top_k = gr.Slider(0, 1024, value=defaults.top_k, step=1, label="Top-k (0: off)")
                    top_p = gr.Slider(0.0, 1.0, value=defaults.top_p, step=0.01, label="Top-p (0: off)")
                    guidance_text = gr.Slider(1.0, 6.0, value=defaults.guidance_text, step=0.1, label="Guidance on the prompt")
                    guidance_context = gr.Slider(1.0, 6.0, value=defaults.guidance_context, step=0.1, label="Guidance on the mix")
                    seed = gr.Number(value=defaults.seed, precision=0, label="Seed")
                    variations = gr.Slider(1, 4, value=defaults.variations, step=1, label="Variations")
                button = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column():
                synth = gr.Audio(type="filepath", label="Synth stem", elem_id="synth", interactive=False)
                gain = gr.Slider(-24.0, 12.0, value=0.0, step=0.5, label="Synth gain in the preview (dB)")
                preview = gr.Audio(type="filepath", label="Mix with synth", elem_id="preview", interactive=False)
                picture = gr.Image(type="filepath", label="Mix and synth", elem_id="picture", interactive=False, height=560)
                downloads = gr.File(label="All stems", file_count="multiple", interactive=False)
        button.click(generate, [mix, prompt, temperature, top_k, top_p, guidance_text, guidance_context, seed,
                                variations, gain, state], [synth, preview, picture, downloads, state])
        gain.release(_remix, [state, gain], [preview])
    return app


def serve(model_dir: str | None, host: str, port: int, max_upload_mb: float, max_seconds: float,
          concurrency: int) -> None:
    """Load the model, then serve the page until interrupted."""
    workdir = Path(tempfile.mkdtemp(prefix="synthgen-ui-"))
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "uploads")  # uploads land in the app's own folder too
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from synthgen.pipeline import Pipeline

    app = build_app(Pipeline.from_pretrained(model_dir), workdir / "outputs", max_seconds)
    app.queue(default_concurrency_limit=concurrency, max_size=32)
    print(f"SynthGen studio on http://{host}:{port} (files in {workdir})", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop on SIGTERM as on Ctrl-C, cleaning up
    try:
        app.launch(server_name=host, server_port=port, max_file_size=int(max_upload_mb * 1024 * 1024),
                   show_error=False, allowed_paths=[str(workdir)], quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        shutil.rmtree(workdir, ignore_errors=True)
