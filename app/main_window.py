"""The main window: toolbar, live view, predictions, history and the gate panel, wired to the engine.

The window computes nothing: the engine (its own QThread) loads models and opens sources, the
recogniser's thread prepares each Frame, and the window hands frames to its widgets. Results
arrive by signal; `frame_ready` is coalesced, so a busy screen drops frames, never detections.
It remembers its size, panes, tab, gate-panel view, detection threshold and input device between sessions
(`user_dirs.window_settings`).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, TypeVar

import numpy as np
from PySide6.QtCore import QSettings, Qt, QThread, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.control_bar import ControlBar
from app.engine import RecognitionEngine, SourceChoice
from app.finetune_dialog import FinetuneDialog
from app.frames import Frame
from app.gate_panel import GatePanel
from app.history_list import HistoryList
from app.live_panel import LivePanel
from app.predictions_panel import THRESHOLD_BOUNDS, PredictionsPanel
from app.recorder_panel import RecorderPanel
from app.screen_fit import fitted
from app.versions_dialog import VersionsDialog
from audio import user_dirs
from audio.takes import TakeStore
from audio.user_dirs import models_dir, starter_dir, takes_dir, window_settings
from model.adapt import AdaptRequest
from model.checkpoint import DEFAULT_MODEL_DIR
from model.smoothing import RecognizerConfig
from model.versions import parent_name

FILE_KEY, DEVICE_KEY = "file:", "device:"  # picker keys: a prefix and a path or a device name
Number = TypeVar("Number", int, float)


class MainWindow(QMainWindow):
    """`source`: what to listen to once the model is loaded (default: the default microphone);
    `sd`: the sounddevice module (tests pass a fake); `autostart`: listen as soon as a model loads;
    `data_dir`: the user data folder for takes and model versions (default: see audio.user_dirs);
    `threshold`: the detection threshold (default: where the user dragged it last session, else the recogniser's)."""

    load_requested = Signal(str)
    start_requested = Signal(object)
    stop_requested = Signal()
    devices_requested = Signal()
    play_requested = Signal(object, int)
    threshold_requested = Signal(float)
    inspect_requested = Signal(object, str, str)  # (audio, what it is, model folder or "" for the one in use)

    def __init__(
        self,
        model_path: str,
        source: SourceChoice | None = None,
        *,
        sd: Any = None,
        autostart: bool = True,
        device: str = "auto",
        data_dir: str | None = None,
        remember: bool = True,
        threshold: float | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("VoxGate")
        self.resize(fitted(self, 1600, 1000))
        self.choice = source or SourceChoice()
        self.autostart = autostart
        self.listening = False
        self.device = device
        self.data_dir = user_dirs.data_dir(data_dir)
        self.model_info: dict = {}
        self.live_paused = False  # while fine-tuning: the live view stands still, detections are still listed
        self.update_seconds: deque[float] = deque(maxlen=5000)  # GUI-thread time per frame shown
        # what the window remembers between sessions; None for a window that starts as new and keeps nothing
        self.memory = QSettings(str(window_settings(self.data_dir)), QSettings.Format.IniFormat) if remember else None
        if threshold is None:  # the threshold dragged to last session, unless this session was told one
            threshold = self._remembered("threshold", RecognizerConfig.detection_threshold)
            if not THRESHOLD_BOUNDS[0] <= threshold <= THRESHOLD_BOUNDS[1]:  # edited by hand
                threshold = RecognizerConfig.detection_threshold
        self.engine = RecognitionEngine(RecognizerConfig().with_threshold(threshold), sd=sd, device=device)
        # the input picked last session, used once it is listed, unless this session was told what to hear
        self.remembered_input = (
            ""
            if (self.choice.file or self.choice.device or not remember)
            else str(self.memory.value("input_device", ""))
        )
        self._build()
        self._recall_layout()

        self.engine_thread = QThread(self)
        self.engine.moveToThread(self.engine_thread)
        self.load_requested.connect(self.engine.load_model)
        self.start_requested.connect(self.engine.start)
        self.stop_requested.connect(self.engine.stop)
        self.devices_requested.connect(self.engine.list_devices)
        self.engine.model_loaded.connect(self.show_model)
        self.engine.devices_listed.connect(self._recall_input)  # before show_devices, which shows the choice
        self.engine.devices_listed.connect(self.show_devices)
        queued = Qt.ConnectionType.QueuedConnection  # emitted from the recogniser's thread
        self.engine.frame_ready.connect(self.show_latest_frame, queued)
        self.engine.detection.connect(self.show_detection, queued)
        self.engine.listening.connect(self._set_listening)
        self.engine.status.connect(self.statusBar().showMessage)
        self.engine.error.connect(self.show_error)
        self.gate_panel.message.connect(self.statusBar().showMessage)
        self.play_requested.connect(self.engine.play)
        self.threshold_requested.connect(self.engine.set_threshold)
        self.inspect_requested.connect(self.engine.inspect)
        self.engine.inspected.connect(self.show_inside)
        self.predictions.threshold_changed.connect(self.set_threshold)
        self.engine_thread.start()
        self.show_devices([])
        self.devices_requested.emit()
        self.load_requested.emit(model_path)

    def _build(self) -> None:
        self.controls = ControlBar(self)
        self.addToolBar(self.controls)
        self.live_panel = LivePanel()
        self.predictions = PredictionsPanel()
        self.history = HistoryList()
        self.gate_panel = GatePanel()
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(4, 4, 4, 4)
        for title, widget, stretch in (
            ("Live audio", self.live_panel, 3),
            ("Predictions", self.predictions, 3),
            ("Detections (click one to inspect it)", self.history, 1),
        ):
            column.addWidget(QLabel(f"<b>{title}</b>"))
            column.addWidget(widget, stretch)
        self.inside = inside = QWidget()  # the Inside the LSTM tab
        gates = QVBoxLayout(inside)
        gates.setContentsMargins(4, 4, 4, 4)
        gates.addWidget(QLabel("<b>Inside the LSTM</b>: every gate of one layer and direction over the window"))
        gates.addWidget(self.gate_panel, 1)
        self.recorder = RecorderPanel(TakeStore(takes_dir(self.data_dir)), self.engine, starter_dir(self.data_dir))
        self.recorder.play_requested.connect(self.play_requested.emit)
        self.recorder.inspect_requested.connect(self.look_inside_take)
        self.recorder.finetune_clicked.connect(self.open_finetune)
        self.recorder.versions_clicked.connect(self.open_versions)
        right = QTabWidget()
        right.addTab(inside, "Inside the LSTM")
        right.addTab(self.recorder, "Record && fine-tune")
        self.tabs = right
        self.splitter = splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([560, 1040])
        self.setCentralWidget(splitter)
        self.state_label = QLabel("Stopped")
        self.statusBar().addPermanentWidget(self.state_label)
        self.controls.source_chosen.connect(self.choose_source)
        self.controls.start_clicked.connect(lambda: self.start_requested.emit(self.choice))
        self.controls.stop_clicked.connect(self.stop_requested.emit)
        self.controls.model_chosen.connect(self.open_model)
        self.history.chosen.connect(self.gate_panel.hold)

    @property
    def model_label(self) -> QLabel:
        return self.controls.model_label

    @property
    def labels_label(self) -> QLabel:
        return self.controls.labels_label

    def open_model(self, folder: str) -> None:
        self.statusBar().showMessage(f"Loading {folder}…")
        self.load_requested.emit(folder)

    def choose_source(self, key: str) -> None:
        if key.startswith(FILE_KEY):
            self.choice = SourceChoice(file=key[len(FILE_KEY) :], speed=self.choice.speed, loop=self.choice.loop)
        else:
            self.choice = SourceChoice(device=key[len(DEVICE_KEY) :] or None)
            self.remembered_input = ""
            if self.memory is not None:
                self.memory.setValue("input_device", self.choice.device or "")
        if self.listening:
            self.start_requested.emit(self.choice)

    def show_devices(self, names: list[str]) -> None:
        entries = [(f"{self.choice.title}", FILE_KEY + self.choice.file)] if self.choice.file else []
        entries += [("System default input", DEVICE_KEY)] if names or not self.choice.file else []
        entries += [(name, DEVICE_KEY + name) for name in names]
        current = FILE_KEY + self.choice.file if self.choice.file else DEVICE_KEY + (self.choice.device or "")
        self.controls.set_sources(entries, current)

    def show_model(self, info: dict) -> None:
        shape = f"{info['layers']} × {info['hidden']} {'bi' if info['bidirectional'] else 'uni'}directional"
        self.controls.set_model(
            f"Model: {info['name']} — {info['cell'].upper()} {shape}, on {info['device']}",
            "Labels: " + ", ".join(info["labels"]),
        )
        self.predictions.set_labels(tuple(info["labels"]), info["threshold"])
        self.gate_panel.heatmaps.set_units(info["hidden"])
        self.gate_panel.set_shape(info["layers"], 2 if info["bidirectional"] else 1)
        self.model_info = info
        self.recorder.set_model_labels(tuple(info["labels"]))
        self.statusBar().showMessage(f"Model loaded from {info['path']}")
        if self.autostart and not self.listening:
            self.autostart = False
            self.start_requested.emit(self.choice)

    def set_threshold(self, threshold: float) -> None:
        """The detection threshold the user dragged to: used from the next hop on, and remembered."""
        self.threshold_requested.emit(threshold)
        self.statusBar().showMessage(
            f"Detection threshold {threshold:.2f}: a command is detected once its smoothed probability reaches it"
        )
        if self.memory is not None:
            self.memory.setValue("threshold", threshold)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message)

    def show_latest_frame(self) -> None:
        frame: Frame | None = self.engine.take_frame()  # taken even when paused: the engine then sends the next
        if frame is None or self.live_paused:
            return
        started = time.perf_counter()
        self.live_panel.show_frame(frame)
        self.predictions.show_frame(frame)
        self.gate_panel.show_live(frame)
        self.update_seconds.append(time.perf_counter() - started)

    def show_detection(self, frame: Frame) -> None:
        self.predictions.show_detection(frame.detection)
        self.history.add(frame)

    def look_inside_take(self, audio: np.ndarray, name: str) -> None:
        """A take from the takes list, traced by the model in use (on the engine's thread), then `show_inside`."""
        self.inspect_requested.emit(audio, f"take {name} with {self.model_info.get('name', 'the model')}", "")

    def show_inside(self, frame: Frame, title: str) -> None:
        """A clip's gates, held in the gate panel, with its tab brought up."""
        self.tabs.setCurrentWidget(self.inside)
        self.gate_panel.hold(frame, title)

    def hold_newest_detection(self) -> bool:
        """Show the newest detection in the gate panel, as a click on it would; False if none yet."""
        if not self.history.count():
            return False
        self.history.setCurrentRow(0)
        self.gate_panel.hold(self.history.frame_at(0))
        return True

    def _set_listening(self, listening: bool) -> None:
        self.listening = listening
        self.controls.set_listening(listening)
        self._show_state()

    def _pause_live(self, paused: bool) -> None:
        """Hold the live view still while fine-tuning runs: on two cores its drawing takes time fine-tuning needs
        (detections are still listed and shown)."""
        self.live_paused = paused
        self._show_state()

    def _show_state(self) -> None:
        state = f"Listening to {self.choice.title}" if self.listening else "Stopped"
        self.state_label.setText(state + (" · live view paused while fine-tuning" if self.live_paused else ""))

    def open_finetune(self) -> FinetuneDialog | None:
        """The fine-tune dialog, starting from the model in use."""
        if not self.model_info:
            self.show_error("No model loaded: open a model folder first")
            return None
        counts = self.recorder.store.counts()
        summary = "Your takes: " + (", ".join(f"{label} {n}" for label, n in counts.items()) or "none yet")
        starter = starter_dir(self.data_dir)
        request = AdaptRequest(
            base=self.model_info["path"],
            data=(takes_dir(self.data_dir),),
            extra=(starter,) if starter.is_dir() else (),
            cache_dir=self.data_dir / "cache",
            device=self.device,
        )
        for old in self.findChildren(FinetuneDialog):  # one at a time: an old one stops and goes
            old.release()
        dialog = FinetuneDialog(request, models_dir(self.data_dir), parent_name(self.model_info["path"]), summary, self)
        dialog.model_chosen.connect(self.open_model)
        dialog.running_changed.connect(self._pause_live)
        dialog.play_requested.connect(self.play_requested.emit)
        dialog.take_chosen.connect(self.show_take)
        dialog.label_chosen.connect(self.show_label)
        dialog.inspect_requested.connect(self.inspect_requested.emit)
        self.recorder.take_changed.connect(dialog.take_changed)
        dialog.show()
        self.finetune_dialog = dialog
        return dialog

    def show_take(self, name: str) -> None:
        """Bring the Record & fine-tune tab up with the take `name` (label/file.wav) selected."""
        self.tabs.setCurrentWidget(self.recorder)
        self.recorder.select_take(name)

    def show_label(self, label: str) -> None:
        """Bring the Record & fine-tune tab up listing only the takes of `label`, ready to record more."""
        self.tabs.setCurrentWidget(self.recorder)
        self.recorder.label_box.setEditText(label)
        self.recorder.only_label.setChecked(True)

    def open_versions(self) -> VersionsDialog | None:
        """Switch between model versions, or roll back to an older one; a broken versions index is reported."""
        try:
            dialog = VersionsDialog(models_dir(self.data_dir), DEFAULT_MODEL_DIR, self)
        except (ValueError, OSError) as error:
            self.show_error(f"Cannot list the model versions: {error}")
            return None
        dialog.model_chosen.connect(self.open_model)
        dialog.show()
        self.versions_dialog = dialog
        return dialog

    def _recall_layout(self) -> None:
        """Size, place, panes and tab as the last session left them (nothing on a first start)."""
        if self.memory is None:
            return
        for key, restore in (
            ("geometry", self.restoreGeometry),
            ("panes", self.splitter.restoreState),
            ("gate_panes", self.gate_panel.splitter.restoreState),
        ):
            if (saved := self.memory.value(key)) is not None:
                restore(saved)
        self.tabs.setCurrentIndex(self._remembered("tab", 0))
        self.gate_panel.set_view(
            self._remembered("gate_layer", 0),
            self._remembered("gate_direction", 0),
            str(self.memory.value("gate_order", "")),
        )

    def _remembered(self, key: str, default: Number) -> Number:
        """A number `window.ini` keeps, of `default`'s type; `default` when there is none, or it is not a number (the
        file edited by hand), or no memory is kept."""
        try:
            return type(default)(self.memory.value(key, default)) if self.memory is not None else default
        except (TypeError, ValueError):
            return default

    def _recall_input(self, names: list[str]) -> None:
        """Listen to last session's input again when it is listed; say so when it is not plugged in."""
        remembered, self.remembered_input = self.remembered_input, ""
        if not remembered:
            return
        if remembered in names:
            self.choice = SourceChoice(device=remembered)
        else:  # in the status bar now, and on the picker for later (other messages take the status bar's place)
            notice = f"The input used last time, {remembered}, is not connected; the system default is used"
            self.statusBar().showMessage(notice)
            self.controls.source_box.setToolTip(notice)

    def _remember_layout(self) -> None:
        if self.memory is None:
            return
        self.memory.setValue("geometry", self.saveGeometry())
        self.memory.setValue("panes", self.splitter.saveState())
        self.memory.setValue("gate_panes", self.gate_panel.splitter.saveState())
        self.memory.setValue("tab", self.tabs.currentIndex())
        for key, value in self.gate_panel.view().items():
            self.memory.setValue(f"gate_{key}", value)
        self.memory.sync()

    def closeEvent(self, event) -> None:
        self._remember_layout()
        for dialog in self.findChildren(FinetuneDialog):
            dialog.shutdown()
        self.recorder.shutdown()
        self.engine_thread.quit()
        self.engine_thread.wait()
        self.engine.stop()  # the engine's thread has ended: stopping here races with nothing
        super().closeEvent(event)
