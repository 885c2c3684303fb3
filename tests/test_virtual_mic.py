"""A real microphone path without hardware: PulseAudio with a null sink, PortAudio's `pulse` device.

The test starts its own PulseAudio daemon (own runtime folder and socket, so it cannot meet another
one), plays words into the sink `vmic` with paplay, and listens on `vmic.monitor` through
sounddevice exactly as the app would. Needs the Debian packages pulseaudio, pulseaudio-utils,
libasound2-plugins and libportaudio2 (CI installs them; the test fails, never skips, without).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from audio.io import read_audio, write_wav
from audio.trim import speech_bounds
from tests.conftest import tone_clip

ROOT = Path(__file__).resolve().parent.parent

CAPTURE_SCRIPT = """
import sys, time, numpy as np
from audio.capture import MicrophoneCapture
events = []
capture = MicrophoneCapture("pulse", on_event=events.append)
assert capture.start(), events
while capture.ring.total == 0:  # PulseAudio's ALSA plugin takes a moment to deliver the first block
    time.sleep(0.05)
print("ready", capture.device.sample_rate, flush=True)
time.sleep(float(sys.argv[2]))
capture.stop()
np.save(sys.argv[1], capture.ring.latest(capture.ring.total))
print("events", [e.kind for e in events], "overflows", capture.overflows, flush=True)
"""


@pytest.fixture
def pulse(tmp_path):
    """A private PulseAudio daemon with sink `vmic`; yields the environment that reaches it."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        assert shutil.which(tool), f"{tool} missing: apt-get install pulseaudio pulseaudio-utils libasound2-plugins"
    runtime = tmp_path / "pa"
    runtime.mkdir()
    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(runtime),
        "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
        "PULSE_STATE_PATH": str(runtime / "state"),
        "PULSE_SERVER": f"unix:{runtime / 'pulse' / 'native'}",
        "PYTHONPATH": str(ROOT),
    }
    log = (runtime / "pulseaudio.log").open("w")
    daemon = subprocess.Popen(
        [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "-n",
            "--use-pid-file=no",
            "--disable-shm=yes",
            "--load=module-null-sink sink_name=vmic",
            "--load=module-native-protocol-unix",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            assert daemon.poll() is None, (runtime / "pulseaudio.log").read_text()
            assert time.monotonic() < deadline, "PulseAudio did not come up in 15 s"
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-source", "vmic.monitor"], env=env, check=True)
        yield env
    finally:
        daemon.terminate()  # only the daemon this test started, by its handle
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()


def default_sigint() -> None:
    """In the child before exec: Ctrl-C as in a terminal, even when the tests run with SIGINT
    ignored (a shell's background job inherits SIG_IGN, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_python(args, env):
    return subprocess.Popen(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )


def wait_for_line(stream, prefix, timeout=60):
    """Read lines until one starts with `prefix`; return it (fails on end of output)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no line starting with {prefix!r}")


def play(path, env):
    subprocess.run(["paplay", "--device=vmic", str(path)], env=env, check=True, timeout=30)


RECORD_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.engine import SourceChoice
from app.main_window import MainWindow
app = QApplication([])
window = MainWindow(sys.argv[1], SourceChoice(device="pulse"), device="cpu", data_dir=sys.argv[2], remember=False)
recorder = window.recorder
def press_when_listening():
    position = window.engine.ring_position()
    if not position:  # the first blocks have not arrived yet
        QTimer.singleShot(100, press_when_listening)
        return
    recorder.label_box.setEditText("rise")
    recorder.record_several()
    print("recording", flush=True)
    QTimer.singleShot(7_000, report)
def report():
    recorder.record_several()  # pressed again, once the words are said: stop
    QTimer.singleShot(1_000, saved)  # the takes are saved on the take worker's thread
def saved():
    print("result", recorder.message_label.text(), flush=True)
    window.close()
    app.exit(0)
QTimer.singleShot(500, press_when_listening)
app.exec()
"""


def test_capture_hears_what_is_played(pulse, tmp_path):
    word = tone_clip("rise", 40)
    write_wav(tmp_path / "word.wav", word)
    child = start_python(["-c", CAPTURE_SCRIPT, str(tmp_path / "heard.npy"), "2.5"], pulse)
    try:
        rate = float(wait_for_line(child.stdout, "ready").split()[1])
        play(tmp_path / "word.wav", pulse)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert "'error'" not in out and rate != 16_000  # the monitor runs at its own rate; we convert
    heard = np.load(tmp_path / "heard.npy")
    assert len(heard) > 2.0 * 16_000, (out, err)  # it kept delivering, in real time
    correlation = np.correlate(heard, word, mode="valid") / (np.linalg.norm(word) ** 2)
    assert correlation.max() > 0.8  # the same word, at about the same level


def test_listen_detects_words_from_the_virtual_microphone(pulse, tmp_path, tiny_model):
    for name in ("rise", "fall"):
        write_wav(tmp_path / f"{name}.wav", tone_clip(name, 41))
    model = tiny_model
    child = start_python(
        ["-m", "cli.listen", "--input", "pulse", "--model", str(model), "--device", "cpu", "--json"], pulse
    )
    try:
        wait_for_line(child.stderr, "listening to")
        time.sleep(0.5)
        play(tmp_path / "rise.wav", pulse)
        play(tmp_path / "fall.wav", pulse)
        time.sleep(1.0)  # the last word's detection needs the next few hops
        child.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0 and "stopped" in err and "Traceback" not in err, err
    *detections, summary = [json.loads(line) for line in out.splitlines()]
    assert [d["label"] for d in detections] == ["rise", "fall"], (out, err)
    assert summary["summary"]["model_calls"] > 0
    assert detections[0]["time"] < detections[1]["time"] and min(d["confidence"] for d in detections) > 0.6


def test_the_recorder_keeps_a_take_of_each_word_said_into_the_microphone(pulse, tmp_path, tiny_model):
    word = tone_clip("rise", 42)
    start, end = speech_bounds(word)
    pause = np.zeros(6_400, np.float32)  # 0.4 s before and after each word
    write_wav(tmp_path / "word.wav", np.concatenate([pause, word[start:end], pause]))
    env = {**pulse, "QT_QPA_PLATFORM": "offscreen"}
    child = start_python(["-c", RECORD_SCRIPT, str(tiny_model), str(tmp_path / "data")], env)
    try:
        wait_for_line(child.stdout, "recording")
        for _ in range(3):  # said three times, as a person would after pressing Several
            play(tmp_path / "word.wav", env)
        result = wait_for_line(child.stdout, "result")
        err = child.communicate(timeout=30)[1]
    finally:
        child.kill()
    assert result.strip() == "result Saved 3 takes of rise", (result, err)
    takes = sorted((tmp_path / "data" / "takes" / "rise").glob("*.wav"))
    assert len(takes) == 3 and all(len(read_audio(take)) == 16_000 for take in takes)
