"""Synthesis bench: how much sooner the base material is ready when engines speak in parallel.

    python -m bench.synthesis_lanes [--per-word 24] [--unknown 96] [--repeats 3] [--json]

Renders the base material fine-tuning mixes in (`base_material`'s speech: every base command
`--per-word` times and `--unknown` other words) with one lane and with `LANES` lanes, taking
turns, `--repeats` times each, and reports the median seconds of each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from audio.labels import COMMAND_WORDS, UNKNOWN
from audio.synthesis.starter import LANES, plan_speech, render, unknown_texts
from cli.common import run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synthesis_lanes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--per-word", type=int, default=24, help="clips of each base command")
    parser.add_argument("--unknown", type=int, default=96, help="clips of other words")
    parser.add_argument("--repeats", type=int, default=3, help="timed renders of each lane count")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    words = list(COMMAND_WORDS)
    jobs = [job for word in words for job in plan_speech(word, [word] * args.per_word)]
    jobs += plan_speech(UNKNOWN, unknown_texts(args.unknown, words))
    seconds: dict[int, list[float]] = {1: [], LANES: []}
    for _ in range(args.repeats):
        for lanes in seconds:
            started = time.perf_counter()
            rendered = sum(1 for _ in render(jobs, lanes=lanes))
            seconds[lanes].append(time.perf_counter() - started)
    medians = {lanes: statistics.median(values) for lanes, values in seconds.items()}
    figures = {
        "clips": len(jobs),
        "rendered": rendered,
        "repeats": args.repeats,
        "seconds": {str(lanes): values for lanes, values in seconds.items()},
        "median_seconds": {str(lanes): value for lanes, value in medians.items()},
        "speed_up": medians[1] / medians[LANES],
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{len(jobs)} clips: 1 lane {medians[1]:.2f} s, {LANES} lanes {medians[LANES]:.2f} s "
            f"(medians of {args.repeats}); {figures['speed_up']:.2f}x sooner"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
