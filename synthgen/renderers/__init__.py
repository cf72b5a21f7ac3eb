"""What plays a planned part besides the codec LM: the synth renderer (`synth`: the project's synthesizer, engine in
`synthgen/synth/`, block by block) and its voices chosen from the prompt (`voices`)."""
