"""Train -> eval -> predict through the real command line, on tone 'words' made here."""

import json
from collections import Counter

import numpy as np
import pytest

from audio.dataset import scan_folder
from audio.io import write_wav
from main import main
from model.evaluation import accuracy_by_speaker, report
from tests.conftest import TONE_WORDS, tone_clip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """3 words x 24 speakers; a speaker's pitch offset makes voices differ."""
    root = tmp_path_factory.mktemp("corpus")
    for word in TONE_WORDS:
        for speaker in range(24):
            write_wav(root / word / f"spk{speaker:02d}_nohash_0.wav", tone_clip(word, speaker))
    return root


TINY_TRAINING = "--epochs 12 --batch-size 16 --hidden-size 16 --layers 1 --lr 0.01 --seed 1 --quiet --device cpu"


def train(corpus, out, options: str = TINY_TRAINING) -> int:
    """`main.py train` on `corpus` into `out`, with `options` (a string, split on spaces)."""
    return main(["train", "--data", str(corpus), "--out", str(out), *options.split()])


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "tiny"
    assert train(corpus, out) == 0
    return out


def test_eval_beats_chance(trained, corpus, capsys):
    capsys.readouterr()
    assert main(["eval", "--model", str(trained), "--data", str(corpus), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 72 and result["labels"] == ["fall", "flat", "rise"]
    assert result["accuracy"] > 0.8  # chance is 1/3
    assert set(result["per_class"]) == set(TONE_WORDS)
    assert np.array(result["confusion"]).sum() == 72
    speakers = result["per_speaker"]
    assert len(speakers) == 24 and {stats["n"] for stats in speakers.values()} == {3}
    weighted = sum(stats["accuracy"] * stats["n"] for stats in speakers.values()) / 72
    assert weighted == pytest.approx(result["accuracy"])


def test_eval_text_report(trained, corpus, capsys):
    capsys.readouterr()
    assert main(["eval", "--model", str(trained), "--data", str(corpus), "--split", "train", "--speakers", "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("accuracy ") and "confusion (rows: true, columns: predicted)" in text
    listed = text.split("largest speakers (2 of ")[1].splitlines()
    assert len(listed) == 3 and all(line.strip().startswith("spk") for line in listed[1:])


def test_eval_clip_db_scores_the_clips_clipped(trained, corpus, monkeypatch):
    import cli.evaluate

    scored, real_evaluate = [], cli.evaluate.evaluate

    def keep_clips(model, clips):
        scored.append(clips)
        return real_evaluate(model, clips)

    monkeypatch.setattr(cli.evaluate, "evaluate", keep_clips)
    for drive in (None, "12"):
        clipping = ["--clip-db", drive] if drive else []
        status = main(["eval", "--model", str(trained), "--data", str(corpus), "--json", "--device", "cpu", *clipping])
        assert status == 0
    plain, clipped = (np.abs(clips.waveforms) for clips in scored)
    assert plain.max() < 0.5 and (plain >= plain.max(axis=1, keepdims=True) * 0.99).mean() < 0.005
    assert np.all(clipped.max(axis=1) == 1.0) and (clipped == 1.0).mean() > 0.02


def test_predict_top3_and_bad_file(trained, corpus, tmp_path, capsys):
    good = corpus / "rise" / "spk03_nohash_0.wav"
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....")
    capsys.readouterr()
    status = main(["predict", "--model", str(trained), str(good), str(bad), "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and "broken.wav" in err
    line = json.loads(out)
    assert line["file"] == str(good) and len(line["top"]) == 3
    assert line["top"][0]["label"] == "rise"
    assert abs(sum(t["probability"] for t in line["top"]) - 1.0) < 1e-4


def test_checkpoint_records_training(trained):
    config = json.loads((trained / "config.json").read_text())
    assert config["model"]["labels"] == ["fall", "flat", "rise"]
    assert config["training"]["config"]["seed"] == 1
    assert 1 <= config["training"]["best_epoch"] <= 12
    assert "validation_accuracy" in config["metrics"]
    assert config["training"]["augment"]["noise_prob"] > 0  # augmentation on by default, and recorded


def test_same_seed_same_model(corpus, trained, tmp_path):
    train(corpus, tmp_path / "again")
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (trained / "model.safetensors").read_bytes()


def test_train_on_validation_keeps_test_clips_out(corpus, tmp_path, capsys):
    splits = Counter(clip.split for clip in scan_folder(corpus, TONE_WORDS))
    out = tmp_path / "final"
    options = "--epochs 2 --batch-size 16 --hidden-size 8 --layers 1 --train-on-validation --quiet --device cpu"
    assert train(corpus, out, options) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["test_clips"] == splits["test"]
    training = json.loads((out / "config.json").read_text())["training"]
    assert training["train_clips"] == splits["train"] + splits["validation"] and splits["validation"] > 0
    assert training["trained_on_validation"] is True
    assert [epoch["validation_accuracy"] for epoch in training["history"]] == [None] * len(training["history"])


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["eval", "--model", str(tmp_path / "none"), "--data", str(tmp_path)]) == 2
    assert "no such model folder" in capsys.readouterr().err
    assert train(tmp_path / "missing", tmp_path / "m", "") == 2
    assert "no such data folder" in capsys.readouterr().err
    # Options are checked before any clip loads: the bad option is named, not the folder.
    assert train(tmp_path / "missing", tmp_path / "m", "--labels default --ema 1.5") == 2
    assert "ema_decay must be in [0, 1)" in capsys.readouterr().err
    assert train(tmp_path / "missing", tmp_path / "m", "--labels default --augment loud=1") == 2
    assert "augmentation setting 'loud=1'" in capsys.readouterr().err


def test_an_empty_split_names_the_splits_there_are(trained, tmp_path, capsys):
    write_wav(tmp_path / "rise" / "a_nohash_0.wav", tone_clip("rise", 0))
    write_wav(tmp_path / "rise" / "b_nohash_0.wav", tone_clip("rise", 1))
    (tmp_path / "validation_list.txt").write_text("rise/b_nohash_0.wav\n")  # and no test clip
    for command in ("eval", "stream-eval"):
        args = [command, "--model", str(trained), "--data", str(tmp_path), "--split", "test", "--device", "cpu"]
        assert main(args) == 2
        assert capsys.readouterr().err.endswith(
            "(split: test); it has train and validation clips, and --split all takes every one\n"
        )


def test_one_speakers_folder_that_the_split_leaves_untrained_says_why(tmp_path, capsys):
    names = [f"{word}/me_nohash_{take}.wav" for word in ("rise", "fall") for take in range(2)]
    for name in names:  # one person's takes, as the app records them: "me" lands in the test split
        write_wav(tmp_path / "takes" / name, tone_clip(name.split("/")[0], len(name)))
    assert train(tmp_path / "takes", tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert "no training clips: all 4 fell in the test split" in error and "its one speaker (me) landed there" in error
    (tmp_path / "takes" / "testing_list.txt").write_text("\n".join(names))
    assert train(tmp_path / "takes", tmp_path / "out") == 2
    assert "leave some out of those lists" in capsys.readouterr().err


def test_accuracy_by_speaker_groups_on_the_nohash_prefix_largest_first():
    paths = [
        "yes/flite-rms_nohash_a.wav",
        "no/flite-rms_nohash_b.wav",
        "yes/espeak-x_nohash_c.wav",
        "up/flite-rms_nohash_d.wav",
    ]
    groups = accuracy_by_speaker(paths, np.array([True, False, True, False]))
    assert list(groups) == ["flite-rms", "espeak-x"]
    assert groups["flite-rms"] == {"accuracy": pytest.approx(1 / 3), "n": 3}
    assert groups["espeak-x"] == {"accuracy": 1.0, "n": 1}


def test_a_label_without_clips_has_no_accuracy_not_zero():
    scored = report(np.array([0, 0, 2]), np.array([0, 2, 2]), ("yes", "no", "up"))
    assert scored.per_class["no"] == {"accuracy": None, "n": 0}
    assert scored.per_class["yes"] == {"accuracy": 0.5, "n": 2}
    assert "  no         —  of 0" in scored.format_text().splitlines()
    assert json.loads(json.dumps(scored.to_dict()))["per_class"]["no"]["accuracy"] is None
