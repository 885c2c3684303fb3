"""The live view: the last few seconds of waveform with a level meter, and the MFCC scrolling with it."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.frames import HISTORY_SECONDS, Frame
from audio.config import FeatureConfig

MFCC_LEVELS = (-30.0, 30.0)  # c1.. of speech rarely leave this range; fixed so loudness changes show
METER_FLOOR_DB = -60
CLIPPING_TIP = "The input reached full scale in the last second: turn the microphone gain down."


class LivePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.wave_plot = self.plots.addPlot(row=0, col=0)
        self.wave_plot.setMouseEnabled(False, False)
        self.wave_plot.setYRange(-1, 1, padding=0.08)
        self.wave_plot.setLabel("left", "waveform")
        self.wave_plot.hideAxis("bottom")
        self.wave_curve = self.wave_plot.plot(pen=pg.mkPen("#1f5fa8", width=1))
        self.mfcc_plot = self.plots.addPlot(row=1, col=0)
        self.mfcc_plot.setMouseEnabled(False, False)
        self.mfcc_plot.setLabel("left", "MFCC c1…")
        self.mfcc_plot.setLabel("bottom", "seconds before now")
        self.mfcc_image = pg.ImageItem(colorMap=pg.colormap.get("CET-D1"))
        self.mfcc_plot.addItem(self.mfcc_image)
        self.mfcc_plot.setXLink(self.wave_plot)
        for plot in (self.wave_plot, self.mfcc_plot):
            plot.getAxis("left").setWidth(56)
        # Before the first frame, the axes it will have (pyqtgraph's default, -0.5..0.5, reads "(x0.001)").
        self.wave_plot.setXRange(-HISTORY_SECONDS, 0, padding=0)
        self.mfcc_plot.setYRange(1, FeatureConfig().n_mfcc, padding=0)
        self.meter = QProgressBar()
        self.meter.setOrientation(Qt.Orientation.Vertical)
        self.meter.setRange(METER_FLOOR_DB, 0)
        self.meter.setValue(METER_FLOOR_DB)  # its default, -1, would show a full meter before any sound
        self.meter.setTextVisible(False)
        self.meter.setFixedWidth(16)
        self.level_label = QLabel("– dB")
        self.level_label.setMinimumWidth(58)
        meter_column = QVBoxLayout()
        meter_column.addWidget(self.meter, 1, Qt.AlignmentFlag.AlignHCenter)
        meter_column.addWidget(self.level_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots, 1)
        layout.addLayout(meter_column)
        self._rect: tuple | None = None
        self._clipping = False

    def show_frame(self, frame: Frame) -> None:
        self.wave_curve.setData(frame.waveform_time, frame.waveform)
        self.mfcc_image.setImage(frame.spectrogram, levels=MFCC_LEVELS, autoLevels=False)
        span = (float(frame.waveform_time[0]), frame.spectrogram.shape)
        if span != self._rect:  # place the image once: x in seconds before now, y in coefficients
            self._rect = span
            start, (_, coefficients) = span
            self.mfcc_image.setRect(QRectF(start, 1, -start, coefficients))
            self.wave_plot.setXRange(start, 0, padding=0)
            self.mfcc_plot.setYRange(1, coefficients + 1, padding=0)
        self.meter.setValue(max(METER_FLOOR_DB, round(frame.level_db)))
        level = f"{frame.level_db:4.0f} dB" if frame.level_db > -100 else "silent"
        self.level_label.setText(f"{level}\nclipping" if frame.clipped else level)
        if frame.clipped != self._clipping:  # restyling re-polishes the widget: only on a change
            self._clipping = frame.clipped
            self.level_label.setStyleSheet("color: #c0392b; font-weight: bold" if frame.clipped else "")
            self.level_label.setToolTip(CLIPPING_TIP if frame.clipped else "")
