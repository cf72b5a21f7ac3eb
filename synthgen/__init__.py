"""SynthGen: generate a synthesizer track that fits a mix.

    from synthgen import SynthGen            # the pipeline (synthgen.pipeline.SynthGen), imported when first used
    pipeline = SynthGen.from_pretrained()    # the shipped model
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "SynthGen":  # imported on first use: `synthgen --help` stays instant
        from synthgen.pipeline import SynthGen

        return SynthGen
    raise AttributeError(f"module 'synthgen' has no attribute '{name}'")
