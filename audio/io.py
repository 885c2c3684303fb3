"""Reading and writing clips: any WAV in, 16 kHz mono float32 out; writes are atomic."""

from __future__ import annotations

import os
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from audio.atomic import write_atomically


class AudioFileError(ValueError):
    """A file that cannot be used as audio; the message names the file and the problem."""


def read_audio(path: str | os.PathLike, sample_rate: int = 16_000) -> np.ndarray:
    """Read any sound file soundfile understands as mono float32 at `sample_rate`.

    Channels are averaged; other rates are resampled with soxr's high-quality
    anti-aliased resampler (librosa's default). Returns shape (samples,).
    Raises AudioFileError for a missing, corrupt or empty file.
    """
    path = Path(path)
    if path.is_dir():
        raise AudioFileError(f"{path}: a folder, not a sound file")
    if not path.is_file():  # libsndfile says only "System error." for a missing file
        raise AudioFileError(f"{path}: no such file")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)  # (samples, channels)
    except sf.LibsndfileError as error:  # its str() repeats the path; error_string is libsndfile's reason alone
        raise AudioFileError(f"{path}: not a readable audio file ({error.error_string.rstrip('.')})") from error
    except (RuntimeError, OSError) as error:
        raise AudioFileError(f"{path}: not a readable audio file ({error})") from error
    if audio.shape[0] == 0:
        raise AudioFileError(f"{path}: the file holds no samples")
    mono = audio.mean(axis=1)  # (samples,)
    if rate != sample_rate:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    if not np.all(np.isfinite(mono)):
        raise AudioFileError(f"{path}: the file holds NaN or infinite samples")
    return mono.astype(np.float32, copy=False)


def fit_length(audio: np.ndarray, samples: int) -> np.ndarray:
    """Pad (centred, with zeros) or crop `audio` (samples_in,) to exactly `samples`.

    A longer clip keeps the window with the most energy, so an untrimmed take
    keeps its word rather than its leading silence.
    """
    if len(audio) == samples:
        return audio
    if len(audio) < samples:
        left = (samples - len(audio)) // 2
        return np.pad(audio, (left, samples - len(audio) - left))
    energy = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    window_energy = energy[samples:] - energy[:-samples]  # (samples_in - samples + 1,)
    start = int(np.argmax(window_energy))
    return audio[start : start + samples]


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int = 16_000) -> None:
    """Write 16-bit PCM atomically (see `audio.atomic`): a reader never sees a half-written file."""
    write_atomically(
        path, lambda file: sf.write(file, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    )
