"""The window's MFCC over six heatmaps, units x time: i, f, g, o, c and h of one layer and direction.

Every image has fixed colour levels and a colour bar: the sigmoid gates 0..1, the tanh values
g and h -1..1, the cell state symmetric around 0. All rows share the time axis of the MFCC row.
Hovering reports the row, unit, time and value under the pointer on `hovered`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal

from app.live_panel import MFCC_LEVELS
from audio.config import FeatureConfig

C_LIMIT = 3.0  # cell states of trained models mostly stay within ±3; beyond that the colour clips
TITLES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "cell candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "h": "hidden state h",
    "mfcc": "MFCC",
}
LEVELS = {
    "i": (0.0, 1.0),
    "f": (0.0, 1.0),
    "o": (0.0, 1.0),
    "g": (-1.0, 1.0),
    "h": (-1.0, 1.0),
    "c": (-C_LIMIT, C_LIMIT),
    "mfcc": MFCC_LEVELS,
}
COLOUR_MAPS = {
    "i": "viridis",
    "f": "viridis",
    "o": "viridis",
    "g": "CET-D1",
    "h": "CET-D1",
    "c": "CET-D3",
    "mfcc": "CET-D1",
}


class GateHeatmaps(pg.GraphicsLayoutWidget):
    hovered = Signal(str)

    def __init__(self, state_names: tuple[str, ...] = ("i", "f", "g", "o", "c", "h")) -> None:
        super().__init__()
        self.setBackground("w")
        self.rows = ("mfcc", *state_names)
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        for row, name in enumerate(self.rows):
            plot = self.addPlot(row=row, col=0)
            plot.setMouseEnabled(False, False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setLabel("left", TITLES[name] if name == "mfcc" else f"{TITLES[name]}<br>unit")
            plot.getAxis("left").setWidth(64)
            if row < len(self.rows) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
            else:
                plot.setLabel("bottom", "time in window (s)")
            colour_map = pg.colormap.get(COLOUR_MAPS[name])
            image = pg.ImageItem(colorMap=colour_map)
            plot.addItem(image)
            if row:
                plot.setXLink(self.plots["mfcc"])
            bar = pg.ColorBarItem(values=LEVELS[name], colorMap=colour_map, interactive=False, width=10)
            self.addItem(bar, row=row, col=1)
            self.plots[name], self.images[name] = plot, image
        self.ci.layout.setRowStretchFactor(0, 1)
        features = FeatureConfig()  # before the first window: a default model's axes, until `set_units`
        self.plots["mfcc"].setXRange(0, features.clip_samples / features.sample_rate, padding=0)
        self.plots["mfcc"].setYRange(0, features.n_mfcc, padding=0)
        self.set_units(1)
        self._arrays: dict[str, np.ndarray] = {}
        self._units = np.zeros(0, int)
        self._frame_seconds = 0.01
        self._shape: tuple | None = None
        self.scene().sigMouseMoved.connect(self._hover)

    def show_window(
        self, mfcc: np.ndarray, states: dict[str, np.ndarray], units: np.ndarray, window_seconds: float
    ) -> None:
        """mfcc: (time, coefficients); states: name -> (time, hidden) with rows already in the order
        of `units` (hidden,), the unit number shown on each row."""
        self._arrays = {"mfcc": mfcc, **states}
        self._units = units
        for name, array in self._arrays.items():
            self.images[name].setImage(array, levels=LEVELS[name], autoLevels=False)
        shape = (mfcc.shape, len(units), window_seconds)
        if shape != self._shape:  # place the images once per model: x in seconds, y in rows
            self._shape = shape
            frames = mfcc.shape[0]
            self._frame_seconds = window_seconds / max(1, frames - 1)
            start, width = -self._frame_seconds / 2, frames * self._frame_seconds  # frame k centred at k * step
            for name, array in self._arrays.items():
                self.images[name].setRect(QRectF(start, 0, width, array.shape[1]))
                self.plots[name].setYRange(0, array.shape[1], padding=0)
            self.plots["mfcc"].setXRange(start, start + width, padding=0)

    def set_units(self, units: int) -> None:
        """Size the gate rows for a model of `units` hidden units, so they read right before its first window."""
        for name in self.rows[1:]:
            self.plots[name].setYRange(0, units, padding=0)

    def _hover(self, position: QPointF) -> None:
        for name, plot in self.plots.items():
            array = self._arrays.get(name)
            if array is None or not plot.sceneBoundingRect().contains(position):
                continue
            point = plot.vb.mapSceneToView(position)
            column = round(point.x() / self._frame_seconds)
            row = int(np.floor(point.y()))
            if 0 <= column < array.shape[0] and 0 <= row < array.shape[1]:
                what = f"c{row + 1}" if name == "mfcc" else f"{TITLES[name]} · unit {self._units[row]}"
                self.hovered.emit(f"{what} · t = {column * self._frame_seconds:.2f} s · {array[column, row]:+.3f}")
            return
