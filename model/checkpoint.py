"""Model folders: `model.safetensors` + `config.json`. Loading never unpickles anything.

config.json holds the format version, the ModelConfig, a training summary, metrics and the
SHA-256 of the weights file, so a weights file from another save is caught on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from audio.atomic import write_atomically, write_text_atomically
from model.classifier import KeywordClassifier
from model.config import ModelConfig

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


class CheckpointError(ValueError):
    """A model folder that cannot be loaded; the message names the file and the problem."""


@dataclass
class Checkpoint:
    """A loaded model with what its folder says about it."""

    model: KeywordClassifier
    path: Path
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_checkpoint(
    model: KeywordClassifier, folder: str | os.PathLike, training: dict | None = None, metrics: dict | None = None
) -> Path:
    """Write the model folder (weights first, then the config that vouches for them)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS_FILE
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    write_atomically(weights, lambda file: file.write(save(tensors, metadata={"format": "voxgate"})))
    document = {
        "format_version": FORMAT_VERSION,
        "model": model.config.to_dict(),
        "training": training or {},
        "metrics": metrics or {},
        "weights_sha256": _sha256(weights),
    }
    write_text_atomically(folder / CONFIG_FILE, json.dumps(document, indent=2, sort_keys=True))
    return folder


def read_config(folder: str | os.PathLike) -> dict:
    """The parsed config.json of a model folder, checked for format and required keys."""
    path = Path(folder) / CONFIG_FILE
    if not Path(folder).is_dir():
        raise CheckpointError(f"{folder}: no such model folder")
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; a model folder needs {CONFIG_FILE} and {WEIGHTS_FILE}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        version = document.get("format_version") if isinstance(document, dict) else None
        raise CheckpointError(f"{path}: format version {version!r}, this VoxGate reads {FORMAT_VERSION}")
    for key in ("model", "weights_sha256"):
        if key not in document:
            raise CheckpointError(f"{path}: missing the {key!r} entry")
    return document


def load_checkpoint(folder: str | os.PathLike, device: torch.device | str = "cpu") -> Checkpoint:
    """Load a model folder onto `device`, in eval mode. Raises CheckpointError naming the bad file."""
    folder = Path(folder)
    document = read_config(folder)
    config_path, weights = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    try:
        config = ModelConfig.from_dict(document["model"])
    except (TypeError, KeyError, ValueError) as error:
        raise CheckpointError(f"{config_path}: invalid model settings ({error})") from error
    if not weights.is_file():
        raise CheckpointError(f"{weights}: missing")
    if _sha256(weights) != document["weights_sha256"]:
        raise CheckpointError(f"{weights}: does not match {CONFIG_FILE} (truncated, or from another save)")
    try:
        state = load_file(weights)
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({error})") from error
    model = KeywordClassifier(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise CheckpointError(f"{weights}: tensors do not fit the settings in {CONFIG_FILE} ({error})") from error
    return Checkpoint(
        model=model.to(device).eval(),
        path=folder,
        training=document.get("training", {}),
        metrics=document.get("metrics", {}),
    )


DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "assets" / "models" / "default"
