"""Training loops: the language model and the seed's baselines (`lm`), the codecs (`codec`)."""
