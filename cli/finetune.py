"""`python main.py finetune --base DIR --data DIR [--data DIR] --out DIR [--json]`: adapt a model to your takes.

Starts from `--base`, grows the head for labels it lacks, mixes in synthesized base-vocabulary
material so old words are not forgotten, and prints the accuracy on held-out takes before and
after. Takes listed in a folder's validation_list.txt / testing_list.txt are held out; without
lists, 20 % of each label's takes (labels with 5 or more). Without --out the result is saved as
a new model version in the user data folder (what the app's Versions… lists).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from audio import user_dirs
from cli.common import add_device_option, run_command
from model.adapt import (
    AdaptRequest,
    MaterialConfig,
    adapt,
    more_takes_advice,
    old_words_note,
    request_takes,
    require_takes,
    train_summary,
    unmeasured_note,
    unreadable_note,
    weak_labels,
)
from model.checkpoint import DEFAULT_MODEL_DIR
from model.finetune import FinetuneConfig
from model.versions import VersionStore, parent_name, save_finetuned

MISHEARD_SHOWN = 10  # wrong takes the text output names; --json has them all


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxgate finetune", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base",
        metavar="DIR",
        help="model to start from (default: the version in use in the app, else the shipped model)",
    )
    parser.add_argument(
        "--data",
        action="append",
        metavar="DIR",
        help="your takes in Speech Commands layout, split into training and held-out (repeatable; "
        "default: the takes recorded in the app)",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="DIR",
        help="training-only clips, e.g. synthesized starting sets (repeatable; default with no "
        "--data: the app's starting sets)",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="model folder to write (default: a new version in the user data folder)"
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"user data folder (default: ${user_dirs.DATA_DIR_VARIABLE} or the platform's)",
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="where base material is kept between runs (default: DATA_DIR/cache; 'none' to synthesize every time)",
    )
    add_finetune_options(parser)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_device_option(parser)
    return parser


def add_finetune_options(parser: argparse.ArgumentParser) -> None:
    """The settings of fine-tuning and of its base material, as `finetune` and the own-voice bench take them."""
    defaults, material = FinetuneConfig(), MaterialConfig()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate, help="peak learning rate")
    parser.add_argument("--freeze", type=int, default=defaults.freeze_layers, help="lower recurrent layers kept fixed")
    parser.add_argument(
        "--lower-lr",
        type=float,
        default=defaults.lower_layer_lr,
        help="share of the learning rate for the trained recurrent layers below the top one, over 0 up to 1",
    )
    parser.add_argument("--repeats", type=int, default=defaults.user_repeats, help="times each take is seen per epoch")
    parser.add_argument(
        "--full-takes",
        type=int,
        default=defaults.full_takes,
        help="a word's takes are each seen --repeats times up to this many takes; more share their "
        "places, so fine-tuning takes no longer",
    )
    parser.add_argument(
        "--refit-copies",
        type=int,
        default=defaults.refit_copies,
        help="augmented copies of each take the head is refit on after training (0: no refit)",
    )
    parser.add_argument(
        "--refit-anchor",
        type=float,
        default=defaults.refit_anchor,
        help="how strongly the refit head is held to the fine-tuned one",
    )
    parser.add_argument(
        "--distill-weight",
        type=float,
        default=defaults.distill_weight,
        help="weight of the base model's answers on base material in the loss (0: none)",
    )
    parser.add_argument(
        "--contrastive-weight",
        type=float,
        default=defaults.contrastive_weight,
        help="weight of the supervised contrastive term, which pulls a label's clips together (0: none)",
    )
    parser.add_argument(
        "--contrastive-temperature",
        type=float,
        default=defaults.contrastive_temperature,
        help="temperature of the contrastive term's cosine similarities (lower: sharper)",
    )
    parser.add_argument(
        "--label-smoothing", type=float, default=defaults.label_smoothing, help="label smoothing of the loss, 0 to 1"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="threads each batch is split over, one core each (default 0: one per torch thread on the CPU)",
    )
    parser.add_argument("--per-word", type=int, default=material.per_word, help="synthesized clips per base command")
    parser.add_argument("--unknown", type=int, default=material.unknown, help="synthesized _unknown_ words")
    parser.add_argument("--silence", type=int, default=material.silence, help="background clips for _silence_")
    parser.add_argument(
        "--check-per-word",
        type=int,
        default=material.check_per_word,
        help="old-words check: clips of each base command said by voices kept out of training "
        "(0 with --check-unknown 0: no check)",
    )
    parser.add_argument(
        "--check-unknown",
        type=int,
        default=material.check_unknown,
        help="old-words check: other words said by those voices, which should stay _unknown_",
    )
    parser.add_argument(
        "--noise",
        action="append",
        default=[],
        metavar="DIR",
        help="background-noise WAVs for augmentation and _silence_ (default: synthetic noise)",
    )
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads while fine-tuning (default: as torch sets them, every core)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)


def finetune_settings(args: argparse.Namespace) -> tuple[FinetuneConfig, MaterialConfig]:
    """The settings `add_finetune_options` parsed; raises ValueError for one out of range."""
    finetune = replace(
        FinetuneConfig(),
        epochs=args.epochs,
        learning_rate=args.lr,
        freeze_layers=args.freeze,
        lower_layer_lr=args.lower_lr,
        user_repeats=args.repeats,
        full_takes=args.full_takes,
        refit_copies=args.refit_copies,
        refit_anchor=args.refit_anchor,
        distill_weight=args.distill_weight,
        label_smoothing=args.label_smoothing,
        contrastive_weight=args.contrastive_weight,
        contrastive_temperature=args.contrastive_temperature,
        workers=args.workers,
        seed=args.seed,
    )
    material = MaterialConfig(
        per_word=args.per_word,
        unknown=args.unknown,
        silence=args.silence,
        check_per_word=args.check_per_word,
        check_unknown=args.check_unknown,
        seed=args.seed,
        noise_dirs=tuple(args.noise),
    )
    return finetune, material


def make_request(args: argparse.Namespace) -> tuple[AdaptRequest, VersionStore | None]:
    root = user_dirs.data_dir(args.data_dir)
    versions = VersionStore(user_dirs.models_dir(root)) if not args.out or not args.base else None
    base = Path(args.base) if args.base else versions.current_path(DEFAULT_MODEL_DIR)
    data = [Path(d) for d in args.data] if args.data else [user_dirs.takes_dir(root)]
    extra = [Path(d) for d in args.extra]
    if not args.data and not extra and user_dirs.starter_dir(root).is_dir():
        extra = [user_dirs.starter_dir(root)]
    cache = None if args.cache == "none" else Path(args.cache) if args.cache else root / "cache"
    finetune, material = finetune_settings(args)
    request = AdaptRequest(
        base=base,
        data=tuple(data),
        extra=tuple(extra),
        finetune=finetune,
        material=material,
        cache_dir=cache,
        device=args.device,
        threads=args.threads,
    )
    return request, versions if not args.out else None


def run(args: argparse.Namespace) -> int:
    request, versions = make_request(args)
    train, _, extra = request_takes(request)
    require_takes(train, extra)  # before the material, which takes seconds to synthesize on a first run
    bar = tqdm(total=0, unit="clip", desc="base material", disable=args.json, file=sys.stderr)

    synthesizing = {"material": "base material", "check": "old-words check"}
    shown = {"phase": "material"}  # the bar's phase: the check's clips follow the material's, on a bar of their own

    def progress(phase: str, values: dict) -> None:
        if phase in synthesizing:
            if phase != shown["phase"]:
                shown["phase"] = phase
                bar.set_description_str(synthesizing[phase])
                bar.reset(total=values["total"])
            bar.total = values["total"]
            bar.update(values["done"] - bar.n)
        elif phase == "step":
            if values["step"] == 1:  # from here the bar counts steps, with the flow's own ETA (as the app's)
                bar.unit, bar.desc = "step", "fine-tune"
                bar.bar_format = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
                bar.reset(total=values["steps"])
            bar.update(1)
            bar.set_postfix_str(f"loss {values['loss']:.3f}, {values['eta']:.0f} s to go")

    with logging_redirect_tqdm():  # a skipped take's warning on a line of its own, not through the bar
        outcome = adapt(request, on_progress=progress)
    bar.close()
    summary = train_summary(request, outcome)
    if versions is not None:
        version = versions.add(outcome.model, parent_name(request.base), outcome.before, outcome.after, summary)
        out, version_id = version.path, version.id
    else:
        out = save_finetuned(outcome.model, args.out, str(request.base), outcome.before, outcome.after, summary)
        version_id = None
    result = {
        "out": str(out),
        "version": version_id,
        "base": str(request.base),
        "new_labels": list(outcome.new_labels),
        "held_out_clips": outcome.after["n"],
        "before": outcome.before["accuracy"],
        "after": outcome.after["accuracy"],
        "per_label": {
            label: {
                "n": stats["n"],
                "before": outcome.before["per_label"][label]["accuracy"],
                "after": stats["accuracy"],
                "confused_with": stats["confused_with"],
            }
            for label, stats in outcome.after["per_label"].items()
        },
        "weak_labels": weak_labels(outcome.after),
        "misheard": outcome.after["misheard"],
        "old_words": outcome.old_words,
        "counts": outcome.counts,
        "unreadable": outcome.unreadable,
        "seconds": {k: round(v, 2) for k, v in outcome.seconds.items()},
    }
    if args.json:
        print(json.dumps(result))
    else:
        shown = (
            "n/a"
            if outcome.after["accuracy"] is None
            else f"{outcome.before['accuracy']:.1%} -> {outcome.after['accuracy']:.1%}"
        )
        print(f"held-out takes ({outcome.after['n']}): {shown}")
        print(
            f"new labels: {', '.join(outcome.new_labels) or 'none'}; saved {out}"
            + (f" as version {version_id} (the app's Versions… switches to it)" if version_id else "")
        )
        print(f"took {outcome.seconds['total']:.1f} s (training {outcome.seconds['training']:.1f} s)")
        if misheard := outcome.after["misheard"]:
            print(f"{len(misheard)} held-out takes misheard, the most confident first (--json lists them all):")
            for error in misheard[:MISHEARD_SHOWN]:
                print(f"  {error['path']} taken for {error['taken_for']} ({error['confidence']:.0%})")
        for advice in (
            old_words_note(outcome.old_words),
            unreadable_note(outcome.unreadable),
            unmeasured_note(outcome.counts),
            more_takes_advice(outcome.after),
        ):
            if advice:
                print(advice)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
