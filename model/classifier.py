"""The keyword classifier: MFCC -> per-utterance normalisation -> recurrent stack -> pooling -> head."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from audio.features import MFCC
from model.config import ModelConfig
from model.recurrent import RecurrentStack


def normalize_utterance(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Zero mean, unit variance per coefficient over time: (batch, time, n) -> same shape.

    Removes the microphone's gain and channel colour, which differ between the
    synthetic training voices and a user's microphone.
    """
    mean = features.mean(dim=1, keepdim=True)  # (batch, 1, n)
    std = features.std(dim=1, keepdim=True, unbiased=False)
    return (features - mean) / (std + eps)


class AttentionPool(nn.Module):
    """Weighted mean over time with weights softmax(h_t · q) from one learned query q."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.score = nn.Linear(size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(x), dim=1)  # (batch, time, 1)
        return (weights * x).sum(dim=1)  # (batch, size)


class MeanPool(nn.Module):
    """Plain mean over time; `size` is accepted so both pools build alike."""

    def __init__(self, size: int) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)  # (batch, size)


@dataclass(frozen=True)
class GateTrace:
    """Everything the heatmap panel shows for a batch of windows, as NumPy arrays.

    states:   (layers, directions, len(state_names), batch, time, hidden)
    features: (batch, time, n_mfcc) MFCC before normalisation
    logits:   (batch, classes)
    """

    state_names: tuple[str, ...]
    states: np.ndarray
    features: np.ndarray
    logits: np.ndarray

    def state(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """One state over time: (batch, time, hidden)."""
        return self.states[layer, direction, self.state_names.index(name)]


class KeywordClassifier(nn.Module):
    """Raw 16 kHz mono waveforms (batch, samples) -> logits (batch, len(labels))."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.frontend = MFCC(config.features)
        self.recurrent = RecurrentStack(config, input_size=config.features.n_mfcc)
        pool = AttentionPool if config.pooling == "attention" else MeanPool
        self.pool = pool(self.recurrent.output_size)
        self.head = nn.Linear(self.recurrent.output_size, len(config.labels))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """(batch, samples) -> MFCC (batch, frames, n_mfcc)."""
        return self.frontend(waveform)

    def embed(self, features: torch.Tensor, dropout_generator: torch.Generator | None = None) -> torch.Tensor:
        """MFCC (batch, frames, n_mfcc) -> the head's input, pooled top-layer states (batch, dirs * hidden).

        `dropout_generator`: see `RecurrentStack.forward`.
        """
        hidden = self.recurrent(normalize_utterance(features), dropout_generator)  # (batch, frames, dirs * hidden)
        return self.pool(hidden)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """MFCC (batch, frames, n_mfcc) -> logits (batch, classes); training feeds augmented MFCC here."""
        return self.head(self.embed(features))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(waveform))

    @torch.no_grad()
    def trace(self, waveform: torch.Tensor) -> GateTrace:
        """The slow, transparent path: same logits as `forward`, plus every gate of every layer."""
        features = self.features(waveform)  # (batch, frames, n_mfcc)
        states = self.recurrent.trace(normalize_utterance(features))
        h = states[-1, :, self.recurrent.cell.state_names.index("h")]  # (dirs, batch, time, hidden)
        top = torch.from_numpy(np.concatenate(list(h), axis=-1)).to(self.device)  # (batch, time, dirs * hidden)
        logits = self.head(self.pool(top))
        return GateTrace(
            state_names=self.recurrent.cell.state_names,
            states=states,
            features=features.cpu().numpy(),
            logits=logits.cpu().numpy(),
        )
