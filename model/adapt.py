"""The whole fine-tune flow, shared by `finetune`, the app's worker and the bench.

base model + the user's takes (+ starter sets) -> a grown, fine-tuned model and a before / after
comparison on held-out takes:

1. takes are split per label: names in `validation_list.txt` / `testing_list.txt` are held out;
   without list files, `audio.takes.held_out` keeps back a fixed 20 % of each label (>= 5 takes);
2. base-vocabulary material is synthesized (and cached): clips of every base command, other
   words for `_unknown_` (none sounding like the new labels) and background for `_silence_`;
3. the head grows a row per new label, imprinted from that label's training clips;
4. `model.finetune.finetune` trains on takes + starter sets + base material, augmented, then
   refits the head on the fine-tuned embeddings;
5. the base and the new model are scored on the held-out takes, and the new model's wrong
   answers are listed, take by take.

`prepare` does steps 1 and 2 and scores the base model; the app's dialog runs it while it is open,
so that after Start only training and the new model's scores are left.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from audio.atomic import write_atomically
from audio.augment import AugmentConfig, Augmenter, load_noise_bank
from audio.config import FeatureConfig
from audio.dataset import AUDIO_SUFFIXES, LIST_FILES, Clip, ClipSet, label_folders, load_clips
from audio.labels import SILENCE, UNKNOWN, validate_label
from audio.synthesis.engines import ENGINE_NAMES
from audio.synthesis.starter import base_material
from audio.takes import HELD_OUT_MIN_TAKES, file_stamp, held_out
from model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_checkpoint
from model.classifier import KeywordClassifier
from model.device import resolve_device, torch_threads
from model.evaluation import predict_logits, predict_probabilities
from model.finetune import FinetuneConfig, finetune, take_repeats
from model.grow import grow_labels

log = logging.getLogger(__name__)

Progress = Callable[[str, dict], None]  # (phase, values): "material" {done, total}, "step" StepReport fields


@dataclass(frozen=True)
class MaterialConfig:
    """Base-vocabulary material mixed into fine-tuning, per base label."""

    per_word: int = 16
    # Other words for `_unknown_`: the more different words, the fewer of them the new words fire
    # on. `python -m bench.own_voice ... --cache DIR --unknown N --seed S`, S in 0-4: after
    # fine-tuning, real_dev's other words were heard as `_unknown_` 43.4 % of the time (mean) with
    # 32, 57.9 % with 96 (79.1 % before), held-out takes 95.9 % and 95.8 %, real_dev's commands
    # 76.9 % both, about a second more training. 160 gave no more (55.1 %) and took longer.
    unknown: int = 96
    silence: int = 16
    # The old-words check (`old_words`): each base command and other words said by the test voices,
    # which neither the shipped model nor this material heard.
    check_per_word: int = 8
    check_unknown: int = 80
    seed: int = 0
    engines: tuple[str, ...] = ENGINE_NAMES
    noise_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        counts = {
            "per_word": self.per_word,
            "unknown": self.unknown,
            "silence": self.silence,
            "check_per_word": self.check_per_word,
            "check_unknown": self.check_unknown,
        }
        if negative := [f"{name} {value}" for name, value in counts.items() if value < 0]:
            raise ValueError(f"clip counts cannot be negative: {', '.join(negative)}")


# Gentler than training's augmentation: with five takes a word, noise down to -5 dB SNR and
# frequent SpecAugment masks bury the little the user gave. `python -m bench.own_voice --seed S`
# for S in 0-2, from the previous default model (default training augmentation): 95.1-95.2 % on
# held-out takes, against 92.9-94.8 % with training's settings
# (`--augment noise_prob=0.8 --augment snr_db_range=-5,25 --augment specaugment_prob=0.5`).
FINETUNE_AUGMENT = AugmentConfig(noise_prob=0.5, snr_db_range=(5.0, 30.0), specaugment_prob=0.2)


@dataclass(frozen=True)
class AdaptRequest:
    base: Path
    data: tuple[Path, ...]  # the user's takes: split into training and held-out
    extra: tuple[Path, ...] = ()  # training only: synthesized starter sets
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    material: MaterialConfig = field(default_factory=MaterialConfig)
    augment: AugmentConfig = FINETUNE_AUGMENT
    cache_dir: Path | None = None  # where base material is kept between runs
    device: str = "cpu"  # or "auto", "cuda", "mps": resolved by model.device.resolve_device
    threads: int | None = None  # torch CPU threads while fine-tuning (None: as set; torch's default is every core)

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")


@dataclass
class AdaptOutcome:
    """`model` is None when the run was stopped; figures are `accuracy`'s {accuracy, n, per_label},
    and `after` also lists the held-out takes the new model mishears (`misheard`)."""

    model: KeywordClassifier | None
    base_labels: tuple[str, ...]
    new_labels: tuple[str, ...]
    counts: dict[str, dict[str, int]]
    before: dict
    after: dict
    seconds: dict[str, float]
    history: list[dict]
    stopped: bool = False
    unreadable: list[str] = field(default_factory=list)  # takes left out: files that could not be read
    old_words: dict = field(default_factory=dict)  # {"before": old_words(...), "after": ...}; {} when not checked

    def summary(self) -> dict:
        """Plain values for a checkpoint's training summary, JSON output and the app."""
        return {
            "base_labels": list(self.base_labels),
            "new_labels": list(self.new_labels),
            "counts": self.counts,
            "before": self.before,
            "after": self.after,
            "seconds": self.seconds,
            "stopped": self.stopped,
            "unreadable": self.unreadable,
            "old_words": self.old_words,
        }


