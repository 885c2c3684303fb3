"""VoxGate: `python main.py` opens the desktop app; `python main.py COMMAND --help` for the tools."""

from __future__ import annotations

import importlib
import sys

from model.openmp import set_waiting

set_waiting()  # before any command imports torch

COMMANDS = {
    "train": ("cli.train", "train a model on folders in Speech Commands layout"),
    "eval": ("cli.evaluate", "accuracy, per-class accuracy and confusion matrix of a model"),
    "predict": ("cli.predict", "top labels for audio files"),
    "trace": ("cli.trace", "every gate of every layer for one sound file, saved as a NumPy archive"),
    "bench": ("cli.bench", "latency of the fast and trace paths, training throughput"),
    "synth": ("cli.synth", "synthesize a training corpus with the installed speech engines"),
    "listen": ("cli.listen", "print commands heard from the microphone or a sound file"),
    "stream-eval": ("cli.stream_eval", "accuracy, false accepts and latency on a long synthetic stream"),
    "finetune": ("cli.finetune", "adapt a model to recorded takes, with new words; before/after accuracy"),
}


def usage() -> str:
    lines = [
        "usage: python main.py [COMMAND] [options]",
        "",
        "With no command (or `app`), opens the desktop app: `python main.py app --help` lists its",
        "options, e.g. --file WAV for demo mode, --model DIR, --input NAME.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv and argv[0] == "app":
        argv = argv[1:]
    elif argv and argv[0] in COMMANDS:
        module = importlib.import_module(COMMANDS[argv[0]][0])  # imported on demand: each pulls its own deps
        return module.main(argv[1:])
    if argv and not argv[0].startswith("-"):
        print(f"unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    from app.main import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
