"""The synth renderer's voices: patches sampled as SynthStems samples its parts' sounds, each worded the way SynthStems
describes them, and the voice that fits a prompt best: first the voices with every attribute the prompt names in
SynthStems' words (brightness, attack, waveform, register, role: `named_attributes`), then among those the one whose
wording is nearest the prompt (MiniLM sentence embeddings, cosine).

    voice = voice_for("a soft dark pad holding the chords")     # Voice(patch, attributes, descriptions)

The table ships as weights/voices/voices.npz (the embeddings) and voices.json (patches and words); rebuild both with
`python -m synthgen.renderers.voices` (deterministic: VOICES voices of seed SEED, DESCRIPTIONS wordings each).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from synthgen.data.synthstems import describe as words
from synthgen.data.synthstems.patches import sample_synth
from synthgen.planner.prompt import ROLE_WORDS, prompt_embeddings, prompt_role
from synthgen.synth.engine import Patch

TABLE = Path(__file__).resolve().parent.parent / "weights" / "voices"
VOICES, DESCRIPTIONS, SEED = 600, 4, 0


@dataclass(frozen=True)
class Voice:
    patch: Patch
    attributes: dict  # role, register, brightness, waveform, attack (SynthStems' words for the sound)
    descriptions: tuple[str, ...]


def build_table(voices: int = VOICES, descriptions: int = DESCRIPTIONS, seed: int = SEED
                ) -> tuple[list[Voice], np.ndarray]:
    """The voices and their descriptions' embeddings [voices, descriptions, TEXT] (float16)."""
    table = []
    for i in range(voices):
        rng = np.random.default_rng([seed, i])
        role, register, brightness, waveform, attack, _, patch, effects = sample_synth(rng, beat=0.5)
        attributes = dict(role=role, register=register, brightness=brightness, waveform=waveform, attack=attack)
        wording = dict(attributes, unison=patch.unison, vibrato=patch.vibrato_cents > 0, effects=[], speed="steady",
                       tempo=120, key="C major")
        table.append(Voice(patch, attributes, tuple(words.describe(wording, rng) for _ in range(descriptions))))
    texts = [text for voice in table for text in voice.descriptions]
    embeddings = np.concatenate([prompt_embeddings(texts[i : i + 256]) for i in range(0, len(texts), 256)])
    return table, embeddings.reshape(voices, descriptions, -1).astype(np.float16)


def save_table(folder: Path = TABLE) -> None:
    voices, embeddings = build_table()
    folder.mkdir(parents=True, exist_ok=True)
    rows = [dict(patch=v.patch.to_dict(), attributes=v.attributes, descriptions=v.descriptions) for v in voices]
    (folder / "voices.json").write_text(json.dumps(rows, indent=0))
    np.savez_compressed(folder / "voices.npz", embeddings=embeddings)


@lru_cache(maxsize=1)
def load_table(folder: Path = TABLE) -> tuple[list[Voice], np.ndarray]:
    rows = json.loads((folder / "voices.json").read_text())
    voices = [Voice(Patch(**r["patch"]), r["attributes"], tuple(r["descriptions"])) for r in rows]
    return voices, np.load(folder / "voices.npz")["embeddings"].astype(np.float32)


def named_attributes(prompt: str) -> dict:
    """The attributes a prompt names in the words SynthStems' descriptions use for them (`describe`'s tables), e.g.
    "a soft dark pad" -> {brightness: dark, attack: soft, role: pad}."""
    text = f" {re.sub(r'[^a-z-]+', ' ', prompt.lower())} "
    tables = dict(brightness=words.BRIGHTNESS, waveform=words.WAVEFORM, register=words.REGISTER,
                  attack={k: words.ATTACK_WORD[k] + words.ATTACK_PHRASE[k] for k in words.ATTACK_WORD})
    named = {}
    for attribute, table in tables.items():
        for value, phrases in table.items():
            if any(f" {phrase} " in text for phrase in phrases):
                named[attribute] = value
                break
    if any(re.search(pattern, text) for pattern in ROLE_WORDS.values()):
        named["role"] = prompt_role(prompt)
    return named


def voice_for(prompt: str) -> Voice:
    """The voice that fits the prompt best (the module docstring's rule)."""
    voices, embeddings = load_table()
    named = named_attributes(prompt)
    matches = np.array([sum(v.attributes[k] == value for k, value in named.items()) for v in voices])
    similarity = (embeddings @ prompt_embeddings([prompt])[0]).max(axis=1)  # [voices], each in [-1, 1]
    return voices[int(np.argmax(matches * 2.0 + similarity))]


if __name__ == "__main__":
    save_table()
    print(f"{TABLE}: {VOICES} voices, {DESCRIPTIONS} descriptions each")
