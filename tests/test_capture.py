"""Capture with a fake sounddevice, the ring buffers, and the file source: no hardware needed."""

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from audio.capture import MicrophoneCapture, SourceEvent, find_input_device, list_input_devices
from audio.file_source import FileSource
from audio.ring_buffer import BlockRing, RingBuffer


class FakePortAudioError(Exception):
    pass


class FakeStream:
    """Records how it was opened; the test pushes blocks through the real callback by hand."""

    def __init__(self, sd, device, samplerate, channels, dtype, blocksize, callback, finished_callback):
        self.sd, self.device, self.samplerate, self.channels = sd, device, samplerate, channels
        self.blocksize, self.callback, self.finished_callback = blocksize, callback, finished_callback
        self.started = self.closed = False

    def start(self):
        if self.sd.devices[self.device].get("broken"):
            raise FakePortAudioError("Device unavailable [PaErrorCode -9985]")
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True

    def push(self, block, overflow=False):
        self.callback(block.astype(np.float32), len(block), None, SimpleNamespace(input_overflow=overflow))


class FakeSoundDevice:
    PortAudioError = FakePortAudioError

    def __init__(self, devices):
        self.devices = devices
        self.default = SimpleNamespace(device=(0, 0))
        self.streams: list[FakeStream] = []

    def query_hostapis(self):
        return [{"name": "Fake API"}]

    def query_devices(self):
        return list(self.devices)

    def InputStream(self, **kwargs):
        if kwargs["device"] >= len(self.devices):
            raise FakePortAudioError("Invalid device")
        stream = FakeStream(self, **kwargs)
        self.streams.append(stream)
        return stream


def device(name, rate=48_000.0, inputs=2):
    return {"name": name, "hostapi": 0, "max_input_channels": inputs, "default_samplerate": rate}


def make_sd():
    return FakeSoundDevice(
        [
            device("HDMI Output", inputs=0),
            device("Built-in Microphone", 44_100.0),
            device("USB Headset Mic", 48_000.0, inputs=1),
        ]
    )


def wait_until(condition, timeout=5.0):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


def dominant_hz(audio, rate):
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return np.argmax(spectrum) * rate / len(audio)


@pytest.mark.parametrize("name,rate", [("Built-in Microphone", 44_100), ("USB Headset Mic", 48_000)])
def test_native_rate_becomes_16k_mono(name, rate):
    sd = make_sd()
    capture = MicrophoneCapture(name, sd=sd, channels=2)
    assert capture.start()
    stream = sd.streams[-1]
    assert stream.samplerate == rate and stream.blocksize == round(rate * 0.02)
    t = np.arange(rate) / rate  # one second
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    block = np.stack([left, 0 * left] if stream.channels == 2 else [left], axis=1)  # (frames, channels)
    for begin in range(0, rate, stream.blocksize):
        stream.push(block[begin : begin + stream.blocksize])
    wait_until(lambda: capture.ring.total >= 15_000)
    capture.stop()
    audio = capture.ring.latest(8_000)
    assert capture.ring.total <= 16_000
    assert abs(dominant_hz(audio, 16_000) - 440) < 4
    expected = 0.25 if stream.channels == 2 else 0.5  # a silent right channel halves the mono level
    assert abs(np.abs(audio).max() - expected) < 0.03


def test_overflows_are_counted_and_reported():
    sd, events = make_sd(), []
    capture = MicrophoneCapture("Built-in", sd=sd, on_event=events.append)
    assert capture.start()
    stream = sd.streams[-1]
    silence = np.zeros((stream.blocksize, 1))
    for overflow in (True, False, True):
        stream.push(silence, overflow=overflow)
    wait_until(lambda: any(e.kind == "overflow" for e in events))
    capture.stop()
    assert capture.overflows == 2
    assert events[0].kind == "started" and events[-1] == SourceEvent("stopped")


def test_devices_are_chosen_by_name():
    sd = make_sd()
    assert [d.name for d in list_input_devices(sd)] == ["Built-in Microphone", "USB Headset Mic"]
    assert find_input_device("USB Headset Mic", sd).index == 2
    assert find_input_device("headset", sd).index == 2
    assert find_input_device(None, sd).name == "Built-in Microphone"  # default index 0 has no inputs
    with pytest.raises(ValueError, match="matches several inputs"):
        find_input_device("mic", sd)
    with pytest.raises(ValueError, match="HDMI Output' is not an input device; choose one of"):
        find_input_device("HDMI Output", sd)


