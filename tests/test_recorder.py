"""The recorder panel: takes from the live ring, cut around the word; bad labels; background;
review (play, relabel, delete); and the type-a-word starting set."""

import re
import shutil
import threading
import time
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app import take_worker, thumbnail_worker
from app.engine import SourceChoice
from app.recorder_panel import NO_TAKES_HINT, RecorderPanel
from app.waveform_icon import BACKGROUND, WAVE, waveform_image
from audio.clipping import clipped_share, is_clipped
from audio.io import read_audio, write_wav
from audio.labels import SILENCE
from audio.takes import TakeStore
from audio.trim import speech_bounds
from tests.conftest import tone_clip


class ArraySource:
    """A stand-in for the engine's ring: `audio` (samples,) already captured, position at its end."""

    input_title = "test input"

    def __init__(self, audio: np.ndarray | None) -> None:
        self.audio = audio

    def ring_position(self):
        return None if self.audio is None else len(self.audio) - 24_000  # 1.5 s still to come

    def read_ring(self, start, stop):
        return self.audio[max(start, 0) : min(stop, len(self.audio))]


@pytest.fixture
def panel(qtbot, tmp_path):
    made = []

    def make(audio, **options) -> RecorderPanel:
        options.setdefault("take_seconds", 0.05)
        options.setdefault("background_seconds", 0.05)
        widget = RecorderPanel(TakeStore(tmp_path / "takes"), ArraySource(audio), tmp_path / "starter", **options)
        qtbot.addWidget(widget)
        made.append(widget)
        return widget

    yield make
    for widget in made:
        widget.shutdown()


def speech(seconds: float = 3.0) -> np.ndarray:
    """Quiet room with a word said at the press (ArraySource's position, 1.5 s before the end)."""
    rng = np.random.default_rng(0)
    audio = rng.normal(0, 0.002, round(seconds * 16_000)).astype(np.float32)
    audio[-28_000:-12_000] += tone_clip("rise", 3)  # the tone is the clip's middle 0.5 s: the press to 0.5 s after
    return audio


def test_record_cuts_the_word_and_shows_counts_and_thumbnails(qtbot, panel):
    recorder = panel(speech(), take_seconds=1.0)
    recorder.label_box.setEditText("left")
    played, saved_on = [], set()
    recorder.play_requested.connect(lambda audio, rate: played.append((audio, rate)))
    save = recorder.store.save
    recorder.store.save = lambda *args, **options: saved_on.add(threading.current_thread()) or save(*args, **options)
    recorder.record()
    qtbot.waitUntil(lambda: recorder.message_label.text() == "Saved 1 take of left", timeout=5_000)
    assert saved_on and threading.main_thread() not in saved_on  # written on the take worker's thread
    take = recorder.store.takes("left")[0]
    audio = recorder.store.read(take)
    start, end = speech_bounds(audio)
    assert audio.shape == (16_000,) and abs((start + end) / 2 - 8_000) < 1_000
    assert 0.4 < (end - start) / 16_000 < 0.6 and np.abs(audio).max() > 0.1  # the whole word, centred
    assert take.device == "test input"
    assert "left</b> 1" in recorder.counts_label.text()
    assert recorder.take_list.count() == 1
    qtbot.waitUntil(lambda: all_drawn(recorder))  # on the thumbnail worker's thread
    recorder.play_selected()
    assert played and played[0][1] == 16_000 and played[0][0].shape == (16_000,)
    recorder.relabel_selected("right")
    assert recorder.store.counts() == {"left": 0, "right": 1}
    recorder.relabel_selected("../up")
    assert "Not relabelled" in recorder.message_label.text() and recorder.store.counts()["right"] == 1
    assert not recorder.undo_button.isEnabled()
    recorder.delete_selected()
    assert recorder.store.counts()["right"] == 0 and recorder.take_list.count() == 0
    assert recorder.message_label.text().endswith("(Undo delete brings it back)")
    recorder.undo_button.click()  # a slip of the hand costs nothing
    assert recorder.store.counts()["right"] == 1 and recorder.selected_take().device == "test input"
    assert not recorder.undo_button.isEnabled() and recorder.message_label.text().startswith("Restored right/")
    recorder.delete_selected()
    assert recorder.store.counts()["right"] == 0


