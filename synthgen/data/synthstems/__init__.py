"""SynthStems: procedural paired data (backing, synth part, true description) for training and evaluation."""
