"""Refitting the head after fine-tuning: the last layer solved to convergence on the new features.

Fine-tuning ends after a few epochs with a head that is still chasing moving features. Once the
recurrent layers are fixed, the head alone is a convex problem (multinomial logistic regression),
so it can be solved outright on the fine-tuned embeddings of the training clips, the user's takes
several times over in fresh augmentations, with the classes balanced: classifier re-training
("cRT", Kang et al., "Decoupling Representation and Classifier for Long-Tailed Recognition",
2020). A penalty on the distance from the fine-tuned head keeps the solution near it, so the old
words' rows move only as far as the new features ask. Measured with `bench.own_voice`
(docs/fine-tuning.md, "Refitting the head").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor

import numpy as np
import torch
from torch import nn

from audio.dataset import ClipSet
from model.classifier import KeywordClassifier
from model.grow import embed
from model.training import class_weights


def refit_on_clips(
    model: KeywordClassifier,
    clips: ClipSet,
    copies: np.ndarray,
    features: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
    generators: Sequence[torch.Generator],
    anchor: float,
    pool: Executor | None = None,
) -> tuple[float, float]:
    """Refit the head on clip i's embedding `copies[i]` times, each through `features` anew.

    The copies are embedded in one part per generator, each drawing from its own, on `pool`'s threads
    (fine-tuning's split pool; without one, one part after another here). Returns the objective before and
    after (`refit_head`).
    """
    indices = np.repeat(np.arange(len(clips)), copies)

    def embedded(part: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        return embed(model, clips.waveforms[part], features=features, generator=generator)

    parts = np.array_split(indices, len(generators))
    embeddings = torch.cat(list((pool.map if pool else map)(embedded, parts, generators)))
    return refit_head(model, embeddings, torch.from_numpy(clips.targets[indices]).to(model.device), anchor)


def refit_head(
    model: KeywordClassifier, embeddings: torch.Tensor, targets: torch.Tensor, anchor: float, iterations: int = 100
) -> tuple[float, float]:
    """Solve the head in place: balanced cross-entropy + anchor * ||W - W_finetuned||^2, by L-BFGS.

    Returns the objective before and after. The bias is not anchored (one number a class).
    """
    start_weight = model.head.weight.detach().clone()  # (classes, features)
    weight = start_weight.clone().requires_grad_(True)
    bias = model.head.bias.detach().clone().requires_grad_(True)
    balance = class_weights(targets.cpu().numpy(), len(model.labels)).to(embeddings.device)

    def objective() -> torch.Tensor:
        logits = embeddings @ weight.T + bias  # (n, classes)
        return (
            nn.functional.cross_entropy(logits, targets, weight=balance)
            + anchor * (weight - start_weight).square().sum()
        )

    optimizer = torch.optim.LBFGS([weight, bias], max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    with torch.no_grad():
        before = float(objective())
    optimizer.step(closure)
    with torch.no_grad():
        after = float(objective())
        model.head.weight.copy_(weight)
        model.head.bias.copy_(bias)
    return before, after
