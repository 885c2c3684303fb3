"""Several: one press records a word said again and again, until a second press (or `max_seconds`).

The live ring keeps only the last few seconds (`audio.ring_buffer.RING_SECONDS`), so a recording of
a minute is read from it piece by piece, every `READ_EVERY_MS`, on the GUI thread's timer: each
read copies about a second of audio. After each read the words said so far are counted with the
splitting the takes are cut with (`audio.trim.word_spans`), so the user sees their takes add up.
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from audio.config import FeatureConfig
from audio.trim import word_spans

READ_EVERY_MS = 1000  # well inside the ring's seconds, so nothing is overwritten between reads


class RingSource(Protocol):
    """The live engine's ring, as the recorder reads it (RecognitionEngine implements it)."""

    def ring_position(self) -> int | None: ...

    def read_ring(self, start: int, stop: int) -> np.ndarray: ...


class SeveralRecording(QObject):
    """Records from `position` - `pre_roll_seconds` (the press, with a moment before it) until `stop()`.

    `heard` reports the words counted so far and the seconds recorded after every read; `done` gives
    the audio (samples,) once, with whether the input stopped before the recording did.
    """

    heard = Signal(int, float)
    done = Signal(object, bool)

    def __init__(
        self,
        source: RingSource,
        position: int,
        config: FeatureConfig,
        *,
        pre_roll_seconds: float,
        max_seconds: float,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.source, self.config = source, config
        self.read_to = position - round(pre_roll_seconds * config.sample_rate)
        self.pieces: list[np.ndarray] = []
        self.started = time.monotonic()
        self.timer = QTimer(self, interval=READ_EVERY_MS, timeout=self._tick)
        self.timer.start()
        self.deadline = QTimer(self, singleShot=True, interval=round(max_seconds * 1000), timeout=self.stop)
        self.deadline.start()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def audio(self) -> np.ndarray:
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, np.float32)

    def stop(self, input_stopped: bool = False) -> None:
        """End the recording with what the ring holds now, and emit `done`."""
        if not self.timer.isActive():
            return
        self.timer.stop()
        self.deadline.stop()
        input_stopped = input_stopped or not self._read()
        self.done.emit(self.audio(), input_stopped)

    def _read(self) -> bool:
        """Append what arrived since the last read; False when the input has stopped."""
        position = self.source.ring_position()
        if position is None:
            return False
        if position > self.read_to:  # not so after a switch of input, whose ring counts from 0 again
            try:
                self.pieces.append(self.source.read_ring(self.read_to, position))
            except ValueError:  # the input stopped between the two calls
                return False
        self.read_to = position
        return True

    def _tick(self) -> None:
        if not self._read():
            self.stop(input_stopped=True)
        else:
            self.heard.emit(len(word_spans(self.audio(), self.config)), self.seconds)
