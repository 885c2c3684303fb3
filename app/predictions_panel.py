"""Smoothed probability per class as bars with the detection threshold, and the last command, large."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.frames import DetectionView, Frame

BAR_COLOUR = "#9bb8d8"
TOP_COLOUR = "#1f5fa8"
SHOW_DETECTION_MS = 1500
THRESHOLD_BOUNDS = (0.2, 0.99)  # where the threshold line can be dragged


class PredictionsPanel(QWidget):
    threshold_changed = Signal(float)  # the user dragged the threshold line here (rounded to 0.01)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plot = self.plots.addPlot()
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()  # pyqtgraph's auto-range button: the ranges here are fixed
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setLabel("bottom", "smoothed probability")
        self.plot.getAxis("left").setWidth(76)
        self.bars = pg.BarGraphItem(x0=0, y=[], width=[], height=0.7, brush=BAR_COLOUR, pen=None)
        self.plot.addItem(self.bars)
        self.threshold_line = pg.InfiniteLine(
            angle=90,
            movable=True,
            bounds=THRESHOLD_BOUNDS,
            pen=pg.mkPen("#c0392b", width=2, style=Qt.PenStyle.DashLine),
            hoverPen=pg.mkPen("#c0392b", width=4),
            label="threshold {value:.2f}",
            labelOpts={"position": 0.97, "color": "#c0392b"},
        )
        self.threshold_line.setToolTip(
            "drag: the smoothed probability a command needs to be detected (right: fewer false alarms, more misses)"
        )
        self.threshold_line.sigPositionChangeFinished.connect(self._threshold_moved)
        self.plot.addItem(self.threshold_line)
        self.command_label = QLabel("")
        self.command_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.command_label.setMinimumWidth(170)
        font = QFont()
        font.setPointSize(30)
        font.setBold(True)
        self.command_label.setFont(font)
        self.confidence_label = QLabel("")
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._clear_timer = QTimer(self, singleShot=True, interval=SHOW_DETECTION_MS, timeout=self._clear_command)
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.addStretch(1)
        column_layout.addWidget(self.command_label)
        column_layout.addWidget(self.confidence_label)
        column_layout.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots, 1)
        layout.addWidget(column)
        self._labels: tuple[str, ...] = ()

    def set_labels(self, labels: tuple[str, ...], threshold: float) -> None:
        """One bar per label, top to bottom in the model's order."""
        self._labels = tuple(labels)
        positions = np.arange(len(labels))[::-1]  # first label at the top
        self.plot.getAxis("left").setTicks([list(zip(positions, labels))])
        self.plot.setYRange(-0.6, len(labels) + 0.2, padding=0)  # a band above the top bar for the line's label
        self.threshold_line.setValue(threshold)
        self._positions = positions.astype(float)
        self.bars.setOpts(y=self._positions, width=np.zeros(len(labels)), brushes=None, brush=BAR_COLOUR)

    def _threshold_moved(self, line: pg.InfiniteLine) -> None:
        value = round(line.value(), 2)
        line.setValue(value)
        self.threshold_changed.emit(value)

    def show_frame(self, frame: Frame) -> None:
        if frame.labels != self._labels:
            return  # a frame from the previous model, still in flight
        brushes = [TOP_COLOUR if index == frame.top else BAR_COLOUR for index in range(len(frame.labels))]
        self.bars.setOpts(width=frame.scores, brushes=brushes)

    def show_detection(self, detection: DetectionView) -> None:
        self.command_label.setText(detection.label.upper())
        self.confidence_label.setText(f"{detection.confidence:.0%} at {detection.time:.1f} s")
        self._clear_timer.start()

    def _clear_command(self) -> None:
        self.command_label.setText("")
        self.confidence_label.setText("")
