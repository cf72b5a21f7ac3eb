"""The renderer's notes condition: the piano roll, a fine-tune that starts unchanged, and a tiny renderer trained here
that plays the note it is given."""

import numpy as np
import pytest
import torch

from synthgen.generate import sample_window
from synthgen.generation_settings import GenerationSettings
from synthgen.model import CodecLM, build_model
from synthgen.notes import Note
from synthgen.roll import PITCHES, ROLL_FEATURES, piano_roll

K, V, T, FPS = 4, 64, 40, 50


def test_piano_roll_marks_sounding_frames_velocity_and_onsets():
    notes = [Note(0.10, 0.30, 60, 0.5), Note(0.20, 0.21, 64, 1.0), Note(-0.5, 0.05, 40, 0.7), Note(0.7, 0.9, 70, 1.0)]
    roll = piano_roll(notes, start=0.0, frames=30, frame_rate=FPS)
    assert roll.shape == (30, ROLL_FEATURES) and roll.dtype == np.float32
    assert np.flatnonzero(roll[:, 60]).tolist() == list(range(5, 15)) and roll[5, 60] == 0.5
    assert np.flatnonzero(roll[:, 64]).tolist() == [10]  # shorter than a frame: sounds in the frame it starts in
    assert np.flatnonzero(roll[:, 40]).tolist() == [0, 1, 2] and roll[:, PITCHES + 40].sum() == 0  # began before
    assert np.flatnonzero(roll[:, PITCHES + 60]).tolist() == [5] and roll[:, 70].sum() == 0  # after the window
    shifted = piano_roll(notes, start=0.1, frames=30, frame_rate=FPS)
    np.testing.assert_array_equal(shifted[: 25], roll[5:30])  # positions are relative to the window's start


def roll_batch(pitches: torch.Tensor) -> dict:
    """Windows whose target repeats, in every codebook, the code of the pitch that sounds (pitch - 40): what a
    renderer must learn is to read the roll. pitches [B, T] -> a batch."""
    b = pitches.shape[0]
    notes = torch.zeros(b, T, ROLL_FEATURES)
    notes.scatter_(2, pitches[..., None], 1.0)
    onsets = torch.ones(b, T, dtype=torch.bool)
    onsets[:, 1:] = pitches[:, 1:] != pitches[:, :-1]
    notes[..., PITCHES:].scatter_(2, pitches[..., None], onsets[..., None].float())
    target = (pitches - 40)[:, None].expand(b, K, T)
    return dict(target=target, mix_codes=torch.zeros(b, K, T, dtype=torch.long), chroma=torch.zeros(b, 8, 12),
                notes=notes, prompt=["a plucky lead"] * b, valid_frames=torch.full((b,), T))


def random_lines(b: int, generator: torch.Generator) -> torch.Tensor:
    """[b, T] pitches of a line changing note every 5 frames, drawn from 40..51."""
    return torch.randint(40, 52, (b, T // 5), generator=generator).repeat_interleave(5, dim=1)


def test_adding_notes_starts_unchanged_and_is_saved(tmp_path):
    torch.manual_seed(0)
    model = build_model("tiny", K, V).eval()
    batch = roll_batch(random_lines(2, torch.Generator().manual_seed(1)))
    ones = torch.ones(2)
    before = model.logits_for(batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"], ones, ones)
    model.add_notes()
    after = model.logits_for(batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"], ones, ones,
                             batch["notes"], ones)
    torch.testing.assert_close(after, before, rtol=0, atol=0)  # a fine-tune starts where the model was
    torch.nn.init.normal_(model.notes_proj[1].weight, std=0.5)
    changed = batch["notes"].clone()
    changed[:, 20:] = 0
    a = model.logits_for(batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"], ones, ones, batch["notes"], ones)
    b = model.logits_for(batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"], ones, ones, changed, ones)
    torch.testing.assert_close(a[:, :, :20], b[:, :, :20], rtol=0, atol=0)  # causal: step s reads frame s
    assert not torch.allclose(a[:, :, 20], b[:, :, 20])
    model.save_pretrained(tmp_path / "model")
    loaded = CodecLM.from_pretrained(tmp_path / "model")
    assert loaded.config.notes
    got = loaded.logits_for(batch["target"], batch["mix_codes"], batch["chroma"], batch["prompt"], ones, ones, batch["notes"], ones)
    torch.testing.assert_close(got, a, rtol=0, atol=0)


@pytest.fixture(scope="module")
def trained_renderer():
    torch.manual_seed(0)
    model = build_model("tiny", K, V)
    model.add_notes()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(300):
        loss, _ = model.loss(roll_batch(random_lines(16, generator)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_a_tiny_renderer_trained_on_rolls_follows_a_changed_note(trained_renderer):
    line = torch.full((1, T), 45)
    line[:, T // 2 :] = 50  # the part moves up five semitones halfway
    batch = roll_batch(line)
    settings = GenerationSettings(temperature=0.0, guidance_text=1.0, guidance_mix=1.0, guidance_notes=1.0)
    codes, _ = sample_window(trained_renderer, "a plucky lead", batch["mix_codes"][:1], batch["chroma"][:1], settings,
                             torch.Generator().manual_seed(0), notes=batch["notes"])
    played = codes[0, 0]
    assert (played[2 : T // 2] == 5).float().mean() > 0.9  # pitch 45
    assert (played[T // 2 + 2 :] == 10).float().mean() > 0.9  # pitch 50, after the change
    guided = GenerationSettings(temperature=0.0, guidance_text=1.0, guidance_mix=1.0, guidance_notes=3.0)
    again, _ = sample_window(trained_renderer, "a plucky lead", batch["mix_codes"][:1], batch["chroma"][:1], guided,
                             torch.Generator().manual_seed(0), notes=batch["notes"])
    assert (again[0, 0, T // 2 + 2 :] == 10).float().mean() > 0.9  # guidance on the notes keeps them


def test_a_renderer_without_its_notes_is_refused(trained_renderer):
    batch = roll_batch(torch.full((1, T), 45))
    with pytest.raises(Exception, match="piano roll"):
        sample_window(trained_renderer, "a lead", batch["mix_codes"], batch["chroma"], GenerationSettings(),
                      torch.Generator().manual_seed(0))
