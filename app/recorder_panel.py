"""The recorder: pick or type a label, record takes from the live input, review and fix them.

A take is read from the live engine's ring (the one the recogniser reads): Record (or Space)
marks the ring position, waits `take_seconds`, reads from `pre_roll_seconds` before the mark,
and cuts the 1 s around the speech; Several (Shift+Space) records until it is pressed again (at
most `several_seconds`, `app.several_recording`) and keeps a take of each word said. Background
records `background_seconds` of `_silence_` material in 1 s pieces. Import… adds sound files (or
folders of them) as takes, cut the same way. Takes go to a `TakeStore`; a bad label gets a
message, never a file. Typing a word the store and model do not know offers a synthesized
starting set for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QObject,
    QSize,
    Qt,
    QThread,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.hinted_list import HintedList
from app.several_recording import RingSource, SeveralRecording
from app.synth_worker import SynthWorker
from app.take_worker import TakeWorker
from app.thumbnail_worker import ThumbnailWorker
from app.time_text import shown_time
from app.waveform_icon import blank_image
from audio.dataset import AUDIO_SUFFIXES, label_folders
from audio.labels import SILENCE, validate_label
from audio.synthesis.starter import STARTER_CLIPS
from audio.takes import DETAILS_NOT_WRITTEN, Take, TakeStore, file_stamp, speaker_name

SEVERAL_TEXT = "Several (Shift+Space)"  # no "…": it opens no dialog, it starts recording
NO_TAKES_HINT = (
    "No takes yet. Press Listen, pick a label or type a new word and press Enter, then Record (Space) and say it, "
    "or Several (Shift+Space) and say it again and again. Import… adds sound files you have; drop them here too."
)
Worker = TypeVar("Worker", bound=QObject)  # a worker object, moved onto a thread of its own


class RecordingSource(RingSource, Protocol):
    """What the recorder needs from the live engine (implemented by RecognitionEngine)."""

    input_title: str


class FileDrops(QObject):
    """An event filter that hands the local files dropped on a widget to `on_files` (a list of paths)."""

    def __init__(self, on_files: Callable[[list[str]], None]) -> None:
        super().__init__()
        self.on_files = on_files

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return False
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            self.on_files(paths)
        return True


class RecorderPanel(QWidget):
    play_requested = Signal(object, int)  # (audio (samples,), sample rate)
    inspect_requested = Signal(object, str)  # (audio (samples,), the take's name): its gates, in the gate panel
    finetune_clicked = Signal()
    versions_clicked = Signal()
    take_changed = Signal(str, str)  # (old name, new name): new "" when deleted, new == old when restored
    _synthesize = Signal(str, str, int)  # (starter root, word, count), to the synth worker's thread
    _import = Signal(str, list)  # (label, file paths), to the take worker's thread
    _keep = Signal(str, object, str, bool, str)  # (label, audio, device, every word, note), to the take worker's thread
    _draw = Signal(list)  # [(path, stamp), ...], to the thumbnail worker's thread

    def __init__(
        self,
        store: TakeStore,
        source: RecordingSource,
        starter_root: str | Path,
        *,
        take_seconds: float = 1.5,
        pre_roll_seconds: float = 0.3,
        background_seconds: float = 3.0,
        several_seconds: float = 60.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.source, self.starter_root = store, source, Path(starter_root)
        self.rate = store.config.sample_rate
        self.take_seconds, self.pre_roll_seconds, self.background_seconds = (
            take_seconds,
            pre_roll_seconds,
            background_seconds,
        )
        self.several_seconds = several_seconds  # the longest Several: the word said again and again, a take a word
        self.model_labels: tuple[str, ...] = ()
        self.recording: str | None = None  # the label being recorded
        self.several: SeveralRecording | None = None  # a Several recording, until it is pressed again
        self.closing = False  # `shutdown` has begun
        self.deleted: list[list[str]] = []  # this session's deletions (each one press's takes), the latest last
        # path -> ((mtime, size), thumbnail or None when unreadable): only new or changed takes are drawn again
        self._thumbnails: dict[Path, tuple[tuple[int, int], QIcon | None]] = {}
        self._drawing: dict[Path, tuple[int, int]] = {}  # asked of the thumbnail worker, not back yet
        self._items: dict[Path, tuple[tuple[int, int], QListWidgetItem]] = {}  # the list's rows, for thumbnails
        self.placeholder_icon = QIcon(QPixmap.fromImage(blank_image()))  # rows keep their height while drawn
        self._known_labels: set[str] = set()  # the label box's choices (`_fill_labels`)
        self._build()
        self._threads: list[QThread] = []
        self.synth_worker = self._on_own_thread(SynthWorker())
        self.take_worker = self._on_own_thread(TakeWorker(store))
        self.thumbnail_worker = self._on_own_thread(ThumbnailWorker())
        self._synthesize.connect(self.synth_worker.synthesize)
        self._import.connect(self.take_worker.import_files)
        self._keep.connect(self.take_worker.keep)
        self._draw.connect(self.thumbnail_worker.draw)
        # Worker signals go to this panel's own methods, which Qt queues to the GUI thread; a lambda would
        # run on the worker's thread and touch the widgets from there.
        self.synth_worker.progress.connect(self._synthesis_progress)
        self.synth_worker.finished.connect(self._synthesized)
        self.synth_worker.error.connect(self.show_message)
        self.take_worker.progress.connect(self._import_progress)
        self.take_worker.imported.connect(self._imported)
        self.take_worker.kept.connect(self._kept)
        self.thumbnail_worker.drawn.connect(self._drawn)
        self.refresh()
        if store.metadata_problem:
            self.show_message(f"Your takes' details file was put aside: {store.metadata_problem}")

    def _on_own_thread(self, worker: Worker) -> Worker:
        """`worker`, moved onto a started thread of its own (`shutdown` stops them all)."""
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.start()
        self._threads.append(thread)
        return worker

    def _build(self) -> None:
        self.label_box = QComboBox()
        self.label_box.setEditable(True)
        self.label_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.label_box.lineEdit().setPlaceholderText("pick a label or type a new word")
        self.label_box.currentTextChanged.connect(self._label_changed)
        self.label_box.setToolTip("pick a label, or type a word and press Enter; then Space records a take of it")
        self.label_box.lineEdit().returnPressed.connect(self._label_chosen)
        self.label_box.activated.connect(lambda _index: self._label_chosen())
        self.record_button = QPushButton("● Record (Space)")
        self.record_button.clicked.connect(self.record)
        self.several_button = QPushButton(SEVERAL_TEXT)
        self.several_button.setToolTip(
            "say the word again and again, with a short pause between, and press again to "
            f"stop (at most {self.several_seconds:g} s): each one becomes a take "
            "(Shift+Space starts and stops)"
        )
        self.several_button.clicked.connect(self.record_several)
        self.background_button = QPushButton("Background")
        self.background_button.setToolTip(f"record {SILENCE} material: the room with nobody speaking")
        self.background_button.clicked.connect(self.record_background)
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip(
            "add sound files you have (WAV, FLAC, OGG; any sample rate, mono or stereo) as "
            "takes, one per word said; or drop files and folders on the list"
        )
        import_menu = QMenu(self.import_button)
        import_menu.addAction("Sound files, as the label picked…", lambda: self.import_files())
        import_menu.addAction("A folder (a folder per label, or files as the label picked)…", self.import_folder)
        self.import_button.setMenu(import_menu)
        self.synth_button = QPushButton("Synthesize starting set")
        self.synth_button.setToolTip("have the speech engines say the word, so it can be learned before you record it")
        self.synth_button.clicked.connect(self.synthesize_current)
        self.speaker_box = QLineEdit(self.store.speaker)
        self.speaker_box.setToolTip("who is speaking: it names the takes' files and is kept with each take")
        self.speaker_box.setMaximumWidth(140)
        self.speaker_box.editingFinished.connect(self._speaker_changed)
        top = QHBoxLayout()  # who and what; the ways to add takes go on a row of their own, so both fit a laptop
        top.addWidget(QLabel("Speaker:"))
        top.addWidget(self.speaker_box)
        top.addWidget(QLabel("Label:"))
        top.addWidget(self.label_box, 1)
        top.addWidget(self.synth_button)
        adding = QHBoxLayout()
        for button in (self.record_button, self.several_button, self.background_button, self.import_button):
            adding.addWidget(button)
        adding.addStretch(1)
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.only_label = QCheckBox("only this label")
        self.only_label.setToolTip("list only the takes of the label picked above")
        self.only_label.toggled.connect(lambda _on: self.refresh())
        counts_row = QHBoxLayout()
        counts_row.addWidget(self.counts_label, 1)
        counts_row.addWidget(self.only_label)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.take_list = HintedList()
        self.speaker_box.returnPressed.connect(lambda: self.take_list.setFocus())  # as Enter in Label: Space records
        self.take_list.setIconSize(QSize(120, 36))
        self.take_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # Shift / Ctrl-click
        self.take_list.itemDoubleClicked.connect(lambda _item: self.play_selected())
        self.take_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.take_list.customContextMenuRequested.connect(
            lambda at: self.take_menu().exec(self.take_list.viewport().mapToGlobal(at))
        )
        buttons = QHBoxLayout()
        for text, slot in (
            *self._take_actions(),
            ("Fine-tune…", self.finetune_clicked.emit),
            ("Versions…", self.versions_clicked.emit),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            buttons.addWidget(button)
            if slot in (self.relabel_selected, self.delete_selected):
                button.setToolTip(
                    f"{text.rstrip('.…')} the selected takes (Shift- or Ctrl-click selects several)"
                    + (", or press Delete" if slot == self.delete_selected else "")
                )
            if slot == self.delete_selected:
                self.undo_button = QPushButton("Undo delete")
                self.undo_button.setToolTip("bring back the takes deleted last (Ctrl+Z in the list)")
                self.undo_button.setEnabled(False)
                self.undo_button.clicked.connect(self.undo_delete)
                buttons.addWidget(self.undo_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addLayout(adding)
        column.addLayout(counts_row)
        column.addWidget(self.take_list, 1)
        column.addLayout(buttons)
        column.addWidget(self.message_label)
        self.space = QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.record)
        self.space.setContext(Qt.ShortcutContext.WindowShortcut)
        QShortcut(QKeySequence("Shift+Space"), self, self.record_several).setContext(Qt.ShortcutContext.WindowShortcut)
        for keys, slot in (
            (QKeySequence.StandardKey.Delete, self.delete_selected),
            (QKeySequence.StandardKey.Undo, self.undo_delete),
            (QKeySequence(Qt.Key.Key_Return), self.play_selected),
            (QKeySequence(Qt.Key.Key_Enter), self.play_selected),
            (QKeySequence(Qt.Key.Key_I), self.look_inside_selected),
        ):
            QShortcut(keys, self.take_list, slot).setContext(Qt.ShortcutContext.WidgetShortcut)
        self.file_drops = FileDrops(self.import_files)  # files and folders dropped on the list are imported
        self.take_list.viewport().setAcceptDrops(True)
        self.take_list.viewport().installEventFilter(self.file_drops)

    def _take_actions(self) -> tuple[tuple[str, Callable[[], None]], ...]:
        """What can be done to the selected takes: the buttons under the list and its right-click menu."""
        return ("▶ Play", self.play_selected), ("Relabel…", self.relabel_selected), ("Delete", self.delete_selected)

    def take_menu(self) -> QMenu:
        """The takes list's right-click menu: the selection's actions, Undo delete, and the folder the takes are in."""
        menu = QMenu(self.take_list)
        for text, slot in self._take_actions():
            menu.addAction(text, lambda _checked=False, slot=slot: slot()).setEnabled(bool(self.selected_takes()))
        menu.addAction("Undo delete", self.undo_delete).setEnabled(bool(self.deleted))
        menu.addAction("Look inside the LSTM (I)", self.look_inside_selected).setEnabled(
            self.selected_take() is not None
        )
        menu.addSeparator()
        take = self.selected_take()
        menu.addAction(f'Open the "{take.label}" folder' if take else "Open the takes folder", self.open_folder)
        return menu

    def open_folder(self) -> None:
        """Show the folder of the take under the cursor (all takes' with none) in the system's file manager."""
        take = self.selected_take()
        folder = self.store.root / take.label if take else self.store.root
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_message(f"No file manager could be opened; the takes are in {folder}")

    def set_model_labels(self, labels: tuple[str, ...]) -> None:
        self.model_labels = tuple(labels)
        self._fill_labels(self.store.labels(), self.starter_counts())

    def current_label(self) -> str:
        return self.label_box.currentText()

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)

    def record(self) -> None:
        self._start(self.current_label(), self.take_seconds)

    def record_several(self) -> None:
        """Start recording the word said again and again, or stop: each one said becomes a take."""
        if self.several is not None:
            self.several.stop()
            return
        ready = self._ready_to_record(self.current_label())
        if ready is None:
            return
        label, position = ready
        self.recording = label
        self.several = SeveralRecording(
            self.source,
            position,
            self.store.config,
            parent=self,
            pre_roll_seconds=self.pre_roll_seconds,
            max_seconds=self.several_seconds,
        )
        self.several.heard.connect(self._several_heard)
        self.several.done.connect(self._several_done)
        self.several_button.setText("■ Stop (Shift+Space)")
        self.show_message(
            f"Recording {label} — say it again and again, with a pause between; press Several again "
            "(Shift+Space) to stop"
        )

    def _several_heard(self, words: int, seconds: float) -> None:
        self.show_message(
            f"Recording {self.recording}: {plural(words, 'word')} heard in {seconds:.0f} s — say it "
            "again and again, with a pause between; press Several again (Shift+Space) to stop"
        )

    def _several_done(self, audio: np.ndarray, input_stopped: bool) -> None:
        label, self.recording, self.several = self.recording, None, None
        self.several_button.setText(SEVERAL_TEXT)
        keep = self.take_worker.keep if self.closing else self._keep.emit  # closing: its thread is about to stop
        keep(
            label,
            audio,
            self.source.input_title,
            True,
            "the input stopped, so the recording ended there" if input_stopped else "",
        )

    def record_background(self) -> None:
        self._start(SILENCE, self.background_seconds)

    def _ready_to_record(self, label: str) -> tuple[str, int] | None:
        """(`label` checked, the live ring's position now), or None with a message saying why nothing can be
        recorded now."""
        if self.recording is not None:
            self.show_message(
                f"Still recording several takes of {self.recording}: press Several again to stop"
                if self.several
                else f"Still recording {self.recording}: wait for that take to be saved"
            )
            return None
        try:
            label = validate_label(label)
        except ValueError as error:
            self.show_message(f"Not recorded: {error}")
            return None
        position = self.source.ring_position()
        if position is None:
            self.show_message("Not recorded: press Listen first — takes are recorded from the live input")
            return None
        return label, position

    def _start(self, label: str, seconds: float) -> None:
        ready = self._ready_to_record(label)
        if ready is None:
            return
        label, position = ready
        self.recording = label
        start = position - round(self.pre_roll_seconds * self.rate) if label != SILENCE else position
        self.record_button.setText("Recording…")
        self.show_message("Recording background — keep quiet" if label == SILENCE else f"Recording {label} — speak now")
        stop = position + round(seconds * self.rate)
        QTimer.singleShot(round(seconds * 1000), lambda: self._finish(label, start, stop))

    def _finish(self, label: str, start: int, stop: int) -> None:
        self.recording = None
        self.record_button.setText("● Record (Space)")
        try:
            audio = self.source.read_ring(start, stop)
        except ValueError as error:
            self.show_message(f"Not recorded: {error}")
            return
        if len(audio) < max(self.rate // 4, (stop - start) // 2):  # else the pre-roll alone would be a take
            self.show_message(
                f"Not recorded: the input delivered {len(audio) / self.rate:.1f} s of the "
                f"{(stop - start) / self.rate:.1f} s asked for; is it still running?"
            )
            return
        self._keep.emit(label, audio, self.source.input_title, False, "")

    def _kept(self, label: str, names: list, clipped: bool, problem: str, note: str) -> None:
        """The take worker has saved a recording's takes `names` (none, and `problem`, when it could not)."""
        if problem:
            self.show_message("; ".join(filter(None, (f"Not recorded: {problem}", note))))
            return
        self.refresh(select=names)
        saved = f"Saved {plural(len(names), 'take')} of {label}"
        if clipped:
            saved += " — it is clipped: turn the input gain down and record again"
        self.show_message("; ".join(filter(None, (saved, note))))

    def import_files(self, paths: list[str] | None = None) -> None:
        """Add sound files as takes (asks for files without `paths`), read and saved off the GUI thread.

        Files, and a folder's own files, go under the label picked; a folder with a folder per label
        (Speech Commands layout) gives each its own label.
        """
        if not self.import_button.isEnabled():  # files dropped while an import runs
            self.show_message("Still importing: drop them again when it is done")
            return
        try:
            label = validate_label(self.current_label())
        except ValueError as error:
            if paths is None or not any(Path(path).is_dir() for path in paths):  # no folder to name the labels
                self.show_message(f"Not imported: {error}")
                return
            label = ""
        if paths is None:
            patterns = " ".join(f"*{suffix}" for suffix in AUDIO_SUFFIXES)
            paths, _ = QFileDialog.getOpenFileNames(
                self, f"Import takes of {label}", "", f"Sound files ({patterns});;All files (*)"
            )
        if not paths:
            return
        self.import_button.setEnabled(False)
        self.show_message("Importing…")
        self._import.emit(label, list(paths))

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of takes")
        if folder:
            self.import_files([folder])

    def _imported(self, saved: list, files: int, problems: list) -> None:
        """The take worker has imported `saved` (take names) from `files` files; say so, and what was left out."""
        self.import_button.setEnabled(True)
        self.refresh(select=saved)
        per_label = Counter(name.partition("/")[0] for name in saved)
        which = (
            f" of {next(iter(per_label))}"
            if len(per_label) == 1
            else f" ({', '.join(f'{count} of {label}' for label, count in per_label.items())})"
            if per_label
            else ""
        )
        message = f"Imported {plural(len(saved), 'take')}{which} from {plural(files, 'file')}"
        if problems:
            shown = 3
            more = f"; and {len(problems) - shown} more" if len(problems) > shown else ""
            message += f"; left out {plural(len(problems), 'file')}: " + "; ".join(problems[:shown]) + more
        self.show_message(message)

    def select_take(self, name: str) -> None:
        """Select and scroll to the take `name` (label/file.wav); a take gone since is said so."""
        label = name.partition("/")[0]
        if self.only_label.isChecked() and label != self.current_label():
            self.label_box.setEditText(label)  # list that label's takes, this one among them
        for row in range(self.take_list.count()):
            item = self.take_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole).name == name:
                self.take_list.setCurrentItem(item)
                self.take_list.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtCenter)
                return
        self.show_message(f"No take {name} among your takes: deleted or relabelled since?")

    def selected_take(self) -> Take | None:
        """The take under the cursor: the one Play plays."""
        item = self.take_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None and item.isSelected() else None

    def selected_takes(self) -> list[Take]:
        """Every selected take (Shift- and Ctrl-click pick several), in list order: what Relabel and Delete act on."""
        rows = sorted(self.take_list.row(item) for item in self.take_list.selectedItems())
        return [self.take_list.item(row).data(Qt.ItemDataRole.UserRole) for row in rows]

    def play_selected(self) -> None:
        if (chosen := self._selected_audio("play")) is not None:
            self.play_requested.emit(chosen[1], self.rate)

    def look_inside_selected(self) -> None:
        """The take under the cursor in the gate panel: every gate as the model in use hears it."""
        if (chosen := self._selected_audio("look inside")) is not None:
            self.inspect_requested.emit(chosen[1], chosen[0].name)

    def _selected_audio(self, verb: str) -> tuple[Take, np.ndarray] | None:
        """(the take under the cursor, its audio); None, with a message when it cannot be read."""
        take = self.selected_take()
        if take is None:
            return None
        try:
            return take, self.store.read(take)
        except ValueError as error:  # a file broken since it was listed, or put there by hand
            self.show_message(f"Cannot {verb} it: {error}")
            return None

    def relabel_selected(self, label: str | None = None) -> None:
        takes = self.selected_takes()
        if not takes:
            return
        if label is None:
            what = takes[0].name if len(takes) == 1 else f"the {len(takes)} selected takes"
            common = takes[0].label if len({take.label for take in takes}) == 1 else ""
            label, ok = QInputDialog.getText(self, "Relabel", f"New label for {what}:", text=common)
            if not ok:
                return
        moved, problems = self._for_each(takes, lambda take: (take, self.store.relabel(take, label)), "relabelled")
        if moved:
            self.refresh(select=[new.name for _, new in moved])
        done = f"Moved {plural(len(moved), 'take')} to {moved[0][1].label}" if moved else ""
        self.show_message("; ".join(filter(None, (done, *problems))))
        for old, new in moved:
            if new.name != old.name:  # relabelled to the label it had: nothing moved
                self.take_changed.emit(old.name, new.name)

    def delete_selected(self) -> None:
        takes = self.selected_takes()
        if not takes:
            return
        deleted, problems = self._for_each(takes, self.store.delete, "deleted")
        if deleted:
            self.deleted.append(deleted)
            self.undo_button.setEnabled(True)
            self.refresh()
        done = (
            (
                f"Deleted {deleted[0] if len(deleted) == 1 else plural(len(deleted), 'take')} "
                f"(Undo delete brings {'it' if len(deleted) == 1 else 'them'} back)"
            )
            if deleted
            else ""
        )
        self.show_message("; ".join(filter(None, (done, *problems))))
        for name in deleted:
            self.take_changed.emit(name, "")

    def _for_each(self, items: list, act: Callable, verb: str) -> tuple[list, list[str]]:
        """`act(item)` for each take (or take name), in one batch of the store's writes: (what each returned,
        ["Not <verb> <take>: why", ...]). One that fails is named; the others are still done."""
        done, problems = [], []
        try:
            with self.store.batch():  # takes.json once for a hundred takes, not a hundred times
                for item in items:
                    try:
                        done.append(act(item))
                    except (ValueError, OSError) as error:
                        problems.append(f"Not {verb} {getattr(item, 'name', item)}: {error}")
        except OSError as error:  # the batch's last write of takes.json
            problems.append(f"{DETAILS_NOT_WRITTEN}: {error}")
        return done, problems

    def undo_delete(self) -> None:
        """Bring back this session's latest deletion: every take one Delete removed."""
        if not self.deleted:
            return
        names = self.deleted.pop()
        self.undo_button.setEnabled(bool(self.deleted))
        # a take not restored stays in the deleted folder, where restore can reach it again
        restored, problems = self._for_each(names, self.store.restore, "restored")
        if restored:
            self.refresh(select=[take.name for take in restored])
        done = (
            f"Restored {restored[0].name if len(restored) == 1 else plural(len(restored), 'take')}" if restored else ""
        )
        self.show_message("; ".join(filter(None, (done, *problems))))
        for take in restored:
            self.take_changed.emit(take.name, take.name)

    def synthesize_current(self) -> None:
        try:
            word = validate_label(self.current_label())
        except ValueError as error:
            self.show_message(f"Cannot synthesize: {error}")
            return
        self.synth_button.setEnabled(False)
        self.show_message(f"Synthesizing {STARTER_CLIPS} clips of {word!r}…")
        self._synthesize.emit(str(self.starter_root), word, STARTER_CLIPS)

    def _synthesis_progress(self, done: int, total: int) -> None:
        self.show_message(f"Synthesizing: {done}/{total}")

    def _import_progress(self, done: int, total: int) -> None:
        self.show_message(f"Importing: {done}/{total} files")

    def _synthesized(self, word: str, count: int) -> None:
        self.synth_button.setEnabled(True)
        self.refresh()
        self.show_message(f"{count} synthesized clips of {word!r} ready: the word can be fine-tuned now")

    def starter_counts(self) -> dict[str, int]:
        if not self.starter_root.is_dir():
            return {}
        return {
            folder.name: sum(1 for p in folder.glob("*.wav") if not p.name.startswith("."))
            for folder in label_folders(self.starter_root)
        }

    def refresh(self, select: Collection[str] = ()) -> None:
        """Reload the takes, thumbnails and counts from the store; then the takes named in `select` are selected."""
        self.take_list.clear()
        self._items = {}
        select, chosen = set(select), QItemSelection()
        labels, takes = self.store.labels(), self.store.takes()  # the counts come from these, not a second listing
        stamps = {take.path: file_stamp(take.path) for take in takes}
        self._thumbnails = {path: kept for path, kept in self._thumbnails.items() if path in stamps}  # gone: forgotten
        wanted = [
            (path, stamp)
            for path, stamp in stamps.items()
            if stamp is not None
            and self._thumbnails.get(path, (None,))[0] != stamp
            and self._drawing.get(path) != stamp
        ]
        shown = self.current_label() if self.only_label.isChecked() else None
        self.take_list.set_hint(
            f"No takes of {shown} yet: Record (Space) while you say it." if shown is not None else NO_TAKES_HINT
        )
        for take in reversed(takes):  # newest first within the list
            if shown is not None and take.label != shown:
                continue
            item = QListWidgetItem(
                "   ".join(filter(None, (take.label, take.speaker, shown_time(take.time) or take.path.stem)))
            )
            item.setData(Qt.ItemDataRole.UserRole, take)
            item.setToolTip("\n".join(filter(None, (take.name, take.device and f"source: {take.device}"))))
            self.take_list.addItem(item)
            stamp = stamps[take.path]
            self._items[take.path] = (stamp, item)
            kept = self._thumbnails.get(take.path)
            if stamp is None:  # gone or unreadable since the store listed it
                self._show_thumbnail(item, None)
            elif kept is not None and kept[0] == stamp:
                self._show_thumbnail(item, kept[1])
            else:
                item.setIcon(self.placeholder_icon)
            if take.name in select:
                index = self.take_list.indexFromItem(item)
                chosen.select(index, index)
        if not chosen.isEmpty():  # one selection change: one per take scrolled the list each time (seconds for 1,000)
            selection = self.take_list.selectionModel()
            selection.select(chosen, QItemSelectionModel.SelectionFlag.Select)
            selection.setCurrentIndex(chosen.indexes()[-1], QItemSelectionModel.SelectionFlag.NoUpdate)
        counts, starter = Counter(take.label for take in takes), self.starter_counts()
        parts = [
            f"<b>{label}</b> {counts[label]}" + (f" (+{starter[label]} synth)" if label in starter else "")
            for label in sorted(set(labels) | set(starter))
        ]  # an emptied label folder shows 0
        self.counts_label.setText("Takes: " + (" · ".join(parts) if parts else "none yet"))
        self._fill_labels(labels, starter)
        if wanted:
            self._drawing.update(wanted)
            self._draw.emit([(str(path), stamp) for path, stamp in wanted])

    def _drawn(self, batch: list) -> None:
        """Thumbnails back from the worker: kept, and shown on the rows of takes that have not changed since."""
        for path, stamp, image in batch:
            path = Path(path)
            if self._drawing.get(path) == stamp:
                del self._drawing[path]
            icon = QIcon(QPixmap.fromImage(image)) if image is not None else None
            self._thumbnails[path] = (stamp, icon)
            shown = self._items.get(path)
            if shown is not None and shown[0] == stamp:
                self._show_thumbnail(shown[1], icon)

    @staticmethod
    def _show_thumbnail(item: QListWidgetItem, icon: QIcon | None) -> None:
        if icon is not None:
            item.setIcon(icon)
        else:
            item.setText(item.text() + "   (unreadable)")

    def _fill_labels(self, store_labels: Collection[str], starter_labels: Collection[str]) -> None:
        """The label box's choices: the model's labels, the store's and the starting sets'."""
        current = self.current_label()
        self._known_labels = set(self.model_labels) | set(store_labels) | set(starter_labels)
        labels = sorted(self._known_labels)
        self.label_box.blockSignals(True)
        self.label_box.clear()
        self.label_box.addItems(labels)
        self.label_box.setEditText(current)
        self.label_box.blockSignals(False)

    def _speaker_changed(self) -> None:
        if speaker_name(self.speaker_box.text()) == self.store.speaker:
            self.speaker_box.setText(self.store.speaker)
            return
        try:
            speaker = self.store.set_speaker(self.speaker_box.text())
        except OSError as error:
            self.show_message(f"Speaker not changed: {error}")
            self.speaker_box.setText(self.store.speaker)
            return
        self.speaker_box.setText(speaker)
        self.show_message(f"Takes from now on are filed under speaker {speaker}")

    def _label_chosen(self) -> None:
        """Enter in the label field, or a label picked from its list: the keys go to the takes list, so Space
        records a take instead of typing a space into the label (a label may hold one: "lights on")."""
        self.take_list.setFocus()
        if label := self.current_label().strip():
            self.show_message(f"Space records a take of {label}, Shift+Space several")

    def _label_changed(self, text: str) -> None:
        known = text in self._known_labels  # as of the last refresh: typing reads nothing from disk
        self.synth_button.setEnabled(bool(text.strip()) and not known and text != SILENCE)
        if self.only_label.isChecked():
            self.refresh()

    def shutdown(self) -> None:
        """Keep what a Several recording heard, and stop the worker threads (the window calls this when it closes)."""
        self.closing = True
        if self.several is not None:
            self.several.stop()
        self.synth_worker.stop()  # a starting set in progress ends after its current clip
        for thread in self._threads:
            thread.quit()
            thread.wait()


def plural(count: int, noun: str) -> str:
    """ "1 take", "3 takes"."""
    return f"{count} {noun}{'s' * (count != 1)}"
