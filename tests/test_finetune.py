"""Fine-tuning: a grown head keeps the old answers, a new tone word is learned, cancel changes
nothing, versions switch and roll back without deleting, and the CLI prints before / after."""

import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from torch import nn

from app.engine import SourceChoice
from app.finetune_dialog import FinetuneDialog
from app.finetune_worker import FinetuneWorker
from app.versions_dialog import VersionsDialog
from audio.augment import AugmentConfig
from audio.dataset import ClipSet
from audio.io import read_audio, write_wav
from cli.finetune import add_finetune_options, finetune_settings
from cli.finetune import main as finetune_main
from model.adapt import (
    FINETUNE_AUGMENT,
    AdaptRequest,
    MaterialConfig,
    accuracy,
    adapt,
    more_takes_advice,
    old_words,
    old_words_note,
    prepare,
    unmeasured_note,
    unreadable_note,
    weak_labels,
)
from model.checkpoint import DEFAULT_MODEL_DIR, CheckpointError, load_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig
from model.device import torch_threads
from model.evaluation import predict_logits, predict_probabilities
from model.finetune import (
    FinetuneConfig,
    SplitBatch,
    finetune,
    parameter_groups,
    part_seeds,
    supervised_contrastive_loss,
    take_repeats,
)
from model.grow import grow_labels
from model.versions import INDEX_FILE, VersionStore, export_model, parent_name
from tests.conftest import TONE_WORDS, tone_clip, tone_word

QUICK = FinetuneConfig(epochs=3, batch_size=16, learning_rate=1e-2, freeze_layers=0, user_repeats=2)
NO_SPEECH = MaterialConfig(per_word=0, unknown=0, silence=6, check_per_word=0, check_unknown=0)  # background only


def dip(speaker: int) -> np.ndarray:
    """A new tone "word" the tiny model has never heard: a high rising tone."""
    shift = 1.0 + 0.05 * ((speaker % 5) - 2)
    return tone_word(600.0 * shift, 300.0 * shift, seed=100 + speaker)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is several times faster than two on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    """The user's takes: 6 of each tone word and of the new word "dip" (20 % held out per label)."""
    root = tmp_path_factory.mktemp("takes")
    for speaker in range(6):
        for word in TONE_WORDS:
            write_wav(root / word / f"me_nohash_{word}{speaker}.wav", tone_clip(word, 30 + speaker))
        write_wav(root / "dip" / f"me_nohash_dip{speaker}.wav", dip(speaker))
    return root


def request_for(base, takes, **options) -> AdaptRequest:
    return replace(AdaptRequest(base=base, data=(takes,), finetune=QUICK, material=NO_SPEECH), **options)


def test_grown_head_keeps_old_logits_and_imprints_the_new_label(tiny_model):
    model = load_checkpoint(tiny_model).model
    clips = np.stack([dip(s) for s in range(4)])
    grown = grow_labels(model, (*model.labels, "dip"), {"dip": clips})
    assert grown.labels == (*model.labels, "dip")
    waves = torch.from_numpy(np.stack([tone_clip("rise", 1), dip(7)]))
    with torch.no_grad():
        old, new = model(waves), grown(waves)
    torch.testing.assert_close(new[:, : len(model.labels)], old)  # every old row kept exactly
    assert new[1].argmax() == len(model.labels)  # imprinting: the new word wins before any training


def test_adapt_learns_a_new_word_and_reports_before_and_after(tiny_model, takes, tmp_path):
    steps = []
    outcome = adapt(
        request_for(tiny_model, takes, cache_dir=tmp_path / "cache"),
        on_progress=lambda phase, values: steps.append(phase),
    )
    assert outcome.new_labels == ("dip",) and outcome.model.labels[-1] == "dip"
    assert outcome.counts["held_out"] == {"fall": 1, "flat": 1, "rise": 1, "dip": 1}
    assert outcome.before["per_label"]["dip"]["accuracy"] == 0.0  # the base cannot say it
    assert sum(outcome.before["per_label"]["dip"]["confused_with"].values()) == 1  # so it said something else
    assert "dip" not in outcome.before["per_label"]["dip"]["confused_with"]
    assert outcome.after["per_label"]["dip"] == {"accuracy": 1.0, "n": 1, "confused_with": {}}
    assert outcome.after["accuracy"] >= 0.75
    assert "step" in steps and outcome.history[-1]["step"] == outcome.history[-1]["steps"]
    [cache] = (tmp_path / "cache").glob("base-material-*.npz")  # reused by the next run
    cache.write_bytes(cache.read_bytes()[:100])  # damaged (a full disk, a crash outside the app)
    again = adapt(request_for(tiny_model, takes, cache_dir=tmp_path / "cache"))
    assert again.counts["base_material"] == outcome.counts["base_material"]  # synthesized anew
    with np.load(cache) as rewritten:
        assert len(rewritten["labels"]) == sum(outcome.counts["base_material"].values())


def test_old_words_are_checked_on_voices_kept_out_of_training_and_cached(tiny_model, takes, tmp_path, monkeypatch):
    request = request_for(
        tiny_model, takes, cache_dir=tmp_path / "cache", material=replace(NO_SPEECH, check_per_word=2, check_unknown=5)
    )
    outcome = adapt(request)
    before, after = outcome.old_words["before"], outcome.old_words["after"]
    assert before["commands_n"] == after["commands_n"] == 6  # fall, flat and rise, twice each
    assert after["others_n"] == 0  # the tiny model has no _unknown_, so no other words are said
    assert 0 <= before["commands"] <= 1 and 0 <= after["commands"] <= 1
    assert outcome.summary()["old_words"] == outcome.old_words
    assert len(list((tmp_path / "cache").glob("base-material-*.npz"))) == 2  # the material and the check's clips
    import model.adapt

    def no_synthesis(*args, **kwargs):
        raise AssertionError("synthesized again")

    monkeypatch.setattr(model.adapt, "base_material", no_synthesis)
    assert adapt(request).old_words["before"] == before  # the same clips, from the cache
    unchecked = adapt(request_for(tiny_model, takes, cache_dir=tmp_path / "cache"))
    assert unchecked.old_words == {} and old_words_note(unchecked.old_words) == ""


