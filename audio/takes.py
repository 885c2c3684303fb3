"""The user's recorded takes: a Speech Commands folder plus a small metadata file.

    takes/left/me_nohash_20261121-142233-081234.wav   16 kHz mono 16-bit, exactly 1 s
    takes/_silence_/me_nohash_20261121-142301-000512.wav
    takes/takes.json    {"speaker": "me", "takes": {"left/me_nohash_….wav": {"speaker", "time", "device"}},
                         "deleted": {…}}
    takes/.deleted/left/me_nohash_….wav   a deleted take, kept for Undo

Every write is atomic (hidden temp file, fsync, rename), so a crash never leaves a half-written
take where the loader reads; opening a store deletes the temp files a crash left. Labels are
checked with `validate_label`, and a take's path must stay inside the store. Changes in a `batch`
(an import, a recording of many words, a deletion of many takes) rewrite takes.json at most once a
second.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from audio.atomic import read_json, remove_temp_files, write_json_atomically
from audio.config import FeatureConfig
from audio.dataset import AUDIO_SUFFIXES, label_folders
from audio.io import read_audio, write_wav
from audio.labels import validate_label
from audio.synthesis.voice import safe_name

METADATA_FILE = "takes.json"
DELETED_FOLDER = ".deleted"  # deleted takes, by label: hidden, so the loaders skip it; Undo brings one back
DEFAULT_SPEAKER = "me"  # until the user names who is recording
# In a batch of saves, takes.json is rewritten at most this often. The file grows with every take: rewritten
# after each one, importing the 1,289 own-voice files took 5.2 s instead of 2.1 s (`python -m bench.import_takes`).
DETAILS_EVERY_SECONDS = 1.0
DETAILS_NOT_WRITTEN = "the takes' speaker, time and device were not all written"  # a batch's last write failed
HELD_OUT_FRACTION = 0.2  # of each label's takes, kept back for the before / after comparison
HELD_OUT_MIN_TAKES = 5  # a label with fewer takes keeps them all for training


def file_stamp(path: Path) -> tuple[int, int] | None:
    """(modification time in ns, size) of a file, to tell a changed take from the one seen before; None when
    it is gone."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def speaker_name(text: str) -> str:
    """A speaker as takes are filed under: file-safe ("Ada L" -> "ada-l"), DEFAULT_SPEAKER when nothing is left."""
    return safe_name(text) or DEFAULT_SPEAKER


