"""Gate saturation as Karpathy et al. (2015, fig. 4) plot it: one dot per unit, at the fraction of
time steps it is left-saturated (< 0.1, x) and right-saturated (> 0.9, y); one panel per gate,
one colour per layer. Dots near (0, 0) are gates that decide case by case; near the axes, gates
that stay shut or open (a forget gate stuck open remembers everything)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.gate_stats import SATURATION_GATES

LAYER_COLOURS = ("#1f5fa8", "#e07b00", "#2a9d3a", "#b8327a")
NAMES = {"i": "input gate", "f": "forget gate", "o": "output gate"}


class SaturationPlot(pg.GraphicsLayoutWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.plots: dict[str, pg.PlotItem] = {}
        self.dots: dict[str, list[pg.PlotDataItem]] = {}
        for row, gate in enumerate(SATURATION_GATES):
            plot = self.addPlot(row=row, col=0, title=f"{NAMES[gate]} {gate}")
            plot.setMouseEnabled(False, False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.04)
            plot.setAspectLocked(True)
            plot.setLabel("left", "right-saturated")
            plot.setLabel("bottom", "left-saturated")
            plot.plot([0, 1], [1, 0], pen=pg.mkPen("#bbbbbb", style=pg.QtCore.Qt.PenStyle.DashLine))  # x + y = 1
            self.plots[gate] = plot
            self.dots[gate] = []
        self.legend = self.plots[SATURATION_GATES[0]].addLegend(offset=(-4, 4), labelTextSize="8pt")

    def show_fractions(self, fractions: np.ndarray) -> None:
        """fractions: (layers, len(SATURATION_GATES), hidden, 2) for the direction shown."""
        layers = fractions.shape[0]
        for index, gate in enumerate(SATURATION_GATES):
            dots = self.dots[gate]
            while len(dots) < layers:  # one scatter per layer, made on first use
                colour = LAYER_COLOURS[len(dots) % len(LAYER_COLOURS)]
                name = f"layer {len(dots) + 1}" if index == 0 else None
                dots.append(
                    self.plots[gate].plot(
                        [],
                        [],
                        pen=None,
                        symbol="o",
                        symbolSize=5,
                        symbolPen=None,
                        symbolBrush=pg.mkColor(f"{colour}b0"),
                        name=name,
                    )
                )
            for layer, item in enumerate(dots):
                if layer < layers:
                    item.setData(fractions[layer, index, :, 0], fractions[layer, index, :, 1])
                else:
                    item.setData([], [])
