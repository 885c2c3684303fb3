"""A take's waveform as a small picture: the min / max envelope per pixel column."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap


def envelope(audio: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), each (columns,): the extremes of `audio` (samples,) in each column's stretch."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size < columns:  # fewer samples than columns: repeat each sample over its columns
        audio = np.repeat(audio, -(-columns // max(audio.size, 1))) if audio.size else np.zeros(columns, np.float32)
    starts = np.linspace(0, len(audio), columns, endpoint=False).astype(int)  # (columns,) strictly increasing
    return np.minimum.reduceat(audio, starts), np.maximum.reduceat(audio, starts)


def waveform_pixmap(audio: np.ndarray, width: int = 120, height: int = 36) -> QPixmap:
    """A `width` x `height` thumbnail of `audio` (samples,), scaled to its own peak."""
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("#1e1e24"))
    low, high = envelope(audio, width)
    peak = max(float(np.max(np.abs(audio))) if np.size(audio) else 0.0, 1e-4)
    middle = height / 2
    painter = QPainter(pixmap)
    painter.setPen(QPen(QColor("#5fb3f9"), 1, Qt.PenStyle.SolidLine))
    for x, (a, b) in enumerate(zip(low, high)):
        painter.drawLine(QLineF(x + 0.5, middle - b / peak * (middle - 1), x + 0.5, middle - a / peak * (middle - 1)))
    painter.end()
    return pixmap
