"""Starting the desktop app: `python main.py [--model DIR] [--input NAME | --file WAV] [--screenshot PNG]`."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QDialog

from app.engine import SourceChoice
from app.main_window import MainWindow
from app.predictions_panel import THRESHOLD_BOUNDS
from audio.user_dirs import DATA_DIR_VARIABLE, models_dir
from model.checkpoint import DEFAULT_MODEL_DIR
from model.device import DEVICE_CHOICES
from model.smoothing import RecognizerConfig
from model.versions import VersionStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxgate", description="VoxGate desktop app: live commands and LSTM gates")
    parser.add_argument("--model", help="model folder (default: the version chosen in the app, else the shipped model)")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"user data folder for takes and model versions (default: ${DATA_DIR_VARIABLE} or "
        "the platform's user data folder)",
    )
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default="auto",
        help="where the model runs; auto picks CUDA, then MPS, then CPU (default: auto)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="NAME", help="input device by name (default: the system's default)")
    source.add_argument("--file", metavar="WAV", help="demo mode: play this sound file as the microphone, looping")
    parser.add_argument("--speed", type=float, default=1.0, help="with --file: playback speed (default: 1, real time)")
    parser.add_argument("--no-loop", action="store_true", help="with --file: stop at the end of the file")
    parser.add_argument(
        "--threshold",
        type=float,
        help=f"smoothed probability a command needs, {THRESHOLD_BOUNDS[0]}-{THRESHOLD_BOUNDS[1]} "
        "(default: where the threshold line was dragged last time, else "
        f"{RecognizerConfig.detection_threshold})",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="save a picture of the window (the gate panel holding the newest detection), then quit",
    )
    parser.add_argument(
        "--quit-after",
        metavar="SECONDS",
        type=float,
        help="quit after this long (with --screenshot: take it then; default 8 s)",
    )
    return parser


def run_app(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.file and not Path(args.file).is_file():
        print(f"error: no such sound file {args.file!r}", file=sys.stderr)
        return 2
    if not args.speed > 0:
        print(f"error: --speed must be positive, got {args.speed}", file=sys.stderr)
        return 2
    low, high = THRESHOLD_BOUNDS
    if args.threshold is not None and not low <= args.threshold <= high:
        print(
            f"error: --threshold must be between {low} and {high} (where the line can be dragged), "
            f"got {args.threshold}",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    choice = SourceChoice(
        file=args.file,
        device=args.input,
        speed=args.speed,
        loop=bool(args.file) and not args.no_loop and not math.isinf(args.speed),
    )
    chosen, problem = current_model(args.data_dir)
    # a screenshot shows the window as it first opens, whatever the last session left
    window = MainWindow(
        args.model or chosen,
        choice,
        device=args.device,
        data_dir=args.data_dir,
        remember=not args.screenshot,
        threshold=args.threshold,
    )
    if problem and not args.model:  # the Record & fine-tune tab, where versions are made and switched
        window.recorder.show_message(f"Your model versions could not be read; the shipped model is in use: {problem}")
    window.show()
    quit_after = args.quit_after if args.quit_after is not None else (8.0 if args.screenshot else None)
    if quit_after is not None:
        QTimer.singleShot(round(quit_after * 1000), lambda: finish(app, window, args.screenshot))
    return app.exec()


def current_model(data_dir: str | None) -> tuple[str, str]:
    """(the model version chosen in the app (Versions…), else the shipped model; why not, or "")."""
    try:
        return str(VersionStore(models_dir(data_dir)).current_path(DEFAULT_MODEL_DIR)), ""
    except (ValueError, OSError) as error:
        logging.warning("model versions unreadable, using the shipped model: %s", error)
        return str(DEFAULT_MODEL_DIR), str(error)


def grab_with_dialogs(window: MainWindow) -> QPixmap:
    """The window's picture with its open dialogs painted where they are on screen."""
    picture = window.grab()
    painter = QPainter(picture)
    for dialog in window.findChildren(QDialog):
        if dialog.isVisible():
            painter.drawPixmap(window.mapFromGlobal(dialog.frameGeometry().topLeft()), dialog.grab())
    painter.end()
    return picture


def finish(app: QApplication, window: MainWindow, screenshot: str | None) -> None:
    """Save the window (when asked), then close it and leave the event loop.

    The picture shows the gate panel holding the newest detection, as if it had been clicked in
    the history, so it has a command's window in it; without any detection it shows the live one.
    """
    if screenshot:
        window.hold_newest_detection()
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        if grab_with_dialogs(window).save(screenshot):
            print(f"saved {screenshot}", file=sys.stderr)
        else:
            print(f"error: could not write {screenshot}", file=sys.stderr)
            window.close()
            app.exit(1)
            return
    window.close()
    app.exit(0)