Labelled = list[tuple[Path, str]]  # (file, label) pairs


def split_takes(roots: Sequence[Path], train_only: bool = False) -> tuple[Labelled, Labelled]:
    """(training, held-out) lists of (path, label) from Speech Commands folders."""
    train, held = [], []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such data folder; give a folder with one sub-folder per label")
        listed = set()
        for name in LIST_FILES.values():
            if (root / name).is_file():
                listed |= {line.strip() for line in (root / name).read_text().splitlines() if line.strip()}
        for folder in label_folders(root):
            label = validate_label(folder.name)
            names = [
                f"{folder.name}/{p.name}"
                for p in sorted(folder.iterdir())
                if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
            ]
            kept = set() if train_only else listed if listed else held_out(names)
            for name in names:
                (held if name in kept else train).append((root / name, label))
    return train, held


def accuracy(
    model: KeywordClassifier, clips: np.ndarray, labels: Sequence[str], paths: Sequence[str | Path] | None = None
) -> dict:
    """{accuracy, n, per_label: {label: {accuracy, n, confused_with: {predicted: count}}}}.

    `confused_with` counts the wrong answers for that label, most frequent first; a label the
    model lacks is always wrong. With the clips' `paths`, `misheard` lists each wrong answer,
    most confident first, so the takes behind the counts can be found and played:
    {take: "label/file", path, label, taken_for, confidence}.
    """
    if not len(clips):
        return {"accuracy": None, "n": 0, "per_label": {}, **({"misheard": []} if paths is not None else {})}
    probabilities = predict_probabilities(model, clips)  # (clips, classes)
    predicted = [model.labels[i] for i in probabilities.argmax(axis=1)]
    right = np.array([p == t for p, t in zip(predicted, labels)])
    per_label = {}
    for label in dict.fromkeys(labels):
        wrong = Counter(p for p, t in zip(predicted, labels) if t == label and p != label)
        per_label[label] = {
            "accuracy": float(right[[t == label for t in labels]].mean()),
            "n": labels.count(label),
            "confused_with": dict(wrong.most_common()),
        }
    result = {"accuracy": float(right.mean()), "n": len(labels), "per_label": per_label}
    if paths is not None:
        confidence = probabilities.max(axis=1)
        misses = sorted(np.flatnonzero(~right), key=lambda i: -confidence[i])
        result["misheard"] = [
            {
                "take": f"{Path(paths[i]).parent.name}/{Path(paths[i]).name}",
                "path": str(paths[i]),
                "label": labels[i],
                "taken_for": predicted[i],
                "confidence": round(float(confidence[i]), 3),
            }
            for i in misses
        ]
    return result


