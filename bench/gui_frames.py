"""GUI bench: does the window keep up with the recogniser's hop?

    python -m bench.gui_frames [--file assets/demo.wav] [--seconds 20] [--model DIR] [--json]

Opens the real window in demo mode (the WAV as the microphone, real time, looping), lets it run,
and reports how many frames the engine built and the window drew, the GUI-thread time per frame
update (the window's own timing of its frame slot, and the same slot plus the repaints it
causes), and how late a 10 ms timer on the GUI thread fires: a blocked GUI thread shows there.
Runs offscreen unless a display is set (QT_QPA_PLATFORM=offscreen is the default here).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # OpenMP's waiting is set as the app's in bench/__init__.py

from PySide6.QtCore import QObject, QTimer, Slot  # after the environment above
from PySide6.QtWidgets import QApplication

from app.engine import SourceChoice
from app.main_window import MainWindow
from model.checkpoint import DEFAULT_MODEL_DIR


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


def summary_ms(values: list[float]) -> dict:
    return {
        "median_ms": 1000 * statistics.median(values),
        "p90_ms": 1000 * percentile(values, 0.9),
        "max_ms": 1000 * max(values),
    }


class PaintTimer(QObject):
    """Draws each frame through the window's own slot, then its repaints, and times both.

    A QObject on the GUI thread, so the engine's signal reaches it queued, as it reaches the window.
    """

    def __init__(self, app: QApplication, window: MainWindow) -> None:
        super().__init__()
        self.app, self.window, self.seconds = app, window, []

    @Slot()
    def show_and_paint(self) -> None:
        started = time.perf_counter()
        self.window.show_latest_frame()
        self.app.processEvents()
        self.seconds.append(time.perf_counter() - started)


def measure(model: str, wav: str, seconds: float) -> dict:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(model, SourceChoice(file=wav, loop=True), device="cpu")
    window.show()
    painter = PaintTimer(app, window)
    window.engine.frame_ready.disconnect(window.show_latest_frame)
    window.engine.frame_ready.connect(painter.show_and_paint)
    lateness: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lateness.append(now - last[0] - 0.010)
        last[0] = now

    ticker = QTimer(interval=10, timeout=tick)
    ticker.start()
    QTimer.singleShot(round(seconds * 1000), app.quit)
    app.exec()
    ticker.stop()
    window.close()
    if not window.update_seconds:
        raise RuntimeError("the window drew no frame: did the model load and the file play?")
    return {
        "seconds": seconds,
        "frames_built": window.engine.frames_built,
        "frames_shown": len(window.update_seconds),
        "frame_slot": summary_ms(list(window.update_seconds)),
        "frame_slot_with_paint": summary_ms(painter.seconds),
        "timer_10ms_late": {
            "median_ms": 1000 * statistics.median(lateness),
            "p99_ms": 1000 * percentile(lateness, 0.99),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gui_frames", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--file", default="assets/demo.wav", help="WAV played as the microphone")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.model, args.file, args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['frames_built']} frames built, {result['frames_shown']} drawn in {args.seconds:g} s")
        for name in ("frame_slot", "frame_slot_with_paint"):
            stats = result[name]
            print(
                f"{name}: median {stats['median_ms']:.1f} ms, p90 {stats['p90_ms']:.1f} ms, "
                f"max {stats['max_ms']:.1f} ms"
            )
        late = result["timer_10ms_late"]
        print(f"a 10 ms GUI timer fired late by: median {late['median_ms']:.1f} ms, p99 {late['p99_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
