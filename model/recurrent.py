"""Stacked, optionally bidirectional recurrent layers with two execution paths.

`forward` runs the cell's fused torch layer (cuDNN on GPU); `trace` recomputes every
layer and direction step by step from the same parameters and returns all gate states.
"""

from __future__ import annotations

import numpy as np
import torch
from threadpoolctl import ThreadpoolController
from torch import nn

from model.cells import CELLS
from model.config import ModelConfig

# The trace's products are tiny; BLAS threads only add wake-up latency and contention.
_BLAS = ThreadpoolController()


class RecurrentStack(nn.Module):
    def __init__(self, config: ModelConfig, input_size: int) -> None:
        super().__init__()
        self.config = config
        self.cell = CELLS[config.cell]
        self.layers = self.cell.torch_layer(
            input_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self._numpy_parameters: tuple[tuple, list] = ((), [])
        # One single-layer torch layer per layer, holding the fused layer's own parameters (the same tensors, so
        # they train it): views, not submodules. Made here, not on first use: threads training at once would each
        # make their own.
        self.single_layers = [self._single_layer(index) for index in range(config.num_layers)]

    @property
    def output_size(self) -> int:
        return self.config.directions * self.config.hidden_size

    def forward(self, x: torch.Tensor, dropout_generator: torch.Generator | None = None) -> torch.Tensor:
        """(batch, time, input) -> top layer's h for all directions (batch, time, directions * hidden).

        In training, `dropout_generator` draws the dropout between layers, which the fused layer draws
        from torch's global generator: threads training at once would take its numbers in whichever
        order they reach it, and a run would not repeat. The layers then run one by one.
        """
        dropout = self.layers.dropout
        if dropout_generator is None or not self.training or dropout == 0:
            output, _ = self.layers(x)
            return output
        for index, layer in enumerate(self.single_layers):
            if index:
                kept = torch.rand(x.shape, generator=dropout_generator, device=x.device) >= dropout
                x = x * kept / (1 - dropout)
            x, _ = layer(x)
        return x

    def _single_layer(self, index: int) -> nn.Module:
        single = self.cell.torch_layer(
            self.layers.input_size if index == 0 else self.output_size,
            self.config.hidden_size,
            batch_first=True,
            bidirectional=self.config.bidirectional,
            device="meta",  # its own parameters are replaced at once: no memory, no draws from torch's generator
        )
        for name in single._flat_weights_names:
            setattr(single, name, getattr(self.layers, name.replace("_l0", f"_l{index}")))
        return single

    def _parameters_as_numpy(self) -> list[list[np.ndarray]]:
        """Per layer: W_ih^T, W_hh^T, b_ih, b_hh stacked over directions, as float32 NumPy.

        Cached, keyed on each parameter's storage and version counter, so an optimizer
        step or a device move invalidates it.
        """
        key = tuple((p.data_ptr(), p._version) for p in self.layers.parameters())
        if key != self._numpy_parameters[0]:
            suffixes = ["", "_reverse"][: self.config.directions]
            layers = []
            for layer in range(self.config.num_layers):
                arrays = []
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    tensors = [getattr(self.layers, f"{name}_l{layer}{suffix}") for suffix in suffixes]
                    stacked = np.stack([t.detach().float().cpu().numpy() for t in tensors])
                    arrays.append(stacked.transpose(0, 2, 1).copy() if name.startswith("weight") else stacked[:, None])
                layers.append(arrays)
            self._numpy_parameters = (key, layers)
        return self._numpy_parameters[1]

    @torch.no_grad()
    def trace(self, x: torch.Tensor) -> np.ndarray:
        """(batch, time, input) -> states (layers, directions, len(cell.state_names), batch, time, hidden).

        Backward-direction states are stored at the time step they belong to, so every
        direction lines up with the input frames.
        """
        inputs = x.detach().float().cpu().numpy()  # (batch, time, input)
        batch, steps, _ = inputs.shape
        c = self.config
        states = np.empty(
            (c.num_layers, c.directions, len(self.cell.state_names), batch, steps, c.hidden_size), np.float32
        )
        h_index = self.cell.state_names.index("h")
        with _BLAS.limit(limits=1, user_api="blas"):
            self._trace_into(states, inputs, h_index)
        return states

    def _trace_into(self, states: np.ndarray, inputs: np.ndarray, h_index: int) -> None:
        c = self.config
        batch, steps, _ = inputs.shape
        for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(self._parameters_as_numpy()):
            flat = inputs.reshape(batch * steps, -1)  # 2-D products: NumPy's batched matmul is slower here
            x_proj = np.stack([(flat @ w_ih[d]).reshape(batch, steps, -1) for d in range(c.directions)])
            x_proj += b_ih[:, None]  # (dirs, batch, time, gates * hidden)
            if c.bidirectional:
                x_proj[1] = x_proj[1, :, ::-1]  # the backward direction reads time reversed
            self.cell.recur(x_proj, w_hh, b_hh, out=states[layer])
            if c.bidirectional:
                states[layer, 1] = states[layer, 1, :, :, ::-1]  # back to forward time order
            inputs = np.concatenate(list(states[layer, :, h_index]), axis=-1)  # (batch, time, dirs * hidden)
