"""Atomic file writes (audio, weights, indexes, metadata) and the clean-up of what a crash left.

Every writer goes through `write_atomically`, which puts their temp files next to the target under a hidden
name (`.name.XXXX.tmp`), so a process killed mid-write leaves at most a hidden temp file, which
the Speech Commands loader skips and `remove_temp_files` deletes on the next open.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_GLOB = ".*.tmp"


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(file)` on a hidden temp file beside `path`, fsync, then rename over `path`.

    A reader sees the old file or the new one, never half of one, even if the process dies.
    The file gets the usual 0644 permissions rather than mkstemp's private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            write(temp)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    write_atomically(path, lambda file: file.write(text.encode("utf-8")))


def write_json_atomically(path: str | os.PathLike, document: dict) -> None:
    write_text_atomically(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike, default: dict) -> dict:
    """The JSON object in `path`, or `default` when the file is missing.

    Raises ValueError naming the file when it exists but is not a JSON object.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error}); restore it or move it away") from error
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object; restore it or move it away")
    return document


def remove_temp_files(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Delete the hidden temp files an interrupted writer left under `folder`; returns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = sorted(folder.rglob(TEMP_GLOB) if recursive else folder.glob(TEMP_GLOB))
    for path in found:
        path.unlink(missing_ok=True)
    return found
