"""The project's own synthesizer: the engine (`engine`, `effects`) SynthStems renders its parts with and the synth
renderer (`synthgen/renderers/`) plays plans with. Numpy and scipy only: it sits below data generation."""
