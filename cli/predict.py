"""`python main.py predict --model DIR FILE...`: the top labels with probabilities for each file."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from audio.io import AudioFileError, fit_length, read_audio
from cli.common import add_device_option, add_model_option, load_model_from, run_command
from model.evaluation import predict_probabilities


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxgate predict", description=__doc__)
    add_model_option(parser)
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files (any rate or channels)")
    parser.add_argument("--top", type=int, default=3, help="how many labels to show (default: 3)")
    parser.add_argument("--json", action="store_true", help="one JSON line per file")
    add_device_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    model = load_model_from(args).model
    features = model.config.features
    failed = 0
    for name in args.files:
        try:
            audio = fit_length(read_audio(name, features.sample_rate), features.clip_samples)
        except AudioFileError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        probabilities = predict_probabilities(model, audio[None])[0]
        top = [(model.labels[i], float(probabilities[i])) for i in np.argsort(-probabilities)[: args.top]]
        if args.json:
            print(json.dumps({"file": name, "top": [{"label": label, "probability": p} for label, p in top]}))
        else:
            print(f"{name}: " + "  ".join(f"{label} {p:.1%}" for label, p in top))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
