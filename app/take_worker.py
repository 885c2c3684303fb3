"""Cutting and saving takes off the GUI thread: sound files imported, and what a recording heard.

Decoding, resampling and saving a few hundred files takes seconds, and a minute of Several is a
word said forty times, a file each. Both save in one `TakeStore.batch`, so the takes' details are
rewritten once a second, not once a take. The worker saves through the same `TakeStore` as the
recorder panel, whose lock keeps the two apart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from audio.clipping import is_clipped
from audio.dataset import AUDIO_SUFFIXES, label_folders
from audio.io import read_audio
from audio.labels import validate_label
from audio.takes import DETAILS_NOT_WRITTEN, TakeStore
from audio.trim import takes_of

log = logging.getLogger(__name__)


class TakeWorker(QObject):
    """Lives on a QThread. `import_files` saves one take per word of each file and names the files it cannot
    use; `keep` saves the takes a recording holds."""

    progress = Signal(int, int)  # (files read, files to read)
    imported = Signal(list, int, list)  # (names of the takes saved, files they came from, [problem, ...])
    kept = Signal(str, list, bool, str, str)  # (label, names of the takes saved, clipped, problem or "", note)

    def __init__(self, store: TakeStore) -> None:
        super().__init__()
        self.store = store

    @Slot(str, object, str, bool, str)
    def keep(self, label: str, audio: object, device: str, every_word: bool, note: str) -> None:
        """Save the takes `audio` (samples,) holds, one per word said with `every_word`; `note` is handed back."""
        try:
            with self.store.batch():
                names = [
                    self.store.save(label, clip, device=device).name
                    for clip in takes_of(label, audio, self.store.config, every_word)
                ]
        except (ValueError, OSError) as error:  # no word in it, or not saved
            self.kept.emit(label, [], False, str(error), note)
            return
        self.kept.emit(label, names, is_clipped(audio), "", note)

    @Slot(str, list)
    def import_files(self, label: str, paths: list[str]) -> None:
        """Import `paths` (files and folders, see `import_plan`); `label` is the one picked, "" for none."""
        plan, problems = import_plan(label, [Path(path) for path in paths])
        saved: list[str] = []
        used = 0
        config = self.store.config
        try:
            with self.store.batch():
                for done, (take_label, path) in enumerate(plan, 1):
                    try:
                        clips = takes_of(take_label, read_audio(path, config.sample_rate), config, every_word=True)
                        saved += [
                            self.store.save(take_label, clip, device=f"imported from {path.name}").name
                            for clip in clips
                        ]
                        used += 1
                    except (ValueError, OSError) as error:  # unreadable, empty, no word in it, or not saved
                        problems.append(f"{path.name}: {str(error).removeprefix(f'{path}: ')}")
                    except Exception as error:  # a worker never lets anything escape; the panel names the file
                        log.exception("importing %s failed", path)
                        problems.append(f"{path.name}: {error}")
                    self.progress.emit(done, len(plan))
        except OSError as error:  # the batch's last write of the takes' details; the takes themselves are saved
            problems.append(f"{DETAILS_NOT_WRITTEN}: {error}")
        self.imported.emit(saved, used, problems)


def import_plan(label: str, paths: list[Path]) -> tuple[list[tuple[str, Path]], list[str]]:
    """What to import as what: ([(label, file), ...], [problem, ...]).

    A folder in Speech Commands layout (a folder per label) gives each label folder's sound files
    under that label; any other folder gives its own sound files, and a file itself, under `label`
    (the one picked; "" when none is, which is a problem for those files).
    """
    plan: list[tuple[str, Path]] = []
    problems: list[str] = []
    for path in paths:
        try:
            labelled = {folder: sound_files(folder) for folder in label_folders(path)} if path.is_dir() else {}
            labelled = {folder: files for folder, files in labelled.items() if files}
            loose = [] if labelled else sound_files(path) if path.is_dir() else [path]
        except OSError as error:  # a folder that cannot be listed
            problems.append(f"{path.name}: {error}")
            continue
        for folder, files in labelled.items():
            try:
                plan += [(validate_label(folder.name), file) for file in files]
            except ValueError as error:
                problems.append(f"{folder.name}/: {error}")
        for file in loose:
            if label:
                plan.append((label, file))
            else:
                problems.append(f"{file.name}: pick a label for it first")
    return plan, problems


def sound_files(folder: Path) -> list[Path]:
    """A folder's own sound files by name (not its subfolders')."""
    return sorted(file for file in folder.iterdir() if file.is_file() and file.suffix.lower() in AUDIO_SUFFIXES)
