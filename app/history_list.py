"""The detections so far, newest first; clicking one shows its window in the heatmap panel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QListWidgetItem, QWidget

from app.frames import Frame
from app.hinted_list import HintedList

ROLE = Qt.ItemDataRole.UserRole  # where an item keeps the id of its frame
KEEP = 50  # each entry holds its window's trace (about 1.2 MB for a 2 x 128 BiLSTM)


class HistoryList(HintedList):
    """Emits `chosen(frame)` when an entry is clicked; keeps the Frame of every entry it lists."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Commands heard are listed here, newest first: Listen, and say one.", parent)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        self.setToolTip("Detected commands; click one to inspect its window in the gate panel")
        self._frames: dict[int, Frame] = {}
        self._next_id = 0
        self.itemClicked.connect(self._clicked)

    def add(self, frame: Frame) -> None:
        found = frame.detection
        item = QListWidgetItem(f"{found.time:8.2f} s   {found.label:<10} {found.confidence:4.0%}")
        item.setData(ROLE, self._next_id)
        self._frames[self._next_id] = frame
        self._next_id += 1
        self.insertItem(0, item)
        while self.count() > KEEP:
            dropped = self.takeItem(self.count() - 1)
            self._frames.pop(dropped.data(ROLE), None)

    def frame_at(self, row: int) -> Frame:
        return self._frames[self.item(row).data(ROLE)]

    def _clicked(self, item: QListWidgetItem) -> None:
        self.chosen.emit(self._frames[item.data(ROLE)])