def test_what_is_prepared_before_start_is_what_the_fine_tune_uses(tiny_model, takes, tmp_path, monkeypatch):
    import model.adapt

    def not_again(*args, **kwargs):
        raise AssertionError("worked out again after Start")

    own = tmp_path / "takes"
    shutil.copytree(takes, own)
    material = replace(NO_SPEECH, per_word=2, check_per_word=1)
    request = request_for(tiny_model, own, cache_dir=tmp_path / "cache", material=material)
    reported = []
    prepared = prepare(request, on_progress=lambda phase, values: reported.append(phase))
    assert len(list((tmp_path / "cache").glob("base-material-*.npz"))) == 2  # the material and the check's clips
    assert {"material", "check"} <= set(reported)
    with monkeypatch.context() as patched:
        for name in ("base_material", "load_clips", "load_checkpoint"):
            patched.setattr(model.adapt, name, not_again)
        outcome = adapt(request, prepared=prepared)  # "dip", the new word, is among the takes prepare read
        assert adapt(request, prepared=prepared).before == outcome.before  # a second Start uses it too
    assert outcome.before == prepared.before and outcome.seconds["material"] == 0.0
    assert outcome.counts["base_material"] == {"fall": 2, "flat": 2, "rise": 2, "_silence_": 6}
    assert outcome.old_words["after"]["commands_n"] == 3

    deleted = sorted((own / "dip").glob("*.wav"))[0]
    deleted.unlink()  # a take deleted while the dialog is open: what was prepared no longer fits
    again = adapt(request, prepared=prepared)
    counted = again.counts["train_takes"].get("dip", 0) + again.counts["held_out"].get("dip", 0)
    before = outcome.counts["train_takes"].get("dip", 0) + outcome.counts["held_out"].get("dip", 0)
    assert counted == before - 1 and again.seconds["preparation"] > 0


def test_old_words_counts_commands_and_other_words_kept_unknown(tiny_model):
    """A model that learned "dip" as `_unknown_` keeps dips unknown and takes rises for rises."""
    base = load_checkpoint(tiny_model).model
    model = grow_labels(base, (*base.labels, "_unknown_"), {"_unknown_": np.stack([dip(s) for s in range(4)])})
    clips = np.stack([tone_clip("rise", 50), tone_clip("fall", 51), dip(8), dip(9), tone_clip("rise", 52)])
    checked = old_words(
        model,
        clips,
        ["rise", "fall", "_unknown_", "_unknown_", "_unknown_"],
        ["rise", "fall", "dip", "dipper", "riser"],
    )
    assert checked["commands_n"] == 2 and checked["others_n"] == 3
    assert checked["others_kept"] == pytest.approx(2 / 3) and checked["others_taken_for"] == {"rise": 1}
    assert checked["others_heard_as"] == {"rise": ["riser"]}  # the other word that now fires, by name
    right = sum(
        model(torch.from_numpy(clips[:2])).argmax(1).numpy() == [base.labels.index("rise"), base.labels.index("fall")]
    )
    assert checked["commands"] == right / 2 and sum(checked["per_command"].values()) == right
    assert set(checked["per_command"]) == {"rise", "fall"}
    fallen = {"before": {**checked, "others_kept": 0.9}, "after": checked}
    note = old_words_note(fallen)
    assert "other words kept _unknown_ 90.0% → 66.7% of 3 (the others taken for rise ×1 (riser))" in note
    assert note.endswith(
        "drag the threshold line up, or record the words they fire on as _unknown_ and fine-tune again."
    )  # 23 points fewer: new words fire on other words
    assert "threshold" not in old_words_note({"before": checked, "after": checked})


def test_material_counts_cannot_be_negative():
    with pytest.raises(ValueError, match="clip counts cannot be negative: check_unknown -1"):
        MaterialConfig(check_unknown=-1)


def test_unreadable_takes_are_left_out_and_named(tiny_model, takes, tmp_path):
    mixed = tmp_path / "takes"
    shutil.copytree(takes, mixed)
    (mixed / "dip" / "me_nohash_broken.wav").write_bytes(b"not audio")
    (mixed / "rise" / "me_nohash_empty.wav").write_bytes(b"")
    outcome = adapt(request_for(tiny_model, mixed))
    assert sorted(Path(path).name for path in outcome.unreadable) == ["me_nohash_broken.wav", "me_nohash_empty.wav"]
    counts = outcome.counts
    assert sum(counts["train_takes"].values()) + sum(counts["held_out"].values()) == 24  # the readable ones
    assert unreadable_note(outcome.unreadable).startswith("Left out 2 takes that could not be read: ")
    assert unreadable_note([]) == ""
    for path in mixed.rglob("*.wav"):
        path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"nothing to fine-tune on\. Left out 26 takes that could not be read"):
        adapt(request_for(tiny_model, mixed))


def test_more_takes_of_a_word_share_the_places_of_full_takes():
    targets = np.repeat([0, 1, 2, 3], [3, 5, 10, 50])  # takes of four words
    repeats = take_repeats(targets, repeats=8, full_takes=5)
    assert {int(t): int(r) for t, r in zip(targets, repeats)} == {0: 8, 1: 8, 2: 4, 3: 1}
    assert set(take_repeats(targets, repeats=16, full_takes=5)[targets == 1]) == {16}  # --repeats keeps its meaning
    assert take_repeats(np.array([7, 7]), repeats=3, full_takes=0).tolist() == [1, 1]  # every take once at least


def test_adapt_sees_more_takes_less_often_each(tiny_model, takes, monkeypatch):
    import model.adapt

    seen = {}  # full_takes -> {repeats of the user's takes}, {repeats of the base material}

    def recorded(model_, clips, config, *, repeats, **options):
        own = np.array([bool(path) for path in clips.paths])
        seen[config.full_takes] = set(repeats[own].tolist()), set(repeats[~own].tolist())
        return finetune(model_, clips, config, repeats=repeats, **options)

    monkeypatch.setattr(model.adapt, "finetune", recorded)
    for full_takes in (5, 2):  # 5 training takes a word, which QUICK sees twice each: or share the places of 2
        adapt(request_for(tiny_model, takes, finetune=replace(QUICK, epochs=1, full_takes=full_takes)))
    assert seen == {5: ({2}, {1}), 2: ({1}, {1})}


def scored(**accuracies) -> dict:
    """An `accuracy` result with one held-out take per label."""
    return {
        "per_label": {label: {"accuracy": value, "n": 1, "confused_with": {}} for label, value in accuracies.items()}
    }


def test_accuracy_lists_the_misheard_takes_most_confident_first(tiny_model, tmp_path):
    model = load_checkpoint(tiny_model).model
    clips = np.stack([tone_clip("fall", 1), tone_clip("rise", 2), tone_clip("rise", 3), tone_clip("fall", 4)])
    labels = ["fall", "fall", "fall", "rise"]  # the second and third were filed under the wrong word, the last too
    paths = [
        tmp_path / "fall" / "a.wav",
        tmp_path / "fall" / "b.wav",
        tmp_path / "fall" / "c.wav",
        tmp_path / "rise" / "d.wav",
    ]
    scored = accuracy(model, clips, labels, paths)
    misheard = scored["misheard"]
    assert {error["take"]: error["taken_for"] for error in misheard} == {
        "fall/b.wav": "rise",
        "fall/c.wav": "rise",
        "rise/d.wav": "fall",
    }
    assert all(
        0.5 < error["confidence"] <= 1
        and error["path"] == str(tmp_path / error["take"])
        and error["label"] == error["take"].split("/")[0]
        for error in misheard
    )
    confidences = [error["confidence"] for error in misheard]
    assert confidences == sorted(confidences, reverse=True)
    wrong = sum(sum(stats["confused_with"].values()) for stats in scored["per_label"].values())
    assert len(misheard) == wrong == 3
    assert "misheard" not in accuracy(model, clips, labels)  # without paths: counts only


