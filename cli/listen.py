"""`python main.py listen [--input NAME | --file WAV]`: print commands as they are heard.

Listens to the microphone (or plays a sound file in real time) through the same recogniser the
app uses and prints each detection with its time and confidence. Ctrl-C stops cleanly.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time

from audio.capture import MicrophoneCapture, SourceEvent, list_input_devices
from audio.file_source import FileSource
from cli.common import add_device_option, add_model_option, load_model_from, run_command
from model.device import torch_threads
from model.recognizer import LiveRecognizer, RecognitionResult, Recognizer
from model.smoothing import RecognizerConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxgate listen", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input",
        metavar="NAME",
        help="input device by name, or a unique part of it (default: the system's default input)",
    )
    source.add_argument("--file", metavar="WAV", help="play this sound file instead of listening")
    source.add_argument("--list-inputs", action="store_true", help="list input devices by name and exit")
    add_model_option(parser)
    add_device_option(parser)
    parser.add_argument(
        "--speed", type=float, default=1.0, help="with --file: playback speed, inf = as fast as possible (default: 1)"
    )
    parser.add_argument("--seconds", type=float, default=math.inf, help="stop after this long (default: never)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=RecognizerConfig.detection_threshold,
        help=f"averaged score a command needs (default: {RecognizerConfig.detection_threshold})",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads for the model (default: 1, leaves the machine responsive)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON line per detection")
    return parser


def print_inputs() -> int:
    devices = list_input_devices()
    if not devices:
        print("no input devices found", file=sys.stderr)
        return 1
    for device in devices:
        print(f"{device.name}  ({device.host_api}, {device.channels} ch, {device.sample_rate:g} Hz)")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list_inputs:
        return print_inputs()
    with torch_threads(max(1, args.threads)):
        return listen(args)


def listen(args: argparse.Namespace) -> int:
    model = load_model_from(args).model
    config = RecognizerConfig().with_threshold(min(args.threshold, 1.0))
    errors: list[str] = []
    done = threading.Event()

    def on_event(event: SourceEvent) -> None:
        if event.kind == "error":
            errors.append(event.message)
            done.set()
        elif event.kind == "overflow":
            print(f"warning: {event.message}", file=sys.stderr)

    def on_result(result: RecognitionResult) -> None:
        found = result.detection
        if found is None:
            return
        if args.json:
            print(
                json.dumps(
                    {"time": round(found.time, 3), "label": found.label, "confidence": round(found.confidence, 4)}
                ),
                flush=True,
            )
        else:
            print(f"{found.time:8.2f} s  {found.label:<12} {found.confidence:6.1%}", flush=True)

    if args.file:
        source = FileSource.from_file(args.file, model.config.features, speed=args.speed, on_event=on_event)
    else:
        source = MicrophoneCapture(args.input, model.config.features, on_event=on_event)
    fast = math.isinf(args.speed) and args.file
    recognizer = Recognizer(model, config)
    worker = LiveRecognizer(
        recognizer,
        source.ring,
        on_result,
        on_error=lambda message: (errors.append(message), done.set()),
        max_lag_seconds=math.inf if fast else 0.5,
    )
    worker.start()
    if not source.start():
        worker.stop()
        print(f"error: {errors[-1]}", file=sys.stderr)
        return 1
    if not args.file:
        print(f"listening to {source.device.name} (Ctrl-C stops)", file=sys.stderr)
    started, cpu_started = time.monotonic(), time.process_time()
    deadline = started + args.seconds
    try:
        while not done.is_set() and worker.running and time.monotonic() < deadline:
            done.wait(0.1)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        source.stop()
        worker.stop()
    print_summary(time.monotonic() - started, time.process_time() - cpu_started, recognizer, args.json)
    for message in errors:
        print(f"error: {message}", file=sys.stderr)
    return 1 if errors else 0


def print_summary(wall: float, cpu: float, recognizer: Recognizer, as_json: bool) -> None:
    """What listening cost: process CPU time over wall time (all threads: capture, model, printing)."""
    summary = {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_percent_of_one_core": round(100 * cpu / max(wall, 1e-9), 1),
        "model_calls": recognizer.model_calls,
        "gated_windows": recognizer.gated_windows,
    }
    if as_json:
        print(json.dumps({"summary": summary}), flush=True)
    else:
        print(
            f"listened {summary['seconds']} s: CPU {summary['cpu_seconds']} s "
            f"({summary['cpu_percent_of_one_core']}% of one core), {summary['model_calls']} model calls, "
            f"{summary['gated_windows']} silent windows skipped",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
