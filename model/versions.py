"""Model versions: every fine-tune result kept as its own checkpoint folder, with a small index.

    models/index.json   {"current": "v0002", "versions": [{id, path, parent, time, labels,
                         before, after, summary}, ...]}
    models/v0001/       model.safetensors + config.json
    models/v0002/

`current` names the version the app loads (None: the shipped model). Switching and rolling
back only change `current`; nothing is ever deleted. The index is written atomically after
the checkpoint folder is complete, so a crash leaves at worst an unlisted folder.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from audio.atomic import read_json, remove_temp_files, write_json_atomically
from model.checkpoint import DEFAULT_MODEL_DIR, CheckpointError, load_checkpoint, save_checkpoint
from model.classifier import KeywordClassifier

INDEX_FILE = "index.json"
SHIPPED = "shipped"  # how the versions name the model in assets/, which is not one of them


def parent_name(model_folder: str | os.PathLike, shipped: str | os.PathLike = DEFAULT_MODEL_DIR) -> str:
    """What a version made from `model_folder` records as its parent: SHIPPED for the shipped model, else the
    folder's name (a version's id, for a version)."""
    folder = Path(model_folder)
    return SHIPPED if folder.resolve() == Path(shipped).resolve() else folder.name


@dataclass(frozen=True)
class Version:
    """One entry of the index; `before` / `after` are the held-out comparison's figures."""

    id: str
    path: Path
    parent: str
    time: str
    labels: tuple[str, ...]
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def to_dict(self, root: Path) -> dict:
        return {
            "id": self.id,
            "path": self.path.relative_to(root).as_posix(),
            "parent": self.parent,
            "time": self.time,
            "labels": list(self.labels),
            "before": self.before,
            "after": self.after,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict, root: Path) -> Version:
        return cls(
            id=data["id"],
            path=root / data["path"],
            parent=data.get("parent", ""),
            time=data.get("time", ""),
            labels=tuple(data.get("labels", ())),
            before=data.get("before", {}),
            after=data.get("after", {}),
            summary=data.get("summary", {}),
        )


def save_finetuned(
    model: KeywordClassifier, folder: str | os.PathLike, parent: str, before: dict, after: dict, summary: dict
) -> Path:
    """A fine-tuned model folder: its recipe (`summary`), the model it started from and its held-out
    scores before and after, which Versions… and `finetune --out` record alike."""
    return save_checkpoint(
        model, folder, training=summary, metrics={"held_out_before": before, "held_out_after": after, "parent": parent}
    )


class VersionStore:
    """The versions under `root` (created if missing)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        remove_temp_files(self.root)
        document = read_json(self.root / INDEX_FILE, {"current": None, "versions": []})
        try:
            self._versions = [Version.from_dict(entry, self.root) for entry in document.get("versions", [])]
        except (KeyError, TypeError) as error:
            raise ValueError(f"{self.root / INDEX_FILE}: malformed entry ({error}); restore or move it away") from error
        self._current = document.get("current")

    def versions(self) -> list[Version]:
        """Oldest first."""
        return list(self._versions)

    def get(self, version_id: str) -> Version:
        for version in self._versions:
            if version.id == version_id:
                return version
        raise ValueError(f"no model version {version_id!r}; known: {', '.join(v.id for v in self._versions) or 'none'}")

    @property
    def current(self) -> Version | None:
        return self.get(self._current) if self._current else None

    def current_path(self, default: str | os.PathLike) -> Path:
        """The folder of the current version, or `default` (the shipped model) when there is none."""
        current = self.current
        return current.path if current is not None else Path(default)

    def add(
        self, model: KeywordClassifier, parent: str, before: dict, after: dict, summary: dict, make_current: bool = True
    ) -> Version:
        """Save `model` as the next version (and make it current); returns its entry."""
        number = 1 + max((int(v.id[1:]) for v in self._versions if v.id[1:].isdigit()), default=0)
        while (self.root / f"v{number:04d}").exists():  # an unlisted folder a crash left: keep it, skip it
            number += 1
        version_id = f"v{number:04d}"
        folder = save_finetuned(model, self.root / version_id, parent, before, after, summary)
        version = Version(
            version_id,
            folder,
            parent,
            datetime.now().astimezone().isoformat(timespec="seconds"),
            tuple(model.labels),
            before,
            after,
            summary,
        )
        self._versions.append(version)
        if make_current:
            self._current = version_id
        self._write()
        return version

    def select(self, version_id: str | None) -> Version | None:
        """Make `version_id` current (None: back to the shipped model). Nothing is deleted."""
        version = self.get(version_id) if version_id else None
        self._current = version_id or None
        self._write()
        return version

    def _write(self) -> None:
        write_json_atomically(
            self.root / INDEX_FILE,
            {"current": self._current, "versions": [version.to_dict(self.root) for version in self._versions]},
        )


def export_model(folder: str | os.PathLike, destination: str | os.PathLike) -> Path:
    """Copy a model folder (weights and config.json) to destination/voxgate-<its name>, to use with
    `--model` elsewhere; returns the copy's folder.

    The copy is made under a hidden name, read back (`load_checkpoint` checks the weights' hash)
    and only then renamed, so a half-copied model never appears under the name. Raises
    FileExistsError when that folder exists and CheckpointError when the model does not load.
    """
    source = Path(folder)
    target = Path(destination) / f"voxgate-{source.name}"
    if target.exists():
        raise FileExistsError(f"{target} exists already; choose another folder")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)  # left by an export that was cut short
    try:
        shutil.copytree(source, partial)
        load_checkpoint(partial)
    except (OSError, CheckpointError):
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.replace(partial, target)
    return target
