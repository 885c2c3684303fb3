"""The window opens, shows the model it loaded in a worker, and reports a bad folder or a missing input."""

import json
import logging
import os
import statistics
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF

from app.engine import SourceChoice
from app.gate_panel import GatePanel
from app.history_list import HistoryList
from app.live_panel import CLIPPING_TIP, LivePanel
from app.main import current_model, run_app
from app.main_window import DEVICE_KEY
from app.versions_dialog import VersionsDialog
from audio.io import AudioFileError, write_wav
from cli.trace import main as trace_main
from model.checkpoint import DEFAULT_MODEL_DIR, load_checkpoint, save_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig
from model.evaluation import predict_probabilities
from model.user_errors import log_failure
from model.versions import INDEX_FILE, VersionStore
from tests.conftest import STATE_NAMES, builder, clipped_sine, result, tone_clip

ROOT = Path(__file__).resolve().parent.parent

FAST = float("inf")  # play files as fast as the recogniser keeps up


@pytest.fixture(scope="module")
def demo_wav(tmp_path_factory):
    """Two tone words the tiny model knows, with lulls: 4 s of 16 kHz audio."""
    rng = np.random.default_rng(3)
    lull = np.zeros(16_000)
    audio = np.concatenate([lull[:8000], tone_clip("rise", 40), lull, tone_clip("flat", 41), lull[:8000]])
    path = tmp_path_factory.mktemp("demo") / "demo.wav"
    write_wav(path, audio + rng.normal(0, 0.002, len(audio)))
    return path


@pytest.fixture(scope="module")
def deep_model(tmp_path_factory):
    """An untrained 2-layer BiLSTM, 2 x 128 like the default model: layers and directions to switch."""
    torch.manual_seed(1)
    model = KeywordClassifier(ModelConfig(labels=("yes", "no", "_silence_"), hidden_size=128, num_layers=2))
    return save_checkpoint(model, tmp_path_factory.mktemp("deep") / "deep")


def test_window_shows_the_loaded_model(qtbot, tmp_path, open_window):
    torch.manual_seed(0)
    folder = save_checkpoint(KeywordClassifier(ModelConfig(labels=("yes", "no"), hidden_size=8)), tmp_path / "mine")
    window = open_window(folder, autostart=False)
    qtbot.waitUntil(lambda: "mine" in window.model_label.text(), timeout=10_000)
    assert "LSTM 2 × 8 bidirectional, on CPU" in window.model_label.text()
    assert window.labels_label.text() == "Labels: yes, no"
    assert window.predictions.plot.getAxis("left")._tickLevels[0] == [(1, "yes"), (0, "no")]
    # before any sound: an empty meter and the axes the first window will have, not pyqtgraph's -0.5..0.5
    assert window.live_panel.meter.value() == window.live_panel.meter.minimum()
    assert window.live_panel.wave_plot.viewRange()[0] == [-3.0, 0.0]
    heatmaps = window.gate_panel.heatmaps
    assert heatmaps.plots["mfcc"].viewRange() == [[0.0, 1.0], [0.0, 40.0]]
    assert all(heatmaps.plots[name].viewRange()[1] == [0.0, 8.0] for name in heatmaps.rows[1:])  # 8 units
    # the layers and directions to pick are listed as the model loads, not when the first window is heard
    panel = window.gate_panel
    assert [panel.layer_box.itemText(i) for i in range(panel.layer_box.count())] == ["1", "2"]
    assert [panel.direction_box.itemText(i) for i in range(panel.direction_box.count())] == ["forward", "backward"]
    one_way = ModelConfig(labels=("yes", "no"), hidden_size=8, num_layers=3, bidirectional=False)
    window.load_requested.emit(str(save_checkpoint(KeywordClassifier(one_way), tmp_path / "one-way")))
    qtbot.waitUntil(lambda: "one-way" in window.model_label.text(), timeout=10_000)
    assert panel.layer_box.count() == 3 and [panel.direction_box.itemText(0)] == ["forward"]
    assert panel.direction_box.count() == 1


def test_bad_model_folder_is_reported_and_the_app_goes_on(qtbot, tmp_path, open_window, caplog):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    window = open_window(tmp_path / "broken")
    qtbot.waitUntil(lambda: "Could not load" in window.statusBar().currentMessage(), timeout=10_000)
    assert "config.json: not valid JSON" in window.statusBar().currentMessage()
    [logged] = [record for record in caplog.records if "broken failed" in record.getMessage()]
    assert logged.levelname == "WARNING" and logged.exc_info is None  # the user's folder, not a bug
    window.load_requested.emit(str(tmp_path / "missing"))
    qtbot.waitUntil(lambda: "no such model folder" in window.statusBar().currentMessage(), timeout=10_000)
    window.start_requested.emit(window.choice)  # listening without a model is refused, not a crash
    qtbot.waitUntil(lambda: "No model loaded" in window.statusBar().currentMessage(), timeout=10_000)