@pytest.mark.parametrize("label", ["", "../../etc", "a/b", ".x"])
def test_a_bad_label_gets_a_message_not_a_file(qtbot, panel, tmp_path, label):
    recorder = panel(speech())
    recorder.label_box.setEditText(label)
    recorder.record()
    assert recorder.message_label.text().startswith("Not recorded:")
    assert recorder.recording is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".wav"]


def test_a_broken_details_file_is_said_and_the_takes_are_listed(qtbot, panel, tmp_path):
    TakeStore(tmp_path / "takes").save("left", tone_clip("rise", 3))
    (tmp_path / "takes" / "takes.json").write_text("{not json")
    recorder = panel(speech())
    assert recorder.message_label.text().startswith("Your takes' details file was put aside: ")
    assert "takes.json.unreadable-" in recorder.message_label.text() and recorder.take_list.count() == 1


def test_the_speaker_names_the_takes_and_is_kept_for_next_time(qtbot, panel, tmp_path):
    recorder = panel(speech(), take_seconds=0.3)
    assert recorder.speaker_box.text() == "me"
    recorder.speaker_box.setText("Ada L")
    recorder.speaker_box.editingFinished.emit()
    assert recorder.speaker_box.text() == "ada-l"
    assert recorder.message_label.text() == "Takes from now on are filed under speaker ada-l"
    recorder.label_box.setEditText("left")
    recorder.record()
    qtbot.waitUntil(lambda: recorder.message_label.text() == "Saved 1 take of left", timeout=5_000)
    take = recorder.store.takes("left")[0]
    assert take.path.name.startswith("ada-l_nohash_") and take.speaker == "ada-l"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", take.time)  # ISO 8601, local, with the zone
    # who said it and when, in the list: the date and the second, without the zone
    assert recorder.take_list.item(0).text() == f"left   ada-l   {take.time[:10]} {take.time[11:19]}"
    assert TakeStore(tmp_path / "takes").speaker == "ada-l"  # the next session starts with it
    recorder.speaker_box.setText("../")  # nothing usable in a file name: back to the default
    recorder.speaker_box.editingFinished.emit()
    assert recorder.speaker_box.text() == "me" and recorder.store.speaker == "me"


def test_not_listening_is_explained(qtbot, panel):
    recorder = panel(None)
    recorder.label_box.setEditText("left")
    recorder.record()
    assert "press Listen first" in recorder.message_label.text()


def test_a_second_press_while_recording_is_explained_and_records_once(qtbot, panel):
    recorder = panel(speech(), take_seconds=0.3)
    recorder.label_box.setEditText("left")
    recorder.record()
    recorder.record_background()
    assert recorder.message_label.text() == "Still recording left: wait for that take to be saved"
    qtbot.waitUntil(lambda: recorder.message_label.text() == "Saved 1 take of left", timeout=5_000)
    assert recorder.store.counts() == {"left": 1}


def test_an_input_that_stops_as_the_take_starts_saves_nothing_and_says_so(qtbot, panel):
    recorder = panel(speech(), take_seconds=1.0)
    recorder.source.ring_position = lambda: len(recorder.source.audio)  # unplugged: nothing comes after the press
    recorder.label_box.setEditText("left")
    recorder.record()
    qtbot.waitUntil(lambda: recorder.recording is None, timeout=5_000)
    assert recorder.message_label.text() == (
        "Not recorded: the input delivered 0.3 s of the 1.3 s asked for; is it still running?"
    )
    assert recorder.store.counts() == {}  # the pre-roll alone is not a take of "left"


def all_drawn(recorder) -> bool:
    """Every row has its thumbnail, or is marked unreadable."""
    items = [recorder.take_list.item(row) for row in range(recorder.take_list.count())]
    drawn = [
        item.icon().cacheKey() != recorder.placeholder_icon.cacheKey() and not item.icon().isNull() for item in items
    ]
    return all(is_drawn or item.text().endswith("(unreadable)") for is_drawn, item in zip(drawn, items))


