"""Smoothing rules on hand-made posteriors, and the recogniser's one code path (feed / run / live)."""

import math

import numpy as np
import pytest
import torch

from audio.file_source import FileSource
from model.classifier import GateTrace, KeywordClassifier
from model.config import ModelConfig
from model.recognizer import LiveRecognizer, Recognizer, loudest_frame_db
from model.smoothing import PosteriorSmoother, RecognizerConfig

LABELS = ("yes", "no", "_silence_")
YES, NO, QUIET = np.eye(3)


def detections(smoother, posteriors, hop=0.1):
    """Feed posteriors at hop, 2 hop, ...; return [(time, label)] of the detections."""
    found = []
    for step, p in enumerate(posteriors, start=1):
        _, detection = smoother.update(round(step * hop, 6), p)
        if detection:
            found.append((round(detection.time, 6), detection.label))
    return found


def config(**overrides):
    values = dict(
        average_seconds=0.3, minimum_count=1, detection_threshold=0.6, release_threshold=0.3, suppression_seconds=0.0
    )
    return RecognizerConfig(**{**values, **overrides})


def test_scores_average_over_the_window_only():
    smoother = PosteriorSmoother(LABELS, config())
    smoother.update(0.1, YES)
    smoother.update(0.2, NO)
    scores, _ = smoother.update(0.3, NO)
    assert np.allclose(scores, [1 / 3, 2 / 3, 0])
    scores, _ = smoother.update(0.4, QUIET)  # 0.1 has left the 0.3 s window
    assert np.allclose(scores, [0, 2 / 3, 1 / 3])


def test_minimum_count_delays_the_first_detection():
    assert detections(PosteriorSmoother(LABELS, config(minimum_count=3)), [YES] * 4) == [(0.3, "yes")]
    assert detections(PosteriorSmoother(LABELS, config(minimum_count=1)), [YES] * 4) == [(0.1, "yes")]


def test_threshold_applies_to_the_averaged_score():
    weak = np.array([0.55, 0.25, 0.2])
    assert detections(PosteriorSmoother(LABELS, config()), [weak] * 5) == []
    assert detections(PosteriorSmoother(LABELS, config(detection_threshold=0.5)), [weak] * 5) == [(0.1, "yes")]
    # one confident hop among quiet ones averages to 1/3: below threshold
    assert detections(PosteriorSmoother(LABELS, config()), [QUIET, QUIET, YES, QUIET, QUIET]) == []


def test_the_threshold_changes_while_listening_and_keeps_the_averaged_scores():
    model = LoudnessModel()
    recognizer = Recognizer(model, RecognizerConfig(detection_threshold=0.8, gate_db=None))

    def forward(waveform):  # 'yes' at 0.7 and silence at 0.3 when loud
        loud = (waveform.pow(2).mean(dim=1).sqrt() > 0.05).float()
        return torch.stack([math.log(0.7 / 0.3) * loud, torch.full_like(loud, -1e9), torch.zeros_like(loud)], dim=1)

    model.forward = forward
    loud = 0.3 * np.sin(2 * np.pi * 300 * np.arange(48_000) / 16_000).astype(np.float32)  # 3 s of 'yes' at 0.7
    assert not any(result.detection for result in recognizer.feed(loud[:24_000]))  # below 0.8
    recognizer.set_threshold(0.65)
    found = [result for result in recognizer.feed(loud[24_000:]) if result.detection]
    assert len(found) == 1 and found[0].detection.label == "yes" and found[0].time == pytest.approx(1.6)
    assert recognizer.smoother.config is recognizer.config and recognizer.config.detection_threshold == 0.65
    assert RecognizerConfig().with_threshold(0.2).release_threshold == 0.2  # kept at or below the threshold
    assert RecognizerConfig().with_threshold(0.9).release_threshold == RecognizerConfig.release_threshold


def test_suppression_blocks_any_label_for_a_while():
    sequence = [YES] * 2 + [NO] * 8
    assert detections(PosteriorSmoother(LABELS, config(suppression_seconds=0.5)), sequence) == [
        (0.1, "yes"),
        (0.6, "no"),
    ]
    assert detections(PosteriorSmoother(LABELS, config()), sequence) == [(0.1, "yes"), (0.4, "no")]


def test_background_labels_are_never_reported():
    assert detections(PosteriorSmoother(LABELS, config()), [QUIET] * 10) == []


def test_same_word_twice_after_a_lull_is_reported_twice():
    said_twice = [YES] * 5 + [QUIET] * 5 + [YES] * 5
    assert detections(PosteriorSmoother(LABELS, config()), said_twice) == [(0.1, "yes"), (1.2, "yes")]
    # TensorFlow's rule (never re-arm on the same label) reports it once: that is the bug fixed here
    assert len(detections(PosteriorSmoother(LABELS, config(release_threshold=0.0)), said_twice)) == 1
    # held without a lull it is one word, not one per hop
    assert detections(PosteriorSmoother(LABELS, config()), [YES] * 30) == [(0.1, "yes")]


def test_updates_must_match_labels_and_time_order():
    smoother = PosteriorSmoother(LABELS, config())
    with pytest.raises(ValueError, match="expected 3 probabilities"):
        smoother.update(0.1, np.ones(4))
    smoother.update(0.5, YES)
    with pytest.raises(ValueError, match="time order"):
        smoother.update(0.4, YES)
    with pytest.raises(ValueError, match="release_threshold"):
        RecognizerConfig(detection_threshold=0.5, release_threshold=0.7)


