"""Microphone capture: a sounddevice input stream at the device's own rate -> 16 kHz mono ring buffer.

The audio callback only copies each block into a preallocated `BlockRing` and counts overflows;
a pump thread downmixes, resamples with soxr's streaming resampler and appends to the
`RingBuffer` every consumer reads. Devices are chosen by name, because PortAudio's indexes change
between boots and when a headset is plugged in. Failures (a device that cannot be opened, or one
that stops delivering audio) become `SourceEvent("error", ...)`; `start()` may then be called again.
`on_event` is called from the caller's thread or the pump thread: a GUI re-emits it as a signal.
The sounddevice module is a constructor argument so tests pass a fake.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import soxr

from audio.config import FeatureConfig
from audio.ring_buffer import RING_SECONDS, BlockRing, RingBuffer
from audio.worker_thread import StoppableThread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceEvent:
    """What a source tells its owner: kind is started, stopped, finished, overflow or error."""

    kind: str
    message: str = ""


EventHandler = Callable[[SourceEvent], None]


@dataclass(frozen=True)
class InputDevice:
    name: str
    index: int
    channels: int
    sample_rate: float
    host_api: str


def _default_sounddevice() -> ModuleType:
    import sounddevice  # imported late: it loads PortAudio, which fails on machines without it

    return sounddevice


def list_input_devices(sd: Any = None) -> list[InputDevice]:
    """Every device with at least one input channel, in PortAudio's order."""
    sd = sd or _default_sounddevice()
    apis = [api["name"] for api in sd.query_hostapis()]
    return [
        InputDevice(
            name=d["name"],
            index=i,
            channels=d["max_input_channels"],
            sample_rate=float(d["default_samplerate"]),
            host_api=apis[d["hostapi"]],
        )
        for i, d in enumerate(sd.query_devices())
        if d["max_input_channels"] > 0
    ]


def find_input_device(name: str | None, sd: Any = None) -> InputDevice:
    """The input device called `name` (exact, else a unique case-insensitive part); None: the default."""
    sd = sd or _default_sounddevice()
    devices = list_input_devices(sd)
    if not devices:
        raise ValueError("no audio input devices found; plug in a microphone or use --file")
    if name is None:
        default = sd.default.device[0] if isinstance(sd.default.device, (list, tuple)) else sd.default.device
        return next((d for d in devices if d.index == default), devices[0])
    exact = [d for d in devices if d.name == name]
    partial = [d for d in devices if name.lower() in d.name.lower()]
    found = exact or partial
    if len(found) == 1:
        return found[0]
    names = ", ".join(repr(d.name) for d in (found or devices))
    problem = "matches several inputs" if found else "is not an input device"
    raise ValueError(f"{name!r} {problem}; choose one of: {names}")


