"""The toolbar: where audio comes from, start / stop, and the model in use with a way to open another."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QToolBar, QWidget


class ControlBar(QToolBar):
    """Emits `source_chosen(key)` (a file path or a device name), `start_clicked`, `stop_clicked`
    and `model_chosen(folder)`. Entries are (title, key) pairs; keys are opaque to the bar."""

    source_chosen = Signal(str)
    start_clicked = Signal()
    stop_clicked = Signal()
    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Controls", parent)
        self.setMovable(False)
        self.addWidget(QLabel(" Input: "))
        self.source_box = QComboBox()
        self.source_box.setMinimumContentsLength(24)
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.activated.connect(lambda index: self.source_chosen.emit(self.source_box.itemData(index)))
        self.addWidget(self.source_box)
        self.start_action = self.addAction("▶ Listen", self.start_clicked.emit)
        self.stop_action = self.addAction("■ Stop", self.stop_clicked.emit)
        self.addSeparator()
        self.model_label = QLabel("Loading model…")
        self.labels_label = QLabel()
        self.labels_label.setStyleSheet("color: palette(mid);")
        self.addWidget(self.model_label)
        self.addSeparator()
        self.addWidget(self.labels_label)
        self.addSeparator()
        self.addAction("Open model…", self._choose_model)
        self.set_listening(False)

    def set_sources(self, entries: list[tuple[str, str]], current: str | None = None) -> None:
        """Fill the picker with (title, key) pairs and select `current` when it is one of the keys."""
        self.source_box.clear()
        for title, key in entries:
            self.source_box.addItem(title, key)
        index = self.source_box.findData(current) if current is not None else -1
        if index >= 0:
            self.source_box.setCurrentIndex(index)

    def current_source(self) -> str | None:
        return self.source_box.currentData()

    def set_model(self, text: str, labels: str) -> None:
        self.model_label.setText(text)
        self.labels_label.setText(labels)

    def set_listening(self, listening: bool) -> None:
        self.start_action.setEnabled(not listening)
        self.stop_action.setEnabled(listening)

    def _choose_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a model folder")
        if folder:
            self.model_chosen.emit(folder)