def test_weak_labels_are_the_words_below_the_threshold_weakest_first():
    after = scored(left=1.0, back=0.86, front=0.84, stop=0.95)
    assert weak_labels(after) == {"front": 0.84, "back": 0.86}  # 95 % is not weak
    assert list(weak_labels(after, threshold=0.99)) == ["front", "back", "stop"]
    advice = more_takes_advice(after)
    assert "front (84.0%), back (86.0%)" in advice and "these words" in advice and "left" not in advice
    assert "this word" in more_takes_advice(scored(left=1.0, back=0.5))
    assert more_takes_advice(scored(left=1.0, back=0.96)) == ""


def test_the_labels_without_held_out_takes_are_named():
    counts = {"train_takes": {"left": 4, "back": 2, "go": 1}, "held_out": {"left": 1}}
    assert unmeasured_note(counts) == (
        "No held-out takes of back (2 takes), go (1), so the comparison leaves them out: "
        "a word needs 5 takes or more for one in five to be held out."
    )
    assert "leaves it out" in unmeasured_note({"train_takes": {"go": 1}, "held_out": {}})
    assert unmeasured_note({"train_takes": {"left": 4}, "held_out": {"left": 1}}) == ""


def test_threads_apply_to_training_and_scoring_keeps_the_callers_setting(tiny_model, takes, monkeypatch):
    import model.adapt

    seen = []  # (function, torch threads when it was called)

    def recorded(name):
        real = getattr(model.adapt, name)

        def call(*args, **kwargs):
            seen.append((name, torch.get_num_threads()))
            return real(*args, **kwargs)

        return call

    for name in ("accuracy", "finetune"):
        monkeypatch.setattr(model.adapt, name, recorded(name))
    adapt(request_for(tiny_model, takes, threads=2))  # the caller (this file's fixture) set 1 thread
    assert seen == [("accuracy", 1), ("finetune", 2), ("accuracy", 1)]
    assert torch.get_num_threads() == 1  # put back


def test_cancel_stops_and_saves_nothing(tiny_model, takes):
    outcome = adapt(request_for(tiny_model, takes), should_stop=lambda: True)
    assert outcome.stopped and outcome.model is None


def test_versions_switch_and_roll_back_without_deleting(tiny_model, tmp_path):
    store = VersionStore(tmp_path / "models")
    model = load_checkpoint(tiny_model).model
    first = store.add(model, "shipped", {"accuracy": 0.5}, {"accuracy": 0.9}, {}, make_current=True)
    second = store.add(model, first.id, {"accuracy": 0.9}, {"accuracy": 0.95}, {})
    assert VersionStore(tmp_path / "models").current.id == second.id == "v0002"
    store.select(first.id)
    assert VersionStore(tmp_path / "models").current_path("shipped") == first.path
    store.select(None)
    reopened = VersionStore(tmp_path / "models")
    assert reopened.current is None and str(reopened.current_path("shipped")) == "shipped"
    assert [v.id for v in reopened.versions()] == ["v0001", "v0002"] and second.path.is_dir()
    assert reopened.get("v0002").parent == "v0001" and reopened.get("v0002").after == {"accuracy": 0.95}
    load_checkpoint(second.path)  # a complete model folder


