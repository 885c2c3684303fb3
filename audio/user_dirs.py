"""Where the user's own material lives: takes, synthesized starter sets and model versions.

The root is the platform's user data folder (`platformdirs`, e.g. ~/.local/share/voxgate on
Linux) unless the VOXGATE_DATA_DIR environment variable names another; tests point it at a
temporary folder. Every folder is created on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_VARIABLE = "VOXGATE_DATA_DIR"


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """`root` when given, else $VOXGATE_DATA_DIR, else the platform's user data folder."""
    chosen = root or os.environ.get(DATA_DIR_VARIABLE) or platformdirs.user_data_dir("voxgate", appauthor=False)
    return Path(chosen).expanduser()


def takes_dir(root: str | os.PathLike | None = None) -> Path:
    """The user's recorded takes, in Speech Commands layout."""
    return data_dir(root) / "takes"


def starter_dir(root: str | os.PathLike | None = None) -> Path:
    """Synthesized starting sets for words the user typed, in Speech Commands layout."""
    return data_dir(root) / "starter"


def models_dir(root: str | os.PathLike | None = None) -> Path:
    """Fine-tuned model versions and their index."""
    return data_dir(root) / "models"


def window_settings(root: str | os.PathLike | None = None) -> Path:
    """What the app's window remembers between sessions (an INI file: size, panes, tab, input device)."""
    return data_dir(root) / "window.ini"
