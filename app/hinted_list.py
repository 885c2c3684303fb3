"""A list that says, in grey, what fills it while it is empty: a first look at the app shows what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QListWidget, QWidget

HINT_MARGIN = 12  # pixels between the hint and the list's edges


class HintedList(QListWidget):
    """A QListWidget that draws `hint` over its empty viewport (Qt's item views have no placeholder text)."""

    def __init__(self, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = hint

    def set_hint(self, hint: str) -> None:
        """The text shown while the list is empty ("" for none)."""
        self.hint = hint
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.count() or not self.hint:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = self.viewport().rect().adjusted(HINT_MARGIN, HINT_MARGIN, -HINT_MARGIN, -HINT_MARGIN)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(area, flags, self.hint)
        painter.end()  # before the paint event returns, as Qt requires of a painter on a widget
