"""The main window: the model in use, a way to open another, and a status bar for errors."""

from __future__ import annotations

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QToolBar, QVBoxLayout, QWidget

from app.model_loader import ModelLoader


class MainWindow(QMainWindow):
    load_requested = Signal(str)

    def __init__(self, model_path: str) -> None:
        super().__init__()
        self.setWindowTitle("VoxGate")
        self.resize(900, 560)
        self.model_label = QLabel("Loading model…")
        self.labels_label = QLabel()
        self.labels_label.setWordWrap(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.model_label)
        layout.addWidget(self.labels_label)
        layout.addStretch(1)
        self.setCentralWidget(body)
        toolbar = QToolBar("Model")
        open_action = QAction("Open model…", self)
        open_action.triggered.connect(self.choose_model)
        toolbar.addAction(open_action)
        self.addToolBar(toolbar)

        self.loader_thread = QThread(self)
        self.loader = ModelLoader()
        self.loader.moveToThread(self.loader_thread)
        self.load_requested.connect(self.loader.load)
        self.loader.loaded.connect(self.show_model)
        self.loader.error.connect(self.show_error)
        self.loader_thread.start()
        self.load_requested.emit(model_path)

    def choose_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a model folder")
        if folder:
            self.statusBar().showMessage(f"Loading {folder}…")
            self.load_requested.emit(folder)

    def show_model(self, info: dict) -> None:
        shape = f"{info['layers']} × {info['hidden']} {'bi' if info['bidirectional'] else 'uni'}directional"
        self.model_label.setText(f"Model: {info['name']} — {info['cell'].upper()} {shape}, on {info['device']}")
        self.labels_label.setText("Labels: " + ", ".join(info["labels"]))
        self.statusBar().showMessage(f"Model loaded from {info['path']}")

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message)

    def closeEvent(self, event) -> None:
        self.loader_thread.quit()
        self.loader_thread.wait()
        super().closeEvent(event)
