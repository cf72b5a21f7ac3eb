"""SynthGen: generate a synthesizer track that fits a mix."""

__version__ = "0.1.0"