def test_thumbnails_are_read_off_the_gui_thread_and_only_for_new_or_changed_takes(qtbot, panel, tmp_path, monkeypatch):
    reads = []

    def counted(path, *args):
        reads.append((f"{Path(path).parent.name}/{Path(path).name}", threading.current_thread()))
        return read_audio(path, *args)

    monkeypatch.setattr(thumbnail_worker, "read_audio", counted)
    store = TakeStore(tmp_path / "takes")
    first = [store.save("left", tone_clip("rise", speaker)) for speaker in range(3)]
    recorder = panel(speech())
    qtbot.waitUntil(lambda: all_drawn(recorder) and len(reads) == 3)
    assert threading.main_thread() not in {thread for _, thread in reads}  # the window never waits on the disk
    reads.clear()
    saved = recorder.store.save("right", tone_clip("flat", 1))
    recorder.refresh()
    assert recorder.take_list.count() == 4
    qtbot.waitUntil(lambda: all_drawn(recorder))
    assert [name for name, _ in reads] == [saved.name]  # not the three already shown
    reads.clear()
    recorder.take_list.setCurrentRow(recorder.take_list.count() - 1)  # the oldest take
    recorder.relabel_selected("right")
    qtbot.waitUntil(lambda: all_drawn(recorder))
    assert [name for name, _ in reads] == [f"right/{first[0].path.name}"]  # moved: a new file to the list
    reads.clear()
    write_wav(first[1].path, tone_clip("flat", 2))  # changed on disk
    recorder.refresh()
    qtbot.waitUntil(lambda: bool(reads) and all_drawn(recorder))
    assert [name for name, _ in reads] == [first[1].name]


def messages_on_threads(recorder) -> set:
    """The threads the panel's messages are shown from, from now on: only the GUI thread may touch a widget."""
    threads = set()
    show = recorder.show_message
    recorder.show_message = lambda text: threads.add(threading.current_thread()) or show(text)
    return threads


def listed(recorder) -> list[str]:
    items = (recorder.take_list.item(row) for row in range(recorder.take_list.count()))
    return [item.data(Qt.ItemDataRole.UserRole).name for item in items]


def selected(recorder) -> list[str]:
    return [take.name for take in recorder.selected_takes()]


def test_several_takes_are_deleted_with_the_delete_key_and_come_back_with_one_undo(qtbot, panel, tmp_path):
    store = TakeStore(tmp_path / "takes")
    saved = [store.save(label, tone_clip("rise", n)) for n, label in enumerate(["left", "left", "right"])]
    recorder = panel(speech())
    changes = []
    recorder.take_changed.connect(lambda old, new: changes.append((old, new)))
    recorder.show()
    qtbot.waitExposed(recorder)
    recorder.activateWindow()
    recorder.take_list.setFocus()
    qtbot.waitUntil(recorder.take_list.hasFocus)  # shortcuts reach the focused widget of the active window
    for take in saved[:2]:
        recorder.select_take(take.name)
    recorder.take_list.item(listed(recorder).index(saved[0].name)).setSelected(True)  # Ctrl-click adds the first
    assert sorted(selected(recorder)) == sorted(take.name for take in saved[:2])
    qtbot.keyClick(recorder.take_list, Qt.Key.Key_Delete)
    assert recorder.store.counts() == {"left": 0, "right": 1} and listed(recorder) == [saved[2].name]
    assert recorder.message_label.text() == "Deleted 2 takes (Undo delete brings them back)"
    assert sorted(changes) == sorted((take.name, "") for take in saved[:2])
    qtbot.keyClick(recorder.take_list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert recorder.store.counts() == {"left": 2, "right": 1} and recorder.message_label.text() == "Restored 2 takes"
    assert sorted(selected(recorder)) == sorted(take.name for take in saved[:2])  # back, and selected
    assert not recorder.undo_button.isEnabled()
    played = []
    recorder.play_requested.connect(lambda audio, rate: played.append(audio))
    qtbot.keyClick(recorder.take_list, Qt.Key.Key_Return)  # plays the take under the cursor
    assert len(played) == 1 and np.array_equal(played[0], recorder.store.read(recorder.selected_take()))


def test_the_right_click_menu_acts_on_the_selection_and_opens_its_folder(qtbot, panel, tmp_path, monkeypatch):
    store = TakeStore(tmp_path / "takes")
    saved = [store.save(label, tone_clip("rise", n)) for n, label in enumerate(["left", "right"])]
    recorder = panel(speech())
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or False)

    def actions() -> dict[str, bool]:
        return {action.text(): action.isEnabled() for action in recorder.take_menu().actions() if action.text()}

    recorder.take_list.clearSelection()
    assert actions() == {
        "▶ Play": False,
        "Relabel…": False,
        "Delete": False,
        "Undo delete": False,
        "Look inside the LSTM (I)": False,
        "Open the takes folder": True,
    }
    recorder.select_take(saved[1].name)
    menu = {action.text(): action for action in recorder.take_menu().actions()}
    assert menu["Delete"].isEnabled() and 'Open the "right" folder' in menu
    inspected = []
    recorder.inspect_requested.connect(lambda audio, name: inspected.append((audio, name)))
    menu["Look inside the LSTM (I)"].trigger()
    recorder.show()
    qtbot.waitExposed(recorder)
    recorder.activateWindow()
    recorder.take_list.setFocus()
    qtbot.waitUntil(recorder.take_list.hasFocus)  # shortcuts reach the focused widget of the active window
    qtbot.keyClick(recorder.take_list, Qt.Key.Key_I)  # the same from the keyboard
    assert [name for _, name in inspected] == [saved[1].name] * 2
    np.testing.assert_array_equal(inspected[0][0], store.read(saved[1]))
    menu["Delete"].trigger()
    assert recorder.store.counts() == {"left": 1, "right": 0} and actions()["Undo delete"]
    recorder.take_menu().actions()[3].trigger()  # Undo delete
    assert recorder.store.counts() == {"left": 1, "right": 1} and selected(recorder) == [saved[1].name]
    {action.text(): action for action in recorder.take_menu().actions()}['Open the "right" folder'].trigger()
    folder = tmp_path / "takes" / "right"
    assert opened == [str(folder)]
    assert recorder.message_label.text() == f"No file manager could be opened; the takes are in {folder}"


