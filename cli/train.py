"""`python main.py train --data DIR [--data DIR ...] --out DIR`: train a classifier from scratch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from audio.augment import AugmentConfig, Augmenter, load_noise_bank
from audio.dataset import LIST_FILES, ClipSet, discover_labels, load_splits, speaker_of
from audio.labels import DEFAULT_LABELS
from cli.common import add_device_option, run_command
from model.checkpoint import load_checkpoint, save_checkpoint
from model.classifier import KeywordClassifier
from model.config import POOLINGS, ModelConfig
from model.device import resolve_device
from model.evaluation import evaluate
from model.training import TrainConfig, train_model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxgate train", description=__doc__)
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="DIR",
        help="folder in Speech Commands layout; repeat to combine folders",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="model folder to write (best epoch kept)")
    parser.add_argument(
        "--labels",
        default="auto",
        help="comma-separated labels, 'default' for the 12-class task, or 'auto' for the "
        "data's folder names (default: auto); other folders train _unknown_ if listed",
    )
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--lr", type=float, default=TrainConfig.learning_rate, help="peak learning rate")
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument(
        "--ema",
        type=float,
        default=TrainConfig.ema_decay,
        metavar="DECAY",
        help="validate and save a moving average of the weights, e.g. 0.999 (default 0: off)",
    )
    parser.add_argument(
        "--word-loss",
        type=float,
        default=TrainConfig.word_loss_weight,
        metavar="WEIGHT",
        help="also train a head that names each clip's word (commands and other words with a "
        "folder of their own), with this weight: it keeps the words apart that the "
        "product's head lumps into _unknown_, for fine-tuning to new words (default 0: off)",
    )
    parser.add_argument("--hidden-size", type=int, default=ModelConfig.hidden_size)
    parser.add_argument("--layers", type=int, default=ModelConfig.num_layers)
    parser.add_argument("--unidirectional", action="store_true", help="forward direction only")
    parser.add_argument("--dropout", type=float, default=ModelConfig.dropout)
    parser.add_argument("--pooling", choices=POOLINGS, default=ModelConfig.pooling)
    parser.add_argument(
        "--noise",
        action="append",
        default=[],
        metavar="DIR",
        help="folder of background-noise WAVs mixed into training clips (repeatable; "
        "default: synthetic coloured noise)",
    )
    parser.add_argument("--no-augment", action="store_true", help="train on the clean clips only")
    parser.add_argument(
        "--augment",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one augmentation setting, e.g. noise_prob=0.5 or snr_db_range=0,20 "
        "(repeatable; the settings are listed in audio/augment.py)",
    )
    parser.add_argument(
        "--train-on-validation",
        action="store_true",
        help="the final fit of a settled recipe: validation clips join the training clips, so no "
        "epoch is picked on them (the one with the lowest training loss is kept); test "
        "clips stay held out",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_device_option(parser)
    return parser


def parse_labels(text: str, data: list[str]) -> tuple[str, ...]:
    if text == "auto":
        return discover_labels(data)
    if text == "default":
        return DEFAULT_LABELS
    return tuple(label.strip() for label in text.split(",") if label.strip())


def require_training_clips(splits: dict[str, ClipSet], roots: list[str]) -> None:
    """Raises ValueError when no clip is left to train on, saying why when the split took them all: a folder of one
    person's recordings (the app's takes, say) holds a single speaker, who lands in one split."""
    if len(splits["train"]):
        return
    held = {split: clips for split, clips in splits.items() if len(clips)}
    if not held:
        raise ValueError("no training clips: check the data folders and labels")
    where = f"no training clips: all {sum(map(len, held.values()))} fell in the {' and '.join(held)} split"
    if any((Path(root) / name).is_file() for root in roots for name in LIST_FILES.values()):
        raise ValueError(f"{where}, as {' and '.join(LIST_FILES.values())} name them: leave some out of those lists")
    speakers = sorted({speaker_of(Path(path)) for clips in held.values() for path in clips.paths})
    shown = ", ".join(speakers[:5]) + (f" and {len(speakers) - 5} more" if len(speakers) > 5 else "")
    who = (
        f"its one speaker ({shown}) landed"
        if len(speakers) == 1
        else f"its {len(speakers)} speakers ({shown}) all landed"
    )
    raise ValueError(
        f"{where}. Without {' or '.join(LIST_FILES.values())} a folder is split by speaker (the file name's part "
        f"before _nohash_), and {who} there: name the held-out clips in those files, or add recordings of more "
        "speakers"
    )


def run(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    torch.manual_seed(args.seed)
    config = ModelConfig(
        labels=parse_labels(args.labels, args.data),
        hidden_size=args.hidden_size,
        num_layers=args.layers,
        bidirectional=not args.unidirectional,
        dropout=args.dropout,
        pooling=args.pooling,
    )
    # Every option is checked before the clips load, which can take minutes for a large corpus.
    train_config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        ema_decay=args.ema,
        word_loss_weight=args.word_loss,
    )
    augment_config = (AugmentConfig.off() if args.no_augment else AugmentConfig()).with_settings(args.augment)
    splits = load_splits(
        args.data, config.labels, config.features, progress=not args.quiet, fold_validation=args.train_on_validation
    )
    for split, clips in splits.items():
        print(f"{split}: {len(clips)} clips {clips.counts()}")
    require_training_clips(splits, args.data)
    model = KeywordClassifier(config).to(device)
    noise = load_noise_bank(args.noise, config.features.sample_rate)
    augmenter = Augmenter(augment_config, model.frontend, noise).to(device)
    summary = {
        "data": args.data,
        "noise": args.noise,
        "device": str(device),
        "augment": augment_config.to_dict(),
        "trained_on_validation": args.train_on_validation,
    }
    result = train_model(
        model,
        splits["train"],
        splits["validation"],
        train_config,
        args.out,
        augment=augmenter,
        summary=summary,
        progress=not args.quiet,
    )
    best = load_checkpoint(args.out, device)
    metrics = dict(best.metrics)
    if len(splits["test"]):
        test = evaluate(best.model, splits["test"])
        metrics.update(test_accuracy=test.accuracy, test_clips=test.n)
        save_checkpoint(best.model, args.out, training=best.training, metrics=metrics)
    print(json.dumps({"out": args.out, "best_epoch": result.best_epoch, **metrics}))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
