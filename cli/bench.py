"""`python main.py bench [--json]`: median latency of one 1 s window at batch 1 for the fast
path (nn.LSTM) and the trace path (step by step, all gates), their ratio, and training
throughput in clips/s, on CPU and on CUDA when present. It reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from audio.augment import AugmentConfig, Augmenter
from audio.dataset import ClipSet
from cli.common import add_model_option, run_command
from model.checkpoint import load_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig
from model.device import describe_machine, machine_summary, torch_threads
from model.training import TrainConfig, train_model


def median_ms(function: Callable[[], object], runs: int, device: torch.device, warmup: int = 20) -> float:
    """Median wall time of `function` in milliseconds over `runs` calls, after `warmup` calls."""

    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        synchronize()
        start = time.perf_counter()
        function()
        synchronize()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def latency(model: KeywordClassifier, runs: int) -> dict:
    window = torch.randn(1, model.config.features.clip_samples, device=model.device) * 0.1  # (1, samples)
    with torch.inference_mode():  # as the live recogniser runs the model
        fast = median_ms(lambda: model(window), runs, model.device)
        trace = median_ms(lambda: model.trace(window), runs, model.device)
    return {"fast_ms": fast, "trace_ms": trace, "trace_over_fast": trace / fast}


def training_throughput(config: ModelConfig, device: torch.device, clips: int, epochs: int) -> dict:
    """clips/s of the real training loop with default augmentation, median over `epochs` epochs of random clips."""
    rng = np.random.default_rng(0)
    data = ClipSet(
        waveforms=rng.normal(0, 0.1, (clips, config.features.clip_samples)).astype(np.float32),
        targets=rng.integers(0, len(config.labels), clips),
        labels=config.labels,
        paths=[""] * clips,
    )
    model = KeywordClassifier(config).to(device)
    augmenter = Augmenter(AugmentConfig(), model.frontend).to(device)
    result = train_model(model, data, None, TrainConfig(epochs=epochs), augment=augmenter, progress=False)
    seconds = statistics.median(report.seconds for report in result.history)
    return {"train_clips_per_s": clips / seconds, "train_batch_size": TrainConfig.batch_size}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxgate bench", description=__doc__)
    add_model_option(parser)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per figure, at least 50 (default: 100)")
    parser.add_argument("--train-clips", type=int, default=512, help="clips per timed training epoch")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (default: 1, as the live recogniser runs)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {args.threads}")
    with torch_threads(args.threads):
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    if args.runs < 50:
        raise ValueError(f"--runs must be at least 50 for a stable median, got {args.runs}")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    results = []
    for device in devices:
        try:
            checkpoint = load_checkpoint(args.model, device)
            model, source = checkpoint.model, str(checkpoint.path)
        except ValueError:  # no trained model yet: timing does not depend on the weights
            torch.manual_seed(0)
            model, source = KeywordClassifier(ModelConfig()).to(device).eval(), "untrained default architecture"
        entry = {"device": str(device), "model": source, "threads": torch.get_num_threads(), "runs": args.runs}
        entry |= latency(model, args.runs)
        entry |= training_throughput(model.config, device, args.train_clips, epochs=3)
        results.append(entry)
    machine = describe_machine()
    if args.json:
        print(json.dumps({"machine": machine, "results": results}))
        return 0
    print(f"on {machine_summary(machine)}")
    for entry in results:
        print(f"{entry['device']} ({entry['threads']} threads, {entry['model']}), median of {entry['runs']} runs:")
        print(f"  fast path  {entry['fast_ms']:7.2f} ms per 1 s window, batch 1")
        print(f"  trace path {entry['trace_ms']:7.2f} ms  ({entry['trace_over_fast']:.2f}x the fast path)")
        print(f"  training   {entry['train_clips_per_s']:7.0f} clips/s at batch {entry['train_batch_size']}, augmented")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
