"""Turning a stream of per-window posteriors into detections (pure NumPy, no torch).

Follows TensorFlow's RecognizeCommands (speech_commands/recognize_commands.cc): average the
posteriors over a time window, wait for a minimum number of results, report the top label when
its averaged score passes a threshold and the last report is older than a suppression time.
RecognizeCommands never reports the same label twice in a row (it only re-arms when a *different*
label wins), so "stop ... stop" gives one detection. Here a label re-arms once its averaged score
falls below `release_threshold` (a lull, or silence), so a repeated word is reported again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from audio.labels import SILENCE, UNKNOWN

_EPSILON = 1e-6  # seconds: times are sums of floats; 0.6 - 0.1 must count as 0.5


@dataclass(frozen=True)
class RecognizerConfig:
    """Every recogniser setting, times in seconds.

    hop_seconds: how often the last window is classified (default 0.1).
    average_seconds: posteriors averaged over this much recent time (TF: 1.0; 0.5 reacts faster).
    minimum_count: fewer results than this in the average window give no detection (TF: 3).
    detection_threshold: the averaged score a command must reach (0..1).
    release_threshold: the detected label re-arms once its averaged score falls below this.
    suppression_seconds: no detection of any label this soon after the previous one.
    gate_db: windows whose loudest 10 ms frame is below this level (dB re full scale) skip the
        model and count as background; None turns the gate off.
    background_labels: labels that are never reported.
    """

    hop_seconds: float = 0.1
    average_seconds: float = 0.5
    minimum_count: int = 3
    detection_threshold: float = 0.6
    release_threshold: float = 0.3
    suppression_seconds: float = 0.5
    gate_db: float | None = -50.0
    background_labels: tuple[str, ...] = (SILENCE, UNKNOWN)

    def __post_init__(self) -> None:
        if self.hop_seconds <= 0 or self.average_seconds <= 0 or self.suppression_seconds < 0:
            raise ValueError(f"hop and averaging times must be positive, suppression >= 0: {self}")
        if self.minimum_count < 1:
            raise ValueError(f"minimum_count must be at least 1, got {self.minimum_count}")
        if not 0 <= self.release_threshold <= self.detection_threshold <= 1:
            raise ValueError(
                f"need 0 <= release_threshold <= detection_threshold <= 1, got "
                f"{self.release_threshold}, {self.detection_threshold}"
            )

    def with_threshold(self, threshold: float) -> RecognizerConfig:
        """These settings with another detection threshold; the release threshold is lowered to it if it was above."""
        return replace(self, detection_threshold=threshold, release_threshold=min(self.release_threshold, threshold))


@dataclass(frozen=True)
class Detection:
    """A reported command: `time` in seconds from the start of the stream (end of its window)."""

    label: str
    index: int
    confidence: float
    time: float


class PosteriorSmoother:
    """Feed (time, probabilities (classes,)) in time order; get smoothed scores and detections."""

    def __init__(self, labels: Sequence[str], config: RecognizerConfig | None = None) -> None:
        self.labels = tuple(labels)
        self.config = config or RecognizerConfig()
        self._reportable = np.array([label not in self.config.background_labels for label in self.labels])
        self.reset()

    def reset(self) -> None:
        self._history: deque[tuple[float, np.ndarray]] = deque()
        self._armed_off: int | None = None  # the label detected last, until it is released
        self._last_time = -np.inf

    def update(self, time: float, probabilities: np.ndarray) -> tuple[np.ndarray, Detection | None]:
        """Add one result; returns the averaged scores (classes,) and a detection or None."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if probabilities.shape != (len(self.labels),):
            raise ValueError(f"expected {len(self.labels)} probabilities, got shape {probabilities.shape}")
        if self._history and time < self._history[-1][0]:
            raise ValueError(f"results must come in time order: {time} after {self._history[-1][0]}")
        self._history.append((time, probabilities))
        while self._history[0][0] <= time - self.config.average_seconds + _EPSILON:
            self._history.popleft()
        scores = np.mean([p for _, p in self._history], axis=0)  # (classes,)
        if self._armed_off is not None and scores[self._armed_off] < self.config.release_threshold:
            self._armed_off = None
        return scores.astype(np.float32), self._decide(time, scores)

    def _decide(self, time: float, scores: np.ndarray) -> Detection | None:
        if len(self._history) < self.config.minimum_count:
            return None
        top = int(np.argmax(scores))
        if not self._reportable[top] or scores[top] < self.config.detection_threshold:
            return None
        if top == self._armed_off or time - self._last_time < self.config.suppression_seconds - _EPSILON:
            return None
        self._armed_off, self._last_time = top, time
        return Detection(label=self.labels[top], index=top, confidence=float(scores[top]), time=time)
