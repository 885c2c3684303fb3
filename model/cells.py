"""Recurrent cell types. Each is one small class: the torch layer its fast path runs, and
the step-by-step recurrence its trace path runs from that layer's own parameters.

The trace recurrence runs in NumPy: a step is a dozen ops on (directions, batch, hidden)
arrays, and NumPy's per-op overhead is a fraction of torch's eager dispatch at this size,
so the trace stays within a small factor of the fused nn.LSTM (see `python main.py bench`).
"""

from __future__ import annotations

import numpy as np
from torch import nn


def gate_scales(hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-column scale and shift so that tanh(z * scale) * scale + shift gives σ(z) for the
    i, f, o blocks and tanh(z) for the g block, by σ(z) = ½ tanh(z / 2) + ½.

    NumPy's SIMD tanh is ~5x faster than scipy's expit on these small arrays, and one pass
    over all four blocks saves calls in the step loop.
    """
    scale = np.full(4 * hidden, 0.5, np.float32)
    shift = np.full(4 * hidden, 0.5, np.float32)
    scale[2 * hidden : 3 * hidden], shift[2 * hidden : 3 * hidden] = 1.0, 0.0
    return scale, shift


class LSTMCell:
    """The LSTM of MISSION.md, gates stacked in PyTorch's order i, f, g, o.

    i = σ(x W_ii + h W_hi + b_i),  f = σ(x W_if + h W_hf + b_f),  g = tanh(x W_ig + h W_hg + b_g),
    o = σ(x W_io + h W_ho + b_o),  c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
    """

    name = "lstm"
    torch_layer = nn.LSTM
    state_names = ("i", "f", "g", "o", "c", "h")

    @staticmethod
    def recur(x_proj: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray, out: np.ndarray) -> None:
        """Run the recurrence for every direction at once, writing every state into `out`.

        x_proj: (directions, batch, time, 4 * hidden), x @ W_ih^T + b_ih, time already
                reversed for backward directions.
        w_hh:   (directions, hidden, 4 * hidden), W_hh^T.
        b_hh:   (directions, 1, 4 * hidden).
        out:    (directions, 6, batch, time, hidden), filled with i, f, g, o, c, h.
        """
        directions, batch, steps, _ = x_proj.shape
        hidden = w_hh.shape[1]
        scale, shift = gate_scales(hidden)
        pre = (x_proj + b_hh[:, :, None, :]).transpose(2, 0, 1, 3).copy()  # (time, dirs, batch, 4H)
        gates = np.empty_like(pre)  # i, f, g, o after their nonlinearities
        cells = np.empty((steps, directions, batch, hidden), np.float32)
        outputs = np.empty_like(cells)
        h = np.zeros((directions, batch, hidden), np.float32)
        c = np.zeros_like(h)
        for t in range(steps):
            pre[t] += h @ w_hh  # (dirs, batch, 4H): the gates' pre-activations
            a = np.multiply(pre[t], scale, out=gates[t])
            np.tanh(a, out=a)
            a *= scale
            a += shift
            i, f = a[..., :hidden], a[..., hidden : 2 * hidden]
            g, o = a[..., 2 * hidden : 3 * hidden], a[..., 3 * hidden :]
            c = np.add(f * c, i * g, out=cells[t])
            h = np.multiply(o, np.tanh(c), out=outputs[t])
        by_gate = gates.reshape(steps, directions, batch, 4, hidden)
        time_major = (by_gate[..., 0, :], by_gate[..., 1, :], by_gate[..., 2, :], by_gate[..., 3, :], cells, outputs)
        for index, state in enumerate(time_major):
            out[:, index] = state.transpose(1, 2, 0, 3)  # (dirs, batch, time, hidden)


CELLS = {cell.name: cell for cell in (LSTMCell,)}
