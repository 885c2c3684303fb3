"""Synthesizing a starting set for a typed word, off the GUI thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from audio.synthesis.engines import ENGINE_NAMES
from audio.synthesis.starter import write_starter_set
from model.user_errors import log_failure

log = logging.getLogger(__name__)


class SynthWorker(QObject):
    """Lives on a QThread; `synthesize` writes clips into root/word/ and reports as it goes."""

    progress = Signal(int, int)  # (clips written, clips planned)
    finished = Signal(str, int)  # (word, clips written)
    error = Signal(str)

    def __init__(self, engines: tuple[str, ...] = ENGINE_NAMES) -> None:
        super().__init__()
        self.engines = engines  # which speech engines speak the set (tests pick the quickest)
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask a running set to end after the current clip (any thread)."""
        self._stop.set()

    @Slot(str, str, int)
    def synthesize(self, root: str, word: str, count: int) -> None:
        self._stop.clear()
        try:
            written = write_starter_set(
                Path(root),
                word,
                count,
                engines=self.engines,
                on_progress=self.progress.emit,
                should_stop=self._stop.is_set,
            )
        except Exception as error:  # a worker never lets anything escape; the panel shows it
            log_failure(log, f"synthesizing {word!r} failed", error)
            self.error.emit(f"Could not synthesize {word!r}: {error}")
            return
        self.finished.emit(word, written)
