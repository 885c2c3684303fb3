"""Import bench: how long Import… takes to cut and save a folder of sound files as takes.

    python -m bench.import_takes DIR [--label LABEL] [--repeats 3] [--json]

Runs the recorder's take worker (`app.take_worker.TakeWorker.import_files`, here on the calling
thread) into a fresh temporary takes folder each time, and prints the median wall time with the
takes saved, the files they came from and the files left out. DIR is imported as Import… takes
it: a folder per label (Speech Commands layout), or files under `--label`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

from app.take_worker import TakeWorker
from audio.takes import TakeStore
from cli.common import run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_takes", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", help="sound files to import: a folder per label, or files under --label")
    parser.add_argument("--label", default="", help="the label picked, for files outside label folders")
    parser.add_argument("--repeats", type=int, default=3, help="imports to time, each into a new folder (default: 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    seconds, outcome = [], {}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            worker = TakeWorker(TakeStore(folder))
            worker.imported.connect(
                lambda saved, used, problems: outcome.update(takes=len(saved), files=used, left_out=len(problems))
            )
            started = time.perf_counter()
            worker.import_files(args.label, [args.folder])
            seconds.append(time.perf_counter() - started)
    figures = {
        **outcome,
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds": [round(s, 2) for s in seconds],
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{figures['takes']} takes from {figures['files']} files ({figures['left_out']} left out) in "
            f"{figures['seconds_median']} s, the median of {args.repeats}: {figures['seconds']}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
