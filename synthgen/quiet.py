"""Keep transformers' loading bars and warnings out of the user's terminal, where a loader uses transformers
(a MusicGen-Melody snapshot, its T5, an EnCodec)."""

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
