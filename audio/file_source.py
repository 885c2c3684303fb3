"""A sound file played into the same RingBuffer a microphone fills: the demo mode, and the
pipeline without hardware in tests. `speed` 1.0 is real time, 2.0 twice as fast, `inf` as fast as
the readers keep up (the source waits for room, so a fast file loses nothing).
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from audio.capture import EventHandler, SourceEvent
from audio.config import FeatureConfig
from audio.io import read_audio
from audio.ring_buffer import RING_SECONDS, RingBuffer
from audio.worker_thread import StoppableThread


class FileSource:
    """Plays `audio` (samples,) at 16 kHz, or a file read with `from_file`, block by block into `ring`."""

    def __init__(
        self,
        audio: np.ndarray,
        config: FeatureConfig | None = None,
        *,
        speed: float = 1.0,
        block_seconds: float = 0.02,
        buffer_seconds: float = RING_SECONDS,
        name: str = "audio",
        on_event: EventHandler | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive (inf for as fast as possible), got {speed}")
        self.config = config or FeatureConfig()
        self.audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        self.speed = speed
        self.block = max(1, round(block_seconds * self.config.sample_rate))
        self.ring = RingBuffer(round(buffer_seconds * self.config.sample_rate))
        self.name = name
        self.on_event = on_event or (lambda event: None)
        self._worker = StoppableThread("file-source")

    @classmethod
    def from_file(cls, path: str | os.PathLike, config: FeatureConfig | None = None, **options) -> FileSource:
        """Read any sound file (resampled to the config's rate, channels averaged)."""
        config = config or FeatureConfig()
        return cls(read_audio(path, config.sample_rate), config, name=str(path), **options)

    @property
    def running(self) -> bool:
        return self._worker.running

    @property
    def duration(self) -> float:
        return len(self.audio) / self.config.sample_rate

    def start(self) -> bool:
        """Start playing from the beginning; the ring's positions continue from where they were."""
        self._worker.start(self._play)
        self.on_event(SourceEvent("started", f"{self.name} at {self.speed:g}x"))
        return True

    def stop(self) -> None:
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the file has been played (or stopped); False on timeout."""
        return self._worker.wait(timeout)

    def _play(self) -> None:
        started = time.monotonic()
        rate = self.config.sample_rate * self.speed
        for begin in range(0, len(self.audio), self.block):
            if self._worker.stopping.is_set():
                self.on_event(SourceEvent("stopped"))
                return
            chunk = self.audio[begin : begin + self.block]
            if self.speed > 1:  # faster than real time: never run ahead of the readers
                while not self.ring.wait_for_room(len(chunk), timeout=0.1) and not self._worker.stopping.is_set():
                    pass
            if not math.isinf(self.speed):
                due = started + (begin + len(chunk)) / rate  # a block is delivered once it has "been recorded"
                self._worker.stopping.wait(max(0.0, due - time.monotonic()))
            self.ring.write(chunk)
        self.ring.close()
        self.on_event(SourceEvent("finished", f"{self.name}: {self.duration:.1f} s played"))
