"""OpenMP waiting bench: how fast a fine-tuning step runs under each way torch's workers wait.

    python -m bench.openmp_wait [--steps 20] [--repeats 3] [--load N] [--second-team] [--json]

torch's CPU kernels run in OpenMP parallel regions, and between regions the worker threads
wait for the next one: by spinning (quick to start again, but a spinning thread takes a core
from the audio, GUI and other programs' threads) or by sleeping (slow to wake). An LSTM step
is hundreds of small regions in a row, so this choice sets its speed. Each setting runs in a
child process (the variables are read when torch loads OpenMP) that times `--steps` steps of
fine-tuning the shipped model (lower layer frozen, a batch of 32 one-second clips,
augmented); `--load N` keeps N other processes busy meanwhile, as other programs would, and
`--second-team` first runs torch in another thread that stays alive, as the app's recogniser
does: GNU OpenMP then has more threads than cores and spins less unless the policy is ACTIVE.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from cli.common import run_command

SETTINGS = {  # name: the environment the child process starts with
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},  # what main.py set before model.openmp
    "spin 1000": {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "1000"},  # model.openmp's, on Linux
    "spin 1000, no policy": {"GOMP_SPINCOUNT": "1000"},  # 100 spins once threads outnumber cores
    "default": {},  # 300,000 spins, then sleep; 100 once threads outnumber cores
}
WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
BUSY = "while True: pass"
# A child's program. Importing the bench package sets the app's waiting (bench/__init__.py), so
# the child puts its own setting's variables (argv[1]) in place after that and before anything
# imports torch; `child` then reports what it ran with.
CHILD = f"""
import json, os, sys
import bench
for name in {WAIT_VARIABLES!r}:
    os.environ.pop(name, None)
os.environ.update(json.loads(sys.argv[1]))
from bench.openmp_wait import child
child(int(sys.argv[2]), sys.argv[3] == "second-team")
"""
ROOT = Path(__file__).resolve().parents[1]


def hold_a_second_team() -> None:
    """Run torch once in a thread that stays alive, so OpenMP keeps that thread's team."""
    import threading

    import torch

    ready = threading.Event()

    def work() -> None:
        torch.randn(256, 256) @ torch.randn(256, 256)
        ready.set()
        threading.Event().wait()  # alive until the process ends

    threading.Thread(target=work, daemon=True).start()
    ready.wait()


def time_steps(steps: int) -> list[float]:
    """Seconds per fine-tuning step of the shipped model, in this process."""
    import time

    import torch

    from audio.augment import Augmenter
    from model.adapt import FINETUNE_AUGMENT
    from model.checkpoint import DEFAULT_MODEL_DIR, load_checkpoint
    from model.finetune import freeze_lower_layers

    model = load_checkpoint(DEFAULT_MODEL_DIR).model
    trainable = freeze_lower_layers(model, 1)
    optimizer = torch.optim.AdamW(trainable, lr=1e-3)
    augment = Augmenter(FINETUNE_AUGMENT, model.frontend)
    generator = torch.Generator().manual_seed(0)
    clips = 0.1 * torch.randn(32, model.config.features.clip_samples, generator=generator)
    targets = torch.randint(len(model.labels), (32,), generator=generator)
    model.train()
    seconds = []
    for _ in range(steps + 2):  # the first two warm up
        started = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model.classify(augment(clips, generator)), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - started)
    return seconds[2:]


def child(steps: int, second_team: bool) -> None:
    """A child process's work: print its step times and the waiting it ran with, as JSON."""
    if second_team:
        hold_a_second_team()
    seconds = time_steps(steps)
    print(json.dumps({"seconds": seconds, "waiting": {name: os.environ.get(name) for name in WAIT_VARIABLES}}))


def child_run(setting: str, steps: int, load: int, second_team: bool) -> dict:
    """A child process started with `setting`'s variables, under `load`: {seconds, waiting}."""
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(load)]
    try:
        command = [
            sys.executable,
            "-c",
            CHILD,
            json.dumps(SETTINGS[setting]),
            str(steps),
            "second-team" if second_team else "alone",
        ]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    return json.loads(result.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.openmp_wait", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20, help="timed steps per child process")
    parser.add_argument("--repeats", type=int, default=3, help="child processes per setting, taking turns")
    parser.add_argument("--load", type=int, default=0, help="busy processes running alongside")
    parser.add_argument(
        "--second-team",
        action="store_true",
        help="first run torch in another thread that stays alive, as the app's recogniser does",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    medians: dict[str, list[float]] = {name: [] for name in SETTINGS}
    waiting = {}
    for _ in range(args.repeats):
        for name in SETTINGS:
            child_result = child_run(name, args.steps, args.load, args.second_team)
            medians[name].append(statistics.median(child_result["seconds"]))
            waiting[name] = child_result["waiting"]
    step_ms = {name: 1000 * statistics.median(values) for name, values in medians.items()}
    figures = {
        "steps": args.steps,
        "repeats": args.repeats,
        "load": args.load,
        "second_team": args.second_team,
        "settings": SETTINGS,
        "waiting": waiting,
        "step_ms": step_ms,
        "passive_over": {name: step_ms["passive"] / ms for name, ms in step_ms.items()},
    }
    if args.json:
        print(json.dumps(figures))
    else:
        width = max(len(name) for name in step_ms)
        for name, ms in step_ms.items():
            print(f"{name:<{width}} {ms:7.1f} ms a step ({figures['passive_over'][name]:.2f}x passive's speed)")
        print(
            f"medians of {args.repeats} processes x {args.steps} steps, {args.load} busy processes alongside"
            + (", a second OpenMP team held" if args.second_team else "")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
