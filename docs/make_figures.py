"""Make the README's pictures from the shipped model: the README example's output beside its mix, and the studio page.

    python docs/make_figures.py          # writes docs/example.png and docs/studio.png (about a minute)

docs/example.png: `synthgen generate examples/backing.flac --prompt PROMPT` for each README prompt, drawn under
the mix as waveforms and log-frequency spectrograms on one time axis, and below them each stem's notes (the plan it
plays) as piano rolls under the chord chart the mix is read to have. docs/studio.png: `synthgen ui` in Debian's
Chromium (Playwright) after generating for the example mix and prompt it opens with.
"""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from synthgen.analysis import analyze
from synthgen.audio import read_audio, set_channels
from synthgen.pipeline import SynthGen
from synthgen.plots import audio_and_notes

DOCS = Path(__file__).resolve().parent
EXAMPLE = DOCS.parent / "examples" / "backing.flac"
PROMPTS = ("a soft dark pad holding the chords", "a bright plucky arpeggio")


def example_png() -> Path:
    pipeline = SynthGen.from_pretrained()
    mix, sr = read_audio(EXAMPLE)
    tracks, parts = {"mix": set_channels(mix, 1)[0]}, {}
    for prompt in PROMPTS:
        stems, notes = pipeline.generate_stems(mix, sr, prompt)
        tracks[prompt], parts[prompt] = set_channels(stems[0], 1)[0], notes[0]
    return audio_and_notes(tracks, sr, parts, analyze(tracks["mix"], sr), DOCS / "example.png")


def studio_png() -> Path:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "synthgen", "ui", "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert "SynthGen studio on" in server.stdout.readline()
        time.sleep(3)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--headless=new", "--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.wait_for_selector("#mix audio", state="attached", timeout=60000)  # the example mix, preloaded
            page.locator("#generate").click()
            page.wait_for_selector("#picture img", timeout=180000)
            time.sleep(2)
            page.screenshot(path=str(DOCS / "studio.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return DOCS / "studio.png"


if __name__ == "__main__":
    print(example_png())
    print(studio_png())
