"""Generation: a mix and a prompt in, a synth stem out, window by window.

The mix is cut into windows of `window_seconds`; each window's mix is encoded (as in training) and
the model writes the synth's codes for it, starting from the last `overlap_seconds` of codes it wrote
for the previous window (MusicGen-style continuation), so the part carries across windows in bounded
memory. The codes are decoded in the same windows and the seams crossfaded over the overlap.

A renderer (a model with the notes condition) is also given the part's notes, as each window's piano roll.

Guidance (classifier-free, one batched forward for all rows):
    logits = full + (g_text - 1) * (full - no_text) + (g_mix - 1) * (full - no_mix) + (g_notes - 1) * (full - no_notes)
where `no_text` drops the prompt, `no_mix` the mix (its codes and chroma) and `no_notes` the notes. A scale of 1
drops that row, so guidance 1 is exactly no guidance.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm import tqdm

from synthgen.audio import set_channels
from synthgen.chroma import chroma as chroma_features
from synthgen.codec import Codec
from synthgen.errors import SynthGenError
from synthgen.generation_settings import GenerationSettings
from synthgen.model.cached_decoder import CachedDecoder
from synthgen.model.precision import PRECISIONS, auto_dtype
from synthgen.model.delay import apply_delay, decoder_inputs, undo_delay
from synthgen.model.lm import CONDITIONS, CodecLM
from synthgen.notes import Note
from synthgen.resampling import resample
from synthgen.roll import piano_roll


def sample_next(logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                generator: torch.Generator) -> torch.Tensor:
    """logits [M, V] -> one code per row [M]: temperature, then top-k, then top-p (nucleus) filtering.
    Sampling happens among the kept candidates only, by one uniform draw per row against their cumulative
    probabilities (a third of multinomial's time at this size), which is what keeps a step cheap."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    candidates = None
    nucleus = 0 < top_p < 1
    if 0 < top_k < logits.shape[-1]:
        logits, candidates = torch.topk(logits, top_k, dim=-1, sorted=nucleus)  # largest first only where needed
    if nucleus:
        if candidates is None:
            logits, candidates = torch.sort(logits, dim=-1, descending=True)
        probabilities = torch.softmax(logits, dim=-1)
        drop = probabilities.cumsum(dim=-1) - probabilities > top_p  # keep the smallest set reaching top_p
        logits = logits.masked_fill(drop, float("-inf"))
    cumulative = torch.softmax(logits, dim=-1).cumsum(dim=-1)
    if not torch.isfinite(cumulative[:, -1]).all():  # torch.multinomial would have refused these too
        raise SynthGenError("the model's logits are not finite (NaN or inf): its weights are damaged or overflowed")
    draw = torch.rand(cumulative.shape[0], 1, generator=generator, device=cumulative.device) * cumulative[:, -1:]
    choice = torch.searchsorted(cumulative, draw, side="right").clamp_(max=cumulative.shape[-1] - 1)
    return (choice if candidates is None else candidates.gather(-1, choice))[:, 0]


def _guidance_rows(settings: GenerationSettings, notes: bool = False) -> list[tuple[str, float, float, float]]:
    """(name, keep_text, keep_mix, keep_notes) of each row block, full first (notes: the model renders notes)."""
    scales = {"no_text": settings.guidance_text, "no_mix": settings.guidance_mix,
              "no_notes": settings.guidance_notes if notes else 1}
    return [(name, *map(float, CONDITIONS[name])) for name in ("full", *scales) if scales.get(name) != 1]


def _guidance_weights(rows: list, settings: GenerationSettings) -> list[float]:
    """Each row block's weight in the guided logits (the module docstring's sum, regrouped by row), full first."""
    scales = {"no_text": settings.guidance_text - 1, "no_mix": settings.guidance_mix - 1,
              "no_notes": settings.guidance_notes - 1}
    weights = [-scales.get(row[0], 0.0) for row in rows]
    weights[0] = 1 - sum(weights[1:])
    return weights


def _start_codes(model: CodecLM, n: int, steps: int, previous_codes: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The delayed codes a window starts from [N, K, S] (pads, with the previous window's codes in place) and where
    they are given rather than sampled [N, K, S] (bool)."""
    delayed = torch.full((n, model.num_codebooks, steps), model.pad_id, dtype=torch.long, device=model.device)
    if previous_codes is None:
        return delayed, torch.zeros_like(delayed, dtype=torch.bool)
    known = apply_delay(previous_codes, -1)
    known = torch.nn.functional.pad(known, (0, steps - known.shape[-1]), value=-1)
    forced = known >= 0
    return torch.where(forced, known, delayed), forced


def _conditions(model: CodecLM, prompt: str, mix_codes: torch.Tensor, chroma: torch.Tensor | None,
                notes: torch.Tensor | None, keeps: torch.Tensor, steps: int
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The R guidance rows' conditions (keeps [3, R]: keep text, mix, notes): the prefix [R, P, D] and its mask
    [R, P], and the mix's and notes' states added to each decoder step [R, steps, D] (None for a model without)."""
    keep_text, keep_mix, keep_notes = keeps
    r = len(keep_text)
    chroma = None if chroma is None else chroma.expand(r, -1, -1)
    notes = None if notes is None else notes.repeat(r // notes.shape[0], 1, 1)  # each guidance row's block of N
    prefix, prefix_mask = model.prefix([prompt] * r, chroma, keep_text, keep_mix)
    return prefix, prefix_mask, model.frame_states(mix_codes.expand(r, -1, -1), chroma, notes, keep_mix, keep_notes, 0, steps)


def _step_states(decoder: CachedDecoder, inputs: torch.Tensor, copies: int, frame_states: torch.Tensor | None,
                 start: int) -> torch.Tensor:
    """The decoder's input for the L steps from `start`: their input codes [N, K, L] (the codes of the step
    before each) embedded for every guidance row, plus the mix's and notes' states. Returns [N * copies, L, D]."""
    states = decoder.embed(inputs.repeat(copies, 1, 1))
    return states if frame_states is None else states + frame_states[:, start : start + inputs.shape[-1]]


@torch.inference_mode()
def sample_window(model: CodecLM, prompt: str, mix_codes: torch.Tensor, chroma: torch.Tensor | None,
                  settings: GenerationSettings, generator: torch.Generator, previous_codes: torch.Tensor | None = None,
                  keep_logits: bool = False, on_step=None, notes: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Write the synth's codes for one window.

    mix_codes [1, K, T], chroma [1, F, 12] or None, previous_codes [N, K, Tp] (the previous window's last codes,
    which this window must start with) or None, notes: the part's piano roll [N or 1, T, R] (`synthgen.roll`) for
    a model that renders notes. Returns codes [N, K, T] with N = settings.variations, and, with
    keep_logits, the full-condition logits of every step [N, K, S, V] (for testing the cache).
    """
    n, k, t = settings.variations, model.num_codebooks, mix_codes.shape[-1]
    steps = t + k - 1
    rows = _guidance_rows(settings, model.config.notes)
    r = len(rows) * n
    keeps = torch.tensor([row[1:] for row in rows for _ in range(n)], device=model.device).T  # [3, R]
    prefix, prefix_mask, frame_states = _conditions(model, prompt, mix_codes, chroma, notes, keeps, steps)
    delayed, forced = _start_codes(model, n, steps, previous_codes)
    frame = torch.arange(steps, device=model.device)[None, :] - torch.arange(k, device=model.device)[:, None]
    real = (frame >= 0) & (frame < t)  # [K, S]: where a code of this window sits

    weights = torch.tensor(_guidance_weights(rows, settings), dtype=torch.float32, device=model.device)
    write = real[None] & ~forced  # [N, K, S]: the codes this window samples
    first = 0 if previous_codes is None else previous_codes.shape[-1]  # the first step to sample (codebook 0 of frame Tp)
    dtype = PRECISIONS.get(settings.precision) or auto_dtype(model)
    decoder = CachedDecoder(model, r, prefix.shape[1] + steps, dtype)
    inputs = decoder_inputs(delayed, model.pad_id)[:, :, : first + 1]
    states = _step_states(decoder, inputs, len(rows), frame_states, 0)
    logits = decoder(torch.cat([prefix, states], dim=1), torch.cat([prefix_mask.bool(), prefix_mask.new_ones(r, first + 1).bool()], dim=1))
    logits = logits[:, :, prefix.shape[1] :]
    kept = [logits[:n]] if keep_logits else None
    for s in range(first, steps):
        guided = weights @ logits[:, :, -1].reshape(len(rows), -1)  # [N * K * V]
        codes = sample_next(guided.view(n * k, -1), settings.temperature, settings.top_k, settings.top_p,
                            generator).view(n, k)
        delayed[:, :, s] = torch.where(write[:, :, s], codes, delayed[:, :, s])
        if on_step is not None:
            on_step()
        if s + 1 == steps:
            break
        logits = decoder(_step_states(decoder, delayed[:, :, s : s + 1], len(rows), frame_states, s + 1))
        if keep_logits:
            kept.append(logits[:n])
    return undo_delay(delayed), (torch.cat(kept, dim=2) if keep_logits else None)


def window_plan(total_frames: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) frames of each generation window; each after the first overlaps the last by `overlap`."""
    plan, start = [], 0
    while True:
        end = min(start + window, total_frames)
        plan.append((start, end))
        if end >= total_frames:
            return plan
        start = end - overlap


class Crossfader:
    """Joins overlapping pieces [N, L] into one stream, equal-power crossfades of `fade` samples over each overlap.
    `add(piece, last)` returns the audio that is final so far; a piece's last `fade` samples wait for the next."""

    def __init__(self, fade: int):
        self.fade = fade
        self.ramp = np.sin(0.5 * np.pi * np.linspace(0, 1, fade, dtype=np.float32))
        self.tail: np.ndarray | None = None

    def add(self, piece: np.ndarray, last: bool) -> np.ndarray:
        piece = piece.copy()
        if self.tail is not None:
            piece[:, : self.fade] = piece[:, : self.fade] * self.ramp + self.tail * self.ramp[::-1]
        if last or not self.fade:
            self.tail = None
            return piece
        self.tail = piece[:, -self.fade :]
        return piece[:, : -self.fade]


@torch.inference_mode()
def stem_stream(model: CodecLM, codec: Codec, read_mix, total: int, prompt: str, settings: GenerationSettings,
                progress: bool = False, parts: list[list[Note]] | None = None):
    """Write a synth stem window by window, in bounded memory. read_mix(start, end) -> the mono mix [1, end - start]
    at the codec's rate (torch; may be short at the end) of `total` samples; parts: each variation's notes to
    render, in seconds (for a model with the notes condition). Yields the finished stem audio [variations, n] (numpy, codec rate) in
    order; the pieces add up to `total` samples."""
    hop = codec.hop_length
    total_frames = max(1, math.ceil(total / hop))
    window = max(1, round(settings.window_seconds * codec.frame_rate))
    overlap = min(window - 1, round(settings.overlap_seconds * codec.frame_rate))
    plan = window_plan(total_frames, window, overlap)
    generator = torch.Generator(device=model.device).manual_seed(settings.seed)
    total_steps = sum(e - s + model.num_codebooks - 1 for s, e in plan) - overlap * (len(plan) - 1)
    crossfader = Crossfader(overlap * hop)
    previous = None
    with tqdm(total=total_steps, desc="generate", unit="frame", disable=not progress) as bar:
        for i, (start, end) in enumerate(plan):
            segment = read_mix(start * hop, end * hop).to(model.device)
            segment = torch.nn.functional.pad(segment, (0, (end - start) * hop - segment.shape[-1]))  # [1, L]
            mix_codes = codec.encode(segment[None])
            chroma = chroma_features(segment, codec.sample_rate) if model.config.use_chroma else None
            previous_codes = None if previous is None else previous[:, :, -overlap:] if overlap else None
            roll = None
            if model.config.notes:
                if parts is None:
                    raise SynthGenError("this model renders notes: give it each variation's part (the plan)")
                rolls = [piano_roll(part, start / codec.frame_rate, end - start, codec.frame_rate) for part in parts]
                roll = torch.from_numpy(np.stack(rolls)).to(model.device)
            codes, _ = sample_window(model, prompt, mix_codes, chroma, settings, generator, previous_codes,
                                     on_step=bar.update, notes=roll)
            piece = codec.decode(codes).squeeze(1).float().cpu().numpy()[:, : total - start * hop]  # [N, L]
            yield crossfader.add(piece, last=i == len(plan) - 1)
            previous = codes


def generate_stem(model: CodecLM, codec: Codec, audio: np.ndarray, sample_rate: int, prompt: str,
                  settings: GenerationSettings | None = None, progress: bool = False,
                  parts: list[list[Note]] | None = None) -> np.ndarray:
    """Write a synth stem for a mix with a model and the codec of its codes (and each variation's notes to render,
    for a model with the notes condition). audio
    [C, N] (or [N]) at sample_rate -> stems [variations, N] at the codec's rate resampled back to sample_rate (mono;
    callers place it in their channels)."""
    settings = settings or GenerationSettings()
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    mix = torch.from_numpy(resample(set_channels(audio, 1), sample_rate, codec.sample_rate))  # [1, M]
    pieces = stem_stream(model, codec, lambda a, b: mix[:, a:b], mix.shape[-1], prompt, settings, progress, parts)
    stems = np.concatenate(list(pieces), axis=1)
    return resample(stems, codec.sample_rate, sample_rate)[:, : audio.shape[-1]] if sample_rate != codec.sample_rate else stems
