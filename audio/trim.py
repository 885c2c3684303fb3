"""Cutting a take to the clip around its speech: a recording (any length) -> exactly one clip.

A recorded take or an untrimmed file holds a word somewhere among silence and room noise. The
word is found by frame energy against both the take's loudest frame and its noise floor, and
the clip is centred on it, as the synthetic corpus centres its words.
"""

from __future__ import annotations

import numpy as np

from audio.config import FeatureConfig
from audio.io import fit_length
from audio.labels import SILENCE

BELOW_PEAK_DB = 35.0  # frames this far below the loudest frame are not speech
ABOVE_FLOOR_DB = 8.0  # ...nor frames this close to the noise floor
FLOOR_PERCENTILE = 10.0  # the noise floor: this percentile of frame levels


def frame_levels(audio: np.ndarray, frame: int) -> np.ndarray:
    """RMS of consecutive `frame`-sample frames of `audio` (samples,) -> (frames,); the tail is padded."""
    frames = -(-len(audio) // frame)
    padded = np.pad(audio.astype(np.float64), (0, frames * frame - len(audio)))
    return np.sqrt((padded.reshape(frames, frame) ** 2).mean(axis=1))  # (frames,)


def speech_bounds(audio: np.ndarray, config: FeatureConfig | None = None) -> tuple[int, int] | None:
    """(first, last + 1) sample of the frames that hold speech, or None for a take without any.

    A frame is speech when it is within BELOW_PEAK_DB of the loudest frame and at least
    ABOVE_FLOOR_DB above the noise floor. A take whose loudest frame is itself within
    ABOVE_FLOOR_DB of the floor (steady noise, silence) has no speech.
    """
    config = config or FeatureConfig()
    frame = config.hop_length
    if len(audio) < frame:
        return None
    levels = frame_levels(audio, frame)  # (frames,)
    peak = float(levels.max())
    floor = float(np.percentile(levels, FLOOR_PERCENTILE))
    if peak <= 0 or peak < max(floor, 1e-6) * 10 ** (ABOVE_FLOOR_DB / 20):
        return None
    threshold = max(peak * 10 ** (-BELOW_PEAK_DB / 20), floor * 10 ** (ABOVE_FLOOR_DB / 20))
    loud = np.flatnonzero(levels >= threshold)
    return int(loud[0] * frame), int(min(len(audio), (loud[-1] + 1) * frame))


def cut_take(audio: np.ndarray, config: FeatureConfig | None = None) -> np.ndarray:
    """The clip (clip_samples,) centred on the speech in `audio` (samples,) float32.

    Speech longer than a clip keeps its loudest clip-long stretch; a take without speech
    (background material) keeps its loudest clip, like `fit_length`. The clip stays inside
    the take when the take is long enough; a shorter take is padded with zeros around it.
    """
    config = config or FeatureConfig()
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    samples = config.clip_samples
    bounds = speech_bounds(audio, config)
    if bounds is None:
        return fit_length(audio, samples).astype(np.float32, copy=False)
    start, end = bounds
    if end - start >= samples:
        return fit_length(audio[start:end], samples).astype(np.float32, copy=False)
    begin = (start + end) // 2 - samples // 2
    if len(audio) >= samples:
        begin = int(np.clip(begin, 0, len(audio) - samples))
    clip = np.zeros(samples, np.float32)
    lo, hi = max(begin, 0), min(begin + samples, len(audio))
    clip[lo - begin : hi - begin] = audio[lo:hi]
    return clip


def takes_of(label: str, audio: np.ndarray, config: FeatureConfig | None = None) -> list[np.ndarray]:
    """What a recording (samples,) of `label` keeps as takes, each (clip_samples,): the clip around its word,
    or for SILENCE (background material) every whole clip-long piece.

    Raises ValueError for a word's recording without a word (a muted input's zeros, a room with
    nobody speaking): saved under the word, it would teach the word silence; and for background
    shorter than a clip.
    """
    config = config or FeatureConfig()
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    samples = config.clip_samples
    if label == SILENCE:
        pieces = [audio[start : start + samples] for start in range(0, len(audio) - samples + 1, samples)]
        if not pieces:
            raise ValueError(f"{len(audio) / config.sample_rate:.2f} s of background is shorter than a "
                             f"{config.clip_seconds:g} s take")
        return pieces
    if speech_bounds(audio, config) is None:
        raise ValueError("no word heard — nothing in the take stands out from the room's level. "
                         "Is the microphone muted, or too far away?")
    return [cut_take(audio, config)]
