"""The project's own synthesizer: the engine SynthStems renders its parts with (`engine`, `effects`), and the synth
renderer that plays a plan with a voice chosen from the prompt (`voices`, `renderer`)."""
