"""Streaming metrics on cases with known answers, the stream builder, and stream-eval end to end."""

import itertools
import json

import numpy as np
import pytest

from audio.io import write_wav
from cli.stream_eval import main as stream_eval
from model.smoothing import Detection
from model.streaming import SpokenWord, build_stream, score_detections, word_bounds
from tests.conftest import TONE_WORDS, tone_clip


def word(label, start, end, is_command=True):
    return SpokenWord(label, start, end, is_command)


def found(label, time):
    return Detection(label=label, index=0, confidence=0.9, time=time)


def test_matching_rule_and_metrics_on_known_answers():
    words = [
        word("yes", 1.0, 1.5),
        word("no", 4.0, 4.4),
        word("up", 8.0, 8.5),
        word("cat", 12.0, 12.5, False),
        word("go", 16.0, 16.3),
    ]
    detections = [
        found("yes", 1.9),  # correct, 0.4 s after the word's end
        found("yes", 2.2),  # the word is already matched: a false accept
        found("off", 4.6),  # matched to "no" but the wrong label
        found("up", 8.6),  # correct, 0.1 s after the end
        found("go", 12.7),  # on a non-command word: false accept
        found("go", 17.8),  # 1.8 s after "go" started: outside the 1.5 s tolerance
        found("left", 15.9),  # before "go" started: cannot be caused by it
    ]
    report = score_detections(words, detections, seconds=3600.0, tolerance=1.5)
    assert (report.words, report.detections) == (4, 7)
    assert (report.correct, report.wrong, report.false_accepts) == (2, 1, 4)
    assert report.matched_percent == 75.0 and report.correct_percent == 50.0 and report.wrong_percent == 25.0
    assert report.false_accept_percent == 100.0
    non_command_hours = (3600 - 0.5 - 0.4 - 0.5 - 0.3) / 3600
    assert report.non_command_hours == pytest.approx(non_command_hours)
    assert report.false_accepts_per_hour == pytest.approx(4 / non_command_hours)
    assert report.median_latency == pytest.approx(0.25)  # median of 0.4 and 0.1
    assert "matched 75.0%" in report.format_text()


def test_empty_cases():
    report = score_detections([], [], seconds=60.0)
    assert report.words == 0 and report.matched_percent == 0.0 and report.median_latency is None
    assert score_detections([word("yes", 1, 2)], [], 60.0).matched_percent == 0.0


def test_stream_places_words_where_it_says():
    clips = [(tone_clip("rise", 0), "rise", True), (tone_clip("flat", 1), "flat", False)]
    stream = build_stream(clips, 30.0, np.random.default_rng(3), noise_rms=0.001)
    assert len(stream.audio) == 30 * 16_000 and 5 <= len(stream.words) <= 15
    for spoken in stream.words:
        assert 0.4 <= spoken.end - spoken.start <= 0.5  # the tone words last 0.5 s, Hann-shaped
        inside = stream.audio[int(spoken.start * 16_000) : int(spoken.end * 16_000)]
        before = stream.audio[int(spoken.start * 16_000) - 1600 : int(spoken.start * 16_000) - 800]
        assert inside.std() > 20 * before.std()
    assert {w.is_command for w in stream.words} == {True, False}
    starts = [w.start for w in stream.words]
    assert all(b - a >= 2.0 for a, b in itertools.pairwise(starts))  # a 1 s clip plus at least 1 s gap
    assert word_bounds(np.r_[np.zeros(800), np.ones(1600), np.zeros(800)], 160) == (800, 2400)


def test_stream_eval_command_line(tmp_path, capsys, tiny_model):
    data = tmp_path / "data"
    for name in TONE_WORDS:
        for speaker in range(30, 36):  # voices the tiny model never heard
            write_wav(data / name / f"spk{speaker}_nohash_0.wav", tone_clip(name, speaker))
    options = ["--split", "all", "--minutes", "1.5", "--device", "cpu", "--json", "--seed", "1", "--threads", "1"]
    assert stream_eval(["--data", str(data), "--model", str(tiny_model), *options]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["words"] >= 20 and report["seconds"] == 90.0
    assert report["correct_percent"] >= 80 and report["false_accepts"] <= 3
    assert 0.0 < report["median_latency"] < 1.0
    assert report["model_calls"] + report["gated_windows"] == 900
    assert stream_eval(["--data", str(tmp_path / "none"), "--model", str(tiny_model)]) == 2


def test_listen_to_a_file(tmp_path, capsys, tiny_model):
    from cli.listen import main as listen

    rng = np.random.default_rng(5)
    lull = np.zeros(16_000)  # a word stays in the 1 s window for a second: a repeat needs a lull that long
    parts = [np.zeros(8000), tone_clip("rise", 50), lull, tone_clip("rise", 51), tone_clip("flat", 52), lull]
    audio = np.concatenate(parts) + rng.normal(0, 0.002, sum(len(p) for p in parts))
    write_wav(tmp_path / "three.wav", audio)
    status = listen(["--file", str(tmp_path / "three.wav"), "--model", str(tiny_model), "--speed", "inf", "--json"])
    assert status == 0
    *detections, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["label"] for d in detections] == ["rise", "rise", "flat"]  # the repeated word counts twice
    assert detections[-1]["time"] < len(audio) / 16_000
    cost = summary["summary"]
    assert cost["model_calls"] > 0 and cost["gated_windows"] > 0  # the lulls skipped the model
    assert cost["cpu_seconds"] >= 0 and cost["cpu_percent_of_one_core"] >= 0
    assert listen(["--file", str(tmp_path / "missing.wav"), "--model", str(tiny_model)]) == 2
