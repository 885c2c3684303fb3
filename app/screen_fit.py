"""Window sizes that fit the screen: a size chosen on a large monitor is cut off on a laptop's."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget


def fitted(widget: QWidget, width: int, height: int) -> QSize:
    """width x height, shrunk to the free area of the screen `widget` opens on where that is smaller."""
    return QSize(width, height).boundedTo(widget.screen().availableGeometry().size())
