"""The two rings between an audio source and its consumers.

`BlockRing` is what the sound card's callback writes into: preallocated slots, one producer,
one consumer, no locks and no allocation on the producer side. `RingBuffer` keeps the last few
seconds of 16 kHz mono audio; readers (the recogniser, the waveform view) follow it at their
own pace through `RingReader`, and a reader that falls more than the capacity behind is told how
many samples it lost instead of silently reading overwritten audio.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

# Seconds of live audio a source keeps. The recogniser reads only the last 1 s, but the recorder
# reads takes back from the ring: up to Background's 3 s at once, and Several a second at a time
# (`app.several_recording`), with plenty of room for a GUI timer that fires late.
RING_SECONDS = 10.0


class BlockRing:
    """Single-producer single-consumer ring of raw blocks (frames, channels), preallocated.

    `put` runs in the audio callback: it copies into a free slot and bumps a counter; when every
    slot is full it drops the block and returns False (the caller counts it). Relies on the GIL
    making each counter update atomic; the producer only writes `_written`, the consumer `_read`.
    """

    def __init__(self, slots: int, block_frames: int, channels: int) -> None:
        if slots < 2 or block_frames < 1 or channels < 1:
            raise ValueError(
                f"need slots >= 2, block_frames >= 1, channels >= 1; got {slots}, {block_frames}, {channels}"
            )
        self._blocks = np.zeros((slots, block_frames, channels), dtype=np.float32)
        self._lengths = np.zeros(slots, dtype=np.int64)
        self._written = 0
        self._read = 0

    def put(self, block: np.ndarray) -> bool:
        """Copy `block` (frames, channels) in; False when the consumer is a full ring behind."""
        slots, capacity, _ = self._blocks.shape
        if self._written - self._read >= slots:
            return False
        slot = self._written % slots
        frames = min(len(block), capacity)
        self._blocks[slot, :frames] = block[:frames]
        self._lengths[slot] = frames
        self._written += 1
        return True

    def get(self) -> np.ndarray | None:
        """The oldest block as a copy (frames, channels), or None when the ring is empty."""
        if self._read == self._written:
            return None
        slot = self._read % len(self._blocks)
        block = self._blocks[slot, : self._lengths[slot]].copy()
        self._read += 1
        return block

    def clear(self) -> None:
        self._read = self._written


class RingBuffer:
    """The last `capacity` samples of a mono stream, addressed by absolute sample position.

    `total` counts every sample ever written, so positions (and times = position / rate) stay
    valid across wrap-around. Writers never block; `wait_for_room` lets a faster-than-real-time
    writer (a file source) pause until its readers have caught up, so tests lose nothing.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least one sample, got {capacity}")
        self._data = np.zeros(capacity, dtype=np.float32)
        self._total = 0
        self._closed = False
        self._changed = threading.Condition()
        self._readers: weakref.WeakSet[RingReader] = weakref.WeakSet()

    @property
    def capacity(self) -> int:
        return len(self._data)

    @property
    def total(self) -> int:
        """Samples written since creation (an absolute position, never wraps)."""
        return self._total

    @property
    def closed(self) -> bool:
        """True once the source said the stream ended (end of file); a write reopens it."""
        return self._closed

    def write(self, samples: np.ndarray) -> None:
        """Append samples (n,); only the last `capacity` are kept."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._changed:
            kept = samples[-self.capacity :]
            start = (self._total + len(samples) - len(kept)) % self.capacity
            first = min(len(kept), self.capacity - start)
            self._data[start : start + first] = kept[:first]
            self._data[: len(kept) - first] = kept[first:]
            self._total += len(samples)
            self._closed = False
            self._changed.notify_all()

    def close(self) -> None:
        """Mark the end of the stream: readers drain what is left, then see `exhausted`."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples at absolute positions [start, stop) as a copy; must still be held."""
        with self._changed:
            if start < self._total - self.capacity or stop > self._total or start > stop:
                raise ValueError(
                    f"positions [{start}, {stop}) are not held; the buffer holds "
                    f"[{max(0, self._total - self.capacity)}, {self._total})"
                )
            indices = np.arange(start, stop) % self.capacity
            return self._data[indices]

    def latest(self, count: int) -> np.ndarray:
        """The newest `count` samples (count,), zero-padded on the left before enough arrive."""
        if count > self.capacity:
            raise ValueError(f"asked for {count} samples but the buffer keeps {self.capacity}")
        with self._changed:
            available = min(count, self._total)
            recent = self.read(self._total - available, self._total)
        return np.concatenate([np.zeros(count - available, np.float32), recent])

    def reader(self, from_start: bool = False) -> RingReader:
        """A cursor that starts now (or at the oldest held sample with `from_start`)."""
        with self._changed:
            position = max(0, self._total - self.capacity) if from_start else self._total
            reader = RingReader(self, position)
            self._readers.add(reader)
            return reader

    def wait(self, position: int, timeout: float) -> bool:
        """Block until samples past `position` exist or the stream is closed; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._total > position or self._closed, timeout)

    def wait_for_room(self, samples: int, timeout: float) -> bool:
        """Block until writing `samples` would overwrite nothing an open reader still needs."""

        def has_room() -> bool:
            return all(self._total + samples - r.position <= self.capacity for r in list(self._readers))

        with self._changed:
            return self._changed.wait_for(has_room, timeout)

    def _take(self, reader: RingReader) -> np.ndarray:
        """Everything `reader` has not read yet, skipping (and counting) what was overwritten."""
        with self._changed:
            oldest = max(0, self._total - self.capacity)
            if reader.position < oldest:
                reader.lost += oldest - reader.position
                reader.position = oldest
            samples = self.read(reader.position, self._total)
            reader.position = self._total
            self._changed.notify_all()  # a writer may be waiting for room
            return samples

    def _forget(self, reader: RingReader) -> None:
        with self._changed:
            self._readers.discard(reader)
            self._changed.notify_all()


class RingReader:
    """One consumer's position in a RingBuffer; `lost` counts samples overwritten before it read them."""

    def __init__(self, ring: RingBuffer, position: int) -> None:
        self.ring = ring
        self.position = position
        self.lost = 0

    @property
    def pending(self) -> int:
        return self.ring.total - self.position

    @property
    def exhausted(self) -> bool:
        """The stream was closed and everything written has been read."""
        return self.ring.closed and self.pending == 0

    def read(self, timeout: float = 0.0) -> np.ndarray:
        """Every sample since the last read (n,), waiting up to `timeout` s for at least one."""
        if self.pending == 0 and timeout > 0:
            self.ring.wait(self.position, timeout)
        return self.ring._take(self)

    def close(self) -> None:
        """Stop holding the writer back (`wait_for_room` ignores a closed reader)."""
        self.ring._forget(self)
