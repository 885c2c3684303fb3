"""Seed ensembles: how much of the own-voice bench's miss is one fine-tune's luck.

    python -m bench.seed_ensemble --takes KEEP/takes --models KEEP0/model KEEP1/model ... [--sizes 2,3] [--json]

Each `--models` folder is a fine-tune of the same takes with another seed (the own-voice bench's
`--keep DIR`, run with `--seed 0`, `1`, ...; `--takes` is any one run's kept takes, the same for
every seed of a draw). Every model scores the held-out takes alone, then every set of k of them
averages its probabilities and is scored too. Takes a single model gets wrong that an average of
several gets right are one run's variance; takes every average still gets wrong are what the
models cannot tell apart. The app ships one model: this measures the miss, it is not a way to
close it in 30 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from bench.own_voice import labelled_takes
from cli.common import run_command
from model.checkpoint import load_checkpoint
from model.device import describe_machine
from model.evaluation import predict_probabilities


def ensemble_accuracies(probabilities: np.ndarray, truth: np.ndarray, size: int) -> list[float]:
    """Accuracy of the averaged probabilities of every `size` models, in `itertools.combinations` order.

    probabilities (models, takes, labels); truth (takes,) label indices.
    """
    return [
        float((probabilities[list(group)].mean(axis=0).argmax(axis=1) == truth).mean())
        for group in itertools.combinations(range(len(probabilities)), size)
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed_ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--takes", type=Path, required=True, help="a kept takes folder (its testing_list.txt)")
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="model folders fine-tuned on them")
    parser.add_argument("--sizes", help="ensemble sizes, comma-separated (default: 2 up to every model)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    models = [load_checkpoint(folder).model for folder in args.models]
    labels = models[0].labels
    if any(model.labels != labels for model in models):
        raise ValueError("the models have different labels: fine-tune them on the same takes")
    sizes = sorted({int(size) for size in args.sizes.split(",")}) if args.sizes else list(range(2, len(models) + 1))
    if args.sizes and (sizes[0] < 1 or sizes[-1] > len(models)):
        raise ValueError(f"--sizes must lie between 1 and the {len(models)} models given, got {args.sizes}")
    _, held = labelled_takes(args.takes, models[0].config.features)
    if not len(held):
        raise ValueError(f"no held-out takes in {args.takes} (it needs a testing_list.txt)")
    if unknown := sorted(set(held.labels) - set(labels)):
        raise ValueError(f"the models were not taught {', '.join(unknown)}: give the takes they were fine-tuned on")
    truth = np.array([labels.index(held.labels[target]) for target in held.targets])  # (takes,)
    probabilities = np.stack([predict_probabilities(model, held.waveforms) for model in models])
    single = ensemble_accuracies(probabilities, truth, 1)
    ensembles = {}
    for size in sizes:
        accuracies = ensemble_accuracies(probabilities, truth, size)
        ensembles[size] = {
            "mean": float(np.mean(accuracies)),
            "min": min(accuracies),
            "max": max(accuracies),
            "groups": len(accuracies),
        }
    figures = {
        "machine": describe_machine(),
        "held_out_takes": len(truth),
        "models": [str(folder) for folder in args.models],
        "single": single,
        "ensembles": ensembles,
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{len(truth)} held-out takes; each model alone: " + ", ".join(f"{value:.1%}" for value in single))
    for size, figure in ensembles.items():
        print(
            f"averages of {size} ({figure['groups']}): mean {figure['mean']:.2%}, "
            f"{figure['min']:.1%}-{figure['max']:.1%}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
