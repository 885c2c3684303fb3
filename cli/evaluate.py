"""`python main.py eval --model DIR --data DIR [--json]`: accuracy, per class and confusion matrix.

`--clip-db D` scores the same clips as a microphone set too hot would deliver them: each
clip's peak driven D dB over full scale and cut there (`audio.perturb.overdrive`).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import torch

from audio.dataset import SPLITS, load_clips, scan_folder
from audio.perturb import overdrive
from cli.common import add_device_option, add_model_option, in_split, load_model_from, run_command
from model.evaluation import evaluate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxgate eval", description=__doc__)
    add_model_option(parser)
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="DIR",
        help="folder in Speech Commands layout; folders that are not model labels "
        "count as _unknown_ when the model has it",
    )
    parser.add_argument(
        "--split",
        choices=("all", *SPLITS),
        default="all",
        help="which clips: all (default), or one split from the folder's lists / speaker hash",
    )
    parser.add_argument(
        "--speakers",
        type=int,
        default=0,
        metavar="N",
        help="also list the N speakers with the most clips and their accuracy (the JSON always has every speaker)",
    )
    parser.add_argument(
        "--clip-db",
        type=float,
        metavar="D",
        help="clip every clip first, its peak driven D dB over full scale (a too-hot microphone)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    add_device_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    model = load_model_from(args).model
    scanned = [clip for root in args.data for clip in scan_folder(root, model.labels)]
    clips = in_split(scanned, args.split, ", ".join(args.data))
    loaded = load_clips(clips, model.labels, model.config.features)
    if args.clip_db is not None:
        drive = torch.full((len(loaded),), args.clip_db)
        loaded = replace(loaded, waveforms=overdrive(torch.from_numpy(loaded.waveforms), drive).numpy())
    result = evaluate(model, loaded)
    print(json.dumps(result.to_dict()) if args.json else result.format_text(args.speakers))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
