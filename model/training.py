"""The training loop: AdamW with a one-cycle schedule, gradient clipping, validation each
epoch, the best checkpoint kept. Reproducible for a seed on the same device.

With `word_loss_weight` set, a second, throwaway head names each clip's word: the commands and
every other word with a folder of its own (`_unknown_` clips, one word each, and `_silence_` are
left out). The product's head lumps all other words into `_unknown_`, which teaches the
recurrent layers to hear no difference between them; the word head is meant to keep those
differences for words a user teaches later. It is not saved. Tried once for the default model
and not shipped: fine-tuning from it was no better (docs/fine-tuning.md, "A word head in base
training").

With `ema_decay` set, an exponential moving average of the weights is kept beside the trained
ones (torch's `AveragedModel`), and it is the average that is validated and saved: one epoch's
weights swing with the last few hundred augmented batches, the average much less.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from audio.dataset import ClipSet
from audio.labels import SILENCE, UNKNOWN
from model.checkpoint import save_checkpoint
from model.classifier import KeywordClassifier
from model.evaluation import evaluate


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-2
    clip_grad_norm: float = 1.0  # guards against the exploding-gradient case
    label_smoothing: float = 0.05
    balance_classes: bool = True  # weight the loss so every class counts alike
    ema_decay: float = 0.0  # 0: off; else the weight average kept per step, e.g. 0.999
    word_loss_weight: float = 0.0  # 0: off; else the weight of the word-naming head's loss
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError(f"epochs, batch size and learning rate must be positive: {self}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.word_loss_weight < 0:
            raise ValueError(f"word_loss_weight must not be negative, got {self.word_loss_weight}")


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float
    validation_accuracy: float | None
    seconds: float
    is_best: bool


@dataclass
class TrainResult:
    history: list[EpochReport] = field(default_factory=list)
    best_epoch: int = 0
    best_accuracy: float | None = None
    stopped: bool = False


def class_weights(targets: np.ndarray, classes: int) -> torch.Tensor:
    """Inverse-frequency weights (classes,), mean 1 over the classes present."""
    counts = np.bincount(targets, minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


NO_WORD = -100  # cross-entropy's ignore_index: a clip without a word of its own


def word_targets(clips: ClipSet) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each clip's word as an index into the returned words, from its folder: (clips,) int64.

    `_unknown_` clips (each a different word) and `_silence_` get NO_WORD.
    """
    folders = [Path(path).parent.name for path in clips.paths]
    words = tuple(sorted({folder for folder in folders if folder not in (UNKNOWN, SILENCE)}))
    index = {word: i for i, word in enumerate(words)}
    return np.array([index.get(folder, NO_WORD) for folder in folders], np.int64), words


def train_model(
    model: KeywordClassifier,
    train: ClipSet,
    validation: ClipSet | None,
    config: TrainConfig,
    out_dir: str | Path | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    summary: dict | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    progress: bool = True,
) -> TrainResult:
    """Train `model` in place; save the best epoch (by validation accuracy) to `out_dir`.

    `augment(waveforms, generator)` maps a batch of clean clips to MFCC features; without
    it the model's own front end is used. `should_stop` is polled every batch; when it
    returns true the loop ends and what is saved stays as it was.
    """
    if len(train) == 0:
        raise ValueError("no training clips: check the data folders and labels")
    device = model.device
    generator = torch.Generator(device=device).manual_seed(config.seed)
    order_generator = torch.Generator().manual_seed(config.seed)
    waveforms = torch.from_numpy(train.waveforms)
    targets = torch.from_numpy(train.targets)
    steps_per_epoch = -(-len(train) // config.batch_size)
    words, word_names = word_targets(train)
    words = torch.from_numpy(words)
    word_head = (
        nn.Linear(model.recurrent.output_size, len(word_names)).to(device)
        if config.word_loss_weight and word_names
        else None
    )
    word_loss = nn.CrossEntropyLoss(ignore_index=NO_WORD)
    parameters = [*model.parameters(), *(word_head.parameters() if word_head is not None else [])]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch
    )
    weights = class_weights(train.targets, len(model.labels)) if config.balance_classes else None
    loss_function = nn.CrossEntropyLoss(
        weight=None if weights is None else weights.to(device), label_smoothing=config.label_smoothing
    )
    features = augment or (lambda batch, _generator: model.features(batch))
    averaged = None
    if config.ema_decay:
        averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)
    kept = model if averaged is None else averaged.module  # the weights validated and saved
    result = TrainResult()
    best_score = -float("inf")  # validation accuracy, or minus the training loss without validation clips
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(train), generator=order_generator)
        total_loss, correct = 0.0, 0
        batches = tqdm(
            order.split(config.batch_size),
            desc=f"epoch {epoch}/{config.epochs}",
            disable=not progress,
            unit="batch",
            leave=False,
        )
        for indices in batches:
            if should_stop():
                result.stopped = True
                return result
            batch, batch_targets = waveforms[indices].to(device), targets[indices].to(device)
            embedding = model.embed(features(batch, generator))  # (batch, dirs * hidden)
            logits = model.head(embedding)
            loss = loss_function(logits, batch_targets)
            if word_head is not None and (batch_words := words[indices].to(device)).ne(NO_WORD).any():
                loss = loss + config.word_loss_weight * word_loss(word_head(embedding), batch_words)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(parameters, config.clip_grad_norm)
            optimizer.step()
            schedule.step()
            if averaged is not None:
                averaged.update_parameters(model)
            total_loss += loss.item() * len(indices)
            correct += int((logits.argmax(dim=1) == batch_targets).sum())
            batches.set_postfix(loss=f"{loss.item():.3f}")
        accuracy = evaluate(kept, validation).accuracy if validation is not None and len(validation) else None
        score = accuracy if accuracy is not None else -total_loss
        is_best = score > best_score
        report = EpochReport(
            epoch,
            config.epochs,
            total_loss / len(train),
            correct / len(train),
            accuracy,
            time.perf_counter() - started,
            is_best,
        )
        result.history.append(report)
        if is_best:
            best_score, result.best_epoch, result.best_accuracy = score, epoch, accuracy
            if out_dir is not None:
                training = {
                    **(summary or {}),
                    "config": asdict(config),
                    "best_epoch": epoch,
                    "train_clips": len(train),
                    "history": [asdict(r) for r in result.history],
                }
                save_checkpoint(
                    kept,
                    out_dir,
                    training=training,
                    metrics={"validation_accuracy": accuracy, "train_accuracy": report.train_accuracy},
                )
        if progress:
            shown = "n/a" if accuracy is None else f"{accuracy:.2%}"
            tqdm.write(
                f"epoch {epoch}/{config.epochs}  loss {report.train_loss:.4f}  "
                f"train {report.train_accuracy:.2%}  validation {shown}  {report.seconds:.1f}s"
                + ("  (best, saved)" if is_best and out_dir is not None else "")
            )
        if on_epoch is not None:
            on_epoch(report)
    return result