def test_several_takes_are_relabelled_at_once_and_a_clash_is_named(qtbot, panel, tmp_path):
    store = TakeStore(tmp_path / "takes")
    left, right = store.save("left", tone_clip("rise", 0)), store.save("right", tone_clip("rise", 1))
    recorder = panel(speech())
    changes = []
    recorder.take_changed.connect(lambda old, new: changes.append((old, new)))
    recorder.take_list.selectAll()
    recorder.relabel_selected("go")
    assert recorder.store.counts() == {"go": 2, "left": 0, "right": 0}
    assert recorder.message_label.text() == "Moved 2 takes to go"
    assert sorted(changes) == sorted([(left.name, f"go/{left.path.name}"), (right.name, f"go/{right.path.name}")])
    assert sorted(selected(recorder)) == sorted(["go/" + left.path.name, "go/" + right.path.name])
    clash = store.save("up", tone_clip("flat", 2))
    (tmp_path / "takes" / "up" / right.path.name).write_bytes(clash.path.read_bytes())  # up/ has that name already
    recorder.refresh()
    recorder.take_list.clearSelection()
    for row, name in enumerate(listed(recorder)):
        recorder.take_list.item(row).setSelected(name.startswith("go/"))
    recorder.relabel_selected("up")
    message = recorder.message_label.text()
    assert message.startswith(f"Moved 1 take to up; Not relabelled go/{right.path.name}: ") and "exists" in message
    assert recorder.store.counts()["go"] == 1  # the take that clashed stays where it was; the other one moved


def test_only_this_label_lists_the_picked_labels_takes(qtbot, panel, tmp_path):
    store = TakeStore(tmp_path / "takes")
    left, right = store.save("left", tone_clip("rise", 0)), store.save("right", tone_clip("rise", 1))
    recorder = panel(speech())
    recorder.label_box.setEditText("left")
    assert len(listed(recorder)) == 2
    recorder.only_label.setChecked(True)
    assert listed(recorder) == [left.name]
    recorder.label_box.setEditText("right")
    assert listed(recorder) == [right.name]
    recorder.select_take(left.name)  # the fine-tune dialog's "Show in your takes" finds a take of another label
    assert listed(recorder) == [left.name] and selected(recorder) == [left.name]
    recorder.only_label.setChecked(False)
    assert sorted(listed(recorder)) == sorted([left.name, right.name])
    recorder.label_box.setEditText("up")  # a label without takes yet: the empty list says how to record one
    recorder.only_label.setChecked(True)
    assert listed(recorder) == [] and recorder.take_list.hint == "No takes of up yet: Record (Space) while you say it."