def test_a_version_is_exported_whole_and_never_over_another(qtbot, tiny_model, tmp_path):
    store = VersionStore(tmp_path / "models")
    version = store.add(load_checkpoint(tiny_model).model, "shipped", {}, {"accuracy": 0.9}, {})
    dialog = VersionsDialog(tmp_path / "models", tiny_model)
    qtbot.addWidget(dialog)
    dialog.table.selectRow(1)
    dialog.export_selected(str(tmp_path / "usb"))
    target = tmp_path / "usb" / "voxgate-v0001"
    assert dialog.note.text() == f"Exported v0001 to {target}: open it with python main.py --model {target}"
    assert (target / "model.safetensors").read_bytes() == (version.path / "model.safetensors").read_bytes()
    assert load_checkpoint(target).model.labels == load_checkpoint(tiny_model).model.labels
    dialog.export_selected(str(tmp_path / "usb"))
    assert dialog.note.text().startswith("Not exported: ") and "exists already" in dialog.note.text()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{")
    with pytest.raises(CheckpointError):
        export_model(broken, tmp_path / "usb")
    assert sorted(path.name for path in (tmp_path / "usb").iterdir()) == ["voxgate-v0001"]  # nothing half-copied


def test_a_version_names_its_parent_the_shipped_model_or_a_version(tmp_path):
    assert parent_name(DEFAULT_MODEL_DIR) == "shipped"
    assert parent_name(DEFAULT_MODEL_DIR.parent / ".." / "models" / "default") == "shipped"  # however it is written
    assert parent_name(tmp_path / "models" / "v0003") == "v0003"
    assert parent_name(tmp_path / "default") == "default"  # another folder of that name is not the shipped model


def test_versions_list_the_old_words_check(qtbot, tiny_model, tmp_path):
    store, model = VersionStore(tmp_path / "models"), load_checkpoint(tiny_model).model
    checked = {
        name: {"commands": 0.9, "commands_n": 80, "others_kept": kept, "others_n": 80, "others_taken_for": {"front": 3}}
        for name, kept in (("before", 0.9), ("after", 0.675))
    }
    store.add(model, "shipped", {}, {"accuracy": 0.9}, {"old_words": checked})
    store.add(model, "v0001", {}, {"accuracy": 0.9}, {})  # made before the check existed
    store.add(model, "v0002", {}, {"accuracy": 0.9}, {"old_words": {"before": None}})  # an index edited by hand
    dialog = VersionsDialog(tmp_path / "models", tiny_model)
    qtbot.addWidget(dialog)
    assert [dialog.table.item(row, 6).text() for row in range(4)] == ["", "90.0% → 67.5%", "—", "—"]
    assert dialog.table.item(1, 6).toolTip() == old_words_note(checked)
    assert "(the others taken for front ×3)" in dialog.table.item(1, 6).toolTip()


TINY_FINETUNE = "--epochs 3 --lr 0.01 --freeze 0 --per-word 0 --unknown 0 --silence 6 --check-per-word 1 --cache none"


def tiny_finetune(model, takes, work, *extra: str) -> int:
    """`main.py finetune` from a tiny model on `takes`, into work/out, in seconds: no base material, one clip a
    command for the old-words check, nothing cached."""
    folders = ["--base", str(model), "--data", str(takes), "--out", str(work / "out"), "--data-dir", str(work)]
    return finetune_main([*folders, *TINY_FINETUNE.split(), "--device", "cpu", *extra])


def test_cli_prints_before_and_after_as_json(tiny_model, takes, tmp_path, capsys, monkeypatch):
    import cli.finetune

    requests, real_adapt = [], cli.finetune.adapt

    def adapt_and_keep_the_request(request, **options):
        requests.append(request)
        return real_adapt(request, **options)

    monkeypatch.setattr(cli.finetune, "adapt", adapt_and_keep_the_request)
    code = tiny_finetune(tiny_model, takes, tmp_path, "--json", "--threads", "1")
    assert code == 0 and [request.threads for request in requests] == [1]
    result = json.loads(capsys.readouterr().out)
    assert result["new_labels"] == ["dip"] and result["held_out_clips"] == 4 and result["unreadable"] == []
    assert result["after"] >= result["before"] and result["per_label"]["dip"]["after"] == 1.0
    assert result["per_label"]["dip"]["confused_with"] == {}
    assert result["old_words"]["after"]["commands_n"] == 3  # a clip of each tone word, from a test voice
    assert result["weak_labels"] == {
        label: stats["after"] for label, stats in result["per_label"].items() if stats["after"] < 0.95
    }
    wrong = sum(sum(stats["confused_with"].values()) for stats in result["per_label"].values())
    assert len(result["misheard"]) == wrong and all(Path(error["path"]).is_file() for error in result["misheard"])
    saved = load_checkpoint(tmp_path / "out")
    assert saved.model.labels[-1] == "dip"
    assert AugmentConfig.from_dict(saved.training["augment"]) == FINETUNE_AUGMENT  # the recipe travels with it
    code = finetune_main(["--base", str(tmp_path / "missing"), "--data", str(takes), "--out", str(tmp_path / "x")])
    assert code == 2
    capsys.readouterr()
    assert tiny_finetune(tiny_model, takes, tmp_path, "--threads", "0") == 2  # not "every core" by accident
    assert "threads must be at least 1, got 0" in capsys.readouterr().err


def test_loss_settings_reach_the_config_and_bad_ones_are_refused():
    parser = argparse.ArgumentParser()
    add_finetune_options(parser)
    options = "--distill-weight 0 --label-smoothing 0.1 --refit-anchor 0.5 --lower-lr 1 --contrastive-weight 0"
    options += " --contrastive-temperature 0.1 --workers 3"
    settings, _ = finetune_settings(parser.parse_args(options.split()))
    assert (settings.distill_weight, settings.label_smoothing, settings.refit_anchor) == (0.0, 0.1, 0.5)
    assert (settings.lower_layer_lr, settings.contrastive_weight, settings.contrastive_temperature) == (1.0, 0.0, 0.1)
    assert settings.workers == 3
    assert finetune_settings(parser.parse_args([]))[0] == FinetuneConfig()  # the defaults are the config's own
    for bad, message in (
        ("--label-smoothing 1", "label_smoothing"),
        ("--distill-weight -0.1", "distill_weight"),
        ("--contrastive-weight -1", "contrastive_weight"),
        ("--lower-lr 0", "lower_layer_lr"),
        ("--lower-lr 1.5", "lower_layer_lr"),
        ("--contrastive-temperature 0", "contrastive_temperature"),
        ("--workers -1", "workers"),
    ):
        with pytest.raises(ValueError, match=message):
            finetune_settings(parser.parse_args(bad.split()))


def test_contrastive_loss_rewards_a_label_s_clips_lying_together():
    targets = torch.tensor([0, 0, 1])
    together = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])  # the two 0s point the same way
    # Each 0 picks the other 0 (cosine 1) over the 1 (cosine 0); the 1 has no partner and adds nothing.
    expected = -(1.0 - np.log(np.e + 1.0))
    assert float(supervised_contrastive_loss(together, targets, 1.0)) == pytest.approx(expected, rel=1e-6)
    apart = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # the second 0 lies on the 1
    assert supervised_contrastive_loss(apart, targets, 1.0) > supervised_contrastive_loss(together, targets, 1.0)
    assert float(supervised_contrastive_loss(together, torch.tensor([0, 1, 2]), 1.0)) == 0.0  # nobody's partner


def two_layer_model() -> KeywordClassifier:
    torch.manual_seed(0)
    return KeywordClassifier(ModelConfig(labels=("rise", "fall"), hidden_size=8, num_layers=2))


def test_the_lower_layer_trains_at_its_share_of_the_rate_and_a_frozen_one_not_at_all():
    model = two_layer_model()
    layers = dict(model.recurrent.layers.named_parameters())
    groups = parameter_groups(model, list(model.parameters()), 0.01, 0.3)
    assert [group["lr"] for group in groups] == [0.01, pytest.approx(0.003)]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for name, p in layers.items() if "_l0" in name}
    assert sum(len(group["params"]) for group in groups) == len(list(model.parameters()))
    clips = rise_and_fall_clips(4)
    for freeze, lower_moves in ((1, False), (0, True)):
        model = two_layer_model()
        before = {name: p.detach().clone() for name, p in model.recurrent.layers.named_parameters()}
        finetune(model, clips, FinetuneConfig(epochs=1, batch_size=4, freeze_layers=freeze, refit_copies=0))
        for name, parameter in model.recurrent.layers.named_parameters():
            moved = not torch.equal(parameter, before[name])
            assert moved == (lower_moves if "_l0" in name else True), name


def rise_and_fall_clips(per_word: int) -> ClipSet:
    return ClipSet(
        np.stack([tone_clip(word, speaker) for word in ("rise", "fall") for speaker in range(per_word)]),
        np.repeat([0, 1], per_word),
        ("rise", "fall"),
        [""] * 2 * per_word,
    )


def test_a_batch_s_parts_draw_from_seeds_no_neighbouring_run_shares():
    seeds = {seed: part_seeds(seed, 4) for seed in range(8)}
    assert all(parts[0] == seed and len(parts) == 4 for seed, parts in seeds.items())  # one part: the seed itself
    drawn = [part for parts in seeds.values() for part in parts]
    assert len(set(drawn)) == len(drawn)  # seed + k would give seed 0's second part seed 1's first
    assert part_seeds(3, 4) == seeds[3]
    assert all(0 <= part < 2**63 for part in drawn)


def test_a_batch_split_over_threads_gives_the_whole_batch_s_gradient():
    model = two_layer_model()
    model.recurrent.layers.dropout = 0.0  # as fine-tuning runs it
    clips = rise_and_fall_clips(4)
    waveforms, targets = torch.from_numpy(clips.waveforms), torch.from_numpy(clips.targets)
    body = [parameter for name, parameter in model.named_parameters() if not name.startswith("head.")]
    threads = set()

    def features(batch: torch.Tensor, _generator: torch.Generator) -> torch.Tensor:
        threads.add(threading.get_ident())
        return model.features(batch)

    def loss_of(embeddings: torch.Tensor) -> torch.Tensor:  # couples the clips, as fine-tuning's loss does
        return nn.functional.cross_entropy(model.head(embeddings), targets) + supervised_contrastive_loss(
            embeddings, targets, 0.2
        )

    loss_of(model.embed(features(waveforms, torch.Generator()))).backward()
    whole = [parameter.grad.clone() for parameter in body]
    model.zero_grad(set_to_none=True)
    threads.clear()
    with ThreadPoolExecutor(2) as pool:
        batch = SplitBatch(model, features, waveforms.chunk(2))
        loss_of(batch.embeddings(pool, [torch.Generator(), torch.Generator()])).backward()
        batch.backward(pool, body)
    assert len(threads) == 2  # each half on its own thread
    for parameter, expected in zip(body, whole):
        torch.testing.assert_close(parameter.grad, expected, rtol=1e-5, atol=1e-6)


