"""SynthLSTM: the seed's LSTM from the mix's log-mel spectrogram to the synth's, trained with MSE.
Audio comes back by Griffin-Lim (librosa: mel -> linear magnitude by NNLS, 32 iterations from zero
phase, so it is deterministic), so it needs no codec."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from synthgen.baselines.base import AudioBaseline


class SynthLSTM(AudioBaseline):
    arch = "lstm"

    def __init__(self, n_mels: int = 80, hidden: int = 256, layers: int = 2, n_fft: int = 1024, hop: int = 320):
        super().__init__(n_mels=n_mels, hidden=hidden, layers=layers, n_fft=n_fft, hop=hop)
        import librosa

        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("mel_basis", torch.from_numpy(librosa.filters.mel(sr=self.sample_rate, n_fft=n_fft, n_mels=n_mels)),
                             persistent=False)  # [n_mels, n_fft // 2 + 1]
        self.lstm = nn.LSTM(n_mels, hidden, layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, n_mels)

    def log_mel(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, N] -> log power mel [B, T, n_mels], T = N // hop + 1."""
        window = torch.hann_window(self.n_fft, device=audio.device)
        power = torch.stft(audio, self.n_fft, self.hop, window=window, return_complex=True).abs().pow(2)
        return torch.log(torch.einsum("mf,bft->btm", self.mel_basis, power) + 1e-6)

    def forward(self, mix_mel: torch.Tensor) -> torch.Tensor:
        """mix log-mel [B, T, n_mels] -> predicted synth log-mel [B, T, n_mels]."""
        return self.out(self.lstm(mix_mel)[0])

    def item_losses(self, batch: dict) -> torch.Tensor:
        predicted, target = self(self.log_mel(batch["mix"])), self.log_mel(batch["target"])
        frames = torch.arange(target.shape[1], device=target.device)
        valid = (frames[None] <= batch["valid"][:, None] // self.hop).float()  # [B, T]
        error = (predicted - target).pow(2).mean(-1)
        return (error * valid).sum(1) / valid.sum(1)

    @torch.no_grad()
    def synthesize(self, mix: torch.Tensor) -> torch.Tensor:
        import librosa

        mel = torch.exp(self(self.log_mel(mix))).transpose(1, 2).float().cpu().numpy()  # [B, n_mels, T]
        audio = []
        for m in mel:
            magnitude = librosa.feature.inverse.mel_to_stft(m, sr=self.sample_rate, n_fft=self.n_fft, power=2.0)
            audio.append(librosa.griffinlim(magnitude, n_iter=32, hop_length=self.hop, n_fft=self.n_fft,
                                            length=mix.shape[-1], init=None))
        return torch.from_numpy(np.stack(audio).astype(np.float32))
