"""`bench` runs end to end and reports every figure it promises (it asserts no speed)."""

import json
import math
import os
from functools import partial

import numpy as np
import pytest
import torch

from audio.dataset import ClipSet
from audio.io import read_audio, write_wav
from bench import app_finetune, finetune_workers, openmp_wait
from bench.import_takes import main as import_takes_main
from bench.own_voice import (
    build_parser,
    command_answers,
    few_shot_accuracy,
    labelled_takes,
    load_folders,
    other_word_answers,
    prepare_takes,
    probe_accuracy,
)
from bench.own_voice import main as own_voice_bench
from bench.seed_ensemble import ensemble_accuracies
from bench.seed_ensemble import main as seed_ensemble_bench
from bench.synthesis_lanes import main as synthesis_lanes
from bench.word_spans import main as word_spans_bench
from main import main
from model.adapt import MaterialConfig, accuracy
from model.checkpoint import load_checkpoint, save_checkpoint
from model.device import machine_summary
from model.finetune import FinetuneConfig
from model.grow import grow_labels
from model.openmp import WAITING, set_waiting
from tests.conftest import no_sound_devices, tone_clip, tone_word


def test_bench_reports_latency_ratio_and_throughput(tmp_path, capsys):
    threads = torch.get_num_threads()
    status = main(
        ["bench", "--json", "--runs", "50", "--train-clips", "64", "--model", str(tmp_path / "none"), "--threads", "1"]
    )
    assert status == 0 and torch.get_num_threads() == threads  # the setting does not leak
    report = json.loads(capsys.readouterr().out)
    assert report["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    (cpu,) = [entry for entry in report["results"] if entry["device"] == "cpu"]
    assert cpu["model"] == "untrained default architecture" and cpu["runs"] == 50 and cpu["threads"] == 1
    assert cpu["fast_ms"] > 0 and cpu["trace_ms"] > 0
    assert abs(cpu["trace_over_fast"] - cpu["trace_ms"] / cpu["fast_ms"]) < 1e-9
    assert cpu["train_clips_per_s"] > 0
    assert main(["bench", "--runs", "50", "--train-clips", "16", "--model", str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"on {machine_summary(report['machine'])}"


def test_bench_refuses_too_few_runs(capsys):
    assert main(["bench", "--runs", "10"]) == 2
    assert "at least 50" in capsys.readouterr().err


def test_own_voice_bench_splits_cuts_and_counts_clipped_takes(tmp_path):
    own_voice = tmp_path / "own_voice"
    for word in ("fall", "rise"):
        for speaker in range(4):
            take = np.concatenate([np.zeros(8_000, np.float32), tone_clip(word, speaker)])  # 1.5 s, untrimmed
            write_wav(own_voice / word / f"take{speaker}.wav", np.clip(take * 8, -1, 1) if speaker < 2 else take)
    split = prepare_takes(own_voice, ["fall", "rise"], 1, tmp_path / "takes")
    assert split["train"] == 2 and split["held_out"] == 6
    assert split["train_clipped"] + split["held_out_clipped"] == 4
    held = (tmp_path / "takes" / "testing_list.txt").read_text().split()
    assert len(held) == 6 and all((tmp_path / "takes" / name).is_file() for name in held)
    assert {read_audio(path).shape for path in (tmp_path / "takes").rglob("*.wav")} == {(16_000,)}


def test_own_voice_bench_synthesizes_starting_sets_the_size_the_app_makes():
    from app import recorder_panel

    assert build_parser().parse_args(["--own-voice", "takes"]).starter == recorder_panel.STARTER_CLIPS


def test_own_voice_bench_draws_are_repeatable_and_differ(tmp_path):
    own_voice = tmp_path / "own_voice"
    for speaker in range(6):
        write_wav(own_voice / "fall" / f"take{speaker}.wav", tone_clip("fall", speaker))

    def training_takes(draw: int, out: str) -> frozenset[str]:
        prepare_takes(own_voice, ["fall"], 2, tmp_path / out, draw)
        held = set((tmp_path / out / "testing_list.txt").read_text().split())
        return frozenset(f"fall/take{speaker}.wav" for speaker in range(6)) - held

    assert training_takes(3, "a") == training_takes(3, "b") and len(training_takes(3, "a")) == 2
    assert len({training_takes(draw, f"draw{draw}") for draw in range(6)}) > 1


def test_own_voice_bench_scores_every_take_count_on_the_same_held_out_takes(tmp_path):
    own_voice = tmp_path / "own_voice"
    for speaker in range(8):
        write_wav(own_voice / "fall" / f"take{speaker}.wav", tone_clip("fall", speaker))

    def split(takes: int, out: str) -> tuple[set[str], set[str]]:
        counts = prepare_takes(own_voice, ["fall"], takes, tmp_path / out, held_from=5)
        held = set((tmp_path / out / "testing_list.txt").read_text().split())
        written = {f"fall/{path.name}" for path in (tmp_path / out / "fall").glob("*.wav")}
        assert counts == {"train": takes, "held_out": 3, "train_clipped": 0, "held_out_clipped": 0}
        return written - held, held

    (one, held_one), (five, held_five) = split(1, "one"), split(5, "five")
    assert held_one == held_five and len(held_one) == 3  # the takes between are neither trained on nor scored
    assert one < five and not five & held_five
    with pytest.raises(ValueError, match="after the 5 training takes"):
        prepare_takes(own_voice, ["fall"], 5, tmp_path / "bad", held_from=4)
    with pytest.raises(ValueError, match="need more than 8"):
        prepare_takes(own_voice, ["fall"], 5, tmp_path / "bad", held_from=8)


TINY_BENCH = (
    "--words fall,rise --takes 2 --freeze 0 --epochs 1 --per-word 0 --unknown 0 --check-per-word 0 --check-unknown 0"
    " --threads 1 --json"
)


def write_tone_takes(own_voice, words=("fall", "rise"), speakers: int = 4) -> None:
    """A speaker stand-in for the benches: `speakers` takes of each tone word, a folder per word."""
    for speaker in range(speakers):
        for word in words:
            write_wav(own_voice / word / f"take{speaker}.wav", tone_clip(word, speaker))


def tiny_bench(own_voice, model) -> list[str]:
    """The own-voice bench's options for a tiny model, no base material and no old-words check: seconds, not minutes."""
    return ["--own-voice", str(own_voice), "--base", str(model), *TINY_BENCH.split()]


def test_own_voice_bench_keeps_the_takes_and_the_model_when_asked(tmp_path, tiny_model, capsys):
    own_voice, keep = tmp_path / "own_voice", tmp_path / "keep"
    write_tone_takes(own_voice)
    options = [*tiny_bench(own_voice, tiny_model), "--keep", str(keep)]
    assert own_voice_bench(options) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["machine"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()  # whose figures these are
    takes_seen = 4 * figures["repeats"]  # one epoch of two takes each of two words, no base material
    assert figures["epochs"] == 1 and figures["training_steps"] == math.ceil(takes_seen / FinetuneConfig().batch_size)
    assert figures["finetune_steal_share"] is None or 0 <= figures["finetune_steal_share"] <= 1  # None: not Linux
    assert figures["threads"] == figures["workers"] == 1  # one core's thread: the batch is not split
    held = (keep / "takes" / "testing_list.txt").read_text().split()
    assert len(held) == figures["held_out_clips"] == 4 and all((keep / "takes" / name).is_file() for name in held)
    assert all(error["take"] in held for error in figures["held_out_errors"])  # names to find them by
    kept = load_checkpoint(keep / "model")
    assert kept.model.labels == load_checkpoint(tiny_model).model.labels
    assert kept.metrics["held_out_after"]["accuracy"] == figures["held_out_after"]
    assert own_voice_bench(options) == 2  # a second run would mix its takes into the first one's
    assert "not empty" in capsys.readouterr().err


def test_own_voice_bench_prepares_before_the_clock_as_the_dialog_does(tmp_path, tiny_model, capsys, monkeypatch):
    import bench.own_voice
    import model.adapt

    own_voice = tmp_path / "own_voice"
    write_tone_takes(own_voice)
    done_while_timed, timed_adapt = [], bench.own_voice.adapt

    def watched(name):
        real = getattr(model.adapt, name)

        def call(*args, **kwargs):
            done_while_timed.append(name)
            return real(*args, **kwargs)

        return call

    def watched_adapt(request, **options):
        with monkeypatch.context() as patched:
            for name in ("base_material", "load_clips"):
                patched.setattr(model.adapt, name, watched(name))
            return timed_adapt(request, **options)

    monkeypatch.setattr(bench.own_voice, "adapt", watched_adapt)
    options = tiny_bench(own_voice, tiny_model)  # no words, but background clips for _silence_: material to make
    assert own_voice_bench([*options, "--prepare"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["prepare_seconds"] >= 0 and done_while_timed == []  # material and takes ready before the clock
    assert figures["held_out_clips"] == 4
    assert own_voice_bench(options) == 0
    assert json.loads(capsys.readouterr().out)["prepare_seconds"] is None
    assert set(done_while_timed) == {"base_material", "load_clips"}  # cold: the timed fine-tune did both


def test_own_voice_bench_scores_the_speakers_other_words_and_records_some_as_unknown(tmp_path, tiny_model, capsys):
    own_voice, keep = tmp_path / "own_voice", tmp_path / "keep"
    write_tone_takes(own_voice, ("fall", "rise", "flat"))
    for speaker in range(4):
        write_wav(own_voice / "hum" / f"take{speaker}.wav", tone_word(400.0, 0.0, seed=speaker))
    options = tiny_bench(own_voice, tiny_model)
    assert own_voice_bench([*options, "--others", "flat", "--unknown-takes", "hum", "--keep", str(keep)]) == 0
    figures = json.loads(capsys.readouterr().out)
    others, recorded = figures["own_others"], figures["recorded_others"]
    assert others["clips"] == recorded["clips"] == 2  # each word's first two takes are the ones a user records
    assert list(others["per_word_after"]) == ["flat"] and list(recorded["per_word_after"]) == ["hum"]
    assert others["kept"][0] == recorded["kept"][0] == 0.0  # the tiny model has no _unknown_ before
    assert sorted(path.name.split("-")[0] for path in (keep / "takes" / "_unknown_").iterdir()) == ["hum", "hum"]
    assert "_unknown_" in load_checkpoint(keep / "model").model.labels  # grown from the recorded takes
    assert own_voice_bench([*options, "--others", "fall"]) == 2  # taught and scored as another word at once
    assert "only one of them" in capsys.readouterr().err
    assert own_voice_bench([*options, "--threads", "0"]) == 2  # checked where finetune checks it
    assert "threads must be at least 1, got 0" in capsys.readouterr().err


def test_probe_tells_words_apart_only_when_they_differ(tmp_path, tiny_model):
    model = load_checkpoint(tiny_model).model
    takes = tmp_path / "takes"
    held = []
    for word, sounds_like in (("fall", "fall"), ("rise", "rise"), ("twin", "fall")):
        for speaker in range(10):
            write_wav(takes / word / f"{speaker}.wav", tone_clip(sounds_like, speaker + 30 * (word == "twin")))
            held.append(f"{word}/{speaker}.wav\n")
    (takes / "testing_list.txt").write_text("".join(held))
    # "fall" and "rise" are told apart; "twin" sounds like "fall", so a third of the takes is a coin toss
    assert 1 / 3 < probe_accuracy(model, labelled_takes(takes, model.config.features)[1]) < 0.9
    (takes / "testing_list.txt").write_text("".join(line for line in held if not line.startswith("twin")))
    assert probe_accuracy(model, labelled_takes(takes, model.config.features)[1]) == 1.0


def test_few_shot_probe_learns_from_the_training_takes_only(tmp_path, tiny_model):
    model = load_checkpoint(tiny_model).model
    takes = tmp_path / "takes"
    for word in ("fall", "rise"):
        for speaker in range(6):
            write_wav(takes / word / f"{speaker}.wav", tone_clip(word, speaker))
    held = [f"{word}/{speaker}.wav\n" for word in ("fall", "rise") for speaker in range(2, 6)]
    (takes / "testing_list.txt").write_text("".join(held))
    train, test = labelled_takes(takes, model.config.features)
    assert len(train) == 4 and len(test) == 8 and train.labels == test.labels == ("fall", "rise")
    assert few_shot_accuracy(model, train, test) == 1.0
    # the same takes with the training words swapped: the probe follows what it was taught
    swapped = ClipSet(train.waveforms, 1 - train.targets, train.labels, train.paths)
    assert few_shot_accuracy(model, swapped, test) == 0.0


def test_other_words_skip_commands_and_taught_words_and_name_what_fires(tmp_path, tiny_model):
    def other_word(seed: int) -> np.ndarray:  # a high level tone: none of the tiny model's words
        return tone_word(450.0, 0.0, seed=seed)

    model = grow_labels(
        load_checkpoint(tiny_model).model,
        ["_unknown_"],
        {"_unknown_": np.stack([other_word(seed) for seed in range(5)])},
    )
    real = tmp_path / "real"
    for folder, sound in (
        ("left", lambda s: tone_clip("rise", s)),
        ("fall", lambda s: tone_clip("fall", s)),
        ("bird", other_word),
        ("wow", lambda s: tone_clip("rise", s)),
    ):
        for seed in range(10, 13):
            write_wav(real / folder / f"{seed}.wav", sound(seed))
    # "left" is a base command and "fall" a taught word: neither counts as another word
    assert command_answers(real, known=("left", "fall")) == {"left": "left"}  # the commands scored for forgetting
    answers = other_word_answers(real, taught=["fall"])
    assert answers == {"bird": "_unknown_", "wow": "_unknown_"}
    scored = accuracy(model, *load_folders(real, answers, model.config.features))
    assert scored["n"] == 6 and scored["accuracy"] == 0.5
    assert scored["per_label"]["_unknown_"]["confused_with"] == {"rise": 3}


def test_synthesis_bench_times_one_lane_against_two(capsys):
    assert synthesis_lanes(["--per-word", "1", "--unknown", "2", "--repeats", "2", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["clips"] == figures["rendered"] == 12  # ten commands once, two other words
    assert all(len(times) == 2 and min(times) > 0 for times in figures["seconds"].values())
    medians = figures["median_seconds"]
    assert figures["speed_up"] == medians["1"] / medians["2"]


def test_workers_bench_times_the_real_fine_tune_scoring_and_refit_with_each_setting_in_turn(monkeypatch, capsys):
    seen = []  # (what, workers, steps or clips) of each fine-tune, scoring and refit the bench ran

    def recorded_finetune(model, clips, config, **options):
        result = real_finetune(model, clips, config, **options)
        seen.append(("finetune", config.workers, len(result.steps)))
        return result

    def recorded_scoring(model, waveforms, workers):
        seen.append(("scoring", workers, len(waveforms)))
        return real_scoring(model, waveforms[:4], workers=workers)  # four clips: the bench's timing, not its size

    def recorded_refit(model, clips, copies, features, generators, anchor, pool):
        seen.append(("refit", len(generators), int(copies.sum())))
        few = ClipSet(clips.waveforms[:4], clips.targets[:4], clips.labels, clips.paths[:4])
        return real_refit(model, few, copies[:4], features, generators, anchor, pool)

    real_finetune, real_scoring = finetune_workers.finetune, finetune_workers.predict_logits
    real_refit = finetune_workers.refit_on_clips
    monkeypatch.setattr(finetune_workers, "finetune", recorded_finetune)
    monkeypatch.setattr(finetune_workers, "predict_logits", recorded_scoring)
    monkeypatch.setattr(finetune_workers, "refit_on_clips", recorded_refit)
    assert finetune_workers.main(["--steps", "2", "--repeats", "2", "--workers", "1,2", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    steps, clips = 2 + finetune_workers.WARM_UP_STEPS, finetune_workers.SCORED_CLIPS
    one_turn = [
        [
            ("finetune", workers, steps),
            ("scoring", workers, clips // 8),
            ("scoring", workers, clips),
            ("refit", workers, finetune_workers.REFIT_COPIES),
        ]
        for workers in (1, 2)
    ]
    assert seen == [call for turn in one_turn * 2 for call in turn]
    for key in ("step_ms", "scoring_ms", "refit_ms"):
        assert all(len(runs) == 2 and min(runs) > 0 for runs in figures[f"{key}_runs"].values())
        assert figures[f"{key}_speed_over_first"]["1"] == 1.0
        assert figures[f"{key}_speed_over_first"]["2"] == figures[key]["1"] / figures[key]["2"]
    assert finetune_workers.main(["--workers", "0,2"]) == 2
    assert "--workers, --steps and --repeats must be at least 1" in capsys.readouterr().err


def test_openmp_waiting_defaults_give_way_to_the_users_own(monkeypatch):
    names = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    set_waiting()
    assert {name: os.environ[name] for name in WAITING} == WAITING
    for own in ({"OMP_WAIT_POLICY": "PASSIVE"}, {"GOMP_SPINCOUNT": "5"}):
        for name in names:
            monkeypatch.delenv(name, raising=False)
        for name, value in own.items():
            monkeypatch.setenv(name, value)
        set_waiting()
        assert {name: os.environ.get(name) for name in names} == {name: own.get(name) for name in names}


def test_openmp_bench_times_each_setting_in_its_own_process(monkeypatch, capsys):
    """Each child runs with its setting's variables alone: not the parent's, nor the app's default
    that importing the bench package sets."""
    monkeypatch.setattr(openmp_wait, "SETTINGS", {"passive": {"OMP_WAIT_POLICY": "PASSIVE"}, "unset": {}})
    monkeypatch.setenv("GOMP_SPINCOUNT", "7")
    assert openmp_wait.main(["--steps", "1", "--repeats", "1", "--second-team", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["waiting"] == {
        "passive": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": None},
        "unset": {"OMP_WAIT_POLICY": None, "GOMP_SPINCOUNT": None},
    }
    assert figures["second_team"] and set(figures["step_ms"]) == {"passive", "unset"}
    assert min(figures["step_ms"].values()) > 0
    assert figures["passive_over"]["unset"] == figures["step_ms"]["passive"] / figures["step_ms"]["unset"]


def test_word_spans_bench_counts_takes_per_file_and_names_the_odd_ones(tmp_path, capsys):
    rng = np.random.default_rng(3)
    quiet = rng.normal(0, 0.002, 8_000).astype(np.float32)
    word = tone_clip("rise", 0)
    write_wav(tmp_path / "left" / "once.wav", np.concatenate([quiet, word, quiet]))
    write_wav(tmp_path / "left" / "twice.wav", np.concatenate([quiet, word, quiet, quiet, word, quiet]))
    write_wav(tmp_path / "none" / "other.wav", np.concatenate([quiet, word, quiet, quiet, word, quiet]))
    assert word_spans_bench([str(tmp_path), "--skip", "none", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["files"] == 2 and figures["takes_per_file"] == {"1": 1, "2": 1}
    assert figures["not_one"] == [{"file": "left/twice.wav", "takes": 2}]


def test_import_bench_times_the_take_worker_into_a_new_folder_each_time(tmp_path, capsys):
    for n, word in enumerate(("rise", "fall")):
        pause = np.zeros(8_000)
        write_wav(tmp_path / word / f"{word}.wav", np.concatenate([pause, tone_clip(word, n), pause]))
    (tmp_path / "fall" / "broken.wav").write_bytes(b"not audio")
    assert import_takes_main([str(tmp_path), "--repeats", "2", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["takes"], figures["files"], figures["left_out"], len(figures["seconds"])) == (2, 2, 1, 2)
    assert not any(path.name == "takes.json" for path in tmp_path.rglob("*"))  # imported elsewhere, not into DIR
    assert import_takes_main([str(tmp_path), "--repeats", "0"]) == 2


def test_seed_ensembles_average_the_models_probabilities():
    truth = np.array([0, 1, 1])
    probabilities = np.array(
        [
            [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]],  # right on the first and last take
            [[0.6, 0.4], [0.1, 0.9], [0.3, 0.7]],  # right on every take
            [[0.2, 0.8], [0.7, 0.3], [0.4, 0.6]],  # right on the last take only
        ]
    )
    assert ensemble_accuracies(probabilities, truth, 1) == pytest.approx([2 / 3, 1, 1 / 3])
    # (0, 1): [0.75, 0.25], [0.35, 0.65], ... all right; (0, 2): the first take 0.55 right, the second wrong
    assert ensemble_accuracies(probabilities, truth, 2) == pytest.approx([1, 2 / 3, 2 / 3])
    assert ensemble_accuracies(probabilities, truth, 3) == pytest.approx([1])  # the middle take: 0.47 against 0.53


def test_seed_ensemble_bench_scores_kept_models_on_the_held_out_takes(tmp_path, tiny_model, capsys):
    takes = tmp_path / "takes"
    held = []
    for word in ("fall", "rise"):
        for speaker in range(3):
            write_wav(takes / word / f"{speaker}.wav", tone_clip(word, speaker))
            held.append(f"{word}/{speaker}.wav\n")
    (takes / "testing_list.txt").write_text("".join(held))
    model = load_checkpoint(tiny_model).model
    swapped = load_checkpoint(tiny_model).model  # hears "fall" as "rise" and back
    fall, rise = model.labels.index("fall"), model.labels.index("rise")
    with torch.no_grad():
        for tensor in (swapped.head.weight, swapped.head.bias):
            tensor[[fall, rise]] = tensor[[rise, fall]].clone()
    save_checkpoint(swapped, tmp_path / "swapped")
    models = [str(tiny_model), str(tiny_model), str(tmp_path / "swapped")]
    assert seed_ensemble_bench(["--takes", str(takes), "--models", *models, "--sizes", "3", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["held_out_takes"] == 6 and figures["single"] == [1.0, 1.0, 0.0]
    assert figures["ensembles"]["3"] == {"mean": 1.0, "min": 1.0, "max": 1.0, "groups": 1}  # two right outvote one
    assert seed_ensemble_bench(["--takes", str(takes), "--models", *models, "--sizes", "4"]) == 2
    assert "between 1 and the 3 models" in capsys.readouterr().err
    write_wav(takes / "hum" / "0.wav", tone_word(400.0, 0.0, seed=0))
    (takes / "testing_list.txt").write_text("".join(held) + "hum/0.wav\n")
    assert seed_ensemble_bench(["--takes", str(takes), "--models", *models]) == 2
    assert "the models were not taught hum" in capsys.readouterr().err


def test_app_bench_times_the_dialogs_fine_tunes_listening_and_stopped(tmp_path, tiny_model, monkeypatch, capsys, qapp):
    import app.main_window

    own_voice = tmp_path / "own_voice"
    write_tone_takes(own_voice)
    prepare_takes(own_voice, ["fall", "rise"], 2, tmp_path / "keep" / "takes")
    write_wav(tmp_path / "mic.wav", tone_clip("rise", 9))
    the_apps_request = app.main_window.AdaptRequest
    quick = {
        "finetune": FinetuneConfig(epochs=1, freeze_layers=0, user_repeats=2),
        "material": MaterialConfig(per_word=0, unknown=0, silence=4, check_per_word=0, check_unknown=0),
    }
    monkeypatch.setattr(app.main_window, "AdaptRequest", lambda **options: the_apps_request(**options, **quick))
    monkeypatch.setattr(app_finetune, "MainWindow", partial(app_finetune.MainWindow, sd=no_sound_devices()))
    options = ["--takes", str(tmp_path / "keep" / "takes"), "--model", str(tiny_model), "--json"]
    assert app_finetune.main([*options, "--file", str(tmp_path / "mic.wav"), "--repeats", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    runs = [figures["runs"][mode][0] for mode in app_finetune.MODES]
    assert [run["version"] for run in runs] == ["v0001", "v0002"]  # each timed fine-tune saved a version
    assert all(run["wall_seconds"] > run["training_seconds"] > 0 and run["steps"] >= 1 for run in runs)
    walls = [figures["medians"][mode]["wall_seconds"] for mode in app_finetune.MODES]
    assert figures["listening_over_stopped"] == walls[0] / walls[1]
    assert app_finetune.main([*options[:-1], "--takes", str(own_voice)]) == 2  # no held-out list: not a kept run
    assert "testing_list.txt" in capsys.readouterr().err
