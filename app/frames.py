"""What the window draws for one hop, prepared in the recogniser's thread (plain NumPy, no Qt).

`FrameBuilder.add(result)` turns a `RecognitionResult` into a `Frame`: the last few seconds of
waveform (as a min/max envelope) and MFCC, the level, the smoothed scores, and, when the model
ran with a trace, the window's gates with their saturation fractions and unit orderings. Widgets
only index these arrays and hand them to pyqtgraph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.gate_stats import saturation_fractions, unit_orders
from audio.clipping import is_clipped

SILENT_DB = -100.0  # the level shown for digital silence
HISTORY_SECONDS = 3.0  # waveform and MFCC the live view shows


@dataclass(frozen=True)
class DetectionView:
    """A detected command: `time` in seconds since listening started (end of its window)."""

    label: str
    confidence: float
    time: float


@dataclass(frozen=True)
class GateView:
    """One window as the model saw it, for the heatmap panel.

    states: (layers, directions, len(state_names), time, hidden); features: (time, n_mfcc), the
    window's MFCC; saturation: (layers, directions, 3, hidden, 2), see gate_stats; orders: (layers,
    directions, len(state_names), hidden) unit indexes; window: (samples,) the audio classified, at
    sample_rate.
    """

    state_names: tuple[str, ...]
    states: np.ndarray
    features: np.ndarray
    saturation: np.ndarray
    orders: np.ndarray
    window: np.ndarray
    sample_rate: int

    @property
    def window_seconds(self) -> float:
        return len(self.window) / self.sample_rate

    @property
    def mfcc(self) -> np.ndarray:
        """(time, n_mfcc - 1): the cepstra c1.. the panels draw (c0, the log energy, is on the level meter)."""
        return self.features[:, 1:]

    @property
    def layers(self) -> int:
        return self.states.shape[0]

    @property
    def directions(self) -> int:
        return self.states.shape[1]


@dataclass(frozen=True)
class Frame:
    """One hop. waveform / waveform_time: (2 * points,) envelope and its times in seconds before
    now (<= 0); spectrogram: (history frames, n_mfcc - 1) scrolling MFCC, NaN where the window was
    silent and the model skipped; probabilities, scores: (classes,); gates None when skipped."""

    time: float
    labels: tuple[str, ...]
    probabilities: np.ndarray
    scores: np.ndarray
    top: int
    gated: bool
    detection: DetectionView | None
    level_db: float
    clipped: bool  # the last second of input reached full scale
    waveform: np.ndarray
    waveform_time: np.ndarray
    spectrogram: np.ndarray
    gates: GateView | None


class FrameBuilder:
    """Keeps the scrolling history of one stream and builds a Frame per recogniser result.

    sample_rate, hop_samples: the recogniser's; frame_hop: samples per MFCC frame; n_mfcc: cepstra
    per frame; history_seconds: how much waveform and MFCC the live view shows; points: envelope
    bins across it.
    """

    def __init__(
        self,
        labels: tuple[str, ...],
        sample_rate: int,
        hop_samples: int,
        frame_hop: int,
        n_mfcc: int,
        history_seconds: float = HISTORY_SECONDS,
        points: int = 600,
    ) -> None:
        self.labels = tuple(labels)
        self.sample_rate = sample_rate
        self.hop_samples = hop_samples
        self.frame_hop = frame_hop
        history = round(history_seconds * sample_rate)
        self._bin = max(1, history // points)
        self._audio = np.zeros(self._bin * points, np.float32)  # (history samples,)
        self._mfcc = np.full((history // frame_hop, n_mfcc - 1), np.nan, np.float32)  # (frames, n_mfcc - 1)
        times = np.linspace(-history_seconds, 0.0, points, dtype=np.float32)
        self.waveform_time = np.repeat(times, 2)  # (2 * points,) min and max share a time
        self._offset = 0.0  # added to the recogniser's clock, which restarts when a file loops
        self._last_time = 0.0

    def restart_clock(self) -> None:
        """The recogniser starts counting from 0 again: keep the displayed time running on."""
        self._offset = self._last_time

    def add(self, result) -> Frame:
        """A Frame from a model.recognizer.RecognitionResult (duck-typed: no torch import here)."""
        time = self._offset + result.time
        window = np.asarray(result.window, np.float32)  # (samples,)
        fresh = int(np.clip(round((time - self._last_time) * self.sample_rate), self.hop_samples, len(window)))
        self._last_time = time
        self._scroll(self._audio, window[-fresh:])
        gates = self._gates(result.trace, window) if result.trace is not None else None
        frames = max(1, fresh // self.frame_hop)
        new_mfcc = gates.mfcc[-frames:] if gates is not None else np.full((frames, self._mfcc.shape[1]), np.nan)
        self._scroll(self._mfcc, new_mfcc)
        envelope = self._audio.reshape(-1, self._bin)  # (points, bin)
        waveform = np.stack([envelope.min(axis=1), envelope.max(axis=1)], axis=1).reshape(-1)  # (2 * points,)
        detection = result.detection
        return Frame(
            time=time,
            labels=self.labels,
            probabilities=np.asarray(result.probabilities, np.float32),
            scores=np.asarray(result.scores, np.float32),
            top=int(np.argmax(result.scores)),
            gated=bool(result.gated),
            detection=None if detection is None else DetectionView(detection.label, detection.confidence, time),
            level_db=level_db(window[-self.hop_samples :]),
            clipped=is_clipped(window),
            waveform=waveform,
            waveform_time=self.waveform_time,
            spectrogram=self._mfcc.copy(),
            gates=gates,
        )

    def _gates(self, trace, window: np.ndarray) -> GateView:
        states = trace.states[:, :, :, 0]  # (layers, directions, states, time, hidden): batch of one
        names = tuple(trace.state_names)
        return GateView(
            state_names=names,
            states=states,
            features=trace.features[0],  # (time, n_mfcc)
            saturation=saturation_fractions(states, names),
            orders=unit_orders(states),
            window=window,
            sample_rate=self.sample_rate,
        )

    @staticmethod
    def _scroll(history: np.ndarray, new: np.ndarray) -> None:
        """Shift `history` (n, ...) left by len(new) and append `new` at the end, in place."""
        count = min(len(new), len(history))
        history[:-count] = history[count:]
        history[-count:] = new[-count:]


def level_db(samples: np.ndarray) -> float:
    """RMS level of `samples` (n,) in dB re full scale, SILENT_DB for silence."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return max(SILENT_DB, 20 * np.log10(rms)) if rms > 0 else SILENT_DB