def test_scoring_split_over_threads_gives_one_stream_s_logits_without_a_graph(monkeypatch):
    model = two_layer_model()
    model.train()  # as fine-tuning leaves it: scoring runs in eval mode and puts the mode back
    waveforms = rise_and_fall_clips(5).waveforms  # ten clips
    seen = []  # (thread, torch threads, grad mode) of each batch scored
    forward = model.forward

    def recorded(batch: torch.Tensor) -> torch.Tensor:
        seen.append((threading.get_ident(), torch.get_num_threads(), torch.is_grad_enabled(), len(batch)))
        return forward(batch)

    monkeypatch.setattr(model, "forward", recorded)
    with torch_threads(2):
        one_stream = predict_logits(model, waveforms, batch_size=4, workers=1)
        assert [(threads, grad, clips) for _, threads, grad, clips in seen] == [
            (2, False, 4),
            (2, False, 4),
            (2, False, 2),
        ]
        seen.clear()
        split = predict_logits(model, waveforms, batch_size=4)  # one part per torch thread: two
        assert torch.get_num_threads() == 2  # put back
    assert sorted(clips for *_, clips in seen) == [1, 1, 4, 4]  # two parts of five clips, in batches of 4
    assert len({thread for thread, *_ in seen}) == 2 and {threads for _, threads, *_ in seen} == {1}
    assert not any(grad for _, _, grad, _ in seen)  # grad mode is per thread: each part turned it off
    assert model.training
    torch.testing.assert_close(split, one_stream, rtol=1e-5, atol=1e-6)
    assert not split.requires_grad and predict_logits(model, waveforms[:0]).shape == (0, len(model.labels))


def test_a_fine_tune_split_over_two_workers_repeats_on_one_torch_thread_each():
    clips = rise_and_fall_clips(6)
    config = FinetuneConfig(epochs=2, batch_size=6, workers=2, refit_copies=1)
    weights, threads = [], []  # torch threads the workers' parts ran with

    def features(batch: torch.Tensor, _generator: torch.Generator) -> torch.Tensor:
        threads.append(torch.get_num_threads())
        return model.features(batch)

    for _ in range(2):
        model = two_layer_model()
        start = model.recurrent.layers.weight_hh_l1.detach().clone()
        with torch_threads(2):
            finetune(model, clips, config, augment=features)
            assert torch.get_num_threads() == 2  # the caller's setting, put back
        assert not torch.equal(model.recurrent.layers.weight_hh_l1, start)
        assert model.recurrent.layers.dropout == model.config.dropout > 0  # off only while training
        weights.append(model.state_dict())
        # 2 epochs of 2 batches of 2 parts, then the refit's 2 parts, each part on one thread
        assert threads == [1] * 10, threads
        threads.clear()
    for name, tensor in weights[0].items():
        assert torch.equal(tensor, weights[1][name]), name


def test_cli_without_takes_says_so_before_it_makes_the_material(tiny_model, tmp_path, capsys, monkeypatch):
    import model.adapt

    monkeypatch.setattr(model.adapt, "base_vocabulary", lambda *_, **__: pytest.fail("the material was made first"))
    (tmp_path / "takes").mkdir()
    assert tiny_finetune(tiny_model, tmp_path / "takes", tmp_path) == 2
    assert capsys.readouterr().err.endswith("error: no training takes found; record a few takes per word first\n")


def test_cli_names_the_misheard_takes(tiny_model, takes, tmp_path, capsys):
    mixed = tmp_path / "takes"
    shutil.copytree(takes, mixed)
    write_wav(mixed / "fall" / "me_nohash_said-rise.wav", tone_clip("rise", 40))  # filed under the wrong word
    held = ["fall/me_nohash_said-rise.wav", "fall/me_nohash_fall0.wav", "rise/me_nohash_rise0.wav"]
    (mixed / "testing_list.txt").write_text("\n".join(held) + "\n")
    code = tiny_finetune(tiny_model, mixed, tmp_path)
    assert code == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "held-out takes misheard, the most confident first" in printed
    assert "Old words, said by synthetic voices kept out of training: commands " in printed
    assert "base material" in captured.err and "old-words check" in captured.err  # what takes the time first
    last = captured.err.replace("\r", "\n").strip().splitlines()[-1]
    assert re.fullmatch(r"fine-tune: 100%.*\| (\d+)/\1 \[[0-9:]+, loss [0-9.]+, 0 s to go\]", last.strip()), last
    assert f"  {mixed / 'fall' / 'me_nohash_said-rise.wav'} taken for rise (" in printed
    assert "No held-out takes of dip (6 takes), flat (6), so the comparison leaves them out" in printed  # not listed


FIRST_OPTIMISER = """
import sys, torch
from model.finetune import warm_up_training
warm_up_training()
before = set(sys.modules)
weight = torch.zeros(3, requires_grad=True)
optimiser = torch.optim.AdamW([weight])
weight.sum().backward()
optimiser.step()
print(*sorted(set(sys.modules) - before))
"""


def test_after_the_warm_up_a_fine_tune_imports_nothing_more():
    """torch imports its compiler stack on a process's first optimiser (most of a second); the warm-up pays
    that in advance. Without it, this fresh process's optimiser imported torch._dynamo and hundreds more."""
    run = subprocess.run([sys.executable, "-c", FIRST_OPTIMISER], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == []


def test_dialog_warms_up_and_prepares_the_fine_tune_on_its_worker_as_it_opens(
    qtbot, monkeypatch, tmp_path, open_window, tiny_model
):
    warmed, prepared = [], []
    monkeypatch.setattr("app.finetune_worker.warm_up_training", lambda: warmed.append(threading.current_thread()))
    monkeypatch.setattr(
        "app.finetune_worker.prepare",
        lambda request, on_progress, should_stop: prepared.append((request, threading.current_thread())),
    )
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    dialog = window.open_finetune()
    qtbot.waitUntil(lambda: warmed != [] and prepared != [], timeout=10_000)
    assert not dialog.running  # before any Start
    assert warmed[0] is not threading.main_thread()  # off the GUI thread
    assert prepared == [(dialog.request, warmed[0])]  # the material of the request Start will run, kept in its cache
    assert dialog.request.cache_dir == tmp_path / "data" / "cache"


def test_a_start_waits_for_the_material_and_a_cancel_stops_both(
    qtbot, monkeypatch, tmp_path, open_window, tiny_model, takes
):
    stopped = threading.Event()

    def slow_material(request, on_progress, should_stop) -> None:  # synthesizing until told to stop
        for done in range(1000):
            if should_stop():
                stopped.set()
                return
            on_progress("material", {"done": done, "total": 1000})
            time.sleep(0.01)

    monkeypatch.setattr("app.finetune_worker.prepare", slow_material)
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    dialog = window.open_finetune()
    qtbot.wait(200)
    assert dialog.eta_label.text() == "Not started"  # the preparing is not shown before Start...
    dialog.request = replace(dialog.request, data=(takes,), finetune=QUICK, material=NO_SPEECH)
    dialog.start()
    preparing = "Synthesizing base-vocabulary material: "
    qtbot.waitUntil(lambda: dialog.eta_label.text().startswith(preparing), timeout=5_000)
    dialog.cancel()  # ...and after it, a Cancel stops the preparing and the run queued behind it
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
    assert stopped.is_set() and "nothing was saved" in dialog.eta_label.text()
    assert VersionStore(tmp_path / "data" / "models").versions() == []
    dialog.start()  # the Cancel does not stick to the next Start
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=30_000)
    assert "Saved as version v0001" in dialog.eta_label.text()
    dialog.close()


