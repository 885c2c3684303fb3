"""`python main.py synth --out DIR`: synthesize a Speech Commands corpus with the installed TTS engines.

Re-running with the same arguments keeps the clips already there, so an interrupted build
resumes. Engines that are not installed are skipped with a warning.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from audio.synthesis import DEFAULT_COMMANDS, ENGINE_NAMES, CorpusConfig, CorpusSummary, build_corpus
from cli.common import run_command


def _word_list(text: str) -> tuple[str, ...]:
    words = tuple(word.strip().lower() for word in text.split(",") if word.strip())
    if not words:
        raise argparse.ArgumentTypeError("give at least one word, e.g. --words yes,no")
    return words


def _engine_list(text: str) -> tuple[str, ...]:
    engines = _word_list(text)
    unknown = [name for name in engines if name not in ENGINE_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {', '.join(unknown)}; choose from {','.join(ENGINE_NAMES)}"
        )
    return engines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxgate synth", description=__doc__)
    parser.add_argument("--out", required=True, type=Path, help="corpus folder (created if missing)")
    parser.add_argument(
        "--words",
        type=_word_list,
        default=DEFAULT_COMMANDS,
        help=f"comma-separated command words (default: {','.join(DEFAULT_COMMANDS)})",
    )
    parser.add_argument("--per-word", type=int, default=1000, help="clips per command word (default: 1000)")
    parser.add_argument(
        "--unknown", type=int, default=1000, help="clips of other words in _unknown_, one word each (default: 1000)"
    )
    parser.add_argument(
        "--silence", type=int, default=None, help="noise clips in _silence_ (default: same as --per-word)"
    )
    parser.add_argument(
        "--engines",
        type=_engine_list,
        default=ENGINE_NAMES,
        help=f"comma-separated engines to use (default: {','.join(ENGINE_NAMES)})",
    )
    parser.add_argument(
        "--noise",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        metavar="DIR",
        help="folders of background-noise WAVs to cut _silence_ clips from",
    )
    parser.add_argument("--seed", type=int, default=0, help="picks voices, parameters and held-out speakers")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel synthesis processes (default: one per CPU core)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    config = CorpusConfig(
        out_dir=args.out,
        words=args.words,
        per_word=args.per_word,
        unknown_count=args.unknown,
        silence_count=args.silence,
        engines=args.engines,
        noise_dirs=tuple(args.noise),
        seed=args.seed,
        workers=args.workers,
    )
    summary = build_corpus(config)
    print(format_summary(summary, args.out))
    return 1 if summary.failed else 0


def format_summary(summary: CorpusSummary, out_dir: Path) -> str:
    """A few lines: clips per label, per engine and per split, and where the time went."""
    lines = [f"corpus in {out_dir}: {sum(summary.per_label.values())} clips"]
    lines.append("  per label:  " + ", ".join(f"{k} {v}" for k, v in sorted(summary.per_label.items())))
    lines.append("  per engine: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.per_engine.items())))
    lines.append("  speakers:   " + ", ".join(f"{k} {v}" for k, v in sorted(summary.speakers.items())))
    lines.append("  per split:  " + ", ".join(f"{k} {v}" for k, v in sorted(summary.per_split.items())))
    lines.append(
        f"  made {summary.created}, reused {summary.reused}, failed {summary.failed} in {summary.seconds:.1f} s"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
