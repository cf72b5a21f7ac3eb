"""Natural-language descriptions of a synth part, made from its true attributes.

Each description names the role, the brightness and the attack (what a prompt most often asks for),
and adds some of the waveform, register, unison, vibrato, effects, tempo and key, with varied
synonyms, templates and word order; a supersaw, a filter sweep, a gate and octave doubling (SynthStems' record
style) are always named, and so are glide and a General MIDI preset (by its own name, in place of the waveform and
role noun).
"""

from __future__ import annotations

import numpy as np

from synthgen.data.synthstems.presets import PRESETS

BRIGHTNESS = {
    "dark": ["dark", "muffled", "mellow", "murky", "dull"],
    "warm": ["warm", "round", "smooth"],
    "bright": ["bright", "crisp", "brilliant", "shiny", "cutting"],
}
WAVEFORM = {"saw": ["saw", "sawtooth"], "square": ["square", "square-wave"], "pulse": ["pulse", "thin pulse"],
            "triangle": ["triangle"], "sine": ["sine", "pure sine"]}
ROLE_NOUN = {"lead": ["lead", "lead synth", "synth lead"], "arpeggio": ["arpeggio", "arp", "arpeggiated synth"],
             "pad": ["pad", "synth pad", "chord pad"], "stabs": ["stab synth", "chord stabs", "plucks"],
             "bass": ["bass", "synth bass", "bass synth"]}
ROLE_PHRASE = {
    "lead": ["carrying the melody", "playing a melody", "singing a lead line on top"],
    "arpeggio": ["playing a {speed} arpeggio", "arpeggiating the chords", "cycling {speed} through the chord tones"],
    "pad": ["holding the chords", "sustaining the harmony", "laying down long chords"],
    "stabs": ["hitting rhythmic chord stabs", "punching out short chords", "playing syncopated stabs"],
    "bass": ["holding down the low end", "playing the bass line", "driving the groove down low"],
}
ATTACK_WORD = {"sharp": ["plucky", "snappy", "percussive", "punchy"], "soft": ["soft", "gentle"],
               "slow": ["swelling", "slow-attack"]}
ATTACK_PHRASE = {"sharp": ["with a sharp attack", "with a quick pluck", "with a snappy attack"],
                 "soft": ["with a soft attack", "fading in gently", "with a gentle attack"],
                 "slow": ["with a slow swell", "slowly swelling in", "with a slow attack"]}
REGISTER = {"low": ["low", "deep"], "mid": ["mid-range"], "high": ["high", "high-pitched"]}
UNISON = ["detuned", "thick detuned", "wide unison"]
MOTION_PHRASE = {"sweep": ["with a filter sweep", "with a wobbling filter", "with an LFO sweeping the filter"],
                 "gated": ["gated in rhythm", "with a rhythmic gate", "chopped by a trance gate"],
                 "octaves": ["doubled in octaves", "playing in octaves"],
                 "glide": ["with glide", "sliding between notes", "with portamento"]}
SUPERSAW = ["supersaw", "super saw"]
PRESET_NAMES = {preset.program: preset.names for preset in PRESETS}
MODULE_WORDS = ["General MIDI", "sound-module", "preset", "rompler"]
EFFECT_PHRASE = {"reverb": ["drenched in reverb", "with lush reverb", "in a big reverb"],
                 "delay": ["with a tempo-synced delay", "with echoes", "through a delay"],
                 "chorus": ["with chorus", "with a chorus shimmer"]}


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


DESCRIBED = ("role", "brightness", "attack", "waveform", "register", "unison", "vibrato", "effects", "tempo", "key")


def can_describe(attributes: dict) -> bool:
    """Whether `attributes` hold everything `describe` words (a SynthStems track's do)."""
    return all(name in attributes for name in DESCRIBED)


def describe(attributes: dict, rng: np.random.Generator) -> str:
    """A description of the synth part. `attributes` needs role, brightness, attack, waveform, register,
    unison, vibrato, effects (list of names), speed (arpeggio), tempo and key."""
    head, attack_as_word = _head(attributes, rng)
    first, *rest = _clauses(attributes, rng, attack_as_word)
    rng.shuffle(rest)
    if rng.random() < 0.5:
        return f"{head} {first}" + "".join(f", {c}" for c in rest)
    return f"{head}, {first}" + "".join(f", {c}" for c in rest)


def _head(attributes: dict, rng: np.random.Generator) -> tuple[str, bool]:
    """The noun phrase (adjectives: brightness, maybe attack, unison, register; waveform and role noun), and
    whether the attack was worded in it (else a clause words it)."""
    adjectives = [_pick(rng, BRIGHTNESS[attributes["brightness"]])]
    attack_as_word = rng.random() < 0.5
    if attack_as_word:
        adjectives.append(_pick(rng, ATTACK_WORD[attributes["attack"]]))
    if attributes["unison"] > 1 and rng.random() < 0.7:
        adjectives.append(_pick(rng, UNISON))
    if rng.random() < 0.4:
        adjectives.insert(int(rng.integers(len(adjectives) + 1)), _pick(rng, REGISTER[attributes["register"]]))
    if len(adjectives) > 1 and rng.random() < 0.5:
        rng.shuffle(adjectives)
    if attributes.get("preset") is not None:
        noun = _pick(rng, list(PRESET_NAMES[attributes["preset"]]))
        noun = f"{_pick(rng, MODULE_WORDS)} {noun}" if rng.random() < 0.6 else noun
    else:
        noun = _pick(rng, ROLE_NOUN[attributes["role"]])
        if attributes.get("supersaw"):
            noun = f"{_pick(rng, SUPERSAW)} {noun}"
        elif rng.random() < 0.75:
            noun = f"{_pick(rng, WAVEFORM[attributes['waveform']])} {noun}"
    joiner = ", " if rng.random() < 0.5 else " "
    head = f"{joiner.join(adjectives)} {noun}"
    if rng.random() < 0.7 and not noun.endswith("s"):
        head = ("an " if head[0] in "aeiou" else "a ") + head
    return head, attack_as_word


def _clauses(attributes: dict, rng: np.random.Generator, attack_as_word: bool) -> list[str]:
    """What the part does (role first), then maybe its attack, vibrato, effects, tempo and key."""
    clauses = [_pick(rng, ROLE_PHRASE[attributes["role"]]).format(speed=attributes.get("speed", "steady"))]
    if not attack_as_word:
        clauses.append(_pick(rng, ATTACK_PHRASE[attributes["attack"]]))
    if attributes["vibrato"] and rng.random() < 0.6:
        clauses.append("with vibrato")
    clauses += [_pick(rng, MOTION_PHRASE[name]) for name in MOTION_PHRASE if attributes.get(name)]
    clauses += [_pick(rng, EFFECT_PHRASE[name]) for name in attributes["effects"] if rng.random() < 0.7]
    if rng.random() < 0.25:
        clauses.append(f"at {round(attributes['tempo'])} BPM")
    if rng.random() < 0.25:
        clauses.append(f"in {attributes['key']}")
    return clauses
