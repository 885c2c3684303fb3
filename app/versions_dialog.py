"""Model versions: the shipped model and every fine-tuned one, with their held-out figures.

Choosing one makes it current and loads it; going back to an older one is the rollback.
Nothing is ever deleted.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout

from model.versions import VersionStore

SHIPPED = "shipped"


def _percent(figures: dict) -> str:
    value = figures.get("accuracy") if figures else None
    return "—" if value is None else f"{value:.1%}"


class VersionsDialog(QDialog):
    model_chosen = Signal(str)  # the chosen version's folder

    def __init__(self, versions_root: str | Path, shipped: str | Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model versions")
        self.resize(820, 360)
        self.store = VersionStore(versions_root)
        self.shipped = Path(shipped)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["version", "made", "parent", "labels", "held-out before", "after"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.use_button = QPushButton("Use selected")
        self.use_button.clicked.connect(self.use_selected)
        self.note = QLabel("Rolling back only changes which version is used; every version stays on disk.")
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.use_button)
        column = QVBoxLayout(self)
        column.addWidget(self.table)
        column.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        current = self.store.current
        rows = [(SHIPPED, "", "", "", {}, {}, str(self.shipped))]
        rows += [(v.id, v.time, v.parent, ", ".join(v.labels), v.before, v.after, str(v.path))
                 for v in self.store.versions()]
        self.table.setRowCount(len(rows))
        for index, (name, made, parent, labels, before, after, _path) in enumerate(rows):
            is_current = (current is None and name == SHIPPED) or (current is not None and current.id == name)
            values = (name + ("  (in use)" if is_current else ""), made, Path(parent).name if parent else "",
                      labels, _percent(before), _percent(after))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, name)
                self.table.setItem(index, column, item)
            if is_current:
                self.table.selectRow(index)

    def use_selected(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        name = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        version = self.store.select(None if name == SHIPPED else name)
        self.refresh()
        self.model_chosen.emit(str(version.path if version is not None else self.shipped))
