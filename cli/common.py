"""Options and error reporting every command shares."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from audio.dataset import Clip
from model.checkpoint import DEFAULT_MODEL_DIR, Checkpoint, load_checkpoint
from model.device import DEVICE_CHOICES, resolve_device
from model.user_errors import USER_ERRORS


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        choices=DEVICE_CHOICES,
        default="auto",
        help="where the model runs; auto picks CUDA, then MPS, then CPU (default: auto)",
    )


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=str(DEFAULT_MODEL_DIR),
        help="model folder (model.safetensors + config.json; default: the shipped model)",
    )


def in_split(clips: list[Clip], split: str, where: str) -> list[Clip]:
    """The clips of `split` ("all": every one). Raises ValueError when none is in it, naming the splits there are:
    a folder without list files splits by speaker, and a small one can leave a split empty."""
    chosen = [clip for clip in clips if split in ("all", clip.split)]
    if not chosen:
        found = sorted({clip.split for clip in clips})
        there = f"; it has {' and '.join(found)} clips, and --split all takes every one" if found else ""
        raise ValueError(f"no clips for the model's labels in {where} (split: {split}){there}")
    return chosen


def load_model_from(args: argparse.Namespace) -> Checkpoint:
    return load_checkpoint(args.model, resolve_device(args.device))


def run_command(
    main: Callable[[argparse.Namespace], int], parser: argparse.ArgumentParser, argv: list[str] | None
) -> int:
    """Parse, run, and turn a user error into one line on stderr and exit status 2."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return main(args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
