"""What every TTS engine shares: a `Voice` value, the `Engine` interface, and output clean-up.

An engine turns (word, voice) into float32 mono audio at the project rate. Engines differ in
how they run (a subprocess per word, a long-lived interpreter, an ONNX model), so everything
they have in common lives here: naming rules, resampling and silence trimming.
"""

from __future__ import annotations

import logging
import random
import re
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import librosa
import numpy as np

from audio.config import FeatureConfig

log = logging.getLogger(__name__)

SAMPLE_RATE = FeatureConfig().sample_rate
TRIM_TOP_DB = 40.0  # quieter than peak − 40 dB at either end counts as silence
TRIM_MARGIN_SECONDS = 0.03  # keep a little breath either side so onsets are not clipped
INTONATIONS = (".", "!", "?", ",")  # statement, exclamation, question, continuation

_UNSAFE = re.compile(r"[^a-z0-9-]+")
_ABBREVIATIONS = {"rate": "r", "pitch": "p", "length_scale": "l", "noise_scale": "n", "noise_w": "w"}


def safe_name(text: str) -> str:
    """Lower-case `text` and keep only [a-z0-9-], so it is safe in a file name."""
    return _UNSAFE.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class Voice:
    """One speaker of one engine, plus the variant parameters of one rendering.

    `speaker` names who is speaking (engine + voice, [a-z0-9-] only) and becomes the file
    name prefix; `group` says which *person or timbre* that is across engines (flite's and
    festival's `kal` are the same recording) and is what the train/test split holds out.
    `family` is the pool held-out groups are drawn from. `name` is the engine's own voice
    id; `params` are sorted (key, value) pairs such as rate and pitch.
    """

    engine: str
    speaker: str
    name: str
    group: str
    family: str
    params: tuple[tuple[str, int | float | str], ...] = ()

    def __post_init__(self) -> None:
        if not self.speaker or safe_name(self.speaker) != self.speaker:
            raise ValueError(f"speaker must use only [a-z0-9-], got {self.speaker!r}")

    def param(self, key: str, default: int | float | str | None = None) -> int | float | str | None:
        return dict(self.params).get(key, default)

    def with_params(self, **params: int | float | str) -> Voice:
        return replace(self, params=tuple(sorted({**dict(self.params), **params}.items())))

    @property
    def tag(self) -> str:
        """The variant parameters as a short file-safe string, e.g. `q-p62-r181`."""
        parts = []
        for key, value in self.params:
            if key == "intonation":
                parts.append({".": "s", "!": "x", "?": "q", ",": "c"}.get(str(value), "s"))
            elif isinstance(value, float):
                parts.append(f"{_ABBREVIATIONS.get(key, key[0])}{round(value * 100)}")
            else:
                parts.append(f"{_ABBREVIATIONS.get(key, key[0])}{value}")
        return safe_name("-".join(parts)) or "default"


class Engine(ABC):
    """A speech synthesiser. Subclasses are cheap to construct; work happens on first use."""

    name: str = ""
    programs: tuple[str, ...] = ()  # executables that must be on PATH

    def available(self) -> bool:
        """True when the engine can run here; a missing engine is skipped, not an error."""
        return all(shutil.which(program) for program in self.programs)

    @abstractmethod
    def voices(self) -> list[Voice]:
        """Every distinct speaker this engine offers, with default parameters."""

    @abstractmethod
    def vary(self, voice: Voice, rng: random.Random) -> Voice:
        """`voice` with random variant parameters (rate, pitch, ...) drawn from `rng`."""

    @abstractmethod
    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Raw engine output for `text`: (audio (samples,) float32, its sample rate)."""

    def speak(self, word: str, voice: Voice) -> np.ndarray:
        """`word` spoken by `voice`: float32 mono at the project rate, silence trimmed.

        The `intonation` parameter, when set, is appended as punctuation ("yes?"), which
        changes the pitch contour the engine gives the word. Returns shape (samples,).
        """
        text = word + str(voice.param("intonation", ""))
        audio, rate = self.synthesize(text, voice)
        return finish(audio, rate)

    def close(self) -> None:  # noqa: B027 - optional hook, most engines hold nothing
        """Release processes or models held by the engine."""


def finish(audio: np.ndarray, rate: int) -> np.ndarray:
    """Engine output (samples,) at `rate` -> float32 (samples',) at the project rate, trimmed.

    Leading and trailing silence quieter than peak − 40 dB is cut, keeping 30 ms margins.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if rate != SAMPLE_RATE:
        audio = librosa.resample(audio, orig_sr=rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    if audio.size == 0 or not np.any(audio):
        return audio.astype(np.float32)
    _, (start, end) = librosa.effects.trim(audio, top_db=TRIM_TOP_DB, frame_length=512, hop_length=128)
    margin = round(TRIM_MARGIN_SECONDS * SAMPLE_RATE)
    return audio[max(0, start - margin) : end + margin].astype(np.float32)


def uniform(rng: random.Random, low: float, high: float) -> float:
    """A uniform draw rounded to 2 decimals, so file names stay short and reproducible."""
    return round(rng.uniform(low, high), 2)
