"""Gate statistics the heatmap panel shows, in plain NumPy (computed in the recogniser's thread).

Saturation follows Karpathy, Johnson & Fei-Fei (2015), "Visualizing and Understanding Recurrent
Networks", figure 4: for every unit of a sigmoid gate, the fraction of time steps it spends
left-saturated (below 0.1, nearly closed) and right-saturated (above 0.9, nearly open).
"""

from __future__ import annotations

import numpy as np

SATURATION_GATES = ("i", "f", "o")  # the sigmoid gates; g, c and h are not gates
LEFT_SATURATED = 0.1
RIGHT_SATURATED = 0.9


def saturation_fractions(states: np.ndarray, state_names: tuple[str, ...]) -> np.ndarray:
    """Fractions of time steps each gate unit is saturated.

    states: (layers, directions, len(state_names), time, hidden) for one window.
    Returns (layers, directions, len(SATURATION_GATES), hidden, 2): [..., 0] left-saturated
    (< 0.1), [..., 1] right-saturated (> 0.9).
    """
    gates = states[:, :, [state_names.index(name) for name in SATURATION_GATES]]  # (L, D, 3, time, hidden)
    left = (gates < LEFT_SATURATED).mean(axis=3)  # (L, D, 3, hidden)
    right = (gates > RIGHT_SATURATED).mean(axis=3)
    return np.stack([left, right], axis=-1).astype(np.float32)


def unit_orders(states: np.ndarray) -> np.ndarray:
    """For every layer, direction and state, the units sorted by their mean over the window.

    states: (layers, directions, states, time, hidden) -> (layers, directions, states, hidden) int
    indexes, ascending, so the most active unit ends up at the top of an image (row 0 is at the
    bottom). Sorting all six heatmaps by one state keeps a unit on the same row in each.
    """
    return np.argsort(states.mean(axis=3), axis=-1, kind="stable")