def test_an_empty_takes_list_says_how_to_fill_it_in_the_list_itself(qtbot, panel, tmp_path):
    recorder = panel(speech())
    recorder.resize(700, 400)
    empty = recorder.take_list.grab().toImage()
    assert recorder.take_list.hint == NO_TAKES_HINT
    recorder.take_list.set_hint("")
    assert recorder.take_list.grab().toImage() != empty  # the hint is drawn over the empty list
    TakeStore(tmp_path / "takes").save("left", tone_clip("rise", 0))
    recorder.refresh()
    qtbot.waitUntil(lambda: all_drawn(recorder))
    with_a_take = recorder.take_list.grab().toImage()
    recorder.take_list.set_hint(NO_TAKES_HINT)
    assert recorder.take_list.grab().toImage() == with_a_take  # and not over a take


def test_imported_files_become_takes_and_unusable_ones_are_named(qtbot, panel, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    word = np.concatenate([rng.normal(0, 0.002, 16_000), tone_clip("rise", 0), rng.normal(0, 0.002, 8_000)])
    stereo_44k = np.stack([word, word], axis=1)  # (samples, channels) at 16 kHz, resampled below
    files = tmp_path / "phone"
    files.mkdir()
    sf.write(files / "good.wav", librosa.resample(stereo_44k.T, orig_sr=16_000, target_sr=44_100).T, 44_100)
    (files / "corrupt.wav").write_bytes(b"not audio")
    sf.write(files / "empty.wav", np.zeros((0, 1), np.float32), 16_000)
    sf.write(files / "silent.wav", np.zeros(16_000, np.float32), 16_000)
    sf.write(files / "three times.wav", np.concatenate([word, word, word]), 16_000)  # one take a word
    recorder = panel(speech())
    recorder.label_box.setEditText("a/b")
    recorder.import_files([str(files / "good.wav")])
    assert recorder.message_label.text().startswith("Not imported: ") and recorder.store.counts() == {}
    recorder.label_box.setEditText("left")
    threads = messages_on_threads(recorder)
    recorder.import_files([str(files / name) for name in ("good.wav", "corrupt.wav", "empty.wav", "silent.wav")])
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Imported"), timeout=10_000)
    message = recorder.message_label.text()
    assert message.startswith(
        "Imported 1 take of left from 1 file; left out 3 files: corrupt.wav: not a readable audio file"
    )
    assert "empty.wav: the file holds no samples" in message and "silent.wav: no word heard" in message
    [take] = recorder.store.takes("left")
    audio = recorder.store.read(take)
    start, end = speech_bounds(audio)
    assert audio.shape == (16_000,) and abs((start + end) / 2 - 8_000) < 1_000  # resampled, mono, word centred
    assert take.device == "imported from good.wav" and selected(recorder) == [take.name]
    assert recorder.take_list.currentItem().toolTip() == f"{take.name}\nsource: imported from good.wav"
    recorder.import_files([str(files / "three times.wav")])
    recorder.import_files([str(files / "good.wav")])  # dropped before the first is done: said, not queued
    assert recorder.message_label.text() == "Still importing: drop them again when it is done"
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Imported"), timeout=10_000)
    assert recorder.message_label.text() == "Imported 3 takes of left from 1 file"
    assert recorder.store.counts()["left"] == 4
    assert recorder.import_button.isEnabled() and threads == {threading.main_thread()}  # the progress messages too
    sf.write(files / "room.wav", rng.normal(0, 0.01, 40_000).astype(np.float32), 16_000)
    recorder.label_box.setEditText(SILENCE)
    recorder.import_files([str(files / "room.wav")])  # background: every whole second
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Imported 2 takes of _silence_"), timeout=10_000)
    recorder.label_box.setEditText("right")
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(files / "good.wav", folder / "a.wav")
    (folder / "notes.txt").write_text("not a sound file")
    files_dropped = QMimeData()
    files_dropped.setUrls([QUrl.fromLocalFile(str(files / "good.wav")), QUrl.fromLocalFile(str(folder))])
    drag = (Qt.DropAction.CopyAction, files_dropped, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter, drop = QDragEnterEvent(QPoint(5, 5), *drag), QDropEvent(QPointF(5, 5), *drag)
    for event in (enter, drop):  # dragged onto the list, then dropped: imported as the label picked
        QApplication.sendEvent(recorder.take_list.viewport(), event)
        assert event.isAccepted()
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Imported 2 takes of right"), timeout=10_000)
    assert recorder.message_label.text() == "Imported 2 takes of right from 2 files"
    layout = tmp_path / "speech commands"  # a folder per label: each gives its own label, none need be picked
    for label, name in (("up", "good.wav"), ("down", "three times.wav")):
        (layout / label).mkdir(parents=True)
        shutil.copy(files / name, layout / label / name)
    recorder.label_box.setEditText("")
    recorder.import_files([str(files / "good.wav")])
    assert recorder.message_label.text() == "Not imported: a label cannot be empty"
    recorder.import_files([str(layout)])
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Imported 4"), timeout=10_000)
    assert recorder.message_label.text() == "Imported 4 takes (3 of down, 1 of up) from 2 files"
    files_action, folder_action = recorder.import_button.menu().actions()  # the button's two ways in
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args: pytest.fail("no files without a label"))
    files_action.trigger()
    assert recorder.message_label.text() == "Not imported: a label cannot be empty"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(layout))
    folder_action.trigger()
    qtbot.waitUntil(lambda: recorder.store.counts()["down"] == 6, timeout=10_000)


