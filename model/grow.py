"""Growing a trained classifier's vocabulary: new labels get new rows in the linear head.

Every existing weight is kept (the head's old rows included), so the grown model gives the old
labels the same logits as before. A new row is *imprinted* (Qi et al., "Low-Shot Learning with
Imprinted Weights", 2018) from the pooled embeddings of the new word's clips: their mean
direction, scaled to the typical norm of the old rows, with a bias that puts it IMPRINT_MARGIN
ahead of the best old label on those clips (on average), so the new word wins on its own clips
before any training. A label without clips starts as a copy of
`_unknown_`'s row (what the model said for that word until now) minus a small margin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import torch

from audio.labels import UNKNOWN, validate_label
from model.classifier import KeywordClassifier

UNKNOWN_MARGIN = 1.0  # logit a copied `_unknown_` row starts below the original
IMPRINT_MARGIN = 0.5  # on average over its clips, an imprinted label starts this far ahead of the old ones


@torch.no_grad()
def embed(
    model: KeywordClassifier,
    waveforms: np.ndarray,
    batch_size: int = 128,
    features: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pooled top-layer states, the head's input: (clips, samples) -> (clips, directions * hidden).

    `features(batch, generator)` maps clips to MFCC (an augmenter, say); the model's own front end
    by default. The model runs in eval mode either way (no dropout).
    """
    was_training = model.training
    model.eval()
    parts = []
    for start in range(0, len(waveforms), batch_size):
        batch = torch.from_numpy(waveforms[start : start + batch_size]).to(model.device)  # (batch, samples)
        parts.append(model.embed(model.features(batch) if features is None else features(batch, generator)))
    model.train(was_training)
    return torch.cat(parts) if parts else torch.zeros(0, model.recurrent.output_size, device=model.device)


@torch.no_grad()
def grow_labels(
    model: KeywordClassifier, labels: Sequence[str], examples: Mapping[str, np.ndarray] | None = None
) -> KeywordClassifier:
    """A copy of `model` whose labels are its own followed by the new ones in `labels`.

    `examples` maps a new label to clips (clips, samples) used to imprint its row. Labels the
    model already has are ignored; the order of the old labels never changes.
    """
    new = [validate_label(label) for label in labels if label not in model.labels]
    new = list(dict.fromkeys(new))
    config = replace(model.config, labels=(*model.labels, *new))
    grown = KeywordClassifier(config).to(model.device)
    state = {name: value for name, value in model.state_dict().items() if not name.startswith("head.")}
    grown.load_state_dict(state, strict=False)
    old_weight, old_bias = model.head.weight, model.head.bias  # (old, features), (old,)
    rows = [_row(model, label, (examples or {}).get(label)) for label in new]
    grown.head.weight.copy_(torch.cat([old_weight, *[weight[None] for weight, _ in rows]]))
    grown.head.bias.copy_(torch.cat([old_bias, torch.stack([bias for _, bias in rows])]) if rows else old_bias)
    grown.train(model.training)
    return grown


def _row(model: KeywordClassifier, label: str, clips: np.ndarray | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight (features,), bias ()) for a new label's head row."""
    weight, bias = model.head.weight, model.head.bias
    if clips is not None and len(clips):
        embedded = embed(model, clips)  # (clips, features)
        direction = embedded.mean(dim=0)  # (features,)
        row = direction * weight.norm(dim=1).mean() / direction.norm().clamp_min(1e-8)
        best_old = model.head(embedded).max(dim=1).values  # (clips,) the old label each clip goes to
        return row, (best_old - embedded @ row).mean() + IMPRINT_MARGIN
    if UNKNOWN in model.labels:
        index = model.labels.index(UNKNOWN)
        return weight[index].clone(), bias[index] - UNKNOWN_MARGIN
    return weight.mean(dim=0), bias.mean() - UNKNOWN_MARGIN