def test_closing_the_dialog_does_not_wait_for_its_worker(qtbot, monkeypatch, tmp_path, open_window, tiny_model):
    warm_ups: list[threading.Event] = []  # one a dialog; set, it lets that dialog's warm-up end

    def slow_warm_up() -> None:  # as long as a first warm-up, a head refit or scoring can take
        ended = threading.Event()
        warm_ups.append(ended)
        ended.wait(timeout=10)

    monkeypatch.setattr("app.finetune_worker.warm_up_training", slow_warm_up)
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    first = window.open_finetune()
    qtbot.waitUntil(lambda: len(warm_ups) == 1, timeout=10_000)
    started = time.perf_counter()
    first.close()
    assert time.perf_counter() - started < 0.5 and first.thread.isRunning()  # the GUI thread did not wait
    gone = []
    first.destroyed.connect(lambda: gone.append(True))
    second = window.open_finetune()  # one dialog at a time: the first goes once its thread has ended
    qtbot.waitUntil(lambda: len(warm_ups) == 2, timeout=10_000)
    assert gone == [] and second is not first
    warm_ups[0].set()
    qtbot.waitUntil(lambda: gone == [True], timeout=10_000)
    threading.Timer(0.3, warm_ups[1].set).start()
    window.close()  # the app's exit does wait: no thread is left running
    assert second.thread.isFinished()


def test_worker_hands_the_summary_over_as_is(qapp):  # a dict signal would re-sort the keys
    worker, received = FinetuneWorker(), []
    worker.finished.connect(received.append)
    worker.finished.emit({"confused_with": {"left": 6, "right": 4, "five": 3}})
    assert list(received[0]["confused_with"]) == ["left", "right", "five"]  # most frequent first, kept


def test_worker_starts_from_what_it_prepared_before_start(qapp, monkeypatch, tiny_model, takes, tmp_path):
    import model.adapt

    def not_again(*args, **kwargs):
        raise AssertionError("worked out again after Start")

    worker, finished, errors = FinetuneWorker(), [], []
    worker.finished.connect(finished.append)
    worker.error.connect(errors.append)
    request = request_for(tiny_model, takes, cache_dir=tmp_path / "cache")
    worker.warm_up(request)  # what the dialog queues on the worker's thread as it opens
    for name in ("base_material", "load_clips", "load_checkpoint"):
        monkeypatch.setattr(model.adapt, name, not_again)
    worker.run(request, str(tmp_path / "models"), "shipped")
    assert errors == [] and finished[0]["version"] == "v0001"
    assert finished[0]["seconds"]["material"] == 0.0


def test_a_dialog_opened_before_any_take_still_makes_the_material(qapp, tiny_model, tmp_path):
    worker, errors = FinetuneWorker(), []
    worker.error.connect(errors.append)
    (tmp_path / "takes").mkdir()
    material = replace(NO_SPEECH, per_word=2, check_per_word=1)
    request = request_for(tiny_model, tmp_path / "takes", cache_dir=tmp_path / "cache", material=material)
    worker.warm_up(request)  # the user records while the dialog is open
    assert len(list((tmp_path / "cache").glob("base-material-*.npz"))) == 2
    worker.run(request, str(tmp_path / "models"), "shipped")  # a Start with still no take says so
    assert errors == ["Fine-tuning failed: no training takes found; record a few takes per word first"]


def test_dialog_fine_tunes_cancels_and_switches_versions(qtbot, tmp_path, open_window, tiny_model, takes):
    # device "auto" as the app has it by default
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"), device="auto")
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    dialog = window.open_finetune()
    assert "seen 20 times an epoch; a word with more than 5 takes shares those places" in dialog.about.text()
    assert "20% of each word's takes (with 5 or more) are held out" in dialog.about.text()
    assert f"Starts from the model in use, <b>{Path(tiny_model).name}</b>. Mixed in" in dialog.about.text()
    assert dialog.request.device == "auto"  # the request the app builds, with the tests' takes and quick settings
    dialog.request = replace(dialog.request, data=(takes,), finetune=QUICK, material=NO_SPEECH)
    dialog.epochs.setValue(20)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=20_000)
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
    assert "nothing was saved" in dialog.eta_label.text()
    assert VersionStore(tmp_path / "data" / "models").versions() == []

    dialog.epochs.setValue(3)
    dialog.request = replace(dialog.request, material=replace(NO_SPEECH, check_per_word=1))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=30_000)
    assert dialog.old_words.text().startswith("Old words, said by synthetic voices kept out of training: commands ")
    assert dialog.old_words.text().endswith(" of 3.")  # fall, flat and rise, once each; the tiny model has no _unknown_
    assert dialog.table.rowCount() == 5 and dialog.table.item(0, 3).text().endswith("%")
    for row in range(1, 5):  # a word is "taken for" something exactly when it was not always right
        assert (dialog.table.item(row, 3).text() == "100.0%") == (dialog.table.item(row, 4).text() == "")
    assert len(dialog.loss_curve.getData()[0]) == dialog.progress_bar.maximum()
    # one held-out take per label: a label below 95 % is one that missed its take
    weak = [dialog.table.item(row, 0).text() for row in range(1, 5) if dialog.table.item(row, 3).text() != "100.0%"]
    assert (dialog.advice.text() == "") == (weak == []) and all(f"{label} (" in dialog.advice.text() for label in weak)
    assert "Saved as version v0001" in dialog.eta_label.text()
    assert VersionStore(tmp_path / "data" / "models").get("v0001").parent == Path(tiny_model).name
    dialog.use_button.click()
    qtbot.waitUntil(lambda: "v0001" in window.model_label.text(), timeout=10_000)
    assert "dip" in window.labels_label.text()
    dialog.close()

    versions = window.open_versions()
    assert versions.table.rowCount() == 2 and "(in use)" in versions.table.item(1, 0).text()
    grown = len(load_checkpoint(tiny_model).model.labels) + 1
    assert [versions.table.item(row, 3).text() for row in (0, 1)] == ["12", f"{grown}, new: dip"]  # 12: shipped
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", versions.table.item(1, 1).text())
    assert versions.table.item(1, 3).toolTip().endswith(", dip")
    versions.table.selectRow(0)  # roll back to the shipped model
    versions.use_button.click()
    qtbot.waitUntil(lambda: "Model: default" in window.model_label.text(), timeout=20_000)
    assert VersionStore(tmp_path / "data" / "models").current is None
    assert (tmp_path / "data" / "models" / "v0001").is_dir()
    assert isinstance(versions, VersionsDialog) and isinstance(dialog, FinetuneDialog)
    versions.close()
    (tmp_path / "data" / "models" / INDEX_FILE).write_text("{broken")  # the index damaged: said, nothing switched
    assert window.open_versions() is None
    assert "Cannot list the model versions" in window.statusBar().currentMessage()
    assert "not valid JSON" in window.statusBar().currentMessage()
    dialog.use_result()
    assert dialog.eta_label.text().startswith("Could not switch to v0001: ")
    assert "Model: default" in window.model_label.text()