def test_a_folder_that_cannot_be_listed_is_named_and_the_rest_is_imported(tmp_path, monkeypatch):
    unlistable, take = tmp_path / "locked", tmp_path / "take.wav"
    unlistable.mkdir()
    write_wav(take, tone_clip("rise", 0))

    def refuse(folder):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(take_worker, "label_folders", refuse)  # as root, no folder can be made unlistable
    plan, problems = take_worker.import_plan("left", [unlistable, take])
    assert plan == [("left", take)] and problems == [f"locked: [Errno 13] Permission denied: '{unlistable}'"]


def test_an_unreadable_take_is_listed_and_playing_it_says_why(qtbot, panel, tmp_path):
    recorder = panel(speech())
    (tmp_path / "takes" / "left").mkdir(parents=True)
    (tmp_path / "takes" / "left" / "broken.wav").write_bytes(b"not audio")
    recorder.refresh()
    qtbot.waitUntil(lambda: recorder.take_list.item(0).text().endswith("(unreadable)"))
    assert recorder.take_list.item(0).text().startswith("left   broken")  # no details of its own: its file's name
    played = []
    recorder.play_requested.connect(lambda audio, rate: played.append(audio))
    recorder.take_list.setCurrentRow(0)
    recorder.play_selected()
    assert recorder.message_label.text().startswith("Cannot play it:") and "broken.wav" in recorder.message_label.text()
    assert not played


@pytest.mark.parametrize("room", ["muted", "steady noise"])
def test_a_take_without_a_word_is_not_saved_but_background_is(qtbot, panel, room):
    quiet = (
        np.zeros(48_000, np.float32)
        if room == "muted"
        else np.random.default_rng(1).normal(0, 0.01, 48_000).astype(np.float32)
    )
    recorder = panel(quiet, take_seconds=0.3)
    recorder.label_box.setEditText("left")
    recorder.record()
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Not recorded"), timeout=5_000)
    assert recorder.message_label.text() == (
        "Not recorded: no word heard — nothing in the take stands out from the "
        "room's level. Is the microphone muted, or too far away?"
    )
    assert recorder.store.counts() == {}
    recorder.source.ring_position = lambda: 0
    recorder.background_seconds = 1.0
    recorder.record_background()  # background is meant to hold no word
    qtbot.waitUntil(lambda: recorder.store.counts() == {SILENCE: 1}, timeout=5_000)


class PlayingSource(ArraySource):
    """The ring as a live input fills it: `audio` arrives in real time from sample `start` on; None once `stopped`."""

    def __init__(self, audio: np.ndarray, start: int) -> None:
        super().__init__(audio)
        self.start, self.began, self.stopped = start, time.monotonic(), False

    def ring_position(self):
        if self.stopped:
            return None
        return min(len(self.audio), self.start + round((time.monotonic() - self.began) * 16_000))


def words_said(at_seconds: list[float], seconds: float = 6.0) -> tuple[np.ndarray, int]:
    """A quiet room with a word said at each time: (samples,), and the word's length in samples."""
    audio = np.random.default_rng(4).normal(0, 0.002, round(seconds * 16_000)).astype(np.float32)
    word = tone_clip("rise", 0)
    start, end = speech_bounds(word)
    for at in at_seconds:
        audio[round(at * 16_000) : round(at * 16_000) + end - start] += word[start:end]
    return audio, end - start


