"""Pictures people look at: waveforms and spectrograms on a shared time axis; piano rolls under a chord chart; both
in one picture (`audio_and_notes`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def waveforms_and_spectrograms(tracks: dict[str, np.ndarray], sample_rate: int, path: str | Path,
                               max_hz: float = 8000.0, min_hz: float = 40.0) -> Path:
    """One waveform and one log-frequency spectrogram per track (mono [N] each; notes show as horizontal
    lines an octave apart at equal distances), stacked on the same time axis. Writes a PNG at `path` and
    returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2 * len(tracks), 1, figsize=(12, 3.4 * len(tracks) + 0.6), sharex=True,
                             gridspec_kw=dict(height_ratios=[1, 2] * len(tracks)))
    for i, (name, audio) in enumerate(tracks.items()):
        time = np.arange(len(audio)) / sample_rate
        wave, spec = axes[2 * i], axes[2 * i + 1]
        wave.plot(time, audio, linewidth=0.4, color="#2a6f97")
        wave.set_ylim(-1, 1)
        wave.set_ylabel(name, rotation=0, ha="right", va="center")
        wave.set_yticks([])
        floor = 1e-7 * np.random.default_rng(0).standard_normal(len(audio))  # -140 dB: no log of zero
        power, _, _, image = spec.specgram(audio + floor, NFFT=4096, Fs=sample_rate, noverlap=3584, cmap="magma")
        top = 10 * np.log10(power.max() + 1e-30)
        image.set_clim(top - 100, top)  # 100 dB below the loudest bin, whatever the level (also for silence)
        spec.set_yscale("log")
        spec.set_ylim(min_hz, min(max_hz, sample_rate / 2))
        spec.set_ylabel("Hz")
    axes[-1].set_xlabel("seconds")
    axes[-1].set_xlim(0, max(len(a) for a in tracks.values()) / sample_rate)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def piano_rolls(parts: dict, chords: list[tuple[float, float, str, tuple[int, ...]]], seconds: float,
                path: str | Path, title: str = "") -> Path:
    """Parts' notes ({name: [Note]}) as piano rolls on one time axis, under a chord chart ([(start, end, name,
    pitch classes)]): a note whose pitch class is in the chart's chord at its onset is drawn blue, any other
    orange. Writes a PNG at `path` and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1 + len(parts), 1, figsize=(14, 0.7 + 2.4 * len(parts)), sharex=True,
                             gridspec_kw=dict(height_ratios=[0.35] + [1] * len(parts)))
    chart = axes[0]
    for i, (start, end, name, _) in enumerate(chords):
        chart.axvspan(start, end, color=("#e8eef4", "#d3dde8")[i % 2])
        chart.text((start + end) / 2, 0.5, name, ha="center", va="center", fontsize=8, clip_on=True)
    chart.set_yticks([])
    chart.set_title(title, fontsize=10)
    starts = np.array([c[0] for c in chords])
    for ax, (name, notes) in zip(axes[1:], parts.items()):
        for start, end, _, _ in chords:
            ax.axvline(start, color="#cccccc", linewidth=0.5)
        for note in notes:
            chord = chords[max(int(np.searchsorted(starts, note.start, side="right")) - 1, 0)] if chords else None
            fits = chord is not None and note.pitch % 12 in chord[3]
            ax.add_patch(plt.Rectangle((note.start, note.pitch - 0.4), max(note.end - note.start, 0.02), 0.8,
                                       facecolor="#2a6f97" if fits else "#e07a1f", edgecolor="white", linewidth=0.6))
        pitches = [n.pitch for n in notes] or [60]
        ax.set_ylim(min(pitches) - 3, max(pitches) + 3)
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    axes[-1].set_xlabel("seconds")
    axes[-1].set_xlim(0, seconds)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def audio_and_notes(tracks: dict[str, np.ndarray], sample_rate: int, parts: dict, analysis, path: str | Path) -> Path:
    """`waveforms_and_spectrograms` of the tracks above `piano_rolls` of the parts' notes ({name: [Note]}) under the
    analysis's chord chart (a MixAnalysis), in one PNG at `path`; without parts, the tracks alone."""
    from PIL import Image

    path = Path(path)
    if not parts:
        return waveforms_and_spectrograms(tracks, sample_rate, path)
    chords = [(start, end, chord.name, tuple(chord.pitch_classes)) for start, end, chord in analysis.chord_segments()]
    audio = waveforms_and_spectrograms(tracks, sample_rate, path.with_name(f".{path.stem}-audio.png"))
    notes = piano_rolls(parts, chords, analysis.seconds, path.with_name(f".{path.stem}-notes.png"))
    images = [Image.open(p).convert("RGB") for p in (audio, notes)]
    width = max(image.width for image in images)
    images = [image.resize((width, round(image.height * width / image.width))) for image in images]
    Image.fromarray(np.concatenate([np.asarray(image) for image in images])).save(path, optimize=True)
    audio.unlink()
    notes.unlink()
    return path