class LoudnessModel(KeywordClassifier):
    """A stand-in network: 'yes' when the window's RMS passes 0.05, else silence; counts its calls."""

    def __init__(self):
        super().__init__(ModelConfig(labels=LABELS, hidden_size=4, num_layers=1))
        self.calls = 0

    def forward(self, waveform):
        self.calls += 1
        loud = (waveform.pow(2).mean(dim=1).sqrt() > 0.05).float()  # (batch,)
        return torch.stack([8 * loud, torch.zeros_like(loud), 8 * (1 - loud)], dim=1)  # (batch, 3)


def word_stream(rate=16_000):
    """1 s quiet noise, 0.6 s loud tone, 1.5 s quiet, the tone again, 1 s quiet: (samples,)."""
    rng = np.random.default_rng(0)
    tone = 0.3 * np.sin(2 * np.pi * 300 * np.arange(int(0.6 * rate)) / rate)
    quiet = [np.zeros(rate), np.zeros(int(1.5 * rate)), np.zeros(rate)]
    audio = np.concatenate([quiet[0], tone, quiet[1], tone, quiet[2]])
    return (audio + rng.normal(0, 1e-4, len(audio))).astype(np.float32)


def test_silence_gate_skips_the_model():
    model = LoudnessModel()
    recognizer = Recognizer(model, RecognizerConfig(gate_db=-50.0))
    results = recognizer.run(np.zeros(20_000, np.float32) + 1e-4)
    assert len(results) == 12 and model.calls == 0 and recognizer.gated_windows == 12
    assert all(r.gated and r.probabilities[2] == 1.0 for r in results)
    assert loudest_frame_db(np.full(1600, 0.1, np.float32), 160) == pytest.approx(-20.0, abs=0.01)
    results = recognizer.run(word_stream())
    assert model.calls == recognizer.model_calls == sum(not r.gated for r in results) > 0
    ungated = Recognizer(model, RecognizerConfig(gate_db=None))
    model.calls = 0
    assert len(ungated.run(np.zeros(20_000, np.float32))) == model.calls == 12


def test_feed_in_any_chunks_equals_one_pass_and_windows_are_the_last_second():
    audio = word_stream()
    whole = Recognizer(LoudnessModel()).run(audio, chunk_seconds=100)
    recognizer = Recognizer(LoudnessModel())
    pieces, begin, sizes = [], 0, [1, 777, 1600, 5000, 33]
    for i in range(10_000):
        size = sizes[i % len(sizes)]
        pieces += recognizer.feed(audio[begin : begin + size])
        begin += size
        if begin >= len(audio):
            break
    assert [r.time for r in pieces] == [r.time for r in whole]
    assert len(whole) == len(audio) // 1600 and whole[0].time == pytest.approx(0.1)
    for result in (pieces[4], pieces[25], pieces[-1]):
        end = round(result.time * 16_000)
        expected = np.concatenate([np.zeros(16_000), audio])[end : end + 16_000]  # zeros before the start
        assert np.array_equal(result.window, expected)
    found = [(round(r.detection.time, 1), r.detection.label) for r in whole if r.detection]
    assert [label for _, label in found] == ["yes", "yes"]  # the repeat is reported
    assert 1.0 < found[0][0] < 1.7 and 3.1 < found[1][0] < 3.8


def test_latest_only_classifies_just_the_newest_window():
    recognizer = Recognizer(LoudnessModel())
    results = recognizer.feed(np.zeros(16_000, np.float32), latest_only=True)
    assert [r.time for r in results] == [1.0] and recognizer.skipped_hops == 9


def test_trace_on_request():
    model = LoudnessModel()
    plain = Recognizer(model, RecognizerConfig(gate_db=None)).run(word_stream()[:8000])
    traced = Recognizer(model, RecognizerConfig(gate_db=None), trace=True).run(word_stream()[:8000])
    assert all(r.trace is None for r in plain)
    trace = traced[-1].trace
    assert isinstance(trace, GateTrace) and trace.states.shape[:3] == (1, 2, len(trace.state_names))
    assert np.isclose(traced[-1].probabilities.sum(), 1.0, atol=1e-5)


def test_live_worker_on_a_file_gives_the_same_detections():
    audio = word_stream()
    expected = [r.detection for r in Recognizer(LoudnessModel()).run(audio) if r.detection]
    source = FileSource(audio, speed=math.inf, buffer_seconds=0.5)
    live = []
    worker = LiveRecognizer(Recognizer(LoudnessModel()), source.ring, live.append, max_lag_seconds=math.inf)
    worker.start()
    source.start()
    assert worker.wait(timeout=20)
    assert [r.detection for r in live if r.detection] == expected and len(expected) == 2
    assert len(live) == len(audio) // 1600


def test_live_worker_reports_errors_instead_of_raising():
    class Broken(LoudnessModel):
        def forward(self, waveform):
            raise RuntimeError("out of memory")

    errors = []
    source = FileSource(word_stream(), speed=math.inf)
    worker = LiveRecognizer(
        Recognizer(Broken()), source.ring, lambda r: None, on_error=errors.append, max_lag_seconds=math.inf
    )
    worker.start()
    source.start()
    assert worker.wait(timeout=20)
    source.stop()
    assert errors == ["recogniser stopped: out of memory"]