def test_several_records_until_pressed_again_and_keeps_a_take_for_each_word_said(qtbot, panel):
    audio, length = words_said([2.3, 3.3])  # two words said after the press at 2 s, 0.5 s apart
    recorder = panel(None)
    recorder.source = PlayingSource(audio, 32_000)
    recorder.label_box.setEditText("left")
    recorder.several_button.click()
    assert recorder.several_button.text() == "■ Stop (Shift+Space)"
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Recording left: 2 words heard"), timeout=5_000)
    recorder.record()  # one take at a time
    assert recorder.message_label.text() == "Still recording several takes of left: press Several again to stop"
    recorder.several_button.click()  # pressed again: stop
    assert recorder.several_button.text() == "Several (Shift+Space)"  # the takes are saved on the take worker's thread
    qtbot.waitUntil(lambda: recorder.message_label.text() == "Saved 2 takes of left", timeout=5_000)
    clips = [recorder.store.read(take) for take in recorder.store.takes("left")]
    for clip in clips:  # a whole word in each
        first, last = speech_bounds(clip)
        assert abs((last - first) - length) < 800
    assert not np.allclose(clips[0], clips[1])  # two takes, not one word twice


def test_several_stops_by_itself_at_its_longest_and_when_the_input_stops(qtbot, panel):
    audio, _ = words_said([0.2, 1.6, 3.0])
    recorder = panel(None, several_seconds=1.0)
    recorder.source = PlayingSource(audio, 0)
    recorder.label_box.setEditText("left")
    recorder.record_several()
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Saved"), timeout=5_000)
    assert recorder.message_label.text() == "Saved 1 take of left" and recorder.several is None  # the 1.6 s word: not
    recorder.several_seconds = 60.0
    recorder.source = source = PlayingSource(audio, 24_000)  # from 1.5 s: the words at 1.6 and 3 s
    recorder.record_several()
    qtbot.waitUntil(lambda: "1 word heard" in recorder.message_label.text(), timeout=5_000)
    source.stopped = True  # Stop pressed, or the microphone unplugged
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Saved "), timeout=5_000)
    assert recorder.message_label.text().endswith(" of left; the input stopped, so the recording ended there")
    kept = recorder.store.counts()["left"]
    assert kept >= 2
    recorder.source = PlayingSource(audio, 0)
    recorder.record_several()
    qtbot.waitUntil(lambda: "1 word heard" in recorder.message_label.text(), timeout=5_000)
    recorder.shutdown()  # the window closed mid-recording: what was heard is kept
    assert recorder.store.counts()["left"] > kept and recorder.several is None


def test_a_clipped_take_is_saved_with_a_warning(qtbot, panel):
    hot = np.clip(speech() * 20, -1.0, 1.0)  # the word's peaks flattened at full scale
    recorder = panel(hot, take_seconds=1.5)
    recorder.label_box.setEditText("left")
    recorder.record()
    qtbot.waitUntil(lambda: recorder.message_label.text().startswith("Saved"), timeout=5_000)
    assert recorder.message_label.text() == (
        "Saved 1 take of left — it is clipped: turn the input gain down and record again"
    )
    assert recorder.store.counts() == {"left": 1}


def test_background_records_silence_in_one_second_pieces(qtbot, panel):
    recorder = panel(speech(), background_seconds=3.0)
    recorder.source.ring_position = lambda: 0  # three seconds of room from the start
    recorder.record_background()
    qtbot.waitUntil(lambda: recorder.store.counts().get(SILENCE) == 3, timeout=10_000)
    assert all(recorder.store.read(t).shape == (16_000,) for t in recorder.store.takes(SILENCE))


def test_typing_a_new_word_synthesizes_a_starting_set(qtbot, panel, monkeypatch):
    monkeypatch.setattr("app.recorder_panel.STARTER_CLIPS", 3)
    recorder = panel(speech())
    recorder.synth_worker.engines = ("espeak",)
    recorder.set_model_labels(("left", "right"))
    recorder.label_box.setEditText("left")
    assert not recorder.synth_button.isEnabled()  # a known word needs no starting set
    recorder.label_box.setEditText("banana")
    assert recorder.synth_button.isEnabled()
    threads = messages_on_threads(recorder)
    recorder.synth_button.click()
    qtbot.waitUntil(lambda: "ready" in recorder.message_label.text(), timeout=30_000)
    assert recorder.starter_counts() == {"banana": 3}
    assert threads == {threading.main_thread()}  # the progress messages too
    assert "(+3 synth)" in recorder.counts_label.text()


