"""Shared fixtures and helpers: audio made in the test, never downloaded; app windows without sound devices."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from app.frames import FrameBuilder
from app.main_window import MainWindow
from audio.dataset import ClipSet
from audio.user_dirs import DATA_DIR_VARIABLE
from model.checkpoint import save_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig
from model.training import TrainConfig, train_model

# Three tone "words": (start pitch Hz, sweep Hz over the word).
TONE_WORDS = {"fall": (300.0, -400.0), "flat": (200.0, 0.0), "rise": (120.0, 400.0)}
TINY_LABELS = (*TONE_WORDS, "_silence_")


def tone_word(pitch_hz: float, sweep_hz: float, seed: int = 0, samples: int = 16_000) -> np.ndarray:
    """A 0.5 s word-like harmonic sweep with noise, in a 1 s clip: shape (samples,)."""
    rng = np.random.default_rng(seed)
    rate = 16_000
    t = np.arange(rate // 2) / rate
    f0 = pitch_hz + sweep_hz * t
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.hanning(len(t))
    clip = np.zeros(samples, dtype=np.float32)
    start = rng.integers(0, samples - len(t))
    clip[start : start + len(t)] = 0.3 * voiced
    return (clip + rng.normal(0, 0.003, samples)).astype(np.float32)


@pytest.fixture(autouse=True)
def user_data_in_tmp(monkeypatch, tmp_path):
    """Every test's takes, models and window settings go to its own folder, never the user's data folder
    (a window opened without --data-dir uses $VOXGATE_DATA_DIR; subprocesses inherit it)."""
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "user-data"))


@pytest.fixture
def chirp_word() -> np.ndarray:
    return tone_word(140.0, 300.0)


def tone_clip(word: str, speaker: int) -> np.ndarray:
    """One of TONE_WORDS said by `speaker`: each speaker shifts the pitch a little."""
    pitch, sweep = TONE_WORDS[word]
    shift = 1.0 + 0.05 * ((speaker % 5) - 2)
    return tone_word(pitch * shift, sweep * shift, seed=speaker * 7 + len(word))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 1 x 16 BiLSTM trained on tone words and quiet noise (a few seconds), shared by the session."""
    folder = tmp_path_factory.mktemp("tiny-model")
    rng = np.random.default_rng(0)
    waves = [tone_clip(word, speaker) for word in TONE_WORDS for speaker in range(24)]
    waves += [rng.normal(0, 10 ** rng.uniform(-3, -1.5), 16_000).astype(np.float32) for _ in range(24)]
    targets = np.repeat(np.arange(len(TINY_LABELS)), 24)
    clips = ClipSet(np.stack(waves), targets, TINY_LABELS, [""] * len(targets))
    torch.manual_seed(0)
    model = KeywordClassifier(ModelConfig(labels=TINY_LABELS, hidden_size=16, num_layers=1))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is 5x faster than two on a busy 2-core machine
    try:
        train_model(
            model, clips, None, TrainConfig(epochs=12, batch_size=16, learning_rate=0.01, seed=1), progress=False
        )
    finally:
        torch.set_num_threads(threads)
    return save_checkpoint(model, folder)


# The app's tests: a window without sound devices, and the frames the live panel draws.


def no_sound_devices():
    """A sounddevice stand-in for a machine without any audio input."""
    return SimpleNamespace(
        query_hostapis=lambda: [{"name": "ALSA"}], query_devices=lambda: [], default=SimpleNamespace(device=(-1, -1))
    )


@pytest.fixture
def open_window(qtbot):
    """Open windows and close them at teardown, which stops their worker threads.

    pytest-qt keeps only weak references, so the fixture holds the windows itself.
    """
    windows = []

    def open_(model_path: str, source=None, **options) -> MainWindow:
        options.setdefault("sd", no_sound_devices())
        options.setdefault("device", "cpu")
        window = MainWindow(str(model_path), source, **options)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.close()


STATE_NAMES = ("i", "f", "g", "o", "c", "h")


def result(time, window, traced=True, detection=None):
    """A recogniser result as the frame builder reads it: 2 layers x 2 directions x 4 units of random gates."""
    trace = None
    if traced:
        features = np.tile(np.arange(101, dtype=np.float32)[:, None], (1, 5))[None]  # (1, time, n_mfcc)
        states = np.random.default_rng(0).random((2, 2, 6, 1, 101, 4)).astype(np.float32)
        trace = SimpleNamespace(states=states, features=features, state_names=STATE_NAMES)
    return SimpleNamespace(
        time=time,
        window=window,
        probabilities=np.array([0.2, 0.8]),
        scores=np.array([0.7, 0.3]),
        detection=detection,
        gated=not traced,
        trace=trace,
    )


def builder():
    """A frame builder for two labels, five cepstra and one second of history."""
    return FrameBuilder(("yes", "_silence_"), 16_000, 1600, 160, n_mfcc=5, history_seconds=1.0, points=100)


def clipped_sine() -> np.ndarray:
    """1 s of a sine driven ~10 dB over full scale and cut there. (16_000,)"""
    return np.clip(3 * np.sin(np.linspace(0, 400 * np.pi, 16_000)), -1, 1).astype(np.float32)