# Below this on its held-out takes a word wants more takes. Five takes a word gave 91-96 % on
# the own-voice bench's held-out takes, depending on which five, ten 96.4-97.6 % and twenty
# 96.4-98.3 % (docs/fine-tuning.md, "How many takes"); misses are about twice as frequent in
# recording sessions the training takes did not cover.
WEAK_ACCURACY = 0.95


def weak_labels(after: dict, threshold: float = WEAK_ACCURACY) -> dict[str, float]:
    """{label: accuracy} for labels below `threshold` on their held-out takes, weakest first.

    `after` is an `accuracy` result, which has entries only for labels with held-out takes: the
    others are never named.
    """
    scored = sorted(((label, stats["accuracy"]) for label, stats in after["per_label"].items()), key=lambda s: s[1])
    return {label: value for label, value in scored if value < threshold}


def more_takes_advice(after: dict, threshold: float = WEAK_ACCURACY) -> str:
    """What to record more of, naming the words below `threshold`; "" when every word reaches it."""
    weak = weak_labels(after, threshold)
    if not weak:
        return ""
    words = ", ".join(f"{label} ({value:.1%})" for label, value in weak.items())
    return (
        f"Below {threshold:.0%} on held-out takes: {words}. Record more takes of "
        f"{'this word' if len(weak) == 1 else 'these words'}, on another day or with another microphone "
        "if you can, and fine-tune again. Play their takes back too: one cut short or filed under the wrong word "
        "teaches the wrong thing."
    )


def unmeasured_note(counts: dict) -> str:
    """A sentence naming the labels trained on with none of their takes held out, which the comparison therefore
    leaves out; "" when every label has some. `counts` is `AdaptOutcome.counts`."""
    held = counts.get("held_out", {})
    unmeasured = [(label, n) for label, n in counts.get("train_takes", {}).items() if not held.get(label)]
    if not unmeasured:
        return ""
    names = ", ".join(f"{label} ({n}{' takes' * (not index)})" for index, (label, n) in enumerate(unmeasured))
    return (
        f"No held-out takes of {names}, so the comparison leaves {'it' if len(unmeasured) == 1 else 'them'} out: "
        f"a word needs {HELD_OUT_MIN_TAKES} takes or more for one in five to be held out."
    )


def unreadable_note(unreadable: Sequence[str], shown: int = 5) -> str:
    """A sentence naming the takes left out because they could not be read; "" when there are none."""
    if not unreadable:
        return ""
    names = [f"{Path(path).parent.name}/{Path(path).name}" for path in unreadable]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return (
        f"Left out {len(names)} take{'s' * (len(names) > 1)} that could not be read: "
        f"{', '.join(names[:shown])}{more}. Record {'them' if len(names) > 1 else 'it'} again or delete "
        f"{'them' if len(names) > 1 else 'it'}."
    )


# A fall this large in other words kept `_unknown_` gets the advice. In nine cold runs of `python -m
# bench.own_voice ... --seed S` (docs/fine-tuning.md, "The old-words check") the check's other words
# fell from 86.2-95.0 % to 67.5-80.0 %, real_dev's from 79.1 % to 50.7-67.2 %. Five takes of a word
# recorded as `_unknown_` kept it `_unknown_` 96.1 % of the time instead of 70.8 % (six runs of
# `--unknown-takes`, "The speaker's own other words"); words not recorded were not helped.
OTHERS_FALL_ADVISED = 0.10


def fires_on_other_words(checked: dict) -> bool:
    """Whether the old-words check (`AdaptOutcome.old_words`) kept OTHERS_FALL_ADVISED fewer other words
    `_unknown_` after fine-tuning than before: the new words fire on other words."""
    if not checked or not checked["after"]["others_n"]:
        return False
    return checked["before"]["others_kept"] - checked["after"]["others_kept"] >= OTHERS_FALL_ADVISED


