"""Streaming accuracy: a long recording built from labelled clips, and how detections match it.

The metrics are TensorFlow's test_streaming_accuracy ones: a detection matches the first
not-yet-matched word whose start lies at most `tolerance` seconds before it; a matched word counts
as correct when the labels agree, else wrong; an unmatched detection is a false accept. Percentages
are of the command words in the stream. Added here: false accepts per hour of audio that holds no
command word, and the median latency from a word's end to its (correct) detection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from audio.config import FeatureConfig
from audio.noise import coloured_noise
from model.smoothing import Detection


@dataclass(frozen=True)
class SpokenWord:
    """A word placed in the stream; times in seconds from its start. `is_command` words are expected."""

    label: str
    start: float
    end: float
    is_command: bool = True


@dataclass(frozen=True)
class Stream:
    audio: np.ndarray  # (samples,)
    words: list[SpokenWord]
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate


def word_bounds(clip: np.ndarray, frame: int, below_peak_db: float = 30.0) -> tuple[int, int]:
    """First and last sample of the frames within `below_peak_db` of the clip's loudest frame."""
    usable = max(frame, len(clip) // frame * frame)
    frames = np.pad(clip, (0, max(0, usable - len(clip))))[:usable].reshape(-1, frame)  # (frames, frame)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-below_peak_db / 20))
    return int(loud[0] * frame), int(min(len(clip), (loud[-1] + 1) * frame))


def build_stream(
    clips: Sequence[tuple[np.ndarray, str, bool]],
    seconds: float,
    rng: np.random.Generator,
    noise: Sequence[np.ndarray] = (),
    noise_rms: float = 0.01,
    gap_seconds: tuple[float, float] = (1.0, 3.0),
    config: FeatureConfig | None = None,
) -> Stream:
    """Clips (audio (samples,), label, is_command) drawn at random, separated by random gaps, over noise.

    The stream is `seconds` long; word times come from each clip's loud part. Background is a
    random stretch of a random `noise` recording (or synthetic pink noise) scaled to `noise_rms`.
    """
    config = config or FeatureConfig()
    rate = config.sample_rate
    total = round(seconds * rate)
    if not clips:
        raise ValueError("no clips to build a stream from; check --data and --split")
    audio = np.zeros(total, np.float32)
    words, position = [], round(rng.uniform(*gap_seconds) * rate)
    while True:
        clip, label, is_command = clips[rng.integers(len(clips))]
        if position + len(clip) > total:
            break
        audio[position : position + len(clip)] += clip
        start, end = word_bounds(clip, config.hop_length)
        words.append(SpokenWord(label, (position + start) / rate, (position + end) / rate, is_command))
        position += len(clip) + round(rng.uniform(*gap_seconds) * rate)
    audio += noise_rms * _background(total, noise, rng)
    return Stream(audio=np.clip(audio, -1.0, 1.0), words=words, sample_rate=rate)


def _background(samples: int, noise: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    if not noise:
        return coloured_noise("pink", samples, rng)
    source = noise[rng.integers(len(noise))]
    repeats = -(-samples // len(source)) + 1
    looped = np.tile(source, repeats)
    start = rng.integers(len(source))
    stretch = looped[start : start + samples]
    return stretch / (stretch.std() + 1e-12)


@dataclass(frozen=True)
class StreamReport:
    """Percentages are of `words` (command words in the stream); latency in seconds."""

    seconds: float
    words: int
    detections: int
    correct: int
    wrong: int
    false_accepts: int
    matched_percent: float
    correct_percent: float
    wrong_percent: float
    false_accept_percent: float
    false_accepts_per_hour: float
    non_command_hours: float
    median_latency: float | None
    tolerance: float

    def to_dict(self) -> dict:
        return asdict(self)

    def format_text(self) -> str:
        latency = "n/a" if self.median_latency is None else f"{self.median_latency * 1000:.0f} ms"
        return (
            f"{self.seconds / 60:.1f} min, {self.words} command words, {self.detections} detections\n"
            f"matched {self.matched_percent:.1f}%  (correct {self.correct_percent:.1f}%, "
            f"wrong {self.wrong_percent:.1f}%)\n"
            f"false accepts {self.false_accept_percent:.1f}% of words, "
            f"{self.false_accepts_per_hour:.1f} per hour of non-command audio\n"
            f"median latency, word end -> detection: {latency}  (tolerance {self.tolerance:g} s)"
        )


def score_detections(
    words: Sequence[SpokenWord], detections: Sequence[Detection], seconds: float, tolerance: float = 1.5
) -> StreamReport:
    """Match detections to words (TF's rule, see the module docstring) and compute the report."""
    commands = sorted((w for w in words if w.is_command), key=lambda w: w.start)
    matched = [False] * len(commands)
    correct = wrong = false_accepts = 0
    latencies = []
    for detection in sorted(detections, key=lambda d: d.time):
        index = next(
            (i for i, w in enumerate(commands) if not matched[i] and 0 <= detection.time - w.start <= tolerance), None
        )
        if index is None:
            false_accepts += 1
            continue
        matched[index] = True
        if commands[index].label == detection.label:
            correct += 1
            latencies.append(detection.time - commands[index].end)
        else:
            wrong += 1
    spoken = sum(w.end - w.start for w in commands)
    non_command_hours = max(seconds - spoken, 0.0) / 3600
    n = len(commands)
    percent = (lambda count: 100.0 * count / n) if n else (lambda count: 0.0)
    return StreamReport(
        seconds=seconds,
        words=n,
        detections=len(detections),
        correct=correct,
        wrong=wrong,
        false_accepts=false_accepts,
        matched_percent=percent(correct + wrong),
        correct_percent=percent(correct),
        wrong_percent=percent(wrong),
        false_accept_percent=percent(false_accepts),
        false_accepts_per_hour=false_accepts / non_command_hours if non_command_hours else 0.0,
        non_command_hours=non_command_hours,
        median_latency=float(np.median(latencies)) if latencies else None,
        tolerance=tolerance,
    )
