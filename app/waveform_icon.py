"""A take's waveform as a small picture: the min / max envelope per pixel column."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen


def envelope(audio: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), each (columns,): the extremes of `audio` (samples,) in each column's stretch."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size < columns:  # fewer samples than columns: repeat each sample over its columns
        audio = np.repeat(audio, -(-columns // max(audio.size, 1))) if audio.size else np.zeros(columns, np.float32)
    starts = np.linspace(0, len(audio), columns, endpoint=False).astype(int)  # (columns,) strictly increasing
    return np.minimum.reduceat(audio, starts), np.maximum.reduceat(audio, starts)


def blank_image(width: int = 120, height: int = 36) -> QImage:
    """The thumbnails' background alone: what a take shows while its thumbnail is drawn."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#1e1e24"))
    return image


def waveform_image(audio: np.ndarray, width: int = 120, height: int = 36) -> QImage:
    """A `width` x `height` thumbnail of `audio` (samples,), scaled to its own peak.

    A QImage rather than a QPixmap: it can be drawn on a worker thread.
    """
    image = blank_image(width, height)
    low, high = envelope(audio, width)
    peak = max(float(np.max(np.abs(audio))) if np.size(audio) else 0.0, 1e-4)
    middle = height / 2
    painter = QPainter(image)
    painter.setPen(QPen(QColor("#5fb3f9"), 1, Qt.PenStyle.SolidLine))
    for x, (a, b) in enumerate(zip(low, high)):
        painter.drawLine(QLineF(x + 0.5, middle - b / peak * (middle - 1), x + 0.5, middle - a / peak * (middle - 1)))
    painter.end()
    return image
