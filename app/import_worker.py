"""Importing sound files as takes, off the GUI thread.

Decoding, resampling and saving a few hundred files takes seconds. The worker saves through the
same `TakeStore` as the recorder panel, whose lock keeps the two apart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from audio.dataset import AUDIO_SUFFIXES
from audio.io import read_audio
from audio.takes import TakeStore
from audio.trim import takes_of

log = logging.getLogger(__name__)


class ImportWorker(QObject):
    """Lives on a QThread; `cut` saves one take per word of each file and names the files it cannot use."""

    progress = Signal(int, int)  # (files read, files asked for)
    finished = Signal(str, list, int, list)  # (label, names of the takes saved, files they came from, [problem, ...])

    def __init__(self, store: TakeStore) -> None:
        super().__init__()
        self.store = store

    @Slot(str, list)
    def cut(self, label: str, paths: list[str]) -> None:
        """`paths`: sound files, or folders whose sound files (not their subfolders') are imported."""
        saved: list[str] = []
        problems: list[str] = []
        files = [str(file) for path in paths for file in sound_files(Path(path))]
        used = 0
        config = self.store.config
        for done, path in enumerate(files, 1):
            name = Path(path).name
            try:
                clips = takes_of(label, read_audio(path, config.sample_rate), config, every_word=True)
                saved += [self.store.save(label, clip, device=f"imported from {name}").name for clip in clips]
                used += 1
            except (ValueError, OSError) as error:  # unreadable, empty, no word in it, or not saved
                problems.append(f"{name}: {str(error).removeprefix(f'{path}: ')}")
            except Exception as error:  # a worker never lets anything escape; the panel names the file
                log.exception("importing %s failed", path)
                problems.append(f"{name}: {error}")
            self.progress.emit(done, len(files))
        self.finished.emit(label, saved, used, problems)


def sound_files(path: Path) -> list[Path]:
    """A folder's sound files by name (a dropped folder of takes); any other path as it is, to be read or named."""
    if not path.is_dir():
        return [path]
    return sorted(file for file in path.iterdir() if file.is_file() and file.suffix.lower() in AUDIO_SUFFIXES)
