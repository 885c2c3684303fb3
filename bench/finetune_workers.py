"""Fine-tuning workers bench: how fast a fine-tuning step, and scoring, run with the clips split over threads.

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
the split. In the same turns it times scoring as the flow scores the held-out takes before and
after (`model.evaluation.predict_logits`): as many noise clips as the own-voice bench holds out;
and the head's refit (`model.head_refit.refit_on_clips`), whose embeddings are split the same way,
on as many augmented copies as the own-voice bench's refit embeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace

import numpy as np
import torch

from audio.augment import Augmenter
from audio.dataset import ClipSet
from cli.common import run_command
from model.adapt import FINETUNE_AUGMENT
from model.checkpoint import DEFAULT_MODEL_DIR, load_checkpoint
from model.classifier import KeywordClassifier
from model.device import split_pool
from model.evaluation import predict_logits
from model.finetune import FinetuneConfig, finetune, part_seeds
from model.head_refit import refit_on_clips

WARM_UP_STEPS = 2  # a process's first steps allocate what later ones reuse
SCORED_CLIPS = 1210  # the own-voice bench's held-out takes
REFIT_COPIES = 840  # the own-voice bench's refit: 50 takes 8 times each, 168 starter clips, 272 of base material


def noise_clips(model: KeywordClassifier, count: int) -> ClipSet:
    """`count` one-second noise clips with random labels: what a clip says does not change how long it takes."""
    generator = np.random.default_rng(0)
    return ClipSet(
        (0.1 * generator.standard_normal((count, model.config.features.clip_samples))).astype(np.float32),
        generator.integers(len(model.labels), size=count),
        model.labels,
        [""] * count,
    )


def step_seconds(workers: int, steps: int) -> list[float]:
    """Seconds each step took after the warm-up, in one fine-tune of the shipped model on noise clips."""
    model = load_checkpoint(DEFAULT_MODEL_DIR).model
    config = replace(FinetuneConfig(), epochs=1, refit_copies=0, workers=workers)
    clips = noise_clips(model, config.batch_size * (steps + WARM_UP_STEPS))
    result = finetune(model, clips, config, augment=Augmenter(FINETUNE_AUGMENT, model.frontend))
    elapsed = [report.elapsed for report in result.steps]
    return list(np.diff(elapsed)[WARM_UP_STEPS - 1 :])


def scoring_seconds(workers: int) -> float:
    """Seconds the shipped model takes to score `SCORED_CLIPS` noise clips, after one warm-up scoring."""
    model = load_checkpoint(DEFAULT_MODEL_DIR).model
    clips = noise_clips(model, SCORED_CLIPS).waveforms
    predict_logits(model, clips[: len(clips) // 8], workers=workers)
    started = time.perf_counter()
    predict_logits(model, clips, workers=workers)
    return time.perf_counter() - started


def refit_seconds(workers: int) -> float:
    """Seconds the shipped model's head refit takes on `REFIT_COPIES` augmented noise clips, split as
    fine-tuning splits it (its pool already started, as fine-tuning's is)."""
    model = load_checkpoint(DEFAULT_MODEL_DIR).model
    clips = noise_clips(model, REFIT_COPIES)
    augment = Augmenter(FINETUNE_AUGMENT, model.frontend)
    generators = [torch.Generator().manual_seed(seed) for seed in part_seeds(0, workers)]
    copies = np.ones(len(clips), np.int64)
    with split_pool(workers) as pool:
        started = time.perf_counter()
        refit_on_clips(model, clips, copies, augment, generators, FinetuneConfig().refit_anchor, pool)
        return time.perf_counter() - started


def timed(key: str, seconds: dict[int, list[float]], settings: list[int]) -> dict:
    """{key: each setting's median in ms, key_runs: every run's, key_speed_over_first: the first's median over each}."""
    medians = {workers: 1000 * statistics.median(values) for workers, values in seconds.items()}
    return {
        key: medians,
        f"{key}_runs": {workers: [1000 * value for value in values] for workers, values in seconds.items()},
        f"{key}_speed_over_first": {workers: medians[settings[0]] / ms for workers, ms in medians.items()},
    }


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
    steps: dict[int, list[float]] = {workers: [] for workers in settings}
    scoring: dict[int, list[float]] = {workers: [] for workers in settings}
    refit: dict[int, list[float]] = {workers: [] for workers in settings}
    for _ in range(args.repeats):
        for workers in settings:
            steps[workers].append(statistics.median(step_seconds(workers, args.steps)))
            scoring[workers].append(scoring_seconds(workers))
            refit[workers].append(refit_seconds(workers))
    figures = {
        "steps": args.steps,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "scored_clips": SCORED_CLIPS,
        "refit_copies": REFIT_COPIES,
        **timed("step_ms", steps, settings),
        **timed("scoring_ms", scoring, settings),
        **timed("refit_ms", refit, settings),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for workers in settings:
            print(
                f"{workers} worker(s): {figures['step_ms'][workers]:7.1f} ms a step"
                f" ({figures['step_ms_speed_over_first'][workers]:.2f}x the first's speed),"
                f" {figures['scoring_ms'][workers]:7.1f} ms scoring {SCORED_CLIPS} clips"
                f" ({figures['scoring_ms_speed_over_first'][workers]:.2f}x),"
                f" {figures['refit_ms'][workers]:7.1f} ms refitting the head on {REFIT_COPIES} copies"
                f" ({figures['refit_ms_speed_over_first'][workers]:.2f}x)"
            )
        print(
            f"medians of {args.repeats} fine-tunes x {args.steps} steps each, {args.repeats} scorings and refits,"
            f" {figures['torch_threads']} torch threads"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
