"""`_silence_` clips: what the microphone hears when nobody speaks.

Half synthetic coloured noise (white, pink, brown) at gains from near-silence (−80 dBFS) to
loud (−15 dBFS), half one-second slices of the recordings in the noise folders when given
(fans, traffic, dishes). Every clip is a pure function of (its index, the seed).
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import numpy as np

from audio.io import AudioFileError, read_audio
from audio.noise import COLOURS, coloured_noise
from audio.synthesis.voice import SAMPLE_RATE

RMS_DB = (-80.0, -15.0)  # clip loudness, dB relative to full scale
RECORDED_SHARE = 0.5  # of silence clips cut from recordings, when recordings exist


def noise_files(noise_dirs: list[Path] | tuple[Path, ...]) -> list[Path]:
    """Sorted WAV files under the folders (recursively); a missing folder is an error."""
    files: list[Path] = []
    for folder in noise_dirs:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"noise folder {folder} not found; pass an existing folder")
        files += sorted(Path(folder).rglob("*.wav"))
    return files


def silence_clip(index: int, seed: int, samples: int, files: list[Path]) -> tuple[str, np.ndarray]:
    """Clip `index` of `_silence_`: (its source name, audio (samples,) float32).

    The source name (`white`, `pink`, `brown` or the recording's file stem) goes into the
    file name. Recordings shorter than one clip fall back to synthetic noise.
    """
    rng = random.Random(f"silence-{seed}-{index}")
    gain = 10 ** (rng.uniform(*RMS_DB) / 20)
    generator = np.random.default_rng(rng.getrandbits(64))
    if files and rng.random() < RECORDED_SHARE:
        path = files[rng.randrange(len(files))]
        recording = _recording(str(path))
        if len(recording) >= samples:
            start = rng.randrange(len(recording) - samples + 1)
            piece = recording[start : start + samples]
            rms = np.sqrt(np.mean(piece.astype(np.float64) ** 2))
            if rms > 1e-6:
                return path.stem, (piece / rms * gain).astype(np.float32)
    colour = rng.choice(tuple(COLOURS))
    return colour, coloured_noise(colour, samples, generator) * np.float32(gain)


@functools.lru_cache(maxsize=32)
def _recording(path: str) -> np.ndarray:
    """A noise recording at the project rate, read once per process; empty if unreadable."""
    try:
        return read_audio(path, SAMPLE_RATE)
    except AudioFileError:
        return np.zeros(0, dtype=np.float32)
