"""The gate panel: pick a layer, a direction and a unit order; the heatmaps and the saturation
plot show the live window, or hold one (the freeze button, a detection picked in the history, or a
take looked inside from the takes list or the fine-tune dialog).
*Save window…* writes the window on screen, every layer and direction, to a NumPy archive."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from app.frames import Frame
from app.gate_heatmaps import TITLES, GateHeatmaps
from app.saturation_plot import SaturationPlot
from model.gate_archive import save_gates

DIRECTIONS = ("forward", "backward")
FREEZE_TEXT = {False: "❚❚ Freeze", True: "▶ Back to live"}


class GatePanel(QWidget):
    message = Signal(str)  # what became of a Save window… (the main window shows it in its status bar)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer_box = QComboBox()
        self.direction_box = QComboBox()
        self.order_box = QComboBox()
        self.order_box.addItem("units in order", None)
        for name, title in TITLES.items():
            if name != "mfcc":
                self.order_box.addItem(f"units by mean {title}", name)
        self.freeze_button = QPushButton(FREEZE_TEXT[False])
        self.freeze_button.setMinimumWidth(120)
        self.freeze_button.setCheckable(True)
        self.freeze_button.setToolTip("Hold this window to inspect it; press again to follow the live audio")
        self.save_button = QPushButton("Save window…")
        self.save_button.setToolTip(
            "save this window's audio, MFCC, probabilities and every gate of every layer and "
            "direction as a NumPy archive (.npz), to study in a notebook"
        )
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda _checked=False: self.save_window())
        self.window_label = QLabel("No window yet: speak, or play a file")
        self.window_label.setWordWrap(True)  # a take's long name wraps instead of widening the whole pane
        self.hover_label = QLabel("Hover over a heatmap to read a value")
        self.hover_label.setMinimumWidth(360)
        controls = QHBoxLayout()
        for text, widget in (("Layer", self.layer_box), ("Direction", self.direction_box), ("", self.order_box)):
            if text:
                controls.addWidget(QLabel(text))
            controls.addWidget(widget)
        controls.addWidget(self.freeze_button)
        controls.addWidget(self.save_button)
        controls.addWidget(self.window_label, 1)
        self.heatmaps = GateHeatmaps()
        self.saturation = SaturationPlot()
        self.splitter = splitter = QSplitter()
        splitter.addWidget(self.heatmaps)
        splitter.addWidget(self.saturation)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([800, 230])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.hover_label)
        self.frame: Frame | None = None  # the frame on screen
        self.title = ""  # what the frame on screen is when it is a clip, not a window of the stream
        self.wanted = {self.layer_box: 0, self.direction_box: 0}  # picked before the loaded model listed the choices
        self._live: Frame | None = None  # the newest live frame with gates
        for box in (self.layer_box, self.direction_box, self.order_box):
            box.currentIndexChanged.connect(self._redraw)
        self.freeze_button.toggled.connect(self._frozen)
        self.heatmaps.hovered.connect(self.hover_label.setText)

    def view(self) -> dict[str, int | str]:
        """The layer and direction (0-based) and the unit order shown: what the window remembers between sessions."""
        layer, direction = (
            box.currentIndex() if box.count() else self.wanted[box] for box in (self.layer_box, self.direction_box)
        )
        return {"layer": layer, "direction": direction, "order": self.order_box.currentData() or ""}

    def set_view(self, layer: int, direction: int, order: str) -> None:
        """Show a `view()`; a layer or direction the model lacks shows the first, an unknown order units in order."""
        for box, index in ((self.layer_box, layer), (self.direction_box, direction)):
            self.wanted[box] = index
            if box.count():
                box.setCurrentIndex(index if 0 <= index < box.count() else 0)
        self.order_box.setCurrentIndex(max(0, self.order_box.findData(order or None)))

    @property
    def frozen(self) -> bool:
        return self.freeze_button.isChecked()

    def show_live(self, frame: Frame) -> None:
        """A new hop: shown unless the panel is frozen; silent hops (no gates) keep the last window."""
        if frame.gates is None:
            return
        self._live = frame
        if not self.frozen:
            self._show(frame)

    def hold(self, frame: Frame, title: str = "") -> None:
        """Show `frame` (a detection from the history, or a clip named `title`, such as a take) and freeze on it."""
        if frame.gates is None:
            self.window_label.setText(f"{frame.time:.2f} s: silent window, the model did not run")
            return
        self.freeze_button.setChecked(True)
        self._show(frame, title)

    def _frozen(self, frozen: bool) -> None:
        self.freeze_button.setText(FREEZE_TEXT[frozen])
        if not frozen and self._live is not None:
            self._show(self._live)
        elif self.frame is not None:
            self._describe(self.frame)

    def save_window(self, path: str | None = None) -> None:
        """Write the window on screen to `path` (asked for when None); `message` says how it went."""
        frame = self.frame
        if frame is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save window", f"window-{frame.time:.2f}s.npz", "NumPy archive (*.npz)"
            )
            if not path:
                return
        gates = frame.gates
        try:  # written on the GUI thread: a window of the shipped model is about 1.3 MB, milliseconds to write
            save_gates(
                path,
                audio=gates.window,
                sample_rate=gates.sample_rate,
                mfcc=gates.features,
                state_names=gates.state_names,
                states=gates.states,
                labels=frame.labels,
                probabilities=frame.probabilities,
            )
        except OSError as error:  # its text names the hidden temp file; the reason alone says more
            self.message.emit(f"Window not saved to {path}: {error.strerror or error}")
            return
        self.message.emit(f"Saved the window ending at {frame.time:.2f} s to {path} (load it with np.load)")

    def _show(self, frame: Frame, title: str = "") -> None:
        self.frame, self.title = frame, title
        self.save_button.setEnabled(True)
        self.set_shape(frame.gates.layers, frame.gates.directions)
        self._redraw()
        self._describe(frame)

    def set_shape(self, layers: int, directions: int) -> None:
        """List the model's layers and directions, so they can be picked before the first window is heard."""
        self._fill(self.layer_box, [f"{layer + 1}" for layer in range(layers)])
        self._fill(self.direction_box, list(DIRECTIONS[:directions]))

    def _describe(self, frame: Frame) -> None:
        state = "held" if self.frozen else "live"
        if self.title:  # a clip, not a window of the stream: what the model makes of it
            heard = f"heard as “{frame.labels[frame.top]}” {frame.probabilities[frame.top]:.0%}"
            self.window_label.setText(f"{state}: {self.title}, {heard}")
            return
        found = frame.detection
        heard = f" — “{found.label}” {found.confidence:.0%}" if found else ""
        self.window_label.setText(f"{state}: window ending at {frame.time:.2f} s{heard}")

    def _fill(self, box: QComboBox, entries: list[str]) -> None:
        """Replace the entries when the model's shape changed, keeping the selection if it still fits."""
        if [box.itemText(i) for i in range(box.count())] == entries:
            return
        box.blockSignals(True)
        keep = box.currentIndex() if box.count() else self.wanted[box]
        box.clear()
        box.addItems(entries)
        box.setCurrentIndex(keep if 0 <= keep < len(entries) else 0)
        box.blockSignals(False)

    def _redraw(self) -> None:
        if self.frame is None:
            return
        gates = self.frame.gates
        layer, direction = max(0, self.layer_box.currentIndex()), max(0, self.direction_box.currentIndex())
        states = gates.states[layer, direction]  # (states, time, hidden)
        key = self.order_box.currentData()  # a state name, or None for unit order
        if key is None or key not in gates.state_names:
            units = np.arange(states.shape[-1])
            images = dict(zip(gates.state_names, states))
        else:
            units = gates.orders[layer, direction, gates.state_names.index(key)]  # (hidden,)
            images = {name: state[:, units] for name, state in zip(gates.state_names, states)}
        self.heatmaps.show_window(gates.mfcc, images, units, gates.window_seconds)
        self.saturation.show_fractions(gates.saturation[:, direction])
