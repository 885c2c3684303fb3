"""Own-voice bench: one speaker teaches the model, as a user would, and we measure what it costs.

    python -m bench.own_voice --own-voice ../shared/data/own_voice --real ../shared/data/real_dev [--json]

1. For each word, `--takes` takes are chosen (by a hash of the file name; `--draw K` for
   another choice) as the user's recordings; the rest are held out. Every take is cut with
   `audio.trim.cut_take`, as the recorder cuts a take, into a temporary takes folder whose
   `testing_list.txt` names the held-out ones.
2. Words the base model lacks get a synthesized starting set (the type-a-word path).
3. `model.adapt.adapt` fine-tunes (timed, base material synthesized cold unless --cache; the JSON adds the
   training steps and the share of the CPU the hypervisor took meanwhile, `finetune_steal_share`).
   With `--prepare`, all that comes before training (`model.adapt.prepare`: the material synthesized,
   the takes loaded, the base model scored) is done first and timed apart, as the fine-tune dialog
   does while it is open, so the clock times what a user waits for after Start.
4. Base and new model are scored on the held-out takes (per word, with what each word was
   taken for), on the base commands of `--real` (are old words forgotten?) and on its other
   words, those neither base commands nor taught (are they still `_unknown_`, or do the new
   words fire on them?); and by `adapt` itself on the old-words check, the app's stand-in for
   `--real`: the base commands and other words said by synthetic voices kept out of training
   (`old_words` in `--json`).
   With `--others`, the speaker's own other words are scored too: words of theirs never taught,
   which should stay `_unknown_`. With `--unknown-takes`, `--takes` takes of some words are
   recorded as `_unknown_`, as a user files words that must not fire; the rest of their takes
   are scored apart.
5. With `--probe`, linear probes ask how far the models' embeddings (the head's input) keep
   this speaker's words apart: a logistic regression trained on four fifths of the held-out
   takes (about 100 a word) and scored on the rest, five times over, for four different splits
   (few takes cannot do better than many, so this is a ceiling for any new head on these
   embeddings); and one trained on the training takes alone and scored on the held-out ones
   (what the embeddings give the same few takes, with nothing fine-tuned).
6. The held-out takes the fine-tuned model gets wrong are listed (`--errors`, and in `--json`)
   with what each was taken for, so they can be found and listened to. `--keep DIR` keeps the
   cut takes and the fine-tuned model (DIR/takes, DIR/model) for that, for the app and for
   `stream-eval`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from audio.clipping import is_clipped
from audio.config import FeatureConfig
from audio.dataset import Clip, ClipSet, label_folders, load_clips
from audio.io import read_audio, write_wav
from audio.labels import COMMAND_WORDS, UNKNOWN
from audio.synthesis.starter import STARTER_CLIPS, write_starter_set
from audio.trim import cut_take
from cli.common import run_command
from cli.finetune import add_finetune_options, finetune_settings
from model.adapt import (
    FINETUNE_AUGMENT,
    AdaptRequest,
    accuracy,
    adapt,
    old_words,
    old_words_note,
    prepare,
    split_takes,
    train_summary,
)
from model.checkpoint import DEFAULT_MODEL_DIR, load_checkpoint
from model.device import StolenTime, describe_machine, machine_summary, torch_threads
from model.finetune import warm_up_training, worker_count
from model.grow import embed
from model.versions import save_finetuned

WORDS = ("left", "right", "stop", "one", "two", "three", "four", "five", "back", "front")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.own_voice", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--own-voice", required=True, metavar="DIR", help="one speaker's takes, one folder per word")
    parser.add_argument(
        "--real",
        metavar="DIR",
        help="real speech in Speech Commands layout (its base commands and other words are scored)",
    )
    parser.add_argument("--base", default=str(DEFAULT_MODEL_DIR), metavar="DIR", help="model to start from")
    parser.add_argument("--words", default=",".join(WORDS), help="words the user teaches (comma-separated)")
    parser.add_argument("--takes", type=int, default=5, help="training takes per word (default 5)")
    parser.add_argument(
        "--others",
        default="",
        metavar="WORDS",
        help="the speaker's words to score as other words, never taught: do the new words fire "
        "on them? (comma-separated; default none)",
    )
    parser.add_argument(
        "--unknown-takes",
        default="",
        metavar="WORDS",
        help="the speaker's words whose first --takes takes are recorded as _unknown_; the rest "
        "are scored as other words too, apart from --others",
    )
    parser.add_argument(
        "--held-from",
        type=int,
        metavar="N",
        help="hold out only the takes from place N on in the draw's order (default: every take "
        "not trained on); the same N for every --takes scores them on the same takes",
    )
    parser.add_argument(
        "--draw", type=int, default=0, help="which takes train: 0 the usual ones, any other number another random draw"
    )
    parser.add_argument(
        "--starter",
        type=int,
        default=STARTER_CLIPS,
        help=f"synthesized clips per new word (default {STARTER_CLIPS}, as the app makes)",
    )
    add_finetune_options(parser)
    parser.add_argument(
        "--augment",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one fine-tuning augmentation setting (see audio/augment.py), repeatable",
    )
    parser.add_argument("--cache", metavar="DIR", help="keep base material here between runs (default: none, cold)")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="prepare before the clock starts (material, takes loaded, the base model scored), as the "
        "fine-tune dialog does before Start (timed apart: prepare_seconds)",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also score linear probes on the base and fine-tuned embeddings of the takes",
    )
    parser.add_argument("--errors", action="store_true", help="list the held-out takes the fine-tuned model gets wrong")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the cut takes (DIR/takes, held-out ones in its testing_list.txt), the starting sets "
        "and the fine-tuned model (DIR/model), and the base material unless --cache, in this new "
        "or empty folder, to play the misheard takes, open the model in the app or stream-eval it "
        "(default: a temporary folder)",
    )
    return parser


def prepare_takes(
    own_voice: Path, words: list[str], takes: int, out: Path, draw: int = 0, held_from: int | None = None
) -> dict[str, int]:
    """Cut every take of `words` into out/word/, listing all but `takes` per word as held out.

    The training takes are the first `takes` in an order set by a hash of the file name; each
    `draw` gives another order (0 is the bench's usual one). With `held_from`, only the takes
    from that place in the order on are held out and those between are left out, so runs with
    different `takes` are scored on the same held-out takes. Returns the count of training and
    held-out takes, and of those recorded clipped.
    """
    held_from = takes if held_from is None else held_from
    if held_from < takes:
        raise ValueError(f"held-out takes must come after the {takes} training takes, not from {held_from}")
    chosen, held = [], []
    for word in words:
        files = drawn(own_voice / word, draw)
        if len(files) <= held_from:
            raise ValueError(f"{own_voice / word}: {len(files)} takes, need more than {held_from}")
        chosen += files[:takes]
        held += files[held_from:]

    def cut(path: Path) -> bool:
        audio = read_audio(path)
        write_wav(out / path.parent.name / path.name, cut_take(audio))
        return is_clipped(audio)

    with ThreadPoolExecutor(max_workers=2) as pool:
        clipped = list(pool.map(cut, chosen + held))
    (out / "testing_list.txt").write_text("".join(f"{p.parent.name}/{p.name}\n" for p in held))
    return {
        "train": len(chosen),
        "held_out": len(held),
        "train_clipped": sum(clipped[: len(chosen)]),
        "held_out_clipped": sum(clipped[len(chosen) :]),
    }


def drawn(folder: Path, draw: int = 0) -> list[Path]:
    """`folder`'s takes in the order a draw sets: by a hash of the file name (and of `draw` unless 0)."""
    return sorted(
        folder.glob("*.wav"),
        key=lambda path: hashlib.sha1((f"{draw}-{path.name}" if draw else path.name).encode()).hexdigest(),
    )


def record_as_unknown(own_voice: Path, words: list[str], takes: int, out: Path, draw: int = 0) -> None:
    """Cut the first `takes` takes of each of `words` into out/_unknown_/, as a user records words that must
    not fire."""
    for word in words:
        for path in drawn(own_voice / word, draw)[:takes]:
            write_wav(out / UNKNOWN / f"{word}-{path.name}", cut_take(read_audio(path)))


def kept_unknown(models: Sequence, own_voice: Path, words: list[str], skip: int, draw: int = 0) -> dict:
    """Each model's share of the speaker's takes of `words` (cut as takes) heard as `_unknown_`, and the
    last model's per word and what it took the others for. The first `skip` takes of each word in the
    draw's order are left out: they are the ones `record_as_unknown` records, so recorded or not, the
    same takes are scored."""
    files = [path for word in words for path in drawn(own_voice / word, draw)[skip:]]
    clips = np.stack([cut_take(read_audio(path)) for path in files])
    said = [path.parent.name for path in files]
    scored = [old_words(model, clips, [UNKNOWN] * len(files), said) for model in models]
    last = scored[-1]
    wrong = Counter(word for heard in last["others_heard_as"].values() for word in heard)
    return {
        "clips": len(files),
        "kept": [result["others_kept"] for result in scored],
        "per_word_after": {word: 1 - wrong[word] / said.count(word) for word in words},
        "taken_for": last["others_taken_for"],
    }


def load_folders(real: Path, answers: dict[str, str], features: FeatureConfig) -> tuple[np.ndarray, list[str]]:
    """(clips, right labels) from `real`'s folders named in `answers`: {folder: the right label}."""
    labels = tuple(dict.fromkeys(answers.values()))
    clips = [
        Clip(path, label, "test") for folder, label in answers.items() for path in sorted((real / folder).glob("*.wav"))
    ]
    loaded = load_clips(clips, labels, features)
    return loaded.waveforms, [labels[t] for t in loaded.targets]


def command_answers(real: Path, known: Sequence[str]) -> dict[str, str]:
    """The base commands among `real`'s folders that the model knows, each its own right label."""
    return {
        folder.name: folder.name
        for folder in label_folders(real)
        if folder.name in COMMAND_WORDS and folder.name in known
    }


def other_word_answers(real: Path, taught: Sequence[str]) -> dict[str, str]:
    """`real`'s other words, which should be heard as `_unknown_`.

    Neither base commands nor `taught` words, so teaching "four" does not count a real "four" as
    a false alarm; `accuracy`'s `confused_with` then names the words that fire instead.
    """
    return {
        folder.name: UNKNOWN
        for folder in label_folders(real)
        if folder.name not in COMMAND_WORDS and folder.name not in taught
    }


def labelled_takes(takes: Path, features: FeatureConfig) -> tuple[ClipSet, ClipSet]:
    """(training, held-out) takes of a prepared folder, labelled by their words in sorted order."""
    train, held = split_takes([takes])
    words = tuple(sorted({word for _, word in train + held}))
    return tuple(
        load_clips([Clip(path, word, split) for path, word in pairs], words, features)
        for pairs, split in ((train, "train"), (held, "test"))
    )


def linear_probe():
    """Standardised embeddings -> logistic regression: the probes' classifier."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))


def probe_accuracy(model, clips: ClipSet, folds: int = 5, repeats: int = 4) -> float:
    """Cross-validated accuracy of a logistic regression on `model`'s embeddings of `clips`.

    Mean over `repeats` different `folds`-fold splits: one split alone moves the figure by about
    half a point.
    """
    features = embed(model, clips.waveforms).cpu().numpy()  # (clips, dirs * hidden)
    splits = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=0)
    return float(cross_val_score(linear_probe(), features, clips.targets, cv=splits).mean())


def few_shot_accuracy(model, train: ClipSet, held: ClipSet) -> float:
    """Accuracy on `held` of a logistic regression fitted to `model`'s embeddings of `train` alone."""
    probe = linear_probe().fit(embed(model, train.waveforms).cpu().numpy(), train.targets)
    return float(probe.score(embed(model, held.waveforms).cpu().numpy(), held.targets))


def run(args: argparse.Namespace) -> int:
    words = [word.strip() for word in args.words.split(",") if word.strip()]
    finetune, material = finetune_settings(args)
    base = load_checkpoint(args.base).model
    if args.keep and Path(args.keep).exists() and any(Path(args.keep).iterdir()):
        raise ValueError(f"--keep {args.keep}: the folder is not empty; give a new or empty one")
    with nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="voxgate-bench-") as temp:
        work = Path(temp)
        split = prepare_takes(Path(args.own_voice), words, args.takes, work / "takes", args.draw, args.held_from)
        other_words = [word.strip() for word in args.others.split(",") if word.strip()]
        recorded = [word.strip() for word in args.unknown_takes.split(",") if word.strip()]
        if missing := [word for word in other_words + recorded if not drawn(Path(args.own_voice) / word)]:
            raise ValueError(f"no takes of {', '.join(missing)} in {args.own_voice}")
        if clash := set(words) & set(other_words + recorded) or set(other_words) & set(recorded):
            raise ValueError(
                f"{', '.join(sorted(clash))}: a word is taught, scored as another word or recorded as "
                f"{UNKNOWN}, only one of them"
            )
        record_as_unknown(Path(args.own_voice), recorded, args.takes, work / "takes", args.draw)
        started = time.perf_counter()
        new_words = [word for word in words if word not in base.labels]
        starter_words = new_words if args.starter > 0 else []  # --starter 0: new words from takes alone
        for word in starter_words:
            write_starter_set(work / "starter", word, args.starter, seed=args.seed)
        starter_seconds = time.perf_counter() - started
        request = AdaptRequest(
            base=Path(args.base),
            data=(work / "takes",),
            extra=(work / "starter",) if starter_words else (),
            finetune=finetune,
            material=material,
            augment=FINETUNE_AUGMENT.with_settings(args.augment),
            cache_dir=Path(args.cache) if args.cache else work / "cache",
            threads=args.threads,
        )
        started = time.perf_counter()
        warm_up_training()  # as the app's dialog does before Start: the clock below is what the user waits for
        warm_up_seconds = time.perf_counter() - started
        prepare_seconds, prepared = None, None
        if args.prepare:  # as the dialog does while it is open, so the clock below starts at Start
            started = time.perf_counter()
            prepared = prepare(request)
            prepare_seconds = time.perf_counter() - started
        started, stolen = time.perf_counter(), StolenTime()
        outcome = adapt(request, prepared=prepared)
        wall = time.perf_counter() - started
        steal_share = stolen.share(wall)
        if args.keep:
            save_finetuned(
                outcome.model, work / "model", args.base, outcome.before, outcome.after, train_summary(request, outcome)
            )
        # the fine-tuned model's wrong answers, named as in the takes folder (label/file.wav), not by its path
        errors = [
            {key: error[key] for key in ("take", "taken_for", "confidence")} for error in outcome.after["misheard"]
        ]
        probe = {}
        if args.probe:
            train, held = labelled_takes(work / "takes", base.config.features)
            probe = {
                "probe_before": probe_accuracy(base, held),
                "probe_after": probe_accuracy(outcome.model, held),
                "few_shot_before": few_shot_accuracy(base, train, held),
                "few_shot_after": few_shot_accuracy(outcome.model, train, held),
            }
    with torch_threads(args.threads):  # as `adapt` trains
        workers = worker_count(finetune, torch.device(request.device))
    figures = {
        "machine": describe_machine(),
        "base": args.base,
        "words": words,
        "new_words": new_words,
        "draw": args.draw,
        "held_from": args.held_from,
        "takes": split,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "full_takes": args.full_takes,
        "threads": args.threads or torch.get_num_threads(),
        "workers": workers,
        "augment": args.augment,
        "starter_clips_per_new_word": args.starter,
        "starter_seconds": round(starter_seconds, 1),
        "warm_up_seconds": round(warm_up_seconds, 2),
        "prepare_seconds": None if prepare_seconds is None else round(prepare_seconds, 1),  # None: in the wall
        "finetune_wall_seconds": round(wall, 1),
        "finetune_seconds": {key: round(value, 1) for key, value in outcome.seconds.items()},
        "training_steps": len(outcome.history),  # the work done, which the seconds measure only in the hour they ran
        "finetune_steal_share": steal_share and round(steal_share, 3),  # None where the system does not say
        "held_out_before": outcome.before["accuracy"],
        "held_out_after": outcome.after["accuracy"],
        "held_out_clips": outcome.after["n"],
        "held_out_per_label": {k: v["accuracy"] for k, v in outcome.after["per_label"].items()},
        "held_out_confused_with": {k: v["confused_with"] for k, v in outcome.after["per_label"].items()},
        "counts": outcome.counts,
        **probe,
        "held_out_errors": errors,
        "old_words": outcome.old_words,
    }
    for key, scored_words in (("own_others", other_words), ("recorded_others", recorded)):
        if scored_words:
            figures[key] = kept_unknown(
                (base, outcome.model), Path(args.own_voice), scored_words, args.takes, args.draw
            )
    if args.real:
        real = Path(args.real)
        commands = load_folders(real, command_answers(real, base.labels), base.config.features)
        others = load_folders(real, other_word_answers(real, words), base.config.features)
        before, after = (accuracy(scored, *commands) for scored in (base, outcome.model))
        others_before, others_after = (accuracy(scored, *others) for scored in (base, outcome.model))
        figures.update(
            real_before=before["accuracy"],
            real_after=after["accuracy"],
            real_clips=after["n"],
            real_per_label_after={k: v["accuracy"] for k, v in after["per_label"].items()},
            real_per_label_before={k: v["accuracy"] for k, v in before["per_label"].items()},
            real_others_before=others_before["accuracy"],
            real_others_after=others_after["accuracy"],
            real_others_clips=others_after["n"],
            real_others_taken_for_after=others_after["per_label"].get(UNKNOWN, {}).get("confused_with", {}),
        )
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"takes recorded clipped: {split['train_clipped']} of {split['train']} training, "
            f"{split['held_out_clipped']} of {split['held_out']} held out"
        )
        print(
            f"held-out takes ({figures['held_out_clips']}): {figures['held_out_before']:.1%} -> "
            f"{figures['held_out_after']:.1%}"
        )
        for word, accuracy_after in figures["held_out_per_label"].items():
            confused = ", ".join(f"{other} {count}" for other, count in figures["held_out_confused_with"][word].items())
            print(f"  {word:<12} {accuracy_after:6.1%}" + (f"  taken for: {confused}" if confused else ""))
        if args.errors:
            for error in errors:
                print(f"  misheard {error['take']} as {error['taken_for']} ({error['confidence']:.0%})")
        if args.probe:
            print(
                f"linear probe on the held-out takes' embeddings: {probe['probe_before']:.1%} (base), "
                f"{probe['probe_after']:.1%} (fine-tuned); fitted to the training takes alone: "
                f"{probe['few_shot_before']:.1%} (base), {probe['few_shot_after']:.1%} (fine-tuned)"
            )
        if args.real:
            print(
                f"real base commands ({figures['real_clips']}): {figures['real_before']:.1%} -> "
                f"{figures['real_after']:.1%}"
            )
            taken_for = ", ".join(f"{word} {count}" for word, count in figures["real_others_taken_for_after"].items())
            print(
                f"real other words heard as {UNKNOWN} ({figures['real_others_clips']}): "
                f"{figures['real_others_before']:.1%} -> {figures['real_others_after']:.1%}; taken for: {taken_for}"
            )
        for key, what in (
            ("own_others", "the speaker's other words"),
            ("recorded_others", f"the speaker's words recorded as {UNKNOWN}, the other takes"),
        ):
            if key in figures:
                kept = figures[key]
                words_kept = ", ".join(f"{word} {share:.1%}" for word, share in kept["per_word_after"].items())
                taken_for = ", ".join(f"{word} {count}" for word, count in kept["taken_for"].items())
                print(
                    f"{what} heard as {UNKNOWN} ({kept['clips']}): {kept['kept'][0]:.1%} -> {kept['kept'][1]:.1%} "
                    f"({words_kept})" + (f"; taken for: {taken_for}" if taken_for else "")
                )
        if outcome.old_words:
            print(old_words_note(outcome.old_words))
        steal = "" if steal_share is None else f", the hypervisor taking {steal_share:.1%} of the CPU"
        prepared = "" if prepare_seconds is None else f"material prepared before Start {figures['prepare_seconds']} s; "
        print(
            f"fine-tune {figures['finetune_wall_seconds']} s {figures['finetune_seconds']}{steal}; "
            f"starter sets {figures['starter_seconds']} s; warm-up {figures['warm_up_seconds']} s; {prepared}"
            f"on {machine_summary(figures['machine'])}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
