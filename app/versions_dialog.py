"""Model versions: the shipped model and every fine-tuned one, with their held-out figures.

Choosing one makes it current and loads it; going back to an older one is the rollback.
Nothing is ever deleted.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.screen_fit import fitted
from app.time_text import shown_time
from model.adapt import old_words_note
from model.checkpoint import CheckpointError, read_config
from model.versions import SHIPPED, VersionStore, export_model


def _percent(figures: dict) -> str:
    value = figures.get("accuracy") if figures else None
    return "—" if value is None else f"{value:.1%}"


def _old_words_cell(summary: dict) -> tuple[str, str]:
    """(the old-words check's other words kept `_unknown_`, before → after; the check in full, for the tooltip).
    ("—", "") for a version made without the check, or an index edited by hand."""
    try:
        checked = summary["old_words"]
        before, after = checked["before"]["others_kept"], checked["after"]["others_kept"]
        return f"{before:.1%} → {after:.1%}", old_words_note(checked)
    except (KeyError, TypeError, ValueError):
        return "—", ""


class VersionsDialog(QDialog):
    model_chosen = Signal(str)  # the chosen version's folder

    def __init__(self, versions_root: str | Path, shipped: str | Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model versions")
        self.resize(fitted(self, 980, 360))
        self.store = VersionStore(versions_root)
        self.shipped = Path(shipped)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(
            ["version", "made", "parent", "labels", "held-out before", "after", "other words kept"]
        )
        self.table.horizontalHeaderItem(6).setToolTip(
            "the old-words check: the share of other words, said by "
            "synthetic voices kept out of training, still answered "
            "_unknown_, before → after fine-tuning"
        )
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.use_button = QPushButton("Use selected")
        self.use_button.clicked.connect(self.use_selected)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "copy the selected model (its weights and config.json) into a folder you "
            "choose, to open with --model or on another machine"
        )
        self.export_button.clicked.connect(lambda: self.export_selected())
        self.note = QLabel("Rolling back only changes which version is used; every version stays on disk.")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.export_button)
        row.addWidget(self.use_button)
        column = QVBoxLayout(self)
        column.addWidget(self.table)
        column.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        current = self.store.current
        try:
            shipped_labels = tuple(read_config(self.shipped)["model"].get("labels", ()))
        except CheckpointError:  # loading it will say what is wrong; the table goes on without its labels
            shipped_labels = ()
        rows = [(SHIPPED, self.shipped, "", "", shipped_labels, {}, {}, {})]
        rows += [
            (v.id, v.path, v.time, v.parent, v.labels, v.summary, v.before, v.after) for v in self.store.versions()
        ]
        self.table.setRowCount(len(rows))
        for index, (name, folder, made, parent, labels, summary, before, after) in enumerate(rows):
            is_current = (current is None and name == SHIPPED) or (current is not None and current.id == name)
            new = summary.get("new_labels", ())
            others_kept, check_note = ("", "") if name == SHIPPED else _old_words_cell(summary)
            values = (
                name + ("  (in use)" if is_current else ""),
                shown_time(made, "minutes"),
                Path(parent).name if parent else "",
                f"{len(labels)}, new: {', '.join(new)}" if new else (str(len(labels)) if labels else ""),
                _percent(before),
                _percent(after),
                others_kept,
            )
            tips = {0: str(folder), 1: made, 3: ", ".join(labels), 6: check_note}
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setData(Qt.ItemDataRole.UserRole + 1, str(folder))
                item.setToolTip(tips.get(column, ""))
                self.table.setItem(index, column, item)
            if is_current:
                self.table.selectRow(index)
        self.table.resizeColumnsToContents()

    def use_selected(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        name = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        version = self.store.select(None if name == SHIPPED else name)
        self.refresh()
        self.model_chosen.emit(str(version.path if version is not None else self.shipped))

    def export_selected(self, destination: str | None = None) -> None:
        """Copy the selected model into `destination` (asked for without it); the note says where, or why not."""
        row = self.table.currentRow()
        if row < 0:
            return
        name, folder = (
            self.table.item(row, 0).data(role) for role in (Qt.ItemDataRole.UserRole, Qt.ItemDataRole.UserRole + 1)
        )
        if destination is None:
            destination = QFileDialog.getExistingDirectory(self, f"Export the {name} model into…")
            if not destination:
                return
        try:
            target = export_model(folder, destination)
        except (OSError, CheckpointError) as error:
            self.note.setText(f"Not exported: {error}")
            return
        self.note.setText(f"Exported {name} to {target}: open it with python main.py --model {target}")
