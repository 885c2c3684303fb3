"""The streaming recogniser: every hop, classify the last window and smooth the posteriors.

One code path for live audio, files and tests, as in openWakeWord: `process(window, time)`
handles one hop, `feed(chunk)` cuts any stream of 16 kHz samples into hops and calls it, `run`
loops `feed` over a whole recording, and `LiveRecognizer` calls `feed` from a worker thread with
whatever a source has written to its RingBuffer. An energy gate skips the model on silent windows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import softmax

from audio.labels import SILENCE
from audio.ring_buffer import RingBuffer
from audio.trim import frame_levels
from audio.worker_thread import StoppableThread
from model.classifier import GateTrace, KeywordClassifier
from model.smoothing import Detection, PosteriorSmoother, RecognizerConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecognitionResult:
    """One hop, for the GUI and the tools.

    time: seconds from the stream start to the window's end; window: (samples,) the audio
    classified; probabilities and scores (smoothed): (classes,); gated: the model was skipped
    because the window was silent; trace: the gate trace when asked for and the model ran.
    """

    time: float
    window: np.ndarray
    probabilities: np.ndarray
    scores: np.ndarray
    detection: Detection | None
    gated: bool
    trace: GateTrace | None = None


def loudest_frame_db(window: np.ndarray, frame: int) -> float:
    """Level of the loudest `frame`-sample frame of `window` (samples,), in dB re full scale."""
    rms = frame_levels(window, frame).max() if len(window) else 0.0
    return float(20 * np.log10(rms + 1e-12))


class Recognizer:
    """Streaming detections from a KeywordClassifier; `trace=True` adds the gate trace per hop."""

    def __init__(self, model: KeywordClassifier, config: RecognizerConfig | None = None, trace: bool = False) -> None:
        self.model = model.eval()
        self.config = config or RecognizerConfig()
        self.trace = trace
        features = model.config.features
        self.sample_rate = features.sample_rate
        self.window_samples = features.clip_samples
        self.hop_samples = round(self.config.hop_seconds * self.sample_rate)
        self.gate_frame = features.hop_length
        if not 0 < self.hop_samples <= self.window_samples:
            raise ValueError(f"hop of {self.config.hop_seconds} s must be within the {features.clip_seconds} s window")
        self.smoother = PosteriorSmoother(self.labels, self.config)
        background = np.zeros(len(self.labels), np.float32)
        if SILENCE in self.labels:
            background[self.labels.index(SILENCE)] = 1.0
        self._background = background  # what a gated window "heard"
        self.reset()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.model.labels

    def set_threshold(self, threshold: float) -> None:
        """Change the detection threshold while listening; the scores averaged so far are kept.

        Called from another thread than `process`: the settings are swapped whole, never edited.
        """
        self.config = self.config.with_threshold(threshold)
        self.smoother.config = self.config

    def reset(self) -> None:
        """Forget the stream: time starts again at 0."""
        self.smoother.reset()
        self._tail = np.zeros(self.window_samples, np.float32)  # the newest window_samples seen
        self._seen = 0
        self.model_calls = 0
        self.gated_windows = 0
        self.skipped_hops = 0

    def process(self, window: np.ndarray, time: float) -> RecognitionResult:
        """Classify one window (samples,) ending at `time` seconds and update the smoothing."""
        window = np.asarray(window, dtype=np.float32)
        gate = self.config.gate_db
        gated = gate is not None and loudest_frame_db(window, self.gate_frame) < gate
        trace = None
        if gated:
            self.gated_windows += 1
            probabilities = self._background
        else:
            self.model_calls += 1
            probabilities, trace = self._classify(window)
        scores, detection = self.smoother.update(time, probabilities)
        return RecognitionResult(time, window, probabilities, scores, detection, gated, trace)

    @torch.inference_mode()
    def _classify(self, window: np.ndarray) -> tuple[np.ndarray, GateTrace | None]:
        batch = torch.from_numpy(window[None]).to(self.model.device)  # (1, samples)
        if self.trace:
            trace = self.model.trace(batch)
            return softmax(trace.logits[0]).astype(np.float32), trace
        return torch.softmax(self.model(batch), dim=-1)[0].cpu().numpy(), None

    def feed(self, chunk: np.ndarray, latest_only: bool = False) -> list[RecognitionResult]:
        """Append samples (n,); process every hop boundary they complete (only the last with latest_only)."""
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        buffer = np.concatenate([self._tail, chunk])  # buffer[i] is sample self._seen - window + i
        first = self._seen // self.hop_samples + 1
        last = (self._seen + len(chunk)) // self.hop_samples
        ends = range(first, last + 1)
        if latest_only and len(ends) > 1:
            self.skipped_hops += len(ends) - 1
            ends = ends[-1:]
        results = []
        for hop in ends:
            start = hop * self.hop_samples - self._seen  # window [start, start + window) in buffer
            results.append(
                self.process(buffer[start : start + self.window_samples], hop * self.hop_samples / self.sample_rate)
            )
        self._tail = buffer[-self.window_samples :]
        self._seen += len(chunk)
        return results

    def run(self, audio: np.ndarray, chunk_seconds: float = 1.0) -> list[RecognitionResult]:
        """A whole recording (samples,) from a fresh start, as a stream of chunks."""
        self.reset()
        step = max(1, round(chunk_seconds * self.sample_rate))
        return [result for begin in range(0, len(audio), step) for result in self.feed(audio[begin : begin + step])]


class LiveRecognizer:
    """Runs `recognizer.feed` in a worker thread on everything a source writes to `ring`.

    `on_result` is called in the worker thread for every hop (the GUI turns it into a signal).
    When the worker falls more than `max_lag_seconds` behind it classifies only the newest window
    (counted in `recognizer.skipped_hops`); `inf` never skips, for files played faster than real
    time. Exceptions never escape: they are logged and passed to `on_error`, and the worker stops.
    """

    def __init__(
        self,
        recognizer: Recognizer,
        ring: RingBuffer,
        on_result: Callable[[RecognitionResult], None],
        on_error: Callable[[str], None] | None = None,
        max_lag_seconds: float = 0.5,
    ) -> None:
        self.recognizer = recognizer
        self.ring = ring
        self.on_result = on_result
        self.on_error = on_error or (lambda message: None)
        self.max_lag = math.inf if math.isinf(max_lag_seconds) else round(max_lag_seconds * recognizer.sample_rate)
        self._worker = StoppableThread("recognizer")

    @property
    def running(self) -> bool:
        return self._worker.running

    def start(self) -> None:
        """Start listening from the ring's current position (the recogniser's clock restarts at 0)."""
        self._worker.stop()
        self.recognizer.reset()
        self._worker.start(self._loop, self.ring.reader())

    def stop(self) -> None:
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the stream has ended and been processed (or the worker stopped); False on timeout."""
        return self._worker.wait(timeout)

    def _loop(self, reader) -> None:
        try:
            while not self._worker.stopping.is_set():
                chunk = reader.read(timeout=0.05)
                if chunk.size:
                    for result in self.recognizer.feed(chunk, latest_only=len(chunk) > self.max_lag):
                        self.on_result(result)
                elif reader.exhausted:
                    return
        except Exception as error:  # a worker never lets an exception escape
            log.exception("recogniser stopped")
            self.on_error(f"recogniser stopped: {error}")
        finally:
            reader.close()
