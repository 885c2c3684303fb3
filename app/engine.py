"""The recognition worker: loads models, opens audio sources and runs the live recogniser.

`RecognitionEngine` is a QObject moved to its own QThread; its slots (load_model, list_devices,
start, stop, inspect) run there, so opening a model or a sound device, or tracing a take's gates,
never blocks the window. The recogniser itself runs in `LiveRecognizer`'s thread; each result
becomes a `Frame` there. Frames are coalesced: the engine keeps only the newest and emits
`frame_ready` once until the window has called `take_frame`, so a slow screen skips frames instead
of queueing them. Detections are never dropped: each one is emitted with its frame on `detection`.
Nothing escapes a slot: failures are logged and emitted on `error`.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot
from scipy.special import softmax

from app.frames import Frame, FrameBuilder
from audio.capture import MicrophoneCapture, SourceEvent, list_input_devices
from audio.file_source import FileSource
from audio.io import fit_length
from model.checkpoint import load_checkpoint
from model.classifier import KeywordClassifier
from model.device import resolve_device
from model.recognizer import LiveRecognizer, RecognitionResult, Recognizer
from model.smoothing import RecognizerConfig
from model.summary import describe_checkpoint
from model.user_errors import log_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceChoice:
    """Where audio comes from: a sound file (played at `speed`, `loop`ed) or an input device by
    name (None: the system default)."""

    file: str | None = None
    device: str | None = None
    speed: float = 1.0
    loop: bool = False

    @property
    def title(self) -> str:
        if self.file:
            return f"{Path(self.file).name} (file)"
        return self.device or "default input"


def clip_frame(model: KeywordClassifier, audio: np.ndarray) -> Frame:
    """One clip (a take) as the gate panel shows a window: its gates, MFCC and probabilities."""
    features = model.config.features
    clip = fit_length(np.asarray(audio, np.float32).reshape(-1), features.clip_samples)
    trace = model.trace(torch.from_numpy(clip[None]).to(model.device))
    probabilities = softmax(trace.logits[0]).astype(np.float32)
    result = RecognitionResult(len(clip) / features.sample_rate, clip, probabilities, probabilities, None, False, trace)
    return FrameBuilder(model.labels, features.sample_rate, len(clip), features.hop_length, features.n_mfcc).add(result)


class RecognitionEngine(QObject):
    model_loaded = Signal(dict)  # describe_checkpoint's dict plus "threshold"
    devices_listed = Signal(list)  # input device names
    frame_ready = Signal()  # a new frame waits in take_frame()
    detection = Signal(object)  # Frame whose .detection is set
    listening = Signal(bool)
    status = Signal(str)
    error = Signal(str)
    finished = Signal()  # a file played to its end (not looping)
    inspected = Signal(object, str)  # a Frame of one clip (`inspect`), and what the clip is
    _source_event = Signal(str, str)  # from source threads, handled in the engine's thread

    def __init__(self, config: RecognizerConfig | None = None, sd: Any = None, device: str = "auto") -> None:
        super().__init__()
        self.config = config or RecognizerConfig()
        self.sd = sd  # the sounddevice module; tests pass a fake
        self.device = device
        self.model = None
        self.choice: SourceChoice | None = None
        self.source: FileSource | MicrophoneCapture | None = None
        self.worker: LiveRecognizer | None = None
        self.builder: FrameBuilder | None = None
        self.frames_built = 0
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._pending = False
        self._source_event.connect(self._on_source_event)

    @Slot(str)
    def load_model(self, path: str) -> None:
        """Load a model folder; a listening stream carries on with the new model."""
        try:
            checkpoint = load_checkpoint(path, resolve_device(self.device))
            info, model = describe_checkpoint(checkpoint), checkpoint.model
        except Exception as error:  # a worker must not let anything escape; the window shows it
            log_failure(log, f"loading {path} failed", error)
            self.error.emit(f"Could not load the model: {error}")
            return
        was_listening = self.worker is not None
        self.stop()
        self.model = model
        self.model_loaded.emit({**info, "threshold": self.config.detection_threshold})
        if was_listening and self.choice is not None:
            self.start(self.choice)

    @Slot(float)
    def set_threshold(self, threshold: float) -> None:
        """The detection threshold, from now on and for every later stream."""
        self.config = self.config.with_threshold(threshold)
        if self.worker is not None:
            self.worker.recognizer.set_threshold(threshold)

    @Slot(object, str, str)
    def inspect(self, audio: np.ndarray, title: str, model_path: str) -> None:
        """The gates of one clip (a take), for the gate panel: with the model in use, or with the model in
        `model_path` when it is not "" (a fine-tuned version not yet in use)."""
        try:
            model = load_checkpoint(model_path, resolve_device(self.device)).model if model_path else self.model
            if model is None:
                raise ValueError("no model loaded")
            frame = clip_frame(model, audio)
        except Exception as error:  # a worker must not let anything escape; the window shows it
            log_failure(log, f"looking inside {title} failed", error)
            self.error.emit(f"Cannot look inside {title}: {error}")
            return
        self.inspected.emit(frame, title)

    @Slot()
    def list_devices(self) -> None:
        try:
            names = [device.name for device in list_input_devices(self.sd)]
        except Exception as error:  # PortAudio missing or broken: the app still plays files
            log.warning("listing input devices failed: %s", error)
            self.devices_listed.emit([])
            self.error.emit(f"No audio input available ({error}); open a sound file with --file")
            return
        self.devices_listed.emit(names)
        if not names:
            self.error.emit("No audio input devices found; plug in a microphone or start with --file demo.wav")

    @Slot(object)
    def start(self, choice: SourceChoice) -> None:
        """Start listening to `choice`, replacing whatever was playing."""
        self.stop()
        self.choice = choice
        if self.model is None:
            self.error.emit("No model loaded: open a model folder first")
            return
        try:
            recognizer = Recognizer(self.model, self.config, trace=True)
            features = self.model.config.features
            self.builder = FrameBuilder(
                self.model.labels, recognizer.sample_rate, recognizer.hop_samples, features.hop_length, features.n_mfcc
            )
            self.source = self._open(choice, features)
            fast = math.isinf(choice.speed)
            self.worker = LiveRecognizer(
                recognizer,
                self.source.ring,
                self._on_result,
                on_error=self._on_error,
                max_lag_seconds=math.inf if fast else 0.5,
            )
            self.worker.start()
            if not self.source.start():  # the error event has been emitted already
                self.stop()
                return
        except Exception as error:
            log_failure(log, f"starting {choice} failed", error)
            self.stop()
            self.error.emit(f"Cannot listen to {choice.title}: {error}")
            return
        self.listening.emit(True)

    @Slot()
    def stop(self) -> None:
        """Stop the source and the recogniser; safe when nothing runs. Called directly at shutdown."""
        source, worker = self.source, self.worker
        self.source = self.worker = None
        if source is not None:
            source.stop()
        if worker is not None:
            worker.stop()
            self.listening.emit(False)

    def ring_position(self) -> int | None:
        """The absolute sample position of the live input's ring (any thread); None when not listening.

        The recorder reads takes from this ring, the one the recogniser reads.
        """
        source = self.source
        return None if source is None else source.ring.total

    def read_ring(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) of the live ring (n,) float32, clipped to what it still holds (any thread)."""
        source = self.source
        if source is None:
            raise ValueError("not listening: press Listen first, takes are recorded from the live input")
        ring = source.ring
        stop = min(stop, ring.total)
        start = max(start, ring.total - ring.capacity, 0)
        return ring.read(start, stop) if stop > start else np.zeros(0, np.float32)

    @property
    def input_title(self) -> str:
        return self.choice.title if self.choice is not None else ""

    @Slot(object, int)
    def play(self, audio: np.ndarray, sample_rate: int) -> None:
        """Play a clip on the default output (the recorder's playback); failures are reported, not raised."""
        try:
            sd = self.sd
            if sd is None:
                import sounddevice as sd  # late: PortAudio may be missing; the app still runs
            sd.play(np.asarray(audio, np.float32), sample_rate)
        except Exception as error:
            log.warning("playback failed: %s", error)
            self.error.emit(f"Cannot play the take: {error}")

    def take_frame(self) -> Frame | None:
        """The newest frame, for the window (any thread); None when there is nothing new."""
        with self._lock:
            frame, self._latest, self._pending = self._latest, None, False
            return frame

    def _open(self, choice: SourceChoice, features) -> FileSource | MicrophoneCapture:
        def on_event(event: SourceEvent) -> None:
            self._source_event.emit(event.kind, event.message)

        if choice.file:
            return FileSource.from_file(choice.file, features, speed=choice.speed, on_event=on_event)
        return MicrophoneCapture(choice.device, features, on_event=on_event, sd=self.sd)

    def _on_result(self, result: RecognitionResult) -> None:
        """Runs in the recogniser's thread for every hop."""
        frame = self.builder.add(result)
        self.frames_built += 1
        if frame.detection is not None:
            self.detection.emit(frame)
        with self._lock:
            self._latest = frame
            notify, self._pending = not self._pending, True
        if notify:
            self.frame_ready.emit()

    def _on_error(self, message: str) -> None:
        self._source_event.emit("error", message)

    @Slot(str, str)
    def _on_source_event(self, kind: str, message: str) -> None:
        if kind == "error":
            self.stop()
            self.error.emit(message)
        elif kind == "overflow":
            self.status.emit(f"Audio overflow: {message}")
        elif kind == "started":
            self.status.emit(f"Listening to {message}")
        elif kind == "finished":
            self._file_finished()

    def _file_finished(self) -> None:
        """A file has been played: let the recogniser drain it, then loop or report the end."""
        worker, choice = self.worker, self.choice
        if worker is None or choice is None:
            return
        worker.wait(timeout=2.0)
        if choice.loop and self.source is not None:
            self.builder.restart_clock()
            self.source.ring.write(np.zeros(0, np.float32))  # reopen the ring the file closed at its end
            worker.start()  # from the ring's current position; the recogniser's clock restarts
            self.source.start()
            return
        self.stop()
        self.status.emit(f"{choice.title}: played to the end")
        self.finished.emit()
