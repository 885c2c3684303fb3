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
WORD_GAP_SECONDS = 0.3  # a recording of several words: a pause this long ends a word
MIN_WORD_SECONDS = 0.1  # ...and speech shorter than this is a click or a breath
WORD_BELOW_LOUDEST_DB = 10.0  # ...as is speech this far below the loudest word (a click as the recording starts)


def frame_levels(audio: np.ndarray, frame: int) -> np.ndarray:
    """RMS of consecutive `frame`-sample frames of `audio` (samples,) -> (frames,); the tail is padded."""
    frames = -(-len(audio) // frame)
    padded = np.pad(audio.astype(np.float64), (0, frames * frame - len(audio)))
    return np.sqrt((padded.reshape(frames, frame) ** 2).mean(axis=1))  # (frames,)


def speech_frames(audio: np.ndarray, config: FeatureConfig | None = None) -> np.ndarray | None:
    """Which hop-long frames of `audio` (samples,) hold speech: (frames,) bool, or None for a take without any.

    A frame is speech when it is within BELOW_PEAK_DB of the loudest frame and at least
    ABOVE_FLOOR_DB above the noise floor. A take whose loudest frame is itself within
    ABOVE_FLOOR_DB of the floor (steady noise, silence) has no speech.
    """
    config = config or FeatureConfig()
    if len(audio) < config.hop_length:
        return None
    return loud_frames(frame_levels(audio, config.hop_length))


def loud_frames(levels: np.ndarray) -> np.ndarray | None:
    """`speech_frames`' rule on frame levels (frames,) already measured."""
    peak = float(levels.max())
    floor = float(np.percentile(levels, FLOOR_PERCENTILE))
    if peak <= 0 or peak < max(floor, 1e-6) * 10 ** (ABOVE_FLOOR_DB / 20):
        return None
    return levels >= max(peak * 10 ** (-BELOW_PEAK_DB / 20), floor * 10 ** (ABOVE_FLOOR_DB / 20))


def speech_bounds(audio: np.ndarray, config: FeatureConfig | None = None) -> tuple[int, int] | None:
    """(first, last + 1) sample of the frames that hold speech (`speech_frames`), or None for a take without any."""
    config = config or FeatureConfig()
    speech = speech_frames(audio, config)
    if speech is None:
        return None
    loud = np.flatnonzero(speech)
    return int(loud[0] * config.hop_length), int(min(len(audio), (loud[-1] + 1) * config.hop_length))


def word_spans(audio: np.ndarray, config: FeatureConfig | None = None) -> list[tuple[int, int]]:
    """(start, end) samples of each word in a recording of several words, in order.

    Runs of speech frames (`speech_frames`) joined across pauses shorter than WORD_GAP_SECONDS
    (the closure before a "t" or "p" is shorter); runs shorter than MIN_WORD_SECONDS, or whose
    loudest frame is more than WORD_BELOW_LOUDEST_DB below the loudest word's, are breaths and
    clicks, not words.
    """
    config = config or FeatureConfig()
    hop = config.hop_length
    if len(audio) < hop:
        return []
    levels = frame_levels(audio, hop)  # (frames,)
    speech = loud_frames(levels)
    if speech is None:
        return []
    gap = round(WORD_GAP_SECONDS * config.sample_rate / hop)
    runs: list[list[int]] = []  # [first frame, last frame + 1]
    for frame in np.flatnonzero(speech):
        if runs and frame - runs[-1][1] < gap:
            runs[-1][1] = frame + 1
        else:
            runs.append([frame, frame + 1])
    loudest = max(float(levels[a:b].max()) for a, b in runs)
    shortest = round(MIN_WORD_SECONDS * config.sample_rate / hop)
    return [
        (a * hop, min(len(audio), b * hop))
        for a, b in runs
        if b - a >= shortest and levels[a:b].max() >= loudest * 10 ** (-WORD_BELOW_LOUDEST_DB / 20)
    ]


def clip_around(audio: np.ndarray, start: int, end: int, samples: int) -> np.ndarray:
    """The clip (samples,) float32 centred on audio[start:end]; a stretch longer than the clip keeps its loudest part.

    The clip stays inside `audio` when it is long enough; a shorter one is padded with zeros around it.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if end - start >= samples:
        return fit_length(audio[start:end], samples).astype(np.float32, copy=False)
    begin = (start + end) // 2 - samples // 2
    if len(audio) >= samples:
        begin = int(np.clip(begin, 0, len(audio) - samples))
    clip = np.zeros(samples, np.float32)
    lo, hi = max(begin, 0), min(begin + samples, len(audio))
    clip[lo - begin : hi - begin] = audio[lo:hi]
    return clip


def cut_take(audio: np.ndarray, config: FeatureConfig | None = None) -> np.ndarray:
    """The clip (clip_samples,) centred on the speech in `audio` (samples,) float32.

    Speech longer than a clip keeps its loudest clip-long stretch; a take without speech
    (background material) keeps its loudest clip, like `fit_length`.
    """
    config = config or FeatureConfig()
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    bounds = speech_bounds(audio, config)
    if bounds is None:
        return fit_length(audio, config.clip_samples).astype(np.float32, copy=False)
    return clip_around(audio, *bounds, config.clip_samples)


def takes_of(
    label: str, audio: np.ndarray, config: FeatureConfig | None = None, every_word: bool = False
) -> list[np.ndarray]:
    """What a recording (samples,) of `label` keeps as takes, each (clip_samples,): the clip around its word
    (with `every_word`, one clip around each word of a recording of several, `word_spans`), or for
    SILENCE (background material) every whole clip-long piece.

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
            raise ValueError(
                f"{len(audio) / config.sample_rate:.2f} s of background is shorter than a "
                f"{config.clip_seconds:g} s take"
            )
        return pieces
    if every_word:
        spans = word_spans(audio, config)
    else:
        bounds = speech_bounds(audio, config)
        spans = [bounds] if bounds is not None else []
    if not spans:
        raise ValueError(
            "no word heard — nothing in the take stands out from the room's level. "
            "Is the microphone muted, or too far away?"
        )
    return [clip_around(audio, start, end, samples) for start, end in spans]
