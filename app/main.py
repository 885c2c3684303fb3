"""Starting the desktop app: `python main.py [--model DIR]`."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from model.checkpoint import DEFAULT_MODEL_DIR


def run_app(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="voxgate", description="VoxGate desktop app")
    parser.add_argument("--model", default=str(DEFAULT_MODEL_DIR), help="model folder (default: the shipped model)")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(args.model)
    window.show()
    return app.exec()