def test_the_live_view_stands_still_while_fine_tuning_runs(qtbot, tmp_path, open_window, tiny_model, takes):
    sound = tmp_path / "word.wav"
    write_wav(sound, np.concatenate([np.zeros(8_000), tone_clip("rise", 40), np.zeros(8_000)]))
    window = open_window(tiny_model, SourceChoice(file=str(sound), loop=True), data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: len(window.update_seconds) > 0, timeout=10_000)  # listening, frames drawn
    dialog = window.open_finetune()
    long_run = replace(QUICK, user_repeats=64)  # thousands of steps: still running when the dialog is closed
    dialog.request = replace(dialog.request, data=(takes,), finetune=long_run, material=NO_SPEECH)
    dialog.epochs.setValue(dialog.epochs.maximum())
    dialog.start()
    assert window.live_paused and window.state_label.text().endswith("· live view paused while fine-tuning")
    drawn, built = len(window.update_seconds), window.engine.frames_built
    qtbot.waitUntil(lambda: window.engine.frames_built > built + 5, timeout=10_000)  # still listening...
    assert len(window.update_seconds) == drawn and dialog.running  # ...but nothing drawn
    said = []
    dialog.running_changed.connect(said.append)
    dialog.close()  # closing it while it runs cancels it, and the live view goes on
    assert not window.live_paused and window.state_label.text() == f"Listening to {window.choice.title}"
    qtbot.waitUntil(lambda: len(window.update_seconds) > drawn, timeout=10_000)
    qtbot.waitUntil(lambda: dialog.eta_label.text().startswith("Cancelled"), timeout=10_000)  # the worker, later
    assert said == [False]  # said once: a dialog running by then would have stayed paused


def worker_result(scores: dict, misheard: list[dict], **fields) -> dict:
    """What the fine-tune worker's `finished` carries for `scores` (held-out accuracy before and after alike), with
    `fields` changed: version v0001, one "fall" take of five held out, no new label, nothing unreadable."""
    return {
        "version": "v0001",
        "path": "",
        "before": scores,
        "after": {**scores, "misheard": misheard},
        "seconds": {"training": 1.0},
        "new_labels": [],
        "unreadable": [],
        "old_words": {},
        "counts": {"train_takes": {"fall": 4}, "held_out": {"fall": 1}},
        **fields,
    }


def test_a_take_is_looked_inside_from_the_takes_list_and_the_misheard_list(qtbot, tmp_path, open_window, tiny_model):
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    saved = window.recorder.store.save("fall", tone_clip("rise", 1))  # filed under the wrong word
    window.recorder.refresh()
    window.recorder.select_take(saved.name)
    window.tabs.setCurrentWidget(window.recorder)
    window.recorder.look_inside_selected()
    panel = window.gate_panel
    qtbot.waitUntil(lambda: panel.title != "", timeout=10_000)
    assert window.tabs.currentWidget() is window.inside and panel.frozen
    expected = predict_probabilities(load_checkpoint(tiny_model).model, read_audio(saved.path)[None])[0]
    np.testing.assert_allclose(panel.frame.probabilities, expected, atol=1e-5)  # the trace path, as the fast one
    heard = window.model_info["labels"][int(expected.argmax())]
    assert panel.window_label.text() == (
        f"held: take {saved.name} with {window.model_info['name']}, heard as “{heard}” {expected.max():.0%}"
    )
    assert panel.frame.gates.states.shape[2:4] == (6, 101)  # i, f, g, o, c and h over the 101 frames of 1 s

    dialog = window.open_finetune()  # a misheard take, with the new model (a folder not in use)
    other = tmp_path / "v0001"
    shutil.copytree(tiny_model, other)
    misheard = [{"take": saved.name, "path": str(saved.path), "label": "fall", "taken_for": "rise", "confidence": 0.9}]
    scores = {"accuracy": 0.0, "n": 1, "per_label": {"fall": {"accuracy": 0.0, "n": 1, "confused_with": {"rise": 1}}}}
    dialog._finished(worker_result(scores, misheard, path=str(other)))
    dialog.misheard.setCurrentRow(0)
    dialog.look_inside_misheard()
    qtbot.waitUntil(lambda: panel.title.startswith(f"take {saved.name} with v0001"), timeout=10_000)
    window.recorder.store.delete(window.recorder.store.takes()[0])
    dialog.look_inside_misheard()  # gone since: said so in the dialog, the panel keeps what it shows
    assert "Cannot look inside it" in dialog.misheard_label.text()


def test_new_words_firing_on_other_words_brings_a_button_to_record_them(qtbot, tmp_path, open_window, tiny_model):
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    dialog = window.open_finetune()
    scores = {"accuracy": 1.0, "n": 1, "per_label": {"fall": {"accuracy": 1.0, "n": 1, "confused_with": {}}}}

    def check(kept_after: float) -> dict:
        return {
            when: {
                "commands": 1.0,
                "commands_n": 8,
                "per_command": {},
                "others_kept": kept,
                "others_n": 80,
                "others_taken_for": {},
                "others_heard_as": {},
            }
            for when, kept in (("before", 0.9), ("after", kept_after))
        }

    def buttons() -> list[str]:
        widgets = (dialog.review_row.itemAt(i).widget() for i in range(dialog.review_row.count()))
        return [widget.text() for widget in widgets if widget is not None]

    for kept_after, shown in ((0.85, []), (0.7, ["Record words that fire, as _unknown_"])):  # 5 and 20 points fewer
        dialog._finished(worker_result(scores, [], old_words=check(kept_after)))
        qtbot.waitUntil(lambda shown=shown: buttons() == shown)  # the last result's buttons go on the next loop
        assert dialog.misheard.count() == 0 and dialog.misheard.hint == "Every held-out take was heard right."
    [button] = [
        dialog.review_row.itemAt(i).widget()
        for i in range(dialog.review_row.count())
        if dialog.review_row.itemAt(i).widget() is not None
    ]
    button.click()
    assert window.tabs.currentWidget() is window.recorder and window.recorder.current_label() == "_unknown_"


