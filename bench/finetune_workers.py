"""Fine-tuning workers bench: how fast a fine-tuning step runs with its batch split over threads.

    python -m bench.finetune_workers [--steps 20] [--repeats 3] [--workers 1,2] [--json]

A batch of 32 one-second clips through the shipped model's two bidirectional layers is
hundreds of small products in a row, each too small for torch's threads to share well.
`model.finetune` therefore splits each batch into parts, one per core, each on its own thread
with one torch thread (`FinetuneConfig.workers`).
This bench runs `model.finetune.finetune` itself on the shipped model, with the app's
fine-tuning settings and augmentation, on `--steps` steps of noise clips (the time a step takes
does not depend on what the clips say), once per setting of `--workers` in turn, `--repeats`
times, and reports each setting's median step and its speed against the first setting's, all
measured in the same process. One worker is the batch whole on every torch thread, as before
the split.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import replace

import numpy as np
import torch

from audio.augment import Augmenter
from audio.dataset import ClipSet
from cli.common import run_command
from model.adapt import FINETUNE_AUGMENT
from model.checkpoint import DEFAULT_MODEL_DIR, load_checkpoint
from model.finetune import FinetuneConfig, finetune

WARM_UP_STEPS = 2  # a process's first steps allocate what later ones reuse


def step_seconds(workers: int, steps: int) -> list[float]:
    """Seconds each step took after the warm-up, in one fine-tune of the shipped model on noise clips."""
    model = load_checkpoint(DEFAULT_MODEL_DIR).model
    config = replace(FinetuneConfig(), epochs=1, refit_copies=0, workers=workers)
    count = config.batch_size * (steps + WARM_UP_STEPS)
    generator = np.random.default_rng(0)
    clips = ClipSet(
        (0.1 * generator.standard_normal((count, model.config.features.clip_samples))).astype(np.float32),
        generator.integers(len(model.labels), size=count),
        model.labels,
        [""] * count,
    )
    result = finetune(model, clips, config, augment=Augmenter(FINETUNE_AUGMENT, model.frontend))
    elapsed = [report.elapsed for report in result.steps]
    return list(np.diff(elapsed)[WARM_UP_STEPS - 1 :])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.finetune_workers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=20, help="timed steps per fine-tune")
    parser.add_argument("--repeats", type=int, default=3, help="fine-tunes per setting, taking turns")
    parser.add_argument("--workers", default="1,2", help="settings to compare, comma-separated; the first is the base")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    settings = [int(value) for value in args.workers.split(",")]
    if min(settings) < 1 or args.steps < 1 or args.repeats < 1:
        raise ValueError("--workers, --steps and --repeats must be at least 1")
    medians: dict[int, list[float]] = {workers: [] for workers in settings}
    for _ in range(args.repeats):
        for workers in settings:
            medians[workers].append(statistics.median(step_seconds(workers, args.steps)))
    step_ms = {workers: 1000 * statistics.median(values) for workers, values in medians.items()}
    figures = {
        "steps": args.steps,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "step_ms": step_ms,
        "runs_ms": {workers: [1000 * value for value in values] for workers, values in medians.items()},
        "speed_over_first": {workers: step_ms[settings[0]] / ms for workers, ms in step_ms.items()},
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for workers, ms in step_ms.items():
            speed = figures["speed_over_first"][workers]
            print(f"{workers} worker(s) {ms:7.1f} ms a step ({speed:.2f}x the first's speed)")
        print(
            f"medians of {args.repeats} fine-tunes x {args.steps} steps each, {figures['torch_threads']} torch threads"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
