"""The window opens, shows the model it loaded in a worker, and reports a bad folder."""

import pytest
import torch

from app.main_window import MainWindow
from model.checkpoint import save_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig


@pytest.fixture
def open_window(qtbot):
    """Open windows and close them at teardown, which stops their worker threads.

    pytest-qt keeps only weak references, so the fixture holds the windows itself.
    """
    windows = []

    def open_(model_path: str) -> MainWindow:
        window = MainWindow(model_path)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.close()


def test_window_shows_the_loaded_model(qtbot, tmp_path, open_window):
    torch.manual_seed(0)
    folder = save_checkpoint(KeywordClassifier(ModelConfig(labels=("yes", "no"), hidden_size=8)), tmp_path / "mine")
    window = open_window(str(folder))
    qtbot.waitUntil(lambda: "mine" in window.model_label.text(), timeout=10_000)
    assert "LSTM 2 × 8 bidirectional, on CPU" in window.model_label.text()
    assert window.labels_label.text() == "Labels: yes, no"


def test_bad_model_folder_is_reported_and_the_app_goes_on(qtbot, tmp_path, open_window):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    window = open_window(str(tmp_path / "broken"))
    qtbot.waitUntil(lambda: "Could not load" in window.statusBar().currentMessage(), timeout=10_000)
    assert "config.json: not valid JSON" in window.statusBar().currentMessage()
    window.load_requested.emit(str(tmp_path / "missing"))
    qtbot.waitUntil(lambda: "no such model folder" in window.statusBar().currentMessage(), timeout=10_000)