def locked(method: Callable) -> Callable:
    """Run a `TakeStore` method under the store's lock."""

    @functools.wraps(method)
    def under_lock(self: TakeStore, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return under_lock


@dataclass(frozen=True)
class Take:
    """One saved take; `name` is `label/file.wav`, the key in the metadata and the list files."""

    path: Path
    label: str
    speaker: str = ""
    time: str = ""
    device: str = ""

    @property
    def name(self) -> str:
        return f"{self.label}/{self.path.name}"


class TakeStore:
    """Takes under `root` (created if missing).

    Thread-safe: one lock serialises its listings, file moves and metadata writes, so the import
    worker saves takes while the recorder panel lists, records and deletes them.
    """

    def __init__(
        self, root: str | os.PathLike, speaker: str | None = None, config: FeatureConfig | None = None
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._batches = 0  # batches under way (`batch`), from any thread
        self._written_at = 0.0  # time.monotonic() of the last takes.json write
        self._unwritten = False  # details changed since then
        self.config = config or FeatureConfig()
        self.removed_temp_files = remove_temp_files(self.root)
        self.metadata_problem = ""  # why takes.json was put aside, when it could not be read
        try:
            self._metadata = read_json(self.root / METADATA_FILE, {"takes": {}})
            if not isinstance(self._metadata.setdefault("takes", {}), dict):
                raise ValueError(f'{self.root / METADATA_FILE}: "takes" is not a JSON object')
        except ValueError as error:  # the takes are the WAVs: a broken details file must not lock them away
            kept = self.root / f"{METADATA_FILE}.unreadable-{datetime.now():%Y%m%d-%H%M%S}"
            os.replace(self.root / METADATA_FILE, kept)
            self.metadata_problem = (
                f"{error}. It is now {kept.name}, to restore if you can; the takes are all "
                "there, without their speaker, time and device until then."
            )
            self._metadata = {"takes": {}}
        # who is recording: given, else the last one set (`set_speaker`), else DEFAULT_SPEAKER
        self.speaker = speaker_name(speaker or str(self._metadata.get("speaker", "")))

    @locked
    def set_speaker(self, name: str) -> str:
        """Name the speaker of the takes recorded from now on (kept for the next session); returns the form
        used in file names and the metadata (`speaker_name`)."""
        speaker = speaker_name(name)
        self._metadata["speaker"] = speaker
        self._write_metadata()
        self.speaker = speaker
        return speaker

    @locked
    def labels(self) -> list[str]:
        """Labels with a folder in the store, sorted."""
        return [folder.name for folder in label_folders(self.root)]

    @locked
    def counts(self) -> dict[str, int]:
        """Takes per label, for every label folder (0 for an emptied one)."""
        return {label: len(self._files(label)) for label in self.labels()}

    @locked
    def takes(self, label: str | None = None) -> list[Take]:
        """Every take (of `label`), oldest first (names carry the time)."""
        labels = [validate_label(label)] if label is not None else self.labels()
        return [self._take(path) for name in labels for path in self._files(name)]

    @locked
    def save(self, label: str, audio: np.ndarray, device: str = "") -> Take:
        """Write `audio` (samples,) as a new take of `label`; raises ValueError for a bad label."""
        folder = self._folder(label)
        now = datetime.now().astimezone()
        stem = f"{self.speaker}_nohash_{now:%Y%m%d-%H%M%S-%f}"
        path = folder / f"{stem}.wav"
        serial = 1
        while path.exists():
            path, serial = folder / f"{stem}-{serial}.wav", serial + 1
        write_wav(path, audio, self.config.sample_rate)
        take = Take(path, folder.name, self.speaker, now.isoformat(timespec="seconds"), device)
        self._metadata["takes"][take.name] = {"speaker": take.speaker, "time": take.time, "device": device}
        self._details_changed()
        return take

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Saves, deletions, restores and relabellings made inside rewrite takes.json at most every
        DETAILS_EVERY_SECONDS, and once as the batch ends.

        A crash inside loses at most that second's entries (speaker, time and device; the deleted list),
        never a take: each WAV is written or moved atomically as always, and a take without an entry is
        still listed.
        """
        with self._lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                if self._unwritten:
                    self._write_metadata()

    def read(self, take: Take | str) -> np.ndarray:
        """A take's audio (samples,) float32."""
        return read_audio(self._path(take), self.config.sample_rate)

    @locked
    def delete(self, take: Take | str) -> str:
        """Move a take into DELETED_FOLDER, where no loader looks; returns its name for `restore`."""
        path = self._path(take)
        name = f"{path.parent.name}/{path.name}"
        kept = self.root / DELETED_FOLDER / name
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, kept)
        self._metadata.setdefault("deleted", {})[name] = self._metadata["takes"].pop(name, {})
        self._details_changed()
        return name

    @locked
    def restore(self, name: str) -> Take:
        """Bring a deleted take back under its label; raises FileNotFoundError when it is not among the deleted,
        ValueError when a take of that name is there again."""
        label, _, file_name = name.partition("/")
        kept = self.root / DELETED_FOLDER / validate_label(label) / file_name
        if not file_name or not kept.is_file():
            raise FileNotFoundError(f"no deleted take {name!r} in {self.root / DELETED_FOLDER}")
        target = self._folder(label) / file_name
        if target.exists():
            raise ValueError(f"{name} exists again; not restored")
        os.replace(kept, target)
        self._metadata["takes"][name] = self._metadata.get("deleted", {}).pop(name, {})
        self._details_changed()
        return self._take(target)

    @locked
    def relabel(self, take: Take | str, label: str) -> Take:
        """Move a take to `label` (an atomic rename); raises ValueError for a bad label."""
        path = self._path(take)
        folder = self._folder(label)
        target = folder / path.name
        if target.exists() and target != path:
            raise ValueError(f"{label}/{path.name} exists already")
        os.replace(path, target)
        entry = self._metadata["takes"].pop(f"{path.parent.name}/{path.name}", {})
        self._metadata["takes"][f"{folder.name}/{target.name}"] = entry
        self._details_changed()
        return self._take(target)

    def _folder(self, label: str) -> Path:
        name = validate_label(label)
        folder = (self.root / name).resolve()
        if folder.parent != self.root.resolve():
            raise ValueError(f"label {label!r} would leave the takes folder; use letters, digits, - or _")
        folder.mkdir(exist_ok=True)
        return self.root / name

    def _path(self, take: Take | str) -> Path:
        name = take.name if isinstance(take, Take) else take
        label, _, file_name = name.partition("/")
        path = self._folder(label) / file_name
        if not file_name or path.parent != self.root / validate_label(label) or not path.is_file():
            raise FileNotFoundError(f"no take {name!r} in {self.root}")
        return path

    def _files(self, label: str) -> list[Path]:
        folder = self.root / label
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))

    def _take(self, path: Path) -> Take:
        entry = self._metadata["takes"].get(f"{path.parent.name}/{path.name}", {})
        return Take(path, path.parent.name, entry.get("speaker", ""), entry.get("time", ""), entry.get("device", ""))

    def _details_changed(self) -> None:
        """Write takes.json now, or within DETAILS_EVERY_SECONDS (or as it ends) while a batch is under way."""
        if self._batches and time.monotonic() - self._written_at < DETAILS_EVERY_SECONDS:
            self._unwritten = True
        else:
            self._write_metadata()

    def _write_metadata(self) -> None:
        write_json_atomically(self.root / METADATA_FILE, self._metadata)
        self._written_at, self._unwritten = time.monotonic(), False


def held_out(
    names: list[str], fraction: float = HELD_OUT_FRACTION, minimum_takes: int = HELD_OUT_MIN_TAKES
) -> set[str]:
    """The takes of one label kept back for the before / after comparison, deterministically.

    Takes are ranked by a hash of their name, so adding takes never moves an old one between
    the sets; a label with fewer than `minimum_takes` keeps them all for training.
    """
    if len(names) < minimum_takes:
        return set()
    ranked = sorted(names, key=lambda name: hashlib.sha1(name.encode()).hexdigest())
    return set(ranked[: max(1, int(len(names) * fraction))])