def test_missing_input_device_is_reported_and_a_file_still_plays(qtbot, tmp_path, open_window, tiny_model, demo_wav):
    window = open_window(tiny_model, SourceChoice(device="USB Headset"))
    qtbot.waitUntil(lambda: "cannot open input 'USB Headset'" in window.statusBar().currentMessage(), timeout=10_000)
    assert "no audio input devices found" in window.statusBar().currentMessage()
    assert not window.listening and window.controls.start_action.isEnabled()
    window.play_requested.emit(np.zeros(1_600, np.float32), 16_000)  # a take played back: no output either
    qtbot.waitUntil(lambda: "Cannot play the take" in window.statusBar().currentMessage(), timeout=10_000)
    window.choice = SourceChoice(file=str(demo_wav), speed=float("inf"))
    window.controls.start_action.trigger()
    qtbot.waitUntil(lambda: window.engine.frames_built > 0, timeout=10_000)
    qtbot.waitUntil(lambda: "played to the end" in window.statusBar().currentMessage(), timeout=20_000)


def test_a_command_from_the_file_shows_in_predictions_history_and_heatmaps(qtbot, open_window, tiny_model, demo_wav):
    window = open_window(tiny_model, SourceChoice(file=str(demo_wav), speed=FAST))
    qtbot.waitUntil(lambda: window.history.count() == 2, timeout=20_000)
    assert window.predictions.command_label.text() == "FLAT"  # the newest, shown large for a while
    assert [window.history.item(row).text().split()[2] for row in range(2)] == ["flat", "rise"]  # newest first
    rise = window.history.frame_at(1)
    assert rise.detection.label == "rise" and rise.detection.confidence >= 0.6
    assert 1.0 < rise.detection.time < 2.5  # the word is at 0.5-1.5 s; detection is on the smoothed score
    assert window.predictions.bars.opts["width"].shape == (4,)

    window.history.itemClicked.emit(window.history.item(1))  # clicking an entry holds its window
    panel = window.gate_panel
    assert panel.frozen and panel.frame is rise
    trace = load_checkpoint(tiny_model).model.trace(torch.from_numpy(rise.gates.window[None]))
    for index, name in enumerate(trace.state_names):  # the trace of exactly that window, recomputed here
        shown = panel.heatmaps.images[name].image
        assert shown.shape == (101, 16)
        np.testing.assert_allclose(shown, trace.states[0, 0, index, 0], atol=1e-5)
    np.testing.assert_allclose(panel.heatmaps.images["mfcc"].image, trace.features[0, :, 1:], atol=1e-4)


def test_layer_direction_order_and_freeze_change_the_heatmaps(qtbot, open_window, deep_model, demo_wav):
    window = open_window(deep_model, SourceChoice(file=str(demo_wav), speed=8, loop=True))
    panel = window.gate_panel
    qtbot.waitUntil(lambda: panel.frame is not None, timeout=20_000)
    panel.freeze_button.click()
    built = window.engine.frames_built
    held = panel.frame
    states = held.gates.states  # (layers, directions, 6, time, hidden)
    forget = panel.heatmaps.images["f"]
    np.testing.assert_array_equal(forget.image, states[0, 0, 1])
    panel.direction_box.setCurrentIndex(1)
    np.testing.assert_array_equal(forget.image, states[0, 1, 1])
    panel.layer_box.setCurrentIndex(1)
    np.testing.assert_array_equal(forget.image, states[1, 1, 1])
    assert not np.allclose(states[1, 1, 1], states[0, 1, 1])
    np.testing.assert_array_equal(panel.heatmaps.images["h"].image, states[1, 1, 5])
    window.show()
    qtbot.waitExposed(window)
    point = panel.heatmaps.plots["g"].vb.mapViewToScene(QPointF(0.5, 7.5))  # frame 50, row 7
    panel.heatmaps._hover(point)
    assert panel.hover_label.text() == f"cell candidate g · unit 7 · t = 0.50 s · {states[1, 1, 2, 50, 7]:+.3f}"
    panel.order_box.setCurrentIndex(panel.order_box.findData("f"))  # units by mean forget gate
    assert np.all(np.diff(forget.image.mean(axis=0)) >= -1e-6)
    assert set(panel.heatmaps._units) == set(range(128))
    qtbot.waitUntil(lambda: window.engine.frames_built > built + 30, timeout=20_000)  # the file loops
    assert panel.frame is held  # frozen: live frames do not replace it
    panel.freeze_button.click()
    assert not panel.frozen and panel.frame.time > held.time


