"""Reading sound files the user imports as takes, off the GUI thread.

Decoding and resampling a few hundred files takes seconds. The worker only reads and cuts; the
recorder panel saves what comes back, since a `TakeStore` is used from one thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from audio.config import FeatureConfig
from audio.dataset import AUDIO_SUFFIXES
from audio.io import read_audio
from audio.trim import takes_of

log = logging.getLogger(__name__)


class ImportWorker(QObject):
    """Lives on a QThread; `cut` turns files into takes' clips (one per word: a file may hold several)
    and names the files it cannot use."""

    progress = Signal(int, int)  # (files read, files asked for)
    finished = Signal(str, list, list)  # (label, [(file name, [clip (clip_samples,), ...])], [problem, ...])

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.config = config

    @Slot(str, list)
    def cut(self, label: str, paths: list[str]) -> None:
        """`paths`: sound files, or folders whose sound files (not their subfolders') are imported."""
        found: list[tuple[str, list[np.ndarray]]] = []
        problems: list[str] = []
        files = [str(file) for path in paths for file in sound_files(Path(path))]
        for done, path in enumerate(files, 1):
            name = Path(path).name
            try:
                audio = read_audio(path, self.config.sample_rate)
                found.append((name, takes_of(label, audio, self.config, every_word=True)))
            except ValueError as error:  # unreadable, empty, or no word in it (AudioFileError is a ValueError)
                problems.append(f"{name}: {str(error).removeprefix(f'{path}: ')}")
            except Exception as error:  # a worker never lets anything escape; the panel names the file
                log.exception("importing %s failed", path)
                problems.append(f"{name}: {error}")
            self.progress.emit(done, len(files))
        self.finished.emit(label, found, problems)


def sound_files(path: Path) -> list[Path]:
    """A folder's sound files by name (a dropped folder of takes); any other path as it is, to be read or named."""
    if not path.is_dir():
        return [path]
    return sorted(file for file in path.iterdir() if file.is_file() and file.suffix.lower() in AUDIO_SUFFIXES)