def old_words_note(checked: dict, shown: int = 3) -> str:
    """The old-words check in a sentence or two; "" when it did not run.

    `checked` is `AdaptOutcome.old_words`: {"before": old_words(...), "after": old_words(...)}.
    """
    if not checked:
        return ""
    before, after = checked["before"], checked["after"]
    parts = []
    if after["commands_n"]:
        parts.append(f"commands {before['commands']:.1%} → {after['commands']:.1%} of {after['commands_n']}")
    if after["others_n"]:
        heard_as = after.get("others_heard_as", {})  # not in versions made before it was kept
        taken = ", ".join(
            f"{label} ×{count}"
            + (f" ({', '.join(heard_as[label][:2])}{', …' * (count > 2)})" if label in heard_as else "")
            for label, count in list(after["others_taken_for"].items())[:shown]
        )
        parts.append(
            f"other words kept _unknown_ {before['others_kept']:.1%} → {after['others_kept']:.1%} of "
            f"{after['others_n']}" + (f" (the others taken for {taken})" if taken else "")
        )
    text = "Old words, said by synthetic voices kept out of training: " + "; ".join(parts) + "."
    if fires_on_other_words(checked):
        text += (
            " Your words now answer for other words more often: if they fire when you did not say them, "
            "drag the threshold line up, or record the words they fire on as _unknown_ and fine-tune again."
        )
    return text