class MicrophoneCapture:
    """Live 16 kHz mono audio from the input device named `device` into `ring`.

    block_seconds: callback block length; buffer_seconds: history kept in `ring`;
    stall_seconds: silence from the driver after which the device counts as gone;
    startup_seconds: the same for the first block (PulseAudio's ALSA plugin takes ~1.5 s to start).
    """

    def __init__(
        self,
        device: str | None = None,
        config: FeatureConfig | None = None,
        *,
        buffer_seconds: float = RING_SECONDS,
        block_seconds: float = 0.02,
        channels: int = 1,
        stall_seconds: float = 2.0,
        startup_seconds: float = 5.0,
        on_event: EventHandler | None = None,
        sd: Any = None,
    ) -> None:
        self.device_name = device
        self.config = config or FeatureConfig()
        self.ring = RingBuffer(round(buffer_seconds * self.config.sample_rate))
        self.block_seconds = block_seconds
        self.channels = channels
        self.stall_seconds = stall_seconds
        self.startup_seconds = startup_seconds
        self.on_event = on_event or (lambda event: None)
        self.sd = sd or _default_sounddevice()
        self.device: InputDevice | None = None
        self.overflows = 0  # blocks the driver flagged as input overflow
        self.dropped_blocks = 0  # blocks lost because the pump thread fell a whole ring behind
        self._stream = None
        self._blocks: BlockRing | None = None
        self._pump = StoppableThread("capture-pump")
        self._driver_finished = False
        self._last_block = 0.0
        self._blocks_seen = False

    @property
    def running(self) -> bool:
        return self._pump.running

    def start(self) -> bool:
        """Open the device and start capturing; on failure emit an error event and return False."""
        self.stop()
        try:
            self.device = find_input_device(self.device_name, self.sd)
            rate = self.device.sample_rate
            channels = min(self.channels, self.device.channels)
            block_frames = max(1, round(rate * self.block_seconds))
            self._blocks = BlockRing(
                slots=max(8, round(2.0 / self.block_seconds)), block_frames=block_frames, channels=channels
            )
            self._driver_finished = False
            self._stream = self.sd.InputStream(
                device=self.device.index,
                samplerate=rate,
                channels=channels,
                dtype="float32",
                blocksize=block_frames,
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except Exception as error:  # PortAudioError, ValueError, OSError: all mean "cannot listen"
            self._close_stream()
            self.on_event(SourceEvent("error", f"cannot open input {self.device_name or 'default'!r}: {error}"))
            return False
        self._last_block, self._blocks_seen = time.monotonic(), False
        self._pump.start(self._pump_loop, rate, channels)
        self.on_event(SourceEvent("started", f"{self.device.name} at {rate:g} Hz"))
        return True

    def stop(self) -> None:
        """Stop the stream and the pump thread; safe to call twice or after an error."""
        if self._pump.stop():
            self.on_event(SourceEvent("stopped"))
        self._close_stream()

    def restart(self, device: str | None = None) -> bool:
        """Reopen, optionally on another device; the ring buffer and its positions carry on."""
        if device is not None:
            self.device_name = device
        return self.start()

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """Runs on PortAudio's thread: copy and count, nothing else."""
        if getattr(status, "input_overflow", False):
            self.overflows += 1
        if not self._blocks.put(indata):
            self.dropped_blocks += 1

    def _finished(self) -> None:
        self._driver_finished = True

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
            stream.close()
        except Exception as error:  # a vanished device can fail to close; nothing is left to do
            log.debug("closing the input stream failed: %s", error)

    def _pump_loop(self, rate: float, channels: int) -> None:
        resampler = soxr.ResampleStream(rate, self.config.sample_rate, 1, dtype="float32")
        reported = (self.overflows, self.dropped_blocks)
        while not self._pump.stopping.is_set():
            got = self._drain(resampler)
            if (self.overflows, self.dropped_blocks) != reported:
                reported = (self.overflows, self.dropped_blocks)
                self.on_event(
                    SourceEvent(
                        "overflow", f"{self.overflows} input overflows and {self.dropped_blocks} dropped blocks so far"
                    )
                )
            problem = self._device_problem(got)
            if problem:
                self.on_event(SourceEvent("error", problem))
                self._pump.stopping.set()
                self._close_stream()
                return
            if not got:
                self._pump.stopping.wait(self.block_seconds / 2)

    def _drain(self, resampler: soxr.ResampleStream) -> bool:
        """Move every waiting block through downmix and resampling into the ring; True if any."""
        got = False
        while (block := self._blocks.get()) is not None:
            got = True
            mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]  # (frames,)
            self.ring.write(resampler.resample_chunk(np.ascontiguousarray(mono)))
        if got:
            self._last_block, self._blocks_seen = time.monotonic(), True
        return got

    def _device_problem(self, got_audio: bool) -> str | None:
        name = self.device.name if self.device else self.device_name
        if self._driver_finished:
            return f"input {name!r} stopped (device removed or driver error)"
        limit = self.stall_seconds if self._blocks_seen else self.startup_seconds
        if not got_audio and time.monotonic() - self._last_block > limit:
            return f"input {name!r} delivered no audio for {limit:g} s (device removed?)"
        return None
