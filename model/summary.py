"""A model folder described in plain values, for the app (which never handles tensors)."""

from __future__ import annotations

import os

from model.checkpoint import load_checkpoint
from model.device import resolve_device


def describe_model(folder: str | os.PathLike, device: str = "auto") -> dict:
    """Load a model folder and return {name, path, labels, device, cell, layers, hidden, metrics}.

    Raises CheckpointError (a ValueError) naming the bad file.
    """
    checkpoint = load_checkpoint(folder, resolve_device(device))
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
