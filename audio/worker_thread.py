"""One restartable daemon thread with the event that asks it to stop.

The file source, the capture pump and the live recogniser each run one. Their loops poll
`stopping` (and wait on it, so a stop also cuts a sleep short).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class StoppableThread:
    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, target: Callable[..., object], *args: object) -> None:
        """Stop any earlier run, then run `target(*args)` in a new daemon thread."""
        self.stop()
        self.stopping.clear()
        self._thread = threading.Thread(target=target, args=args, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> bool:
        """Ask the thread to stop and wait for it; True if one was running.

        Called from the thread itself (an event handler, say) it only asks: joining would deadlock.
        """
        self.stopping.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return False
        thread.join()
        self._thread = None
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread has ended (or `timeout` passes); True if it is not running."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return not self.running