def cached_material(
    request: AdaptRequest,
    words: Sequence[str],
    per_word: int,
    unknown: int,
    silence: int,
    exclude: Sequence[str],
    on_progress: Progress | None,
    should_stop: Callable[[], bool],
    *,
    test_voices: bool = False,
    seed: int | None = None,
    phase: str = "material",
) -> tuple[np.ndarray, list[str], list[str]]:
    """Synthesized clips of `words` and other words as (clips (n, samples), labels, the words said),
    spoken by the test voices or by the others (`plan_speech`), from the cache when it holds this
    recipe; progress is reported as `phase`."""
    m = request.material
    recipe = {
        "words": list(words),
        "exclude": sorted(exclude),
        "per_word": per_word,
        "unknown": unknown,
        "silence": silence,
        "seed": m.seed if seed is None else seed,
        "engines": list(m.engines),
        "noise_dirs": list(m.noise_dirs),
        "test_voices": test_voices,
    }
    key = hashlib.sha1(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(request.cache_dir) / f"base-material-{key}.npz" if request.cache_dir else None
    if path is not None and path.is_file():
        try:
            with np.load(path) as cached:
                return (
                    cached["clips"],
                    [str(label) for label in cached["labels"]],
                    [str(text) for text in cached["texts"]],
                )
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:  # a cache must never block
            # KeyError: a cache from before the words said were kept
            log.warning("base material cache %s unusable (%s); synthesizing it again", path, error)
    clips, labels, said = base_material(
        words,
        per_word,
        unknown,
        silence,
        exclude=exclude,
        seed=recipe["seed"],
        noise_dirs=[Path(d) for d in m.noise_dirs],
        engines=m.engines,
        test_voices=test_voices,
        on_progress=lambda done, total: on_progress and on_progress(phase, {"done": done, "total": total}),
        should_stop=should_stop,
    )
    array = np.stack(clips).astype(np.float32) if clips else np.zeros((0, FeatureConfig().clip_samples), np.float32)
    if path is not None and not should_stop():
        write_atomically(path, lambda file: np.savez(file, clips=array, labels=np.array(labels), texts=np.array(said)))
    return array, labels, said


def check_material(
    request: AdaptRequest,
    words: Sequence[str],
    unknown: bool,
    exclude: Sequence[str],
    on_progress: Progress | None,
    should_stop: Callable[[], bool],
) -> tuple[np.ndarray, list[str], list[str]]:
    """The old-words check's clips, labels and words said: the base commands and other words, said by
    the test voices.

    Its other words are drawn with another seed than the material's, so they are words fine-tuning
    did not hear either. No test voice installed (only piper, say): no clips, and a warning.
    """
    m = request.material
    nothing = np.zeros((0, FeatureConfig().clip_samples), np.float32), [], []
    if not m.check_per_word and not (unknown and m.check_unknown):
        return nothing
    try:
        return cached_material(
            request,
            words,
            m.check_per_word,
            m.check_unknown if unknown else 0,
            0,
            exclude,
            on_progress,
            should_stop,
            test_voices=True,
            seed=m.seed + 1,
            phase="check",
        )
    except ValueError as error:
        log.warning("old-words check skipped: %s", error)
        return nothing


def old_words(model: KeywordClassifier, clips: np.ndarray, labels: Sequence[str], said: Sequence[str]) -> dict:
    """How `model` hears the base vocabulary from voices it never trained on: {commands, commands_n,
    per_command, others_kept, others_n, others_taken_for, others_heard_as}.

    `commands` is the accuracy on the command words (`per_command`: each word's); `others_kept` the
    share of other words (`said`) still answered `_unknown_`, which falls when new words fire on words
    that sound a little like them; `others_taken_for` counts what they were taken for, most often
    first, and `others_heard_as` names them: {label: [other words taken for it]}.
    """
    predicted = [model.labels[i] for i in predict_probabilities(model, clips).argmax(axis=1)]
    commands = [(answer, label) for answer, label in zip(predicted, labels) if label != UNKNOWN]
    others = [(answer, word) for answer, label, word in zip(predicted, labels, said) if label == UNKNOWN]
    per_command = {
        label: float(np.mean([answer == truth for answer, truth in commands if truth == label]))
        for label in dict.fromkeys(label for _, label in commands)
    }
    heard_as: dict[str, list[str]] = {}
    for answer, word in others:
        if answer != UNKNOWN:
            heard_as.setdefault(answer, []).append(word)
    return {
        "commands": float(np.mean([answer == label for answer, label in commands])) if commands else None,
        "commands_n": len(commands),
        "per_command": per_command,
        "others_kept": float(np.mean([answer == UNKNOWN for answer, _ in others])) if others else None,
        "others_n": len(others),
        "others_taken_for": {
            label: len(words) for label, words in sorted(heard_as.items(), key=lambda item: -len(item[1]))
        },
        "others_heard_as": heard_as,
    }


def request_takes(request: AdaptRequest) -> tuple[Labelled, Labelled, Labelled]:
    """(training takes, held-out takes, starter clips) of `request`, as (path, label) pairs."""
    train, held = split_takes(request.data)
    extra, _ = split_takes(request.extra, train_only=True)
    return train, held, extra


def require_takes(train: Labelled, extra: Labelled) -> None:
    """Raises ValueError when there is nothing of the user's to fine-tune on (`request_takes`' first and last)."""
    if not train and not extra:
        raise ValueError("no training takes found; record a few takes per word first")


def labels_to_add(base_labels: Sequence[str], pairs: Labelled) -> tuple[str, ...]:
    """The labels of `pairs` the base model lacks, in the order they first appear: the head's new rows."""
    return tuple(dict.fromkeys(label for _, label in pairs if label not in base_labels))


def base_vocabulary(
    request: AdaptRequest,
    base_labels: Sequence[str],
    new_labels: Sequence[str],
    on_progress: Progress | None,
    should_stop: Callable[[], bool],
) -> tuple[tuple[np.ndarray, list[str], list[str]], tuple[np.ndarray, list[str], list[str]]]:
    """The base material mixed into fine-tuning and the old-words check's clips, each as (clips, labels,
    words said), for a base model with `base_labels` taught `new_labels`; from the cache when it holds them."""
    labels = (*base_labels, *new_labels)
    words = [label for label in base_labels if label not in (UNKNOWN, SILENCE)]
    m = request.material
    material = cached_material(
        request,
        words,
        m.per_word,
        m.unknown if UNKNOWN in labels else 0,
        m.silence if SILENCE in labels else 0,
        new_labels,
        on_progress,
        should_stop,
    )
    check = check_material(request, words, UNKNOWN in labels, new_labels, on_progress, should_stop)
    return material, check


@dataclass
class Prepared:
    """What `adapt` works out before it trains, none of which Start changes: the base model, the takes loaded,
    the base vocabulary's material and check clips, and the base model's answers on them.

    The dialog makes this while the user reads it (`prepare`), so the time after Start is training and the
    new model's scores. `adapt` uses it only while `sources` still matches the request's inputs: a take
    recorded, relabelled or deleted meanwhile, or another base model, and it is worked out again.
    """

    sources: tuple
    base: KeywordClassifier
    new_labels: tuple[str, ...]
    train: Labelled  # the pairs whose file could be read
    extra: Labelled
    held: Labelled
    unreadable: list[str]
    user: ClipSet  # training takes and starter sets, labelled over the grown label set
    test: ClipSet  # held-out takes
    material: np.ndarray  # base material (clips, samples)
    material_labels: list[str]
    check: np.ndarray  # the old-words check's clips, labels and words said
    check_labels: list[str]
    check_said: list[str]
    before: dict  # the base model's `accuracy` on the held-out takes
    old_before: dict | None  # its `old_words` on the check; None without check clips
    teacher_logits: np.ndarray  # its logits on the base material (clips, base labels), for distillation
    noise: torch.Tensor | None  # the noise bank augmentation mixes in; None: none configured
    seconds: dict[str, float]  # "material" (synthesized or read from the cache) and "preparation" (the rest)


def request_sources(request: AdaptRequest, takes: tuple[Labelled, Labelled, Labelled]) -> tuple:
    """What `prepare` reads for `request`, whose `request_takes` are `takes`: its inputs, and each base-model
    file and take with its label, time and size, so that any take recorded, relabelled or deleted since
    changes the answer."""
    base_files = tuple((name, file_stamp(Path(request.base) / name)) for name in (CONFIG_FILE, WEIGHTS_FILE))
    stamps = tuple(tuple((str(path), label, file_stamp(path)) for path, label in pairs) for pairs in takes)
    return request.base, request.data, request.extra, request.material, request.device, base_files, stamps


def prepare(
    request: AdaptRequest, on_progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False
) -> Prepared | None:
    """Everything `adapt(request)` does before training (material synthesized or read from the cache, takes
    loaded, the base model scored); None when stopped. Raises as `adapt` does for bad input."""
    started = time.perf_counter()
    takes = train, held, extra = request_takes(request)
    sources = request_sources(request, takes)  # before anything is read: a take changed meanwhile shows at Start
    base = load_checkpoint(request.base, resolve_device(request.device)).model
    new_labels = labels_to_add(base.labels, [*train, *extra, *held])
    labels = (*base.labels, *new_labels)
    (material, material_labels, _), (check, check_labels, check_said) = base_vocabulary(
        request, base.labels, new_labels, on_progress, should_stop
    )  # first, so a dialog opened before any take still makes it while the user records
    if should_stop():
        return None
    require_takes(train, extra)
    material_seconds = time.perf_counter() - started
    user = load_clips([Clip(path, label, "train") for path, label in train + extra], labels, base.config.features)
    test = load_clips([Clip(path, label, "test") for path, label in held], labels, base.config.features)
    loaded = {*user.paths, *test.paths}
    unreadable = [str(path) for path, _ in [*train, *extra, *held] if str(path) not in loaded]  # load_clips warned
    train, extra, held = ([pair for pair in pairs if str(pair[0]) in loaded] for pairs in (train, extra, held))
    if not train and not extra:
        raise ValueError(f"nothing to fine-tune on. {unreadable_note(unreadable)}")
    noise_dirs = [Path(d) for d in request.material.noise_dirs]
    return Prepared(
        sources=sources,
        base=base,
        new_labels=new_labels,
        train=train,
        extra=extra,
        held=held,
        unreadable=unreadable,
        user=user,
        test=test,
        material=material,
        material_labels=material_labels,
        check=check,
        check_labels=check_labels,
        check_said=check_said,
        before=accuracy(base, test.waveforms, [labels[t] for t in test.targets]),
        old_before=old_words(base, check, check_labels, check_said) if len(check) else None,
        teacher_logits=predict_logits(base, material).numpy(),
        noise=load_noise_bank(noise_dirs, base.config.features.sample_rate) if noise_dirs else None,
        seconds={"material": material_seconds, "preparation": time.perf_counter() - started - material_seconds},
    )


def adapt(
    request: AdaptRequest,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    prepared: Prepared | None = None,
) -> AdaptOutcome:
    """Run the flow; raises ValueError / FileNotFoundError with a hint for bad input.

    `prepared` (from `prepare`) is used while it still matches the request; otherwise it is worked out
    again, and `seconds` counts that in. `request.threads` applies to the training loop only; scoring
    the takes runs on the caller's setting (every core unless the caller changed it), split over its
    torch threads.
    """
    started = time.perf_counter()
    timings = {"material": 0.0, "preparation": 0.0}  # spent here before training: none when prepared before
    if prepared is None or prepared.sources != request_sources(request, request_takes(request)):
        prepared = prepare(request, on_progress, should_stop)
        if prepared is None:  # stopped while it synthesized the material
            timings["total"] = time.perf_counter() - started
            return AdaptOutcome(None, (), (), {}, {}, {}, timings, [], stopped=True)
        timings.update(prepared.seconds)
    readied = time.perf_counter()
    base, user, material = prepared.base, prepared.user, prepared.material
    labels = (*base.labels, *prepared.new_labels)
    examples = {label: user.waveforms[user.targets == labels.index(label)] for label in prepared.new_labels}
    model = grow_labels(base, labels, examples)
    clips = ClipSet(
        np.concatenate([user.waveforms, material]),
        np.concatenate([user.targets, [labels.index(label) for label in prepared.material_labels]]).astype(np.int64),
        labels,
        [*user.paths, *[""] * len(material)],
    )
    own = np.array([str(path) for path, _ in prepared.train], dtype=object)
    repeats = np.ones(len(clips), np.int64)  # starter sets and base material: once an epoch
    takes = np.flatnonzero(np.isin(np.array(user.paths, dtype=object), own))
    repeats[takes] = take_repeats(user.targets[takes], request.finetune.user_repeats, request.finetune.full_takes)
    augmenter = Augmenter(request.augment, model.frontend, prepared.noise).to(model.device)
    timings["preparation"] += time.perf_counter() - readied
    torch.manual_seed(request.finetune.seed)
    teacher = np.full((len(clips), len(base.labels)), np.nan, np.float32)  # the base's answers on base material
    if len(material) and request.finetune.distill_weight:
        logits = torch.from_numpy(prepared.teacher_logits) / request.finetune.distill_temperature
        teacher[len(user) :] = torch.softmax(logits, dim=1).numpy()
    with torch_threads(request.threads):
        result = finetune(
            model,
            clips,
            request.finetune,
            repeats=repeats,
            teacher=teacher,
            augment=augmenter,
            on_step=lambda report: on_progress and on_progress("step", asdict(report)),
            should_stop=should_stop,
        )
    timings["training"] = result.seconds  # the head's refit included
    timings["head_refit"] = result.refit_seconds
    counts = {
        "train_takes": dict(Counter(label for _, label in prepared.train)),
        "starter": dict(Counter(label for _, label in prepared.extra)),
        "base_material": dict(Counter(prepared.material_labels)),
        "held_out": dict(Counter(label for _, label in prepared.held)),
    }
    history = [asdict(step) for step in result.steps]
    if result.stopped:
        timings["total"] = time.perf_counter() - started
        return AdaptOutcome(
            None,
            base.labels,
            prepared.new_labels,
            counts,
            prepared.before,
            {},
            timings,
            history,
            stopped=True,
            unreadable=prepared.unreadable,
        )
    evaluated = time.perf_counter()
    test = prepared.test
    after = accuracy(model, test.waveforms, [labels[t] for t in test.targets], test.paths)
    checked = (
        {
            "before": prepared.old_before,
            "after": old_words(model, prepared.check, prepared.check_labels, prepared.check_said),
        }
        if prepared.old_before
        else {}
    )
    timings["evaluation"] = time.perf_counter() - evaluated
    timings["total"] = time.perf_counter() - started
    return AdaptOutcome(
        model,
        base.labels,
        prepared.new_labels,
        counts,
        prepared.before,
        after,
        timings,
        history,
        unreadable=prepared.unreadable,
        old_words=checked,
    )


def train_summary(request: AdaptRequest, outcome: AdaptOutcome) -> dict:
    """What a fine-tuned checkpoint records about how it was made."""
    return {
        "kind": "finetune",
        "base": str(request.base),
        "data": [str(d) for d in request.data],
        "extra": [str(d) for d in request.extra],
        "finetune": request.finetune.to_dict(),
        "material": asdict(request.material),
        "augment": request.augment.to_dict(),
        **outcome.summary(),
    }
