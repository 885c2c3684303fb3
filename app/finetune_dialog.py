"""The fine-tune dialog: start from the model in use, watch progress and the loss / accuracy curves,
compare before and after on held-out takes, hear the takes the new model mishears, and switch to
the new version (or cancel: nothing changes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.finetune_worker import FinetuneWorker
from app.hinted_list import HintedList
from app.screen_fit import fitted
from audio.config import FeatureConfig
from audio.io import AudioFileError, read_audio
from audio.labels import UNKNOWN
from audio.takes import HELD_OUT_FRACTION, HELD_OUT_MIN_TAKES
from model.adapt import (
    AdaptRequest,
    fires_on_other_words,
    more_takes_advice,
    old_words_note,
    unmeasured_note,
    unreadable_note,
    weak_labels,
)
from model.versions import VersionStore

# Redrawing the two curves costs the GUI thread tens of times what the label and the bar cost, and
# on a 2-core machine that time comes out of fine-tuning's threads; twice a second still looks live.
CURVE_REFRESH_MS = 500
MISHEARD_TITLE = "<b>Misheard held-out takes</b> (double-click to play)"


def misheard_text(error: dict) -> str:
    """One misheard take as the dialog lists it: its word, what it was taken for, how sure, its file."""
    return f"{error['label']} → {error['taken_for']} ({error['confidence']:.0%})  {Path(error['take']).name}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


class FinetuneDialog(QDialog):
    """`request` says what to fine-tune (its epochs come from the spin box); `versions_root` is
    where the result is saved; `parent_name` is recorded as the new version's parent."""

    model_chosen = Signal(str)  # the folder of the version the user switched to
    play_requested = Signal(object, int)  # (audio (samples,), sample rate): a misheard take to hear
    take_chosen = Signal(str)  # a misheard take's name (label/file.wav), to relabel or delete in the takes list
    label_chosen = Signal(str)  # a weak word, to review its takes and record more in the takes list
    inspect_requested = Signal(object, str, str)  # (audio, what it is, the new model's folder): its gates
    running_changed = Signal(bool)  # fine-tuning started (True) or ended, however it ended (False)
    _run = Signal(object, str, str)
    _warm_up = Signal(object)
    _finish = Signal()

    def __init__(
        self,
        request: AdaptRequest,
        versions_root: str | Path,
        parent_name: str,
        summary: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on your takes")
        self.resize(fitted(self, 1150, 760))
        self.request, self.versions_root, self.parent_name = request, Path(versions_root), parent_name
        self.result: dict | None = None
        self.running = False
        self._steps: list[tuple[int, float, float]] = []
        self._build(summary)
        self._curve_timer = QTimer(self)  # coalesces the steps' curve updates
        self._curve_timer.setSingleShot(True)
        self._curve_timer.setInterval(CURVE_REFRESH_MS)
        self._curve_timer.timeout.connect(self._draw_curves)
        self.thread = QThread(self)
        self.worker = FinetuneWorker()
        self.worker.moveToThread(self.thread)
        self._run.connect(self.worker.run)
        self.worker.progress.connect(self._progress)
        self.worker.finished.connect(self._finished)
        self.worker.cancelled.connect(self._cancelled)
        self.worker.error.connect(self._failed)
        self._warm_up.connect(self.worker.warm_up)
        self._finish.connect(self.worker.finish)
        self.thread.start()
        self._warm_up.emit(self.request)  # on the worker's thread, before any Start

    def _build(self, summary: str) -> None:
        material, settings = self.request.material, self.request.finetune
        self.about = QLabel(
            f"{summary}<br>Starts from the model in use, <b>{self.parent_name}</b>. Mixed in so old words are not "
            f"forgotten: {material.per_word} synthesized clips of each base command, {material.unknown} other words "
            f"for _unknown_ and {material.silence} background clips, all augmented. Each of your takes is seen "
            f"{settings.user_repeats} times an epoch; a word with more than {settings.full_takes} takes shares "
            f"those places, so more takes do not make fine-tuning longer. {HELD_OUT_FRACTION:.0%} of each word's "
            f"takes (with {HELD_OUT_MIN_TAKES} or more) are held out for the comparison."
            + (
                f" Old words are checked too, on {material.check_per_word} clips of each base command and "
                f"{material.check_unknown} other words said by synthetic voices kept out of training."
                if material.check_per_word or material.check_unknown
                else ""
            )
        )
        self.about.setWordWrap(True)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 50)
        self.epochs.setValue(self.request.finetune.epochs)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.use_button = QPushButton("Use the new model")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_result)
        row = QHBoxLayout()
        for widget in (QLabel("Epochs:"), self.epochs, self.start_button, self.cancel_button, self.use_button):
            row.addWidget(widget)
        row.addStretch(1)
        self.progress_bar = QProgressBar()
        self.eta_label = QLabel("Not started")
        plots = pg.GraphicsLayoutWidget()
        self.loss_plot = plots.addPlot(title="training loss (per step)")
        self.accuracy_plot = plots.addPlot(title="training accuracy (per step)")
        self.accuracy_plot.setYRange(0, 1)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#f6a13a", width=2))
        self.accuracy_curve = self.accuracy_plot.plot(pen=pg.mkPen("#5fb3f9", width=2))
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.setLabel("bottom", "step")
            plot.showGrid(x=True, y=True, alpha=0.3)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["label", "held-out takes", "before", "after", "after, taken for"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.old_words = QLabel("")  # the old-words check, once a result is in
        self.old_words.setWordWrap(True)
        self.advice = QLabel("")  # which words want more takes, once a result is in
        self.advice.setWordWrap(True)
        self.review_row = QHBoxLayout()  # a button per weak word: its takes in the takes list
        self.misheard = HintedList()  # the new model's wrong answers on held-out takes, most confident first
        self.misheard.itemDoubleClicked.connect(lambda _item: self.play_misheard())
        self.misheard_label = QLabel(MISHEARD_TITLE)
        self.misheard_label.setWordWrap(True)
        play_button = QPushButton("▶ Play")
        play_button.clicked.connect(self.play_misheard)
        show_button = QPushButton("Show in your takes")
        show_button.setToolTip("select it in the Record & fine-tune list, to relabel or delete it there")
        show_button.clicked.connect(self.show_misheard)
        inside_button = QPushButton("Look inside")
        inside_button.setToolTip("every gate of the new model on this take, in the Inside the LSTM tab")
        inside_button.clicked.connect(self.look_inside_misheard)
        misheard_buttons = QHBoxLayout()
        misheard_buttons.addWidget(play_button)
        misheard_buttons.addWidget(inside_button)
        misheard_buttons.addWidget(show_button)
        misheard_column = QVBoxLayout()
        misheard_column.addWidget(self.misheard_label)
        misheard_column.addWidget(self.misheard)
        misheard_column.addLayout(misheard_buttons)
        table_column = QVBoxLayout()
        table_column.addWidget(QLabel("<b>Before / after on held-out takes</b>"))
        table_column.addWidget(self.table)
        results = QHBoxLayout()
        results.addLayout(table_column, 3)
        results.addLayout(misheard_column, 2)
        column = QVBoxLayout(self)
        column.addWidget(self.about)
        column.addLayout(row)
        column.addWidget(self.progress_bar)
        column.addWidget(self.eta_label)
        column.addWidget(plots, 1)  # the curves and the per-word table share the height
        column.addLayout(results, 1)
        column.addWidget(self.old_words)
        column.addWidget(self.advice)
        column.addLayout(self.review_row)

    def start(self) -> None:
        if self.running:
            return
        self.request = replace(self.request, finetune=replace(self.request.finetune, epochs=self.epochs.value()))
        self.result, self._steps = None, []
        self._set_running(True)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.use_button.setEnabled(False)
        self.progress_bar.setValue(0)
        self.old_words.setText("")
        self.advice.setText("")
        self.show_review_buttons([])
        self.misheard.clear()
        self.misheard.set_hint("")
        # true whether the material is ready or still being synthesized (its progress then replaces this)
        self.eta_label.setText("Preparing your takes and the base-vocabulary material…")
        self.worker.arm()
        self._run.emit(self.request, str(self.versions_root), self.parent_name)

    def cancel(self) -> None:
        if self.running:
            self.worker.cancel()
            self.eta_label.setText("Cancelling…")

    def _progress(self, phase: str, values: dict) -> None:
        if phase in ("material", "check"):
            if not self.running:  # the material prepared while the dialog waits for Start
                return
            what = "base-vocabulary material" if phase == "material" else "the old-words check"
            self.eta_label.setText(f"Synthesizing {what}: {values['done']}/{values['total']}")
            return
        self._steps.append((values["step"], values["loss"], values["accuracy"]))
        self.progress_bar.setMaximum(values["steps"])
        self.progress_bar.setValue(values["step"])
        if values["step"] == values["steps"]:  # what adapt does after the last step
            self._curve_timer.stop()
            self._draw_curves()
            self.eta_label.setText(
                f"Trained for {values['elapsed']:.0f} s · refitting the output layer and scoring the held-out takes…"
            )
            return
        if not self._curve_timer.isActive():
            self._curve_timer.start()
        self.eta_label.setText(
            f"Epoch {values['epoch']}/{values['epochs']} · step {values['step']}/{values['steps']}"
            f" · loss {values['loss']:.3f} · {values['elapsed']:.0f} s, about "
            f"{values['eta']:.0f} s to go"
        )

    def _draw_curves(self) -> None:
        if self._steps:
            steps = np.array(self._steps)  # (steps, 3)
            self.loss_curve.setData(steps[:, 0], steps[:, 1])
            self.accuracy_curve.setData(steps[:, 0], steps[:, 2])

    def _finished(self, result: dict) -> None:
        self._done()
        self.result = result
        before, after = result["before"], result["after"]
        compared = (
            f"held-out accuracy {percent(before['accuracy'])} → {percent(after['accuracy'])} on {after['n']} takes"
            if after["n"]
            else "no takes held out to compare"
        )
        self.eta_label.setText(
            f"Saved as version {result['version']}: {compared} (training {result['seconds']['training']:.0f} s). "
            f"New labels: {', '.join(result['new_labels']) or 'none'}."
        )
        rows = [("all", after["n"], before["accuracy"], after["accuracy"], "")]
        rows += [
            (
                label,
                stats["n"],
                before["per_label"].get(label, {}).get("accuracy"),
                stats["accuracy"],
                ", ".join(f"{other} ×{count}" for other, count in stats["confused_with"].items()),
            )
            for label, stats in after["per_label"].items()
        ]
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, value in enumerate((row[0], str(row[1]), percent(row[2]), percent(row[3]), row[4])):
                item = QTableWidgetItem(value)
                item.setTextAlignment(
                    Qt.AlignmentFlag.AlignCenter
                    if column
                    else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
                )
                self.table.setItem(index, column, item)
        self.misheard.clear()
        self.misheard.set_hint("Every held-out take was heard right." if after["n"] else "")
        self.misheard_label.setText(MISHEARD_TITLE)
        for error in after["misheard"]:
            item = QListWidgetItem(misheard_text(error))
            item.setData(Qt.ItemDataRole.UserRole, error)
            item.setToolTip(error["path"])
            self.misheard.addItem(item)
        self.old_words.setText(old_words_note(result["old_words"]))
        notes = (unreadable_note(result["unreadable"]), unmeasured_note(result["counts"]), more_takes_advice(after))
        self.advice.setText(" ".join(filter(None, notes)))
        self.show_review_buttons(list(weak_labels(after)), fires_on_other_words(result["old_words"]))
        self.use_button.setEnabled(True)

    def take_changed(self, old: str, new: str) -> None:
        """A take relabelled (`new` its name), deleted (`new` "") or restored (`new` == `old`) in the recorder:
        its misheard entry says so and follows it, so Play and Show still find a relabelled take, and a deleted
        one is greyed out until it is restored."""
        enabled = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        for row in range(self.misheard.count()):
            item = self.misheard.item(row)
            error = item.data(Qt.ItemDataRole.UserRole)
            if error["take"] != old:
                continue
            if not new:
                item.setText(f"[deleted]  {misheard_text(error)}")
                item.setFlags(item.flags() & ~enabled)
                continue
            error = {**error, "take": new, "path": str(Path(error["path"]).parents[1] / new)}
            item.setData(Qt.ItemDataRole.UserRole, error)
            item.setToolTip(error["path"])
            folder = new.split("/")[0]  # the mark leads the entry: the list is narrow
            item.setText((f"[now under {folder}]  " if folder != error["label"] else "") + misheard_text(error))
            item.setFlags(item.flags() | enabled)

    def play_misheard(self) -> None:
        """Play the selected misheard take through the app's output; a take gone from disk is said so."""
        if (chosen := self._misheard_audio("play")) is not None:
            self.play_requested.emit(chosen[1], FeatureConfig().sample_rate)

    def look_inside_misheard(self) -> None:
        """The selected misheard take in the gate panel, as the new model hears it (in use or not)."""
        if self.result is not None and (chosen := self._misheard_audio("look inside")) is not None:
            error, audio = chosen
            self.inspect_requested.emit(
                audio, f"take {error['take']} with {self.result['version']}", self.result["path"]
            )

    def _misheard_audio(self, verb: str) -> tuple[dict, np.ndarray] | None:
        """(the selected misheard entry, its take's audio); None, with a message when it cannot be read."""
        item = self.misheard.currentItem()
        if item is None:
            return None
        error = item.data(Qt.ItemDataRole.UserRole)
        try:
            return error, read_audio(error["path"], FeatureConfig().sample_rate)
        except AudioFileError as problem:
            self.misheard_label.setText(f"{MISHEARD_TITLE}<br>Cannot {verb} it: {problem}")
            return None

    def show_review_buttons(self, labels: list[str], record_others: bool = False) -> None:
        """One "Review <word>'s takes" button per weak word, and with `record_others` one to record words
        that set commands off as `_unknown_`, in place of the last result's."""
        while self.review_row.count():
            button = self.review_row.takeAt(0).widget()  # None for the stretch after the buttons
            if button is not None:
                button.deleteLater()
        for label in labels:
            button = QPushButton(f"Review {label}'s takes")
            button.setToolTip(f"list only the takes of {label} in Record & fine-tune, to play, fix and add to them")
            button.clicked.connect(lambda _checked=False, label=label: self.label_chosen.emit(label))
            self.review_row.addWidget(button)
        if record_others:
            button = QPushButton(f"Record words that fire, as {UNKNOWN}")
            button.setToolTip(f"pick {UNKNOWN} in Record & fine-tune, to record words of yours that set a command off")
            button.clicked.connect(lambda _checked=False: self.label_chosen.emit(UNKNOWN))
            self.review_row.addWidget(button)
        if labels or record_others:
            self.review_row.addStretch(1)

    def show_misheard(self) -> None:
        """Ask for the selected misheard take to be shown among the user's takes."""
        item = self.misheard.currentItem()
        if item is not None:
            self.take_chosen.emit(item.data(Qt.ItemDataRole.UserRole)["take"])

    def _cancelled(self) -> None:
        self._done()
        self.eta_label.setText("Cancelled: nothing was saved, the model in use is unchanged")

    def _failed(self, message: str) -> None:
        self._done()
        self.eta_label.setText(message)

    def _done(self) -> None:
        self._set_running(False)
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        """Said once per change: a dialog closed mid-run hears its worker's `cancelled` later, when another
        dialog may be running."""
        if running != self.running:
            self.running = running
            self.running_changed.emit(running)

    def use_result(self) -> None:
        if self.result is None:
            return
        try:
            VersionStore(self.versions_root).select(self.result["version"])
        except (ValueError, OSError) as error:  # the versions index broken or gone since: say so, switch nothing
            self.eta_label.setText(f"Could not switch to {self.result['version']}: {error}")
            return
        self.model_chosen.emit(self.result["path"])

    def stop_worker(self) -> None:
        """Cancel a running fine-tune (nothing is saved) and let the worker's thread end, without waiting for
        it: the run stops at its next step, but the warm-up, the head's refit and scoring take a second or
        two that the GUI thread must not spend waiting. Safe twice."""
        self.worker.cancel()
        self._finish.emit()  # queued behind a run not yet started, which then stops and says so
        self._set_running(False)

    def shutdown(self) -> None:
        """`stop_worker`, then wait for the thread to end: for the app's exit, which must not leave it running."""
        self.stop_worker()
        self.thread.wait()

    def release(self) -> None:
        """Close for good: the dialog deletes itself once its worker's thread has ended."""
        self.thread.finished.connect(self.deleteLater)
        self.close()
        if self.thread.isFinished():  # ended before the connection was made
            self.deleteLater()

    def closeEvent(self, event) -> None:
        self.stop_worker()
        super().closeEvent(event)

    def done(self, code: int) -> None:  # Esc / reject: stop the worker as closing does
        self.stop_worker()
        super().done(code)
