"""Folders in Google Speech Commands layout: one folder per label of 16 kHz mono WAVs, with
optional `validation_list.txt` / `testing_list.txt`. The synthetic corpus, the user's takes and
real Speech Commands data all load through here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from audio.config import FeatureConfig
from audio.io import AudioFileError, fit_length, read_audio
from audio.labels import BACKGROUND_NOISE_FOLDER, UNKNOWN

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
LIST_FILES = {"validation": "validation_list.txt", "test": "testing_list.txt"}
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
_MAX_CLIPS_PER_CLASS = 2**27 - 1  # the constant of Speech Commands' own split function


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    split: str


@dataclass
class ClipSet:
    """Clips decoded into memory: waveforms (clips, samples) float32, targets (clips,) int64."""

    waveforms: np.ndarray
    targets: np.ndarray
    labels: tuple[str, ...]
    paths: list[str]

    def __len__(self) -> int:
        return len(self.targets)

    def counts(self) -> dict[str, int]:
        return {label: int((self.targets == index).sum()) for index, label in enumerate(self.labels)}


def speaker_of(path: Path) -> str:
    """The speaker part of a Speech Commands name (before `_nohash_`), else the whole stem."""
    return re.sub(r"_nohash_.*$", "", path.stem)


def hash_split(path: Path, validation_percent: float = 10.0, testing_percent: float = 10.0) -> str:
    """Speech Commands' deterministic split by speaker: the same speaker always lands together."""
    digest = hashlib.sha1(speaker_of(path).encode()).hexdigest()
    percent = (int(digest, 16) % (_MAX_CLIPS_PER_CLASS + 1)) * (100.0 / _MAX_CLIPS_PER_CLASS)
    if percent < validation_percent:
        return "validation"
    if percent < validation_percent + testing_percent:
        return "test"
    return "train"


def label_folders(root: Path) -> list[Path]:
    """Sub-folders that hold labelled clips (not hidden, not `_background_noise_`)."""
    return sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != BACKGROUND_NOISE_FOLDER
    )


def discover_labels(roots: Sequence[str | os.PathLike]) -> tuple[str, ...]:
    """Every label folder name found in `roots`, sorted."""
    return tuple(sorted({folder.name for root in roots for folder in label_folders(_checked_root(root))}))


def map_label(folder: str, labels: Sequence[str]) -> str | None:
    """The model label a folder's clips train: itself, else `_unknown_` if the model has it, else None."""
    if folder in labels:
        return folder
    return UNKNOWN if UNKNOWN in labels else None


def _checked_root(root: str | os.PathLike) -> Path:
    path = Path(root)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such data folder; give a folder with one sub-folder per label")
    return path


def _read_list(root: Path, name: str) -> set[str]:
    path = root / name
    if not path.is_file():
        return set()
    return {line.strip().replace("\\", "/") for line in path.read_text().splitlines() if line.strip()}


def scan_folder(root: str | os.PathLike, labels: Sequence[str]) -> list[Clip]:
    """All clips under `root` with their model label and split.

    With list files, clips named there are validation / test and the rest train; without,
    clips split by speaker hash. Folders the model cannot learn are skipped with a warning.
    """
    root = _checked_root(root)
    lists = {split: _read_list(root, name) for split, name in LIST_FILES.items()}
    has_lists = any(lists.values())
    clips = []
    for folder in label_folders(root):
        label = map_label(folder.name, labels)
        if label is None:
            log.warning("%s: skipped, %r is not a label of the model and it has no %s", folder, folder.name, UNKNOWN)
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in AUDIO_SUFFIXES or path.name.startswith("."):
                continue
            relative = f"{folder.name}/{path.name}"
            if has_lists:
                split = next((s for s, names in lists.items() if relative in names), "train")
            else:
                split = hash_split(path)
            clips.append(Clip(path=path, label=label, split=split))
    return clips


def _read_clip(clip: Clip, config: FeatureConfig) -> np.ndarray | None:
    try:
        return fit_length(read_audio(clip.path, config.sample_rate), config.clip_samples)
    except AudioFileError as error:
        log.warning("skipped %s", error)
        return None


def load_clips(
    clips: Sequence[Clip], labels: Sequence[str], config: FeatureConfig | None = None, progress: bool = False
) -> ClipSet:
    """Decode `clips` to 1 s waveforms. An unreadable file is skipped with a warning naming it."""
    config = config or FeatureConfig()
    labels = tuple(labels)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # decoding and soxr release the GIL
        decoded = list(
            tqdm(
                pool.map(lambda c: _read_clip(c, config), clips),
                total=len(clips),
                disable=not progress,
                desc="loading",
                unit="clip",
            )
        )
    kept = [(clip, audio) for clip, audio in zip(clips, decoded) if audio is not None]
    waveforms = np.stack([audio for _, audio in kept]) if kept else np.zeros((0, config.clip_samples), np.float32)
    return ClipSet(
        waveforms=waveforms.astype(np.float32, copy=False),
        targets=np.array([labels.index(clip.label) for clip, _ in kept], dtype=np.int64),
        labels=labels,
        paths=[str(clip.path) for clip, _ in kept],
    )


def load_splits(
    roots: Sequence[str | os.PathLike],
    labels: Sequence[str],
    config: FeatureConfig | None = None,
    progress: bool = False,
    fold_validation: bool = False,
) -> dict[str, ClipSet]:
    """Scan and decode every folder in `roots`: {"train": ..., "validation": ..., "test": ...}.

    `fold_validation` moves the validation clips into training, in place (scan order kept), for
    the final fit of a recipe whose epoch count was settled on validation; test clips stay out.
    """
    clips = [clip for root in roots for clip in scan_folder(root, labels)]
    if fold_validation:
        clips = [replace(clip, split="train") if clip.split == "validation" else clip for clip in clips]
    return {split: load_clips([c for c in clips if c.split == split], labels, config, progress) for split in SPLITS}
