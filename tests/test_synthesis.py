"""The speech-synthesis corpus builder: real engines, a tiny real corpus, split by voice; the demo recording."""

import itertools
import logging
import random
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.config import FeatureConfig
from audio.synthesis import ENGINE_NAMES, CorpusConfig, available_engines, build_corpus, make_engine
from audio.synthesis.corpus import plan_corpus
from audio.synthesis.demo import LEAD_SECONDS, NOISE_LEVEL, PAUSE_SECONDS, PEAK, demo_audio
from audio.synthesis.flite import FliteEngine
from audio.synthesis.split import TEST, TRAIN, VALIDATION, assign_splits
from audio.synthesis.starter import base_material, plan_speech, render
from audio.synthesis.vocabulary import unknown_words
from audio.trim import frame_levels

FEATURES = FeatureConfig()
WORDS = ("yes", "stop")
FILE_NAME = re.compile(r"^[a-z0-9-]+_nohash_[a-z0-9-]+\.wav$")


def speaker_of(relative_path: str) -> str:
    return Path(relative_path).name.split("_nohash_")[0]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_each_engine_speaks_a_word(name):
    engine = make_engine(name)
    assert engine.available(), f"{name} is not installed; CI installs every engine"
    voices = engine.voices()
    assert voices and len({voice.speaker for voice in voices}) == len(voices)
    try:
        voice = engine.vary(voices[0], random.Random(0))
        audio = engine.speak("yes", voice)
    finally:
        engine.close()
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.15 * FEATURES.sample_rate < len(audio) < 1.5 * FEATURES.sample_rate  # a word, trimmed
    assert np.sqrt(np.mean(audio**2)) > 0.01  # not silence
    spectrum = np.abs(np.fft.rfft(audio))
    frequencies = np.fft.rfftfreq(len(audio), 1 / FEATURES.sample_rate)
    speech_band = spectrum[(frequencies > 100) & (frequencies < 4000)].sum()
    assert speech_band > 0.5 * spectrum.sum()  # energy where speech is, at the rate we claim


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    config = CorpusConfig(
        out_dir=tmp_path_factory.mktemp("corpus"),
        words=WORDS,
        per_word=12,
        unknown_count=12,
        silence_count=6,
        seed=3,
        workers=2,
        holdout=0.3,  # hold out more than usual so a tiny corpus still fills both lists
    )
    return config, build_corpus(config)


def test_corpus_has_speech_commands_layout(corpus):
    config, summary = corpus
    out = Path(config.out_dir)
    assert summary.failed == 0 and summary.created == 12 * 2 + 12 + 6
    for label, count in [("yes", 12), ("stop", 12), ("_unknown_", 12), ("_silence_", 6)]:
        files = sorted((out / label).glob("*.wav"))
        assert len(files) == count
        for file in files:
            assert FILE_NAME.match(file.name), file.name
            info = sf.info(file)
            assert (info.samplerate, info.channels, info.subtype) == (FEATURES.sample_rate, 1, "PCM_16")
            assert info.frames == FEATURES.clip_samples
    assert set(summary.per_engine) == {*ENGINE_NAMES, "noise"}  # every engine spoke


def test_lists_hold_only_held_out_speakers(corpus):
    config, _ = corpus
    out = Path(config.out_dir)
    listed = {}
    for name in ("validation_list.txt", "testing_list.txt"):
        lines = (out / name).read_text().split()
        assert lines, f"{name} is empty"
        assert all((out / line).is_file() for line in lines)
        listed[name] = {speaker_of(line) for line in lines}
    training = {speaker_of(str(p)) for p in out.glob("*/*.wav")} - set().union(*listed.values())
    assert not listed["validation_list.txt"] & listed["testing_list.txt"]
    jobs, _ = plan_corpus(config)
    split_of = {speaker_of(job.path): job.split for job in jobs}
    assert {split_of[s] for s in listed["validation_list.txt"]} == {"validation"}
    assert {split_of[s] for s in listed["testing_list.txt"]} == {"test"}
    assert {split_of[s] for s in training} == {TRAIN}


def test_unknown_clips_are_other_words(corpus):
    config, _ = corpus
    spoken = [p.name.split("_nohash_")[1].split("-")[0] for p in (Path(config.out_dir) / "_unknown_").glob("*.wav")]
    assert len(set(spoken)) == len(spoken) == 12  # one word per clip
    assert not set(spoken) & set(WORDS)
    vocabulary = set(unknown_words(("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")))
    assert len(vocabulary) > 10_000
    for near in ("yes", "yeah", "know", "now", "upper", "dawn", "lift", "write", "light", "own", "of", "top", "goes"):
        assert near not in vocabulary


def test_rerun_reuses_existing_files(corpus):
    config, _ = corpus
    files = sorted(Path(config.out_dir).glob("*/*.wav"))
    before = {file: file.stat().st_mtime_ns for file in files}
    again = build_corpus(config)
    assert (again.created, again.reused, again.failed) == (0, len(files), 0)
    assert {file: file.stat().st_mtime_ns for file in files} == before


def test_plan_is_deterministic_for_a_seed(corpus):
    config, _ = corpus
    assert plan_corpus(config)[0] == plan_corpus(config)[0]