def test_gui_time_per_frame_update_fits_the_hop(qtbot, open_window, deep_model, demo_wav):
    """Median GUI-thread time to show one frame of a 2 x 128 BiLSTM, against the 100 ms hop.

    The file plays at 4x: 40 frames a second, four times the live rate."""
    window = open_window(deep_model, SourceChoice(file=str(demo_wav), speed=4))
    qtbot.waitUntil(lambda: "played to the end" in window.statusBar().currentMessage(), timeout=30_000)
    times = list(window.update_seconds)
    assert len(times) >= 20
    median = statistics.median(times)
    print(f"GUI time per frame update: median {median * 1e3:.1f} ms over {len(times)} updates")
    assert median < 0.05  # half the hop: the GUI thread stays free for input and painting


def test_a_broken_versions_index_falls_back_to_the_shipped_model_and_says_why(tmp_path):
    VersionStore(tmp_path / "models").add(
        KeywordClassifier(ModelConfig(labels=("yes", "no"), hidden_size=8)), "shipped", {}, {}, {}
    )
    assert current_model(str(tmp_path))[0] == str(tmp_path / "models" / "v0001")
    (tmp_path / "models" / INDEX_FILE).write_text("[]")
    path, problem = current_model(str(tmp_path))
    assert path == str(DEFAULT_MODEL_DIR) and "index.json: expected a JSON object" in problem