def test_the_window_records_from_the_engine_ring(qtbot, tmp_path, open_window, tiny_model):
    """Record from the same ring the recogniser reads: a file plays in real time as the input."""
    rng = np.random.default_rng(5)
    quiet = rng.normal(0, 0.002, 16_000 * 6).astype(np.float32)
    quiet[40_000:56_000] += tone_clip("flat", 2)  # 2.5-3.5 s
    wav = tmp_path / "input.wav"
    write_wav(wav, quiet)
    window = open_window(tiny_model, SourceChoice(file=str(wav), speed=1.0), data_dir=str(tmp_path / "data"))
    recorder = window.recorder
    recorder.take_seconds = 1.2
    qtbot.waitUntil(lambda: window.listening and (window.engine.ring_position() or 0) > 36_000, timeout=15_000)
    recorder.label_box.setEditText("flat")
    recorder.record()
    qtbot.waitUntil(lambda: recorder.store.counts().get("flat") == 1, timeout=10_000)
    audio = recorder.store.read(recorder.store.takes("flat")[0])
    assert np.abs(audio).max() > 0.1  # the word, not the quiet around it
    assert (tmp_path / "data" / "takes" / "flat").is_dir()


def test_clipped_share_counts_full_scale_samples():
    audio = np.zeros(10_000, np.float32)
    assert clipped_share(audio) == 0.0 and not is_clipped(audio) and clipped_share(audio[:0]) == 0.0
    audio[:10] = 1.0
    assert clipped_share(audio) == 0.001 and not is_clipped(audio)  # at the limit: still fine
    audio[10:20] = -1.0
    assert clipped_share(audio) == 0.002 and is_clipped(audio)


def test_a_thumbnail_lights_each_column_from_its_highest_sample_to_its_lowest(qtbot):
    audio = np.zeros(12_000, np.float32)
    audio[5_000:7_000] = np.tile([1.0, -1.0], 1_000)  # full scale in the middle, silence around it
    image = waveform_image(audio, width=12, height=36)
    lit = np.array([[image.pixel(x, y) == WAVE for x in range(12)] for y in range(36)])  # (height, width)
    assert lit[1:35, 5].all() and not lit[0, 5]  # the loud column spans the picture
    assert lit[:, 0].sum() == 1 and lit[18, 0]  # a silent column is the middle line
    assert image.pixel(0, 0) == BACKGROUND


def test_the_label_box_keeps_room_for_a_word_in_a_laptops_window(qtbot, panel):
    recorder = panel(speech())
    recorder.resize(880, 600)  # the tab's width in a 1366-pixel-wide window
    recorder.show()
    qtbot.waitExposed(recorder)
    placeholder = recorder.label_box.lineEdit().placeholderText()
    assert recorder.label_box.width() > recorder.label_box.fontMetrics().horizontalAdvance(placeholder)


def test_enter_after_typing_a_label_or_a_speaker_lets_space_record(qtbot, panel):
    recorder = panel(speech())
    recorder.show()
    recorder.activateWindow()  # keys and focus go to the active window only
    qtbot.waitActive(recorder)
    field = recorder.label_box.lineEdit()
    field.setFocus()
    qtbot.keyClicks(field, "left")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # in the field, a Space would type a space: labels may hold one
    qtbot.waitUntil(lambda: QApplication.focusWidget() is recorder.take_list)
    assert recorder.message_label.text() == "Space records a take of left, Shift+Space several"
    qtbot.keyClick(recorder.take_list, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: recorder.message_label.text() == "Saved 1 take of left", timeout=5_000)
    assert recorder.current_label() == "left"
    recorder.speaker_box.setFocus()
    qtbot.keyClicks(recorder.speaker_box, " Ada")
    qtbot.keyClick(recorder.speaker_box, Qt.Key.Key_Return)  # the speaker's name too: Enter, then Space records
    qtbot.waitUntil(lambda: QApplication.focusWidget() is recorder.take_list)
    assert recorder.store.speaker == "me-ada"
