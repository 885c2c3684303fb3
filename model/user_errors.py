"""Which failures are the user's input, not the program's: told in one line, never with a traceback.

The command line prints them as one `error:` line; the app's workers show them in the window and log
them in one line, keeping tracebacks for what would be a bug.
"""

from __future__ import annotations

import logging

from audio.io import AudioFileError
from model.checkpoint import CheckpointError

USER_ERRORS = (ValueError, FileNotFoundError, CheckpointError, AudioFileError)


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Log `what` failed with `error`: a user error as one warning line, anything else with its traceback."""
    if isinstance(error, USER_ERRORS):
        log.warning("%s: %s", what, error)
    else:
        log.error("%s", what, exc_info=error)
