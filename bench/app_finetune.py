"""App fine-tune bench: what a user waits for after pressing Start in the fine-tune dialog.

    python -m bench.app_finetune --takes KEEP/takes [--starter KEEP/starter] [--repeats 3] [--json]

The own-voice bench times `model.adapt.adapt` alone; this times the app around it: the window's
drawing, the dialog's curves and, while the app listens, the recogniser on the same two cores. It
opens the real window (offscreen unless a display is set) on a new data folder holding a copy of
`--takes` (an own-voice bench run's kept takes, whose `testing_list.txt` the flow holds out) and of
`--starter` (its kept starting sets). Then, `--repeats` times, in each mode one after the other:
listening to `--file` as the microphone (demo mode, looping), as a user who leaves the app on, and
stopped. Each time it opens the fine-tune dialog, waits until the dialog's worker has warmed up and
prepared (`model.adapt.prepare`: the base material synthesized the first time and found in the cache
later, the takes loaded, the base model scored), presses Start and
times until the new version is saved. It reports, per mode, the medians of that wall, of the
training adapt timed (the head refit included) and of the share of the CPU the hypervisor took, and
listening's wall over stopped's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # OpenMP's waiting is set as the app's in bench/__init__.py

from PySide6.QtCore import QEventLoop, QTimer  # after the environment above
from PySide6.QtWidgets import QApplication

from app.engine import SourceChoice
from app.main_window import MainWindow
from audio.user_dirs import starter_dir, takes_dir
from cli.common import run_command
from model.checkpoint import DEFAULT_MODEL_DIR
from model.device import StolenTime, describe_machine, machine_summary

MODES = ("listening", "stopped")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.app_finetune", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--takes", type=Path, required=True, help="takes in Speech Commands layout (KEEP/takes)")
    parser.add_argument("--starter", type=Path, help="starting sets of the new words (KEEP/starter)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL_DIR), help="the model in use, fine-tuned from")
    parser.add_argument("--file", default="assets/demo.wav", help="WAV played as the microphone while listening")
    parser.add_argument("--repeats", type=int, default=3, help="fine-tunes per mode (default: 3)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one fine-tune may take")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the GUI's event loop until `condition()` holds, looking every 50 ms (no busy loop on the GUI thread)."""
    loop = QEventLoop()
    poll = QTimer(interval=50)
    poll.timeout.connect(lambda: condition() and loop.quit())
    poll.start()
    QTimer.singleShot(round(timeout * 1000), loop.quit)
    loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError(f"{what} did not happen within {timeout:g} s")


def set_listening(window: MainWindow, listening: bool) -> None:
    """Press Listen or Stop, as a user would, and wait until the window says it is done."""
    (window.controls.start_clicked if listening else window.controls.stop_clicked).emit()
    wait_until(lambda: window.listening == listening, 30, "Listen" if listening else "Stop")


def finetune_once(window: MainWindow, timeout: float) -> dict:
    """Open the dialog, let its worker prepare, press Start and time it until the version is saved."""
    dialog = window.open_finetune()
    if dialog is None:
        raise RuntimeError("the window has no model to fine-tune")
    prepared, ended = threading.Event(), []
    QTimer.singleShot(0, dialog.worker, prepared.set)  # runs on the worker's thread once its warm-up is done
    # no receiver: these run on the worker's thread as it emits, so the clock stops as the version is saved
    dialog.worker.finished.connect(lambda result: ended.append((time.perf_counter(), result)))
    dialog.worker.error.connect(lambda message: ended.append((time.perf_counter(), message)))
    wait_until(prepared.is_set, timeout, "the dialog's warm-up and base material")
    started, stolen = time.perf_counter(), StolenTime()
    dialog.start()
    wait_until(lambda: bool(ended), timeout, "the fine-tune")
    finished, result = ended[0]
    if isinstance(result, str):
        raise RuntimeError(result)
    wall = finished - started
    steal = stolen.share(wall)
    return {
        "wall_seconds": wall,
        "training_seconds": result["seconds"]["training"],
        "steps": dialog.progress_bar.maximum(),
        "steal_share": steal,
        "version": result["version"],
    }


def median_of(runs: list[dict], key: str) -> float | None:
    values = [run[key] for run in runs if run[key] is not None]
    return statistics.median(values) if values else None


def run(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    if not (args.takes / "testing_list.txt").is_file():
        raise ValueError(f"{args.takes}: no testing_list.txt; give the takes an own-voice bench run kept")
    application = QApplication.instance() or QApplication(sys.argv[:1])  # the window needs one alive
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="voxgate-app-bench-") as data:
        shutil.copytree(args.takes, takes_dir(data))
        if args.starter:
            shutil.copytree(args.starter, starter_dir(data))
        window = MainWindow(  # not listening yet: the first mode's Listen starts it
            args.model,
            SourceChoice(file=args.file, loop=True),
            autostart=False,
            device="cpu",
            data_dir=data,
            remember=False,
        )
        window.show()
        try:
            for _ in range(args.repeats):
                for mode in MODES:
                    set_listening(window, mode == "listening")
                    runs[mode].append(finetune_once(window, args.timeout))
        finally:
            window.close()
            application.processEvents()  # the close's stops and deletions, before the folder goes
    medians = {
        mode: {key: median_of(runs[mode], key) for key in ("wall_seconds", "training_seconds", "steal_share")}
        for mode in MODES
    }
    figures = {
        "machine": describe_machine(),
        "repeats": args.repeats,
        "runs": runs,
        "medians": medians,
        "listening_over_stopped": medians["listening"]["wall_seconds"] / medians["stopped"]["wall_seconds"],
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    for mode in MODES:
        walls = ", ".join(f"{run['wall_seconds']:.1f}" for run in runs[mode])
        print(
            f"{mode}: Start to saved {medians[mode]['wall_seconds']:.1f} s median ({walls}), "
            f"training {medians[mode]['training_seconds']:.1f} s, {runs[mode][0]['steps']} steps"
        )
    print(f"listening / stopped: {figures['listening_over_stopped']:.2f}; on {machine_summary(figures['machine'])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
