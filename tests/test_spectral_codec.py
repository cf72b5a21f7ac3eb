import numpy as np
import pytest
import torch

from synthgen.codec.quantize import FSQ, saturation_penalty
from synthgen.codec.spectral import SpectralConfig, griffin_lim, peak_phase, stft
from synthgen.data.tones import harmonic_notes, random_tones
from synthgen.dsp import pitch_class_profile


def test_fsq_rounds_to_its_levels_and_codes_round_trip():
    fsq = FSQ((8, 8, 4, 4), groups=4)
    values = 2 * torch.randn(2, 16, 30, generator=torch.Generator().manual_seed(0))
    quantized, codes = fsq(values)
    assert quantized.shape == (2, 16, 30) and codes.shape == (2, 4, 30)
    assert 0 <= codes.min() and codes.max() < 1024 and fsq.codebook_size == 1024
    steps = quantized.reshape(2, 4, 4, 30) * torch.tensor([4, 4, 2, 2])[:, None]
    assert torch.allclose(steps, steps.round(), atol=1e-5)  # on the grid of each dimension's levels
    assert steps.reshape(2, 4, 4, 30)[:, :, 0].unique().numel() == 8  # 8 levels used, no more
    assert steps[:, :, 2].unique().numel() == 4
    assert torch.equal(fsq.dequantize(codes), quantized)
    assert len(codes.unique()) > 120  # spread values use many of the 1024 codes (240 drawn)


def test_fsq_passes_gradients_straight_through():
    fsq = FSQ((8, 8, 4, 4), groups=4)
    values = (0.5 * torch.randn(1, 16, 10, generator=torch.Generator().manual_seed(1))).requires_grad_(True)
    quantized, _ = fsq(values)
    quantized.sum().backward()
    assert values.grad is not None and (values.grad > 0).all()  # tanh's slope, not rounding's zero
    saturated = torch.full((1, 16, 10), 5.0, requires_grad=True)
    assert float(saturation_penalty(saturated.detach())) == pytest.approx(9.0)
    assert saturation_penalty(torch.zeros(1, 16, 10)) == 0


@pytest.mark.parametrize("midi", [40, 57, 69, 84, 96])
def test_a_pure_tone_keeps_its_pitch_through_analysis_and_griffin_lim(midi):
    """No network in between: the analysis -> Griffin-Lim path alone must keep pitch."""
    note = harmonic_notes([midi], 32000, partials=1)[:, 0]  # [1, N]
    rebuilt = griffin_lim(stft(note, 2048).abs(), 2048, iterations=SpectralConfig.griffin_lim_iterations, momentum=0.99)
    assert rebuilt.shape == (1, 32000)
    profile = pitch_class_profile(rebuilt[0].numpy(), 32000).mean(axis=0)
    assert int(np.argmax(profile)) == midi % 12
    spectrum_error = (stft(rebuilt, 2048).abs() - stft(note, 2048).abs()).abs().mean() / stft(note, 2048).abs().mean()
    assert spectrum_error < 0.2


def test_peak_phase_starts_griffin_lim_near_a_held_chord():
    """The starting phase read from the magnitude alone (each bin turning at its peak's frequency, neighbours pi apart)
    rebuilds held harmonic notes between bins almost exactly before any iteration, and the iterations keep them."""
    chord = harmonic_notes([57, 61, 64], 32000, seconds=2.0)[:, 0].sum(dim=0, keepdim=True)  # [1, N]
    magnitude = stft(chord, 2048).abs()

    def convergence_db(audio):
        return 20 * torch.log10((stft(audio, 2048).abs() - magnitude).norm() / magnitude.norm())

    assert convergence_db(griffin_lim(magnitude, 2048, 0, 0.99, peak_phase(magnitude, 2048))) < -20
    assert convergence_db(griffin_lim(magnitude, 2048, SpectralConfig.griffin_lim_iterations, 0.99)) < -18


def test_random_tones_are_seeded_and_in_range():
    a = random_tones(4, 16000, 32000, np.random.default_rng(3))
    b = random_tones(4, 16000, 32000, np.random.default_rng(3))
    assert a.shape == (4, 1, 16000) and torch.equal(a, b)
    peaks = a.abs().amax(dim=-1).flatten()
    assert (peaks > 0.019).all() and (peaks < 0.51).all()
