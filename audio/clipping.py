"""Spotting clipped recordings: a take that sits at full scale was recorded with the input gain
set too high. Its flattened peaks add harmonics the model never heard from a well-set microphone
(`eval --clip-db` measures what that costs), so the recorder says so while the user can still
turn the gain down.
"""

from __future__ import annotations

import numpy as np

FULL_SCALE = 0.999  # float samples from 16-bit PCM or a sound card peak at 32767 / 32768
CLIPPED_SHARE = 0.001  # more than 0.1 % of the samples at full scale: clipped


def clipped_share(audio: np.ndarray) -> float:
    """The share of `audio` (samples,) at full scale, 0 for no samples."""
    return float(np.mean(np.abs(audio) >= FULL_SCALE)) if len(audio) else 0.0


def is_clipped(audio: np.ndarray) -> bool:
    return clipped_share(audio) > CLIPPED_SHARE
