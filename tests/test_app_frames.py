"""What the window draws, computed without Qt: saturation, unit order, and the scrolling history."""

import numpy as np

from app.frames import SILENT_DB, level_db
from app.gate_stats import saturation_fractions, unit_orders
from model.smoothing import Detection
from tests.conftest import STATE_NAMES, builder, clipped_sine, result


def test_saturation_counts_time_steps_below_and_above_the_limits():
    states = np.full((1, 2, 6, 10, 3), 0.5, np.float32)  # (layers, directions, states, time, hidden)
    states[0, 0, 1, :7, 0] = 0.05  # forget unit 0: shut 70% of the time
    states[0, 0, 1, 7:, 0] = 0.95  # ... and open the rest
    states[0, 1, 5, :, 1] = 0.99  # h is not a gate: ignored
    states[0, 1, 3, :4, 2] = 0.9  # exactly 0.9 is not right-saturated
    fractions = saturation_fractions(states, STATE_NAMES)
    assert fractions.shape == (1, 2, 3, 3, 2)
    np.testing.assert_allclose(fractions[0, 0, 1, 0], [0.7, 0.3])  # gate index 1 of (i, f, o) is f
    assert fractions[0, 0, 1, 1:].sum() == 0 and fractions[0, 1].sum() == 0


def test_units_are_ordered_by_their_mean_over_the_window():
    states = np.zeros((2, 1, 6, 4, 3), np.float32)
    states[1, 0, 1] = [0.9, 0.1, 0.5]  # every time step: unit 1 lowest, unit 0 highest
    orders = unit_orders(states)
    assert orders.shape == (2, 1, 6, 3)
    assert orders[1, 0, 1].tolist() == [1, 2, 0]  # ascending: the most active unit is drawn on top
    assert orders[0, 0, 0].tolist() == [0, 1, 2]  # ties keep unit order


def test_frames_scroll_the_waveform_and_the_mfcc_of_each_new_hop():
    frames = builder()
    window = np.linspace(-0.5, 0.5, 16_000, dtype=np.float32)
    frame = frames.add(result(0.1, window))
    assert frame.waveform.shape == frame.waveform_time.shape == (200,)
    assert frame.waveform[-1] == window[-1] and frame.waveform[0] == 0  # only the newest hop so far
    assert frame.spectrogram.shape == (100, 4)  # 1 s of 10 ms frames, c1..c4
    np.testing.assert_array_equal(frame.spectrogram[-10:, 0], np.arange(91, 101))  # the window's last 10 frames
    assert np.isnan(frame.spectrogram[:-10]).all()
    assert frame.gates.states.shape == (2, 2, 6, 101, 4) and frame.gates.mfcc.shape == (101, 4)
    assert frame.top == 0 and frame.detection is None
    silent = frames.add(result(0.2, np.zeros(16_000, np.float32), traced=False))
    assert silent.gates is None and np.isnan(silent.spectrogram[-10:]).all()
    assert not np.isnan(silent.spectrogram[-20:-10]).any()  # the previous hop scrolled left
    assert silent.level_db == SILENT_DB


def test_a_looping_file_keeps_the_clock_running():
    frames = builder()
    window = np.zeros(16_000, np.float32)
    frames.add(result(0.1, window))
    frames.add(result(7.4, window))  # a jump (skipped hops): at most a window of new audio
    frames.restart_clock()
    found = Detection(label="yes", index=0, confidence=0.7, time=0.3)
    frame = frames.add(result(0.3, window, detection=found))
    assert round(frame.time, 6) == 7.7 and round(frame.detection.time, 6) == 7.7


def test_level_of_a_full_scale_sine_is_minus_three_db():
    assert round(level_db(np.sin(np.linspace(0, 200 * np.pi, 16_000))), 1) == -3.0


def test_a_second_that_reached_full_scale_is_flagged_clipped():
    frames = builder()
    window = clipped_sine()
    assert frames.add(result(0.1, window)).clipped
    assert not frames.add(result(0.2, window * 0.5)).clipped
