"""One window's gates saved for study: the numbers behind the gate panel, as a NumPy archive.

Students asked to plot a gate themselves, or compare two words' forget gates in a notebook. The
app's *Save window…* and `python main.py trace` write the same archive; `np.load(path)` gives:

- `audio` (samples,) float32 at `sample_rate`: the window the model classified;
- `mfcc` (frames, n_mfcc): its cepstra, c0 first, before the model's per-utterance normalisation;
- `labels` (classes,) and `probabilities` (classes,): what the model made of it;
- `state_names`, and for each name (i, f, g, o, c, h for an LSTM) an array
  (layers, directions, frames, hidden): direction 0 runs forward, 1 backward (bidirectional models).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from audio.atomic import write_atomically


def save_gates(
    path: str | os.PathLike,
    *,
    audio: np.ndarray,
    sample_rate: int,
    mfcc: np.ndarray,
    state_names: Sequence[str],
    states: np.ndarray,
    labels: Sequence[str],
    probabilities: np.ndarray,
) -> None:
    """Write the archive atomically; `states` is (layers, directions, len(state_names), frames, hidden)."""
    if states.ndim != 5 or states.shape[2] != len(state_names):
        raise ValueError(f"states of shape {states.shape} do not hold the {len(state_names)} states {state_names}")
    if len(probabilities) != len(labels):
        raise ValueError(f"{len(probabilities)} probabilities for {len(labels)} labels")
    arrays = {
        "audio": np.asarray(audio, np.float32),
        "sample_rate": np.int64(sample_rate),
        "mfcc": np.asarray(mfcc, np.float32),
        "labels": np.array(labels),
        "probabilities": np.asarray(probabilities, np.float32),
        "state_names": np.array(state_names),
    }
    arrays.update({name: states[:, :, index] for index, name in enumerate(state_names)})
    write_atomically(path, lambda file: np.savez(file, **arrays))
