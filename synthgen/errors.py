"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class SynthGenError(Exception):
    """An error caused by the user's input (a bad file, a bad option), not by a bug."""


class AudioError(SynthGenError):
    """An audio file that cannot be used; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
