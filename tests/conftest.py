"""Shared fixtures: audio made in the test, never downloaded."""

import numpy as np
import pytest


def tone_word(pitch_hz: float, sweep_hz: float, seed: int = 0, samples: int = 16_000) -> np.ndarray:
    """A 0.5 s word-like harmonic sweep with noise, in a 1 s clip: shape (samples,)."""
    rng = np.random.default_rng(seed)
    rate = 16_000
    t = np.arange(rate // 2) / rate
    f0 = pitch_hz + sweep_hz * t
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.hanning(len(t))
    clip = np.zeros(samples, dtype=np.float32)
    start = rng.integers(0, samples - len(t))
    clip[start : start + len(t)] = 0.3 * voiced
    return (clip + rng.normal(0, 0.003, samples)).astype(np.float32)


@pytest.fixture
def chirp_word() -> np.ndarray:
    return tone_word(140.0, 300.0)
