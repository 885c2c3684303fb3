"""A take's waveform as a small picture: the min / max envelope per pixel column."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

BACKGROUND = 0xFF1E1E24  # ARGB
WAVE = 0xFF5FB3F9


def envelope(audio: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), each (columns,): the extremes of `audio` (samples,) in each column's stretch."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size < columns:  # fewer samples than columns: repeat each sample over its columns
        audio = np.repeat(audio, -(-columns // max(audio.size, 1))) if audio.size else np.zeros(columns, np.float32)
    starts = np.linspace(0, len(audio), columns, endpoint=False).astype(int)  # (columns,) strictly increasing
    return np.minimum.reduceat(audio, starts), np.maximum.reduceat(audio, starts)


def pixels_image(pixels: np.ndarray) -> QImage:
    """(height, width) uint32 ARGB pixels -> a QImage that owns a copy of them."""
    height, width = pixels.shape
    return QImage(np.ascontiguousarray(pixels).tobytes(), width, height, 4 * width, QImage.Format.Format_RGB32).copy()


def blank_image(width: int = 120, height: int = 36) -> QImage:
    """The thumbnails' background alone: what a take shows while its thumbnail is drawn."""
    return pixels_image(np.full((height, width), BACKGROUND, np.uint32))


def waveform_image(audio: np.ndarray, width: int = 120, height: int = 36) -> QImage:
    """A `width` x `height` thumbnail of `audio` (samples,), scaled to its own peak.

    Each column is lit from its stretch's highest sample to its lowest. The pixels are set with
    NumPy, not drawn line by line with QPainter: a worker thread drawing 120 lines a take in Python
    held the GIL so often that the window stalled for tenths of a second while a long list filled.
    """
    low, high = envelope(audio, width)
    peak = max(float(np.max(np.abs(audio))) if np.size(audio) else 0.0, 1e-4)
    middle = height / 2
    top = np.floor(middle - high / peak * (middle - 1)).astype(int)  # (width,) row of the highest sample
    bottom = np.ceil(middle - low / peak * (middle - 1)).astype(int)
    rows = np.arange(height)[:, None]  # (height, 1)
    lit = (rows >= top) & (rows <= np.maximum(bottom, top))  # (height, width)
    return pixels_image(np.where(lit, np.uint32(WAVE), np.uint32(BACKGROUND)))