def test_missing_device_gives_error_event_then_restart_works():
    sd, events = make_sd(), []
    capture = MicrophoneCapture("Studio Mic", sd=sd, on_event=events.append)
    assert not capture.start()
    assert events[-1].kind == "error" and "Studio Mic" in events[-1].message and not capture.running
    sd.devices.append(device("Studio Mic", 16_000.0, inputs=1))  # plugged in
    assert capture.restart()
    sd.streams[-1].push(np.full((320, 1), 0.25))
    wait_until(lambda: capture.ring.total > 0)
    capture.stop()


def test_failing_open_and_vanishing_device_give_error_events():
    sd, events = make_sd(), []
    sd.devices[1]["broken"] = True
    capture = MicrophoneCapture(
        "Built-in Microphone", sd=sd, on_event=events.append, stall_seconds=0.3, startup_seconds=0.3
    )
    assert not capture.start()
    assert "PaErrorCode -9985" in events[-1].message
    sd.devices[1]["broken"] = False
    assert capture.start()
    sd.streams[-1].finished_callback()  # PortAudio ended the stream on its own: the device went away
    wait_until(lambda: not capture.running)
    assert events[-1].kind == "error" and "stopped" in events[-1].message
    assert sd.streams[-1].closed
    assert capture.restart()
    wait_until(lambda: not capture.running)  # no audio at all for stall_seconds: gone as well
    assert events[-1].kind == "error" and "no audio" in events[-1].message


def test_block_ring_drops_when_full_and_keeps_order():
    ring = BlockRing(slots=3, block_frames=4, channels=1)
    blocks = [np.full((4, 1), i, np.float32) for i in range(4)]
    assert [ring.put(b) for b in blocks] == [True, True, True, False]
    assert ring.get()[0, 0] == 0
    assert ring.put(blocks[3])
    assert [ring.get()[0, 0] for _ in range(3)] == [1, 2, 3] and ring.get() is None


def test_ring_buffer_wraps_around_and_counts_lost_samples():
    ring = RingBuffer(10)
    reader = ring.reader()
    assert np.array_equal(ring.latest(4), np.zeros(4))
    ring.write(np.arange(7))
    assert np.array_equal(reader.read(), np.arange(7))
    ring.write(np.arange(7, 15))  # wraps: holds 5..14
    assert np.array_equal(ring.latest(10), np.arange(5, 15)) and ring.total == 15
    assert np.array_equal(ring.read(12, 15), [12, 13, 14])
    with pytest.raises(ValueError, match="not held"):
        ring.read(4, 6)
    ring.write(np.arange(15, 40))  # more than the capacity at once
    assert np.array_equal(reader.read(), np.arange(30, 40)) and reader.lost == 40 - 7 - 10
    ring.close()
    assert reader.exhausted


def test_wait_for_room_holds_a_fast_writer_back():
    ring = RingBuffer(8)
    reader = ring.reader()
    ring.write(np.zeros(6))
    assert not ring.wait_for_room(4, timeout=0.01)
    threading.Timer(0.05, reader.read).start()
    assert ring.wait_for_room(4, timeout=2.0)
    reader.close()
    ring.write(np.zeros(8))
    assert ring.wait_for_room(8, timeout=0.01)  # a closed reader holds nobody back


def test_file_source_as_fast_as_possible_loses_nothing(tmp_path):
    from audio.io import write_wav

    audio = np.sin(np.arange(48_000) / 10).astype(np.float32) * 0.5
    write_wav(tmp_path / "a.wav", audio)
    events = []
    source = FileSource.from_file(tmp_path / "a.wav", speed=float("inf"), buffer_seconds=0.5, on_event=events.append)
    reader = source.ring.reader()
    source.start()
    parts = []
    while not reader.exhausted:
        parts.append(reader.read(timeout=0.05))
        time.sleep(0.001)
    heard = np.concatenate(parts)
    assert len(heard) == 48_000 and reader.lost == 0
    assert np.abs(heard - audio).max() < 1e-3  # 16-bit WAV round trip
    assert events[-1].kind == "finished"


def test_file_source_plays_in_real_time():
    source = FileSource(np.zeros(4_800, np.float32), speed=1.0)
    started = time.monotonic()
    source.start()
    assert source.wait(timeout=5)
    assert 0.27 < time.monotonic() - started < 1.0  # 0.3 s of audio
    assert source.ring.total == 4_800 and source.ring.closed


def test_listen_lists_inputs_by_name(monkeypatch, capsys):
    import cli.listen

    monkeypatch.setattr(cli.listen, "list_input_devices", lambda: list_input_devices(make_sd()))
    assert cli.listen.main(["--list-inputs"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Built-in Microphone  (Fake API, 2 ch, 44100 Hz)",
        "USB Headset Mic  (Fake API, 1 ch, 48000 Hz)",
    ]
