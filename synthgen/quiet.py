"""Keep third-party loading bars and warnings out of the user's terminal (the CLI's commands, the Python API's
loading)."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def quiet_transformers():
    """No transformers progress bars or warnings inside the block; the previous settings come back after it."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
