"""Fixtures and markers shared by the tests; what they run on is made by `tests/helpers/factories.py`."""

from __future__ import annotations

import os
import shutil

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes over 30 s on a 2-core CPU (`pytest -m 'not slow'` skips these)")


@pytest.fixture
def needs_ffmpeg():
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        if os.environ.get("CI"):
            pytest.fail("ffmpeg is not installed: setup.sh must install it")
        pytest.skip("ffmpeg is not installed (setup.sh installs it)")
