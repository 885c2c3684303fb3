"""Loads a model folder off the GUI thread and reports the result by signal."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from model.summary import describe_model

log = logging.getLogger(__name__)


class ModelLoader(QObject):
    """Worker: `load(path)` emits `loaded(dict)` or `error(str)`; never raises."""

    loaded = Signal(dict)
    error = Signal(str)

    @Slot(str)
    def load(self, path: str) -> None:
        try:
            self.loaded.emit(describe_model(path))
        except Exception as error:  # a worker must not let anything escape; the window shows it
            log.exception("loading %s failed", path)
            self.error.emit(f"Could not load the model: {error}")
