"""Synthetic coloured noise: the one generator behind `_silence_` clips, the augmentation's
default noise bank and the background of `stream-eval` streams."""

from __future__ import annotations

import numpy as np

COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # k in a 1/f^k power spectrum


def coloured_noise(colour: str, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-RMS noise (samples,) float32 with a 1/f^k power spectrum."""
    exponent = COLOURS.get(colour)
    if exponent is None:
        raise ValueError(f"colour must be one of {tuple(COLOURS)}, got {colour!r}")
    spectrum = np.fft.rfft(rng.standard_normal(samples))  # (samples // 2 + 1,)
    frequencies = np.fft.rfftfreq(samples)
    frequencies[0] = frequencies[1]  # avoid dividing by zero at DC
    noise = np.fft.irfft(spectrum / frequencies ** (exponent / 2), n=samples)
    noise -= noise.mean()
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype(np.float32)
