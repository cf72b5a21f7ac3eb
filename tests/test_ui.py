"""The studio page in a real browser: Debian's Chromium driven by Playwright against `synthgen ui`."""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synthgen.ui import READ
from tests.helpers.factories import make_tiny_model_dir, tone, write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "backing.flac"


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if CHROMIUM is None or sync_playwright is None:
        message = "needs Debian's chromium and the playwright package (setup.sh installs both)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def studio(tmp_path):
    port = free_port()
    model = make_tiny_model_dir(tmp_path / "model")
    proc = subprocess.Popen([sys.executable, "-m", "synthgen", "ui", "--model", str(model), "--port", str(port),
                             "--max-seconds", "10"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert "SynthGen studio on" in line, line
    url = f"http://127.0.0.1:{port}/"
    files = line.split("(files in ")[1].rstrip(")\n")
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield url, files
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    assert not Path(files).exists()  # the server deletes its uploads and results when it stops


def test_generate_in_the_browser(browser, studio, tmp_path):
    url, files = studio
    mix = write(tmp_path / "song.wav", tone(3.0, 44100, 2), 44100)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url, wait_until="domcontentloaded")
    # a first-time user finds the example mix loaded, with a matching prompt and a note on what the model can do
    page.wait_for_selector("#mix audio", state="attached", timeout=60000)
    assert page.locator("#prompt textarea").input_value() == "a soft dark pad holding the chords"
    assert page.get_by_text("What this model can and cannot do").count() == 1
    page.get_by_text("Sampling and guidance").click()
    page.wait_for_selector("#model textarea", timeout=10000)  # a model folder can be chosen on the page
    assert page.locator("#stop").count() == 1
    page.locator("#mix button[aria-label='Clear']").first.click()
    page.wait_for_selector("#mix input[type=file]", state="attached", timeout=60000)
    page.locator("#mix input[type=file]").set_input_files(str(mix))
    page.get_by_text("What you know of the song").click()
    page.wait_for_selector("#key textarea", timeout=10000)
    page.locator("#key textarea").fill("B minor")
    page.locator("#generate").click()
    page.wait_for_selector("#picture img", timeout=180000)
    shown = page.locator("#analysis").inner_text()
    assert "key B minor (given)" in shown and " BPM, " in shown and "Chords by bar" in shown
    downloads = page.eval_on_selector_all("#downloads a", "els => els.map(e => e.href)")
    assert any(link.endswith("synth.wav") for link in downloads) and any(link.endswith("synth.mid") for link in downloads)
    for player in ("#synth", "#preview"):
        sources = page.eval_on_selector_all(f"{player} audio", "els => els.map(e => e.currentSrc)")
        assert any(sources), player  # a playable player
        link = page.eval_on_selector(f"{player} a[download]", "a => a.href")
        assert f"/file={files}/" in link  # served from the app's own folder only
        with urllib.request.urlopen(link) as response:
            served = sf.info(io.BytesIO(response.read()))
        assert (served.samplerate, served.channels, served.frames) == (44100, 2, 3 * 44100)
    shot = tmp_path / "studio.png"
    page.screenshot(path=str(shot), full_page=True)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape[0] > 500 and pixels.std() > 20  # a page with content, not a blank screen

    # a mix over the length limit is refused with a message, not a traceback
    page.locator("#mix button[aria-label='Clear']").first.click()
    page.locator("#mix input[type=file]").set_input_files(str(EXAMPLE))
    page.locator("#generate").click()
    toast = page.wait_for_selector(".toast-body", timeout=60000)
    text = toast.inner_text()
    assert "over the 10 s limit" in text and "Traceback" not in text

    # numbers the sliders cannot send, sent straight to the API, get a message too
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="greater than maximum value"):  # the sliders' own ranges
        client.predict(handle_file(str(mix)), "a pad", 1e300, 250, 0.0, 3.0, 1.0, 0, 1, *NOTHING_KNOWN, *PLANNED, 0.0,
                       api_name="/generate")
    with pytest.raises(Exception, match="--seed must be >= 0 and <= "):  # the seed box has none: SynthGen's
        client.predict(handle_file(str(mix)), "a pad", 1.0, 250, 0.0, 3.0, 1.0, 1e30, 1, *NOTHING_KNOWN, *PLANNED, 0.0,
                       api_name="/generate")
    with pytest.raises(Exception, match="'H minor': no such note name"):  # a key that is none
        client.predict(handle_file(str(mix)), "a pad", 1.0, 250, 0.0, 3.0, 1.0, 0, 1, "H minor", None, READ, None,
                       None, *PLANNED, 0.0, api_name="/generate")
    part = tmp_path / "part.mid"
    part.write_bytes(b"MThd but not really")
    with pytest.raises(Exception, match="part.mid: not a readable MIDI file"):  # a bad MIDI part, named, not its path
        client.predict(handle_file(str(mix)), "a pad", 1.0, 250, 0.0, 3.0, 1.0, 0, 1, *NOTHING_KNOWN, "synth",
                       handle_file(str(part)), 0.0, api_name="/generate")


NOTHING_KNOWN = ("", None, READ, None, None)  # key, tempo, meter, first downbeat, chords: all read from the mix
PLANNED = ("synth", None)  # the renderer, and no MIDI part of the user's: the planner writes the part


def test_the_page_needs_a_sign_in_beyond_this_machine(tmp_path, capsys):
    from synthgen.cli import main

    assert main(["ui", "--host", "0.0.0.0", "--model", str(tmp_path / "none")]) == 2
    assert "--auth USER:PASSWORD" in capsys.readouterr().err
    port = free_port()
    model = make_tiny_model_dir(tmp_path / "model")
    proc = subprocess.Popen([sys.executable, "-m", "synthgen", "ui", "--model", str(model), "--port", str(port),
                             "--auth", "ann:secret"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "SynthGen studio on" in proc.stdout.readline()
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5)
                pytest.fail("the page's config was served without signing in")
            except urllib.error.HTTPError as refused:
                assert refused.code == 401
                break
            except urllib.error.URLError:
                assert time.time() < deadline
                time.sleep(0.2)
        form = urllib.parse.urlencode({"username": "ann", "password": "secret"}).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", data=form, timeout=10) as signed_in:
            assert signed_in.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