def test_split_keeps_each_person_on_one_side():
    voices = [v for engine in available_engines(ENGINE_NAMES) for v in engine.voices()]
    splits = assign_splits(voices, seed=0)
    side_of_group = {}
    for voice in voices:
        assert side_of_group.setdefault(voice.group, splits[voice.speaker]) == splits[voice.speaker]
    assert side_of_group["person-kal"] == splits["flite-kal16"] == splits["festival-kal"]
    assert splits["piper-joe"] == TRAIN  # the only neural voice always trains
    assert {"validation", "test"} <= {splits[v.speaker] for v in voices if v.engine == "espeak"}


def test_missing_engine_is_skipped_with_a_warning(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(FliteEngine, "programs", ("flite-that-is-not-installed",))
    with caplog.at_level(logging.WARNING):
        engines = available_engines(["espeak", "flite"])
    assert [engine.name for engine in engines] == ["espeak"]
    assert "flite" in caplog.text and "skipping" in caplog.text
    with pytest.raises(ValueError, match="installed"):
        build_corpus(CorpusConfig(out_dir=tmp_path, engines=("flite",), per_word=1, unknown_count=0))


def test_demo_recording_holds_each_word_between_pauses():
    audio = demo_audio(("yes", "no"))
    frames = frame_levels(audio, 160)  # 10 ms frames
    loud = frames > 10 * NOISE_LEVEL
    starts = np.flatnonzero(loud[1:] & ~loud[:-1])  # quiet -> loud: a word begins
    assert audio.dtype == np.float32 and len(starts) >= 2
    assert loud[: round(LEAD_SECONDS * 100) - 1].sum() == 0  # it opens quietly
    gaps = np.diff(starts) / 100
    assert gaps.max() > PAUSE_SECONDS  # the second word comes after a full pause
    assert np.abs(audio).max() <= PEAK + 10 * NOISE_LEVEL


def test_lanes_render_every_job_as_one_lane_does():
    """Two engines in two threads give the same clips as one thread; base material keeps job order."""
    jobs = plan_speech("yes", ["yes"] * 6, seed=2, engines=("espeak", "flite"))
    assert {job.voice.engine for job in jobs} == {"espeak", "flite"}
    one_lane = {position: audio for position, _, audio in render(jobs, seed=2, lanes=1)}
    two_lanes = {position: audio for position, _, audio in render(jobs, seed=2, lanes=2)}
    assert sorted(one_lane) == sorted(two_lanes) == list(range(len(jobs)))
    for position in one_lane:
        np.testing.assert_array_equal(one_lane[position], two_lanes[position])
    clips, labels, texts = base_material(["yes"], 6, 0, 0, seed=2, engines=("espeak", "flite"))
    assert labels == texts == ["yes"] * 6
    for clip, position in zip(clips, range(len(jobs))):
        np.testing.assert_array_equal(clip, one_lane[position])


PIPER_CLIPS = """
import hashlib, random
from audio.synthesis import make_engine
engine = make_engine("piper")
voice = engine.vary(engine.voices()[0], random.Random(0))
print(*(hashlib.sha1(engine.speak(word, voice).tobytes()).hexdigest() for word in ("yes", "yes")))
"""


def test_piper_says_the_same_clips_in_every_process():
    """Its sampling noise is seeded as the model loads: a starting set or fine-tuning's material synthesized again
    in another process (a bench run repeated, the app restarted) is the same audio; without the seed it differed."""
    runs = [
        subprocess.run([sys.executable, "-c", PIPER_CLIPS], capture_output=True, text=True, check=True, timeout=120)
        for _ in range(2)
    ]
    first, second = (run.stdout.split() for run in runs)
    assert first == second
    assert first[0] != first[1]  # the same word twice still draws new noise: the stream is seeded, not each clip


def test_a_lane_whose_engine_fails_leaves_the_others_rendering(caplog):
    jobs = plan_speech("yes", ["yes"] * 4, seed=1, engines=("espeak",))
    broken = [replace(job, voice=replace(job.voice, engine="nonesuch")) for job in jobs[:2]]
    with caplog.at_level(logging.WARNING):
        rendered = [position for position, _, _ in render(broken + jobs[2:], seed=1)]
    assert sorted(rendered) == [2, 3]
    assert "could not start nonesuch" in caplog.text


def test_stopping_ends_every_lane_early():
    """Each lane asks before each clip; once stopped, no lane starts another."""
    jobs = plan_speech("yes", ["yes"] * 20, seed=4, engines=("espeak", "flite"))
    asked = itertools.count(1)
    rendered = list(render(jobs, seed=4, should_stop=lambda: next(asked) > 3))
    assert len(rendered) == 3


def test_training_material_and_the_old_words_check_never_share_a_voice():
    """Starting sets and base material never speak with the default corpus's test voices; the
    old-words check speaks with nothing else, so it listens to voices the model never trained on."""
    voices = [voice for engine in available_engines(ENGINE_NAMES) for voice in engine.voices()]
    defaults = CorpusConfig(out_dir=Path("."))
    split_of = assign_splits(voices, defaults.seed, defaults.holdout)  # as `synth` splits the default corpus
    training = plan_speech("yes", ["yes"] * 200, seed=3, engines=("espeak", "flite"))
    checking = plan_speech("yes", ["yes"] * 60, seed=3, engines=("espeak", "flite"), test_voices=True)
    assert {split_of[job.voice.speaker] for job in training} == {TRAIN, VALIDATION}
    assert {split_of[job.voice.speaker] for job in checking} == {TEST}
    assert len({job.voice.speaker for job in checking}) > 10  # many test voices, not one
    with pytest.raises(ValueError, match="none of the installed voices of piper is a test voice"):
        plan_speech("yes", ["yes"], engines=("piper",), test_voices=True)  # one voice: never held out