def test_screenshot_option_renders_the_window_and_quits(tmp_path, tiny_model, demo_wav):
    """As a user runs it: its own process (an app.exec() inside pytest would upset later tests)."""
    shot = tmp_path / "shot.png"
    files = ["--model", str(tiny_model), "--file", str(demo_wav), "--screenshot", str(shot)]
    command = [sys.executable, str(ROOT / "main.py"), *files, "--data-dir", str(tmp_path / "data")]
    command += ["--device", "cpu", "--speed", "4", "--quit-after", "2.5"]
    done = subprocess.run(
        command, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000
    assert run_app(["--file", str(tmp_path / "missing.wav")]) == 2  # refused before any window opens


def test_the_live_panel_says_when_the_input_clips(qtbot):
    frames, panel = builder(), LivePanel()
    qtbot.addWidget(panel)
    panel.show_frame(frames.add(result(0.1, clipped_sine())))
    assert panel.level_label.text().endswith("clipping") and panel.level_label.toolTip() == CLIPPING_TIP
    panel.show_frame(frames.add(result(0.2, clipped_sine() * 0.5)))
    assert "clipping" not in panel.level_label.text() and panel.level_label.toolTip() == ""


def sound_devices(*names: str) -> SimpleNamespace:
    """A sounddevice stand-in listing these inputs (the tests below never open one)."""
    listed = [{"name": name, "max_input_channels": 1, "default_samplerate": 16_000.0, "hostapi": 0} for name in names]
    return SimpleNamespace(
        query_hostapis=lambda: [{"name": "ALSA"}], query_devices=lambda: listed, default=SimpleNamespace(device=(0, -1))
    )


def test_the_window_comes_back_as_it_was_left(qtbot, tmp_path, open_window, deep_model):
    data = str(tmp_path / "data")
    window = open_window(deep_model, autostart=False, data_dir=data, sd=sound_devices("Laptop mic", "USB mic"))
    window.show()
    qtbot.waitUntil(lambda: window.controls.source_box.count() == 3)  # the default and the two listed
    window.choose_source(DEVICE_KEY + "USB mic")
    window.tabs.setCurrentIndex(1)
    window.resize(780, 700)  # inside the offscreen screen's 800 x 800, which a restored window is kept to
    window.splitter.setSizes([300, 480])
    window.gate_panel.show_live(builder().add(result(0.1, tone_clip("rise", 0))))  # lists 2 layers, 2 directions
    window.gate_panel.layer_box.setCurrentIndex(1)
    window.gate_panel.direction_box.setCurrentIndex(1)
    window.gate_panel.order_box.setCurrentIndex(window.gate_panel.order_box.findData("f"))
    size, sizes = window.size().toTuple(), window.splitter.sizes()
    assert size != (1600, 1000)  # not the first start's
    window.close()
    again = open_window(deep_model, autostart=False, data_dir=data, sd=sound_devices("Laptop mic", "USB mic"))
    again.show()
    qtbot.waitUntil(lambda: again.choice.device == "USB mic")
    assert again.controls.current_source() == DEVICE_KEY + "USB mic"
    assert again.tabs.currentIndex() == 1 and again.size().toTuple() == size
    assert again.splitter.sizes() == sizes
    assert again.gate_panel.view() == {"layer": 1, "direction": 1, "order": "f"}
    qtbot.waitUntil(lambda: again.gate_panel.layer_box.count() == 2, timeout=10_000)  # the model lists its layers
    assert again.gate_panel.view() == {"layer": 1, "direction": 1, "order": "f"}
    again.gate_panel.show_live(builder().add(result(0.1, tone_clip("rise", 0))))  # a window: still layer 2
    assert (again.gate_panel.layer_box.currentText(), again.gate_panel.direction_box.currentText()) == ("2", "backward")
    again.close()
    unplugged = open_window(deep_model, autostart=False, data_dir=data, sd=sound_devices("Laptop mic"))
    qtbot.waitUntil(lambda: "USB mic, is not connected" in unplugged.controls.source_box.toolTip())
    assert unplugged.choice.device is None
    told = open_window(
        deep_model,
        SourceChoice(device="Laptop mic"),
        autostart=False,
        data_dir=data,
        sd=sound_devices("Laptop mic", "USB mic"),
    )
    qtbot.waitUntil(lambda: told.controls.source_box.count() == 3)
    assert told.choice.device == "Laptop mic"  # --input wins over what was remembered
    fresh = open_window(
        deep_model, autostart=False, data_dir=data, sd=sound_devices("Laptop mic", "USB mic"), remember=False
    )  # as --screenshot opens it
    qtbot.waitUntil(lambda: fresh.controls.source_box.count() == 3)
    assert fresh.choice.device is None and fresh.tabs.currentIndex() == 0
    screen = fresh.screen().availableGeometry().size()  # the offscreen screen's 800 x 800, smaller than 1600 x 1000
    assert fresh.size().toTuple() == (800, 800) == screen.toTuple()  # a first start fits the screen
    versions = VersionsDialog(str(fresh.data_dir / "models"), str(deep_model), fresh)  # 980 wide where there is room
    assert versions.width() == 800 and versions.height() <= 800
    versions.close()
    settings = Path(data) / "window.ini"
    settings.write_text(settings.read_text().replace("tab=1", "tab=one").replace("gate_layer=1", "gate_layer=x"))
    edited = open_window(deep_model, autostart=False, data_dir=data, sd=sound_devices("Laptop mic", "USB mic"))
    assert edited.tabs.currentIndex() == 0 and edited.gate_panel.view()["layer"] == 0  # not numbers: as new


def test_dragging_the_threshold_line_sets_the_threshold_for_now_and_next_time(
    qtbot, tmp_path, open_window, tiny_model, demo_wav
):
    data = str(tmp_path / "data")
    window = open_window(tiny_model, SourceChoice(file=str(demo_wav), loop=True), data_dir=data)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Listening"), timeout=10_000)
    line = window.predictions.threshold_line
    assert line.value() == 0.6 and line.movable
    line.setValue(0.834)  # where a drag lets go
    line.sigPositionChangeFinished.emit(line)
    qtbot.waitUntil(lambda: window.engine.config.detection_threshold == 0.83, timeout=5_000)
    assert window.engine.worker.recognizer.config.detection_threshold == 0.83  # the stream listening now
    assert line.value() == 0.83 and window.statusBar().currentMessage().startswith("Detection threshold 0.83")
    window.close()
    again = open_window(tiny_model, autostart=False, data_dir=data)
    qtbot.waitUntil(lambda: again.model_info != {}, timeout=10_000)
    assert again.engine.config.detection_threshold == 0.83 and again.predictions.threshold_line.value() == 0.83
    told = open_window(tiny_model, autostart=False, data_dir=data, threshold=0.5)  # --threshold wins
    assert told.engine.config.detection_threshold == 0.5
    settings = Path(data) / "window.ini"
    settings.write_text(settings.read_text().replace("threshold=0.83", "threshold=7"))
    edited = open_window(tiny_model, autostart=False, data_dir=data)
    assert edited.engine.config.detection_threshold == 0.6  # not a threshold: the default
    assert run_app(["--threshold", "1.5"]) == 2


def test_save_window_writes_every_gate_of_the_window_on_screen(qtbot, tmp_path):
    panel = GatePanel()
    qtbot.addWidget(panel)
    assert not panel.save_button.isEnabled()  # nothing to save before the first window
    frame = builder().add(result(0.1, tone_clip("rise", 0)))
    panel.show_live(frame)
    messages = []
    panel.message.connect(messages.append)
    panel.save_window(str(tmp_path / "window.npz"))
    saved = np.load(tmp_path / "window.npz")
    assert tuple(saved["state_names"]) == STATE_NAMES and saved["f"].shape == (2, 2, 101, 4)
    for index, name in enumerate(STATE_NAMES):  # every layer and direction, not only the one shown
        np.testing.assert_array_equal(saved[name], frame.gates.states[:, :, index])
    np.testing.assert_array_equal(saved["mfcc"], np.tile(np.arange(101, dtype=np.float32)[:, None], (1, 5)))
    np.testing.assert_array_equal(saved["audio"], tone_clip("rise", 0))
    assert saved["sample_rate"] == 16_000 and tuple(saved["labels"]) == ("yes", "_silence_")
    np.testing.assert_allclose(saved["probabilities"], [0.2, 0.8])
    assert messages == [f"Saved the window ending at 0.10 s to {tmp_path / 'window.npz'} (load it with np.load)"]
    panel.save_window(str(tmp_path))  # a folder, not a file: said, and nothing else changes
    assert messages[-1] == f"Window not saved to {tmp_path}: Is a directory" and panel.save_button.isEnabled()


def test_trace_saves_the_gates_of_a_sound_file(tmp_path, tiny_model, capsys):
    clip = tmp_path / "rise.wav"
    write_wav(clip, tone_clip("rise", 0))
    out = tmp_path / "gates.npz"
    assert trace_main(["--model", str(tiny_model), str(clip), "--out", str(out), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    model = load_checkpoint(tiny_model).model
    saved = np.load(out)
    probabilities = predict_probabilities(model, tone_clip("rise", 0)[None])[0]  # the fast path
    np.testing.assert_allclose(saved["probabilities"], probabilities, atol=1e-5)  # the trace path agrees
    assert said["label"] == model.labels[int(np.argmax(probabilities))] and said["shape"] == list(saved["h"].shape)
    assert saved["mfcc"].shape == (101, model.config.features.n_mfcc) and saved["audio"].shape == (16_000,)
    assert trace_main(["--model", str(tiny_model), str(tmp_path / "missing.wav"), "--out", str(out)]) == 2
    assert "missing.wav: no such file" in capsys.readouterr().err
    assert trace_main(["--model", str(tiny_model), str(clip), "--out", str(tmp_path)]) == 2  # a folder
    assert capsys.readouterr().err == f"error: cannot write {tmp_path}: Is a directory\n"


def test_the_detections_list_says_what_fills_it_until_a_command_is_heard(qtbot):
    history, bare = HistoryList(), HistoryList()
    bare.set_hint("")
    for widget in (history, bare):
        qtbot.addWidget(widget)
        widget.resize(300, 120)
    assert "Listen, and say one" in history.hint
    assert history.grab().toImage() != bare.grab().toImage()
    for widget in (history, bare):
        widget.addItem("    1.00 s   yes        90%")
    assert history.grab().toImage() == bare.grab().toImage()


def test_a_broken_sound_file_is_said_in_the_window_and_logged_in_one_line(
    qtbot, tmp_path, open_window, tiny_model, caplog
):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage")
    window = open_window(tiny_model, SourceChoice(file=str(broken)))
    qtbot.waitUntil(lambda: "Cannot listen to" in window.statusBar().currentMessage(), timeout=10_000)
    assert "broken.wav: not a readable audio file" in window.statusBar().currentMessage()
    [logged] = [record for record in caplog.records if "broken.wav" in record.getMessage()]
    assert logged.levelname == "WARNING" and logged.exc_info is None  # a user's file, not a bug: no traceback


def test_a_failure_that_is_not_the_users_input_is_logged_with_its_traceback(caplog):
    log = logging.getLogger("voxgate.test")
    for error in (AudioFileError("x.wav: no such file"), RuntimeError("a bug")):
        log_failure(log, "doing it failed", error)
    told, bug = caplog.records[-2:]
    assert (told.levelname, told.getMessage(), told.exc_info) == (
        "WARNING",
        "doing it failed: x.wav: no such file",
        None,
    )
    assert bug.levelname == "ERROR" and bug.exc_info[1].args == ("a bug",)
