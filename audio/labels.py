"""Label names shared by datasets, models and the app, and the rule for a valid label."""

from __future__ import annotations

UNKNOWN = "_unknown_"
SILENCE = "_silence_"
BACKGROUND_NOISE_FOLDER = "_background_noise_"
COMMAND_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
DEFAULT_LABELS = (*COMMAND_WORDS, UNKNOWN, SILENCE)
# Not allowed in a Windows folder name: refused everywhere, so a takes folder can be copied to any system.
NOT_IN_FOLDER_NAMES = '<>:"|?*'


def validate_label(label: str) -> str:
    """Return `label` stripped, or raise ValueError if it cannot be a folder name of its own.

    Labels become folder names, so a separator or `..` would write somewhere else.
    """
    name = label.strip()
    if not name:
        raise ValueError("a label cannot be empty")
    if "/" in name or "\\" in name:
        raise ValueError(f"label {label!r} contains a path separator; use letters, digits, - or _")
    if name in (".", "..") or name.startswith("."):
        raise ValueError(f"label {label!r} cannot start with a dot")
    if any(ord(char) < 32 for char in name):
        raise ValueError(f"label {label!r} contains control characters")
    if forbidden := "".join(char for char in NOT_IN_FOLDER_NAMES if char in name):
        raise ValueError(
            f"label {label!r} contains {forbidden}, which folder names cannot hold on every system; "
            "use letters, digits, - or _"
        )
    if name == BACKGROUND_NOISE_FOLDER:  # the loader reads that folder as noise, never as a label
        raise ValueError(f"{name!r} is reserved for noise recordings; record background as {SILENCE}")
    return name
