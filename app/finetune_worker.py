"""Fine-tuning off the GUI thread: runs `model.adapt.adapt`, then saves the result as a new version
(not yet the current one: the user picks it after seeing the before / after comparison).

While the dialog is open and before Start, the worker warms torch up and works out all that comes before
training (`warm_up`): the base material, the takes loaded and the base model's scores on them. Cancel sets
an event the training loop and the synthesis poll; a cancelled run saves nothing, so the model in use and
every saved version stay exactly as they were.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal, Slot

from model.adapt import AdaptRequest, Prepared, adapt, prepare, train_summary
from model.finetune import warm_up_training
from model.user_errors import log_failure
from model.versions import VersionStore

log = logging.getLogger(__name__)


class FinetuneWorker(QObject):
    # `object`, not `dict`: a dict signal becomes a key-sorted QVariantMap, and the summary's
    # orders (labels as recorded, confusions most frequent first) would be lost on the way.
    progress = Signal(str, object)  # ("material", {done, total}) or ("step", StepReport fields)
    finished = Signal(object)  # the outcome's summary plus {"version", "path"}
    cancelled = Signal()
    error = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._prepared: Prepared | None = None  # `warm_up`'s work; `adapt` checks it still fits the request

    def cancel(self) -> None:
        """Stop the running fine-tune at its next step (any thread)."""
        self._cancel.set()

    @Slot()
    def finish(self) -> None:
        """End the worker's thread once the calls queued before this one are done: a Start queued behind the
        warm-up still runs (and, cancelled, says so) before the thread goes."""
        self.thread().quit()

    def arm(self) -> None:
        """Clear an earlier Cancel: the dialog's Start does this before it queues a run (any thread)."""
        self._cancel.clear()

    @Slot(object)
    def warm_up(self, request: AdaptRequest) -> None:
        """Pay torch's first-optimiser cost and prepare `request` (`model.adapt.prepare`) now, while the user
        reads the dialog, not after Start. A Start meanwhile waits for this; a Cancel or a close stops it."""
        try:
            warm_up_training()
            self._prepared = prepare(request, self.progress.emit, self._cancel.is_set)
        except (ValueError, FileNotFoundError) as error:  # no takes yet, say: Start reports it if it still holds
            log.info("nothing prepared before Start: %s", error)
        except Exception:  # only a head start: fine-tuning itself reports any real problem
            log.exception("preparing for fine-tuning failed")

    @Slot(object, str, str)
    def run(self, request: AdaptRequest, versions_root: str, parent: str) -> None:
        try:
            outcome = adapt(
                request, on_progress=self.progress.emit, should_stop=self._cancel.is_set, prepared=self._prepared
            )
            if outcome.stopped or self._cancel.is_set():
                self.cancelled.emit()
                return
            version = VersionStore(versions_root).add(
                outcome.model,
                parent,
                outcome.before,
                outcome.after,
                train_summary(request, outcome),
                make_current=False,
            )
        except Exception as error:  # a worker never lets anything escape; the dialog shows it
            log_failure(log, "fine-tuning failed", error)
            self.error.emit(f"Fine-tuning failed: {error}")
            return
        self.finished.emit({**outcome.summary(), "version": version.id, "path": str(version.path)})
