"""What a SynthStems data set holds: counts of its bands' instruments, tempos, meters, keys, chords, sections and
mixes, and a spectrogram sheet of 8 random mixtures to look at.

    python bench/synthstems_variety.py DATA [--tracks 1000] [--out runs/bench/synthstems_variety]

Writes OUT/variety.md, OUT/variety.json, OUT/tempo.png and OUT/mixtures.png.
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from synthgen.plots import waveforms_and_spectrograms


def chord_type(name: str) -> str:
    """A chord name's type: triad, minor, 7th, sus2, sus4, add9, dim; '/…' marks an inversion or slash bass."""
    body = name.split("/")[0]
    match = re.match(r"^[A-G][#b]?(m|dim)?(7|sus2|sus4|add9)?$", body)
    quality, colour = (match.groups() if match else ("?", None))
    kind = {"7": "seventh"}.get(colour, colour) or {"m": "minor triad", "dim": "diminished triad"}.get(quality or "", "major triad")
    return kind + (" over another bass" if "/" in name else "")


def program_name(part: str, value) -> str:
    return pretty_midi.program_to_instrument_name(value) if isinstance(value, int) else f"built-in {value}"


def table(title: str, counts: Counter, total: int) -> list[str]:
    rows = [f"### {title}", "", "| value | tracks | share |", "| --- | ---: | ---: |"]
    rows += [f"| {value} | {n} | {n / total:.1%} |" for value, n in counts.most_common()]
    return rows + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/synthstems_variety"))
    args = parser.parse_args()
    folders = sorted(args.data.glob("*/synth_*"), key=lambda p: p.name)[: args.tracks]
    metas = [json.loads((f / "meta.json").read_text()) for f in folders]
    total = len(metas)
    counts = {
        "band family": Counter(m["band"]["family"] for m in metas),
        "bass instrument": Counter(program_name("bass", m["band"]["bass"]) for m in metas),
        "keys instrument": Counter(program_name("keys", m["band"]["keys"]) for m in metas),
        "layer instrument": Counter(program_name("layer", m["band"]["layer"]) for m in metas),
        "meter": Counter(m["meter"] + (" swing" if m["swing"] > 0.5 else "") for m in metas),
        "tempo (BPM, 20-wide bins)": Counter(f"{int(m['tempo'] // 20 * 20)}–{int(m['tempo'] // 20 * 20 + 19)}" for m in metas),
        "mode": Counter(m["mode"] for m in metas),
        "key": Counter(m["key"] for m in metas),
        "harmony style": Counter(m["harmony"] for m in metas),
        "chord type (tracks using it)": Counter(t for m in metas for t in {chord_type(c["name"]) for c in m["chords"]}),
        "section (tracks holding it)": Counter(s for m in metas for s in {x["name"] for x in m["sections"]}),
        "sections per track": Counter(len(m["sections"]) for m in metas),
        "drum groove": Counter(m["groove"] for m in metas),
        "synth role": Counter(m["role"] for m in metas),
        "synth effects": Counter(", ".join(m["effects"]) or "none" for m in metas),
        "synth sound design": Counter(", ".join(k for k in ("supersaw", "sweep", "gated", "octaves", "glide") if m.get(k))
                                      or "none" for m in metas),
        "synth source": Counter("own synth" if m.get("preset") is None else program_name("synth", m["preset"])
                                for m in metas),
        "sung lead": Counter((m.get("vocal") or {}).get("voice", "none") for m in metas),
        "sidechain pumping": Counter("on" if m["mix"]["pump"] else "off" for m in metas),
        "synth level against the backing (dB, 3-wide bins)": Counter(
            f"{int(np.floor(m['mix']['synth_level_db'] / 3) * 3):+d}" for m in metas),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [f"# SynthStems variety: {total} tracks of {args.data}", "",
             f"Made by `python bench/synthstems_variety.py {args.data} --tracks {args.tracks}`.", "",
             "![8 random mixtures](mixtures.png)", ""]
    for title, counter in counts.items():
        lines += table(title, counter, total)
    (args.out / "variety.md").write_text("\n".join(lines))
    (args.out / "variety.json").write_text(json.dumps({k: dict(v) for k, v in counts.items()}, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist([m["tempo"] for m in metas], bins=np.arange(60, 185, 5), color="#2a6f97")
    ax.set_xlabel("tempo (BPM of the counted beat)")
    ax.set_ylabel("tracks")
    fig.tight_layout()
    fig.savefig(args.out / "tempo.png", dpi=80)
    plt.close(fig)

    chosen = np.random.default_rng(0).choice(total, size=min(8, total), replace=False)
    sheet = {}
    for i in sorted(chosen):
        audio, sr = sf.read(folders[i] / "mixture.wav", dtype="float32", always_2d=True)
        m = metas[i]
        sung = "\nvocal" if m.get("vocal") else ""
        sheet[f"{folders[i].name}\n{m['meter']} {m['tempo']:.0f}\n{m['role']}{sung}"] = audio.mean(axis=1)
    waveforms_and_spectrograms(sheet, sr, args.out / "mixtures.png")
    print(f"{args.out / 'variety.md'}: {total} tracks; " + "; ".join(
        f"{k}: {len(v)} kinds" for k, v in counts.items() if k in ("meter", "key", "chord type (tracks using it)")))


if __name__ == "__main__":
    main()