def test_dialog_lists_the_misheard_takes_plays_shows_and_follows_them(qtbot, tmp_path, open_window, tiny_model):
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    saved = window.recorder.store.save("fall", tone_clip("rise", 1))  # filed under the wrong word
    window.recorder.refresh()
    dialog = window.open_finetune()
    take, name = saved.path, saved.name
    misheard = [
        {"take": name, "path": str(take), "label": "fall", "taken_for": "rise", "confidence": 0.91},
        {
            "take": "fall/gone.wav",
            "path": str(take.with_name("gone.wav")),
            "label": "fall",
            "taken_for": "dip",
            "confidence": 0.6,
        },
    ]
    scores = {
        "accuracy": 0.5,
        "n": 4,
        "per_label": {"fall": {"accuracy": 0.5, "n": 4, "confused_with": {"rise": 1, "dip": 1}}},
    }
    dialog._finished(
        worker_result(
            scores,
            misheard,
            unreadable=[str(take.with_name("bad.wav"))],
            counts={"train_takes": {"fall": 16, "dip": 3}, "held_out": {"fall": 4}},
        )
    )
    assert [dialog.misheard.item(row).text() for row in range(2)] == [
        f"fall → rise (91%)  {take.name}",
        "fall → dip (60%)  gone.wav",
    ]
    assert dialog.advice.text().startswith("Left out 1 take that could not be read: fall/bad.wav. Record it again")
    assert "No held-out takes of dip (3 takes), so the comparison leaves it out" in dialog.advice.text()
    played = []
    window.play_requested.connect(lambda audio, rate: played.append((audio, rate)))
    dialog.misheard.setCurrentRow(0)
    dialog.play_misheard()
    assert len(played) == 1 and played[0][1] == 16_000 and np.allclose(played[0][0], read_audio(take), atol=1e-4)
    dialog.misheard.setCurrentRow(1)  # deleted since: said so, nothing played, the dialog goes on
    dialog.play_misheard()
    assert len(played) == 1 and "Cannot play it" in dialog.misheard_label.text()
    window.tabs.setCurrentIndex(0)
    dialog.misheard.setCurrentRow(0)
    dialog.show_misheard()  # to relabel or delete it: the takes list comes up with it selected
    assert window.tabs.currentWidget() is window.recorder and window.recorder.selected_take().name == name
    dialog.misheard.setCurrentRow(1)
    dialog.show_misheard()
    assert "No take fall/gone.wav" in window.recorder.message_label.text()
    assert window.recorder.selected_take().name == name  # the selection stays where it was
    window.recorder.relabel_selected("fall")  # the label it has: nothing moves, nothing is marked
    assert dialog.misheard.item(0).text() == f"fall → rise (91%)  {take.name}"
    window.recorder.relabel_selected("rise")  # the user fixes the take: its entry follows it
    first = dialog.misheard.item(0)
    assert first.text() == f"[now under rise]  fall → rise (91%)  {take.name}"
    assert first.data(Qt.ItemDataRole.UserRole)["take"] == f"rise/{take.name}"
    dialog.misheard.setCurrentRow(0)
    dialog.play_misheard()
    assert len(played) == 2 and np.allclose(played[1][0], played[0][0])
    window.recorder.delete_selected()
    assert first.text() == f"[deleted]  fall → rise (91%)  {take.name}"
    assert not first.flags() & Qt.ItemFlag.ItemIsEnabled
    window.recorder.undo_delete()  # back where it was deleted from, under "rise"
    assert first.text() == f"[now under rise]  fall → rise (91%)  {take.name}"
    assert first.flags() & Qt.ItemFlag.ItemIsEnabled
    assert dialog.misheard.item(1).text() == "fall → dip (60%)  gone.wav"  # other entries stay as they were
    window.recorder.store.save("fall", tone_clip("fall", 2))  # beside the take now under "rise"
    window.tabs.setCurrentIndex(0)
    [review] = [
        dialog.review_row.itemAt(index).widget()
        for index in range(dialog.review_row.count())
        if dialog.review_row.itemAt(index).widget() is not None
    ]
    assert review.text() == "Review fall's takes"  # the word below 95 %
    review.click()  # its takes, alone, where more can be recorded
    recorder = window.recorder
    assert window.tabs.currentWidget() is recorder and recorder.current_label() == "fall"
    assert recorder.only_label.isChecked()
    shown = [recorder.take_list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(recorder.take_list.count())]
    assert shown and {take.label for take in shown} == {"fall"}
    empty = {"accuracy": None, "n": 0, "per_label": {}}  # no word with 5 takes: nothing held out
    dialog._finished(
        worker_result(
            empty, [], version="v0002", new_labels=["fall"], counts={"train_takes": {"fall": 3}, "held_out": {}}
        )
    )
    assert (
        dialog.eta_label.text()
        == "Saved as version v0002: no takes held out to compare (training 1 s). New labels: fall."
    )
    assert dialog.advice.text().startswith("No held-out takes of fall (3 takes), so the comparison leaves it out")
    assert dialog.misheard.count() == 0 and dialog.misheard.hint == ""  # nothing held out: no "all heard right"
    dialog.close()


def test_dialog_draws_the_curves_twice_a_second_and_says_what_follows_the_last_step(
    qtbot, tmp_path, open_window, tiny_model
):
    window = open_window(tiny_model, autostart=False, data_dir=str(tmp_path / "data"))
    qtbot.waitUntil(lambda: bool(window.model_info), timeout=10_000)
    dialog = window.open_finetune()
    step = {"step": 1, "steps": 40, "epoch": 1, "epochs": 3, "loss": 0.5, "accuracy": 0.9, "elapsed": 9.0, "eta": 1.0}
    for number in range(1, 31):  # steps faster than the curves are redrawn
        dialog._progress("step", {**step, "step": number})
    assert dialog.progress_bar.value() == 30 and "about 1 s to go" in dialog.eta_label.text()
    assert dialog.loss_curve.getData()[0] is None  # not drawn yet: the redraw waits for the timer
    qtbot.waitUntil(lambda: dialog.loss_curve.getData()[0] is not None, timeout=2_000)
    assert len(dialog.loss_curve.getData()[0]) == len(dialog.accuracy_curve.getData()[0]) == 30
    dialog._progress("step", {**step, "step": 40, "elapsed": 10.0, "eta": 0.0})
    assert "refitting the output layer" in dialog.eta_label.text()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 40
    assert len(dialog.loss_curve.getData()[0]) == 31  # the last step is drawn at once
    dialog.close()
