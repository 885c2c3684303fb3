"""Batched prediction and the accuracy report (overall, per class, per speaker, confusion matrix)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from audio.dataset import ClipSet, speaker_of
from model.classifier import KeywordClassifier
from model.device import split_pool, split_workers


def predict_logits(
    model: KeywordClassifier, waveforms: np.ndarray, batch_size: int = 256, workers: int = 0
) -> torch.Tensor:
    """Waveforms (clips, samples) -> logits (clips, classes) on the CPU, in eval mode, in batches.

    The clips are split into `workers` parts (0: `model.device.split_workers`, one per torch thread on
    the CPU), each scored on its own thread; `python -m bench.finetune_workers` times it.
    """
    was_training = model.training
    model.eval()

    @torch.inference_mode()  # grad mode is per thread: the pool's threads need their own
    def score(part: np.ndarray) -> list[torch.Tensor]:
        batches = (torch.from_numpy(part[start : start + batch_size]) for start in range(0, len(part), batch_size))
        return [model(batch.to(model.device)).cpu() for batch in batches]

    parts = np.array_split(waveforms, max(1, min(split_workers(model.device, workers), len(waveforms))))
    with split_pool(len(parts)) as pool:
        logits = [batch for batches in pool.map(score, parts) for batch in batches]
    model.train(was_training)
    return torch.cat(logits) if logits else torch.zeros((0, len(model.labels)))


def predict_probabilities(model: KeywordClassifier, waveforms: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Waveforms (clips, samples) -> class probabilities (clips, classes), in eval mode."""
    return torch.softmax(predict_logits(model, waveforms, batch_size), dim=-1).numpy()


@dataclass(frozen=True)
class EvalReport:
    """confusion[true][predicted] counts; per_class maps a label, per_speaker a speaker (the
    file-name part before `_nohash_`, most clips first) to its accuracy (None for a label without
    clips) and clip count.

    A held-out split of a synthetic corpus can be dominated by one voice; per_speaker shows it.
    """

    labels: list[str]
    n: int
    accuracy: float
    per_class: dict[str, dict[str, float | None]]
    confusion: list[list[int]]
    per_speaker: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def format_text(self, speakers: int = 0) -> str:
        """The report as text; `speakers` > 0 adds that many of the largest speakers."""
        width = max(len(label) for label in self.labels)
        lines = [f"accuracy {self.accuracy:.2%} on {self.n} clips", ""]
        lines += [
            f"  {label:<{width}}  {'—' if stats['accuracy'] is None else format(stats['accuracy'], '.2%'):>7}"
            f"  of {int(stats['n'])}"
            for label, stats in self.per_class.items()
        ]
        lines += [
            "",
            "confusion (rows: true, columns: predicted)",
            " " * (width + 2) + " ".join(f"{label[:5]:>5}" for label in self.labels),
        ]
        lines += [
            f"  {label:<{width}}" + " ".join(f"{count:5d}" for count in row)
            for label, row in zip(self.labels, self.confusion)
        ]
        if speakers and self.per_speaker:
            shown = list(self.per_speaker.items())[:speakers]
            lines += ["", f"largest speakers ({len(shown)} of {len(self.per_speaker)})"]
            lines += [f"  {name}  {stats['accuracy']:7.2%}  of {int(stats['n'])}" for name, stats in shown]
        return "\n".join(lines)


def report(
    targets: np.ndarray, predictions: np.ndarray, labels: tuple[str, ...], paths: list[str] | None = None
) -> EvalReport:
    """Accuracy figures from true and predicted class indices, both (clips,); per speaker with `paths`."""
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(confusion, (targets, predictions), 1)
    per_class = {
        label: {"accuracy": float(confusion[i, i] / row.sum()) if row.sum() else None, "n": int(row.sum())}
        for i, (label, row) in enumerate(zip(labels, confusion))
    }
    n = len(targets)
    return EvalReport(
        labels=list(labels),
        n=n,
        accuracy=float((targets == predictions).mean()) if n else 0.0,
        per_class=per_class,
        confusion=confusion.tolist(),
        per_speaker=accuracy_by_speaker(paths, targets == predictions) if paths else {},
    )


def accuracy_by_speaker(paths: list[str], right: np.ndarray) -> dict[str, dict[str, float]]:
    """{speaker: {accuracy, n}} from clip paths and a (clips,) bool array, most clips first."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for path, correct in zip(paths, right):
        groups[speaker_of(Path(path))].append(bool(correct))
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return {name: {"accuracy": float(np.mean(values)), "n": len(values)} for name, values in ordered}


def evaluate(model: KeywordClassifier, clips: ClipSet, batch_size: int = 256) -> EvalReport:
    if clips.labels != model.labels:
        raise ValueError(f"clip labels {clips.labels} differ from the model's {model.labels}")
    predictions = predict_probabilities(model, clips.waveforms, batch_size).argmax(axis=1)
    return report(clips.targets, predictions, model.labels, clips.paths)
