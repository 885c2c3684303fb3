"""MFCC front end as a torch module, so a saved model maps raw 16 kHz audio to logits.

Matches `librosa.feature.mfcc` at the same settings (centred frames, periodic Hann
window, Slaney mel filters, power_to_db with the same floor and top_db, orthonormal
DCT-II); the tests check the parity. The STFT and DCT run in torch on the model's device.
"""

from __future__ import annotations

import librosa
import numpy as np
import torch
from torch import nn

from audio.config import FeatureConfig


def dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
    """Orthonormal DCT-II as a (n_mels, n_mfcc) matrix: cepstra = log_mel @ matrix."""
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)
    basis = torch.cos(torch.pi / n_mels * (n[:, None] + 0.5) * k[None, :])  # (n_mels, n_mfcc)
    basis[:, 0] *= 1.0 / np.sqrt(2.0)
    return (basis * np.sqrt(2.0 / n_mels)).float()


class MFCC(nn.Module):
    """Waveforms (batch, samples) -> MFCC (batch, frames, n_mfcc), frames = 1 + samples // hop.

    `power_spectrum` and `cepstra` are exposed separately so training can warp the
    spectrum (vocal tract length perturbation) between them.
    """

    def __init__(self, config: FeatureConfig | None = None) -> None:
        super().__init__()
        self.config = config or FeatureConfig()
        c = self.config
        mel = librosa.filters.mel(
            sr=c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.f_min, fmax=c.f_max
        )  # (n_mels, n_fft // 2 + 1)
        self.register_buffer("window", torch.hann_window(c.win_length, periodic=True), persistent=False)
        self.register_buffer("mel_basis", torch.from_numpy(mel.T.copy()), persistent=False)
        self.register_buffer("dct", dct_matrix(c.n_mfcc, c.n_mels), persistent=False)

    def power_spectrum(self, waveform: torch.Tensor) -> torch.Tensor:
        """(batch, samples) -> power spectrogram (batch, frames, n_fft // 2 + 1)."""
        if waveform.dim() != 2:
            raise ValueError(f"expected waveforms shaped (batch, samples), got {tuple(waveform.shape)}")
        c = self.config
        spectrum = torch.stft(
            waveform,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            win_length=c.win_length,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )  # (batch, bins, frames)
        power = spectrum.real.square() + spectrum.imag.square()  # ~3x faster than abs().square()
        return power.transpose(1, 2)  # (batch, frames, bins)

    def cepstra(self, power: torch.Tensor) -> torch.Tensor:
        """Power spectrogram (batch, frames, bins) -> MFCC (batch, frames, n_mfcc)."""
        c = self.config
        mel_db = 10.0 * torch.log10(torch.clamp(power @ self.mel_basis, min=c.log_floor))
        if c.top_db is not None:  # per clip, like librosa.power_to_db
            peak = mel_db.amax(dim=(1, 2), keepdim=True)  # (batch, 1, 1)
            mel_db = torch.maximum(mel_db, peak - c.top_db)
        return mel_db @ self.dct  # (batch, frames, n_mfcc)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.cepstra(self.power_spectrum(waveform))
