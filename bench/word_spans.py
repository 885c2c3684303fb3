"""Word-splitting bench: how many takes an import makes of files that each hold one word.

    python -m bench.word_spans DIR [--skip LABEL ...] [--json]

Import… and Several cut a recording into one take per word (`audio.trim.word_spans`). On a
folder of single-word recordings in Speech Commands layout, every file should give exactly one
take: a file giving two has had a click or a breath taken for a word, and one giving none has
lost its word. Prints, per folder and in all, how many files gave 0, 1, 2, … takes, and names the files
that did not give one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from audio.dataset import AUDIO_SUFFIXES, label_folders
from audio.io import read_audio
from audio.trim import word_spans
from cli.common import run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.word_spans", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", help="single-word recordings, one folder per word")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="LABEL",
        help="a folder to leave out (one not of single words), repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    per_folder: dict[str, Counter] = {}
    odd: list[dict] = []
    for folder in label_folders(Path(args.folder)):
        if folder.name in args.skip:
            continue
        counts = per_folder.setdefault(folder.name, Counter())
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
            words = len(word_spans(read_audio(path)))
            counts[words] += 1
            if words != 1:
                odd.append({"file": f"{folder.name}/{path.name}", "takes": words})
    total = sum(per_folder.values(), Counter())
    figures = {
        "files": sum(total.values()),
        "takes_per_file": {str(k): v for k, v in sorted(total.items())},
        "per_folder": {name: {str(k): v for k, v in sorted(c.items())} for name, c in per_folder.items()},
        "not_one": odd,
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"{figures['files']} files; takes per file: "
        + ", ".join(f"{k}: {v}" for k, v in figures["takes_per_file"].items())
    )
    for item in odd:
        print(f"  {item['file']}: {item['takes']} takes")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
