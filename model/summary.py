"""A loaded model described in plain values, for the app (which never handles tensors)."""

from __future__ import annotations

from model.checkpoint import Checkpoint


def describe_checkpoint(checkpoint: Checkpoint) -> dict:
    """{name, path, labels, device, cell, layers, hidden, bidirectional, metrics} of a loaded model."""
    config = checkpoint.model.config
    return {
        "name": checkpoint.name,
        "path": str(checkpoint.path),
        "labels": list(config.labels),
        "device": checkpoint.model.device.type.upper(),
        "cell": config.cell,
        "layers": config.num_layers,
        "hidden": config.hidden_size,
        "bidirectional": config.bidirectional,
        "metrics": checkpoint.metrics,
    }
