"""`python main.py stream-eval --data DIR`: accuracy on a long stream, as a live user would see it.

Builds N minutes of audio from a Speech Commands folder's clips with random gaps over background
noise (WAVs from --noise, else synthetic), runs the streaming recogniser over it hop by hop, and
reports TensorFlow's streaming metrics (matched, correct, wrong and false-accept % of the command
words), false accepts per hour of non-command audio, and the median word end -> detection latency.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from audio.dataset import SPLITS, load_clips, scan_folder
from audio.io import AudioFileError, read_audio, write_wav
from audio.labels import SILENCE, UNKNOWN
from cli.common import add_device_option, add_model_option, in_split, load_model_from, run_command
from model.device import torch_threads
from model.recognizer import Recognizer
from model.smoothing import RecognizerConfig
from model.streaming import build_stream, score_detections


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxgate stream-eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_model_option(parser)
    parser.add_argument("--data", required=True, metavar="DIR", help="folder in Speech Commands layout")
    parser.add_argument("--split", choices=("all", *SPLITS), default="test", help="which clips (default: test)")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the stream (default: 10)")
    parser.add_argument("--noise", metavar="DIR", help="folder of background WAVs (default: synthetic pink noise)")
    parser.add_argument("--noise-rms", type=float, default=0.01, help="background level, RMS (default: 0.01)")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1.5,
        help="seconds after a word's start within which a detection matches it (default: 1.5)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=RecognizerConfig.detection_threshold,
        help=f"averaged score a command needs (default: {RecognizerConfig.detection_threshold})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for the stream (default: 0)")
    parser.add_argument("--save-wav", metavar="WAV", help="also write the stream to this file")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for the model (default: 1; one window at a time gains little from more)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    add_device_option(parser)
    return parser


def read_noise(folder: str | None, sample_rate: int) -> list[np.ndarray]:
    if folder is None:
        return []
    paths = sorted(p for p in Path(folder).glob("*.wav"))
    if not paths:
        raise FileNotFoundError(f"{folder}: no .wav files for background noise")
    noise = []
    for path in paths:
        try:
            noise.append(read_audio(path, sample_rate))
        except AudioFileError as error:
            print(f"warning: skipped {error}", file=sys.stderr)
    return noise


def run(args: argparse.Namespace) -> int:
    model = load_model_from(args).model
    features = model.config.features
    words = [clip for clip in scan_folder(args.data, model.labels) if clip.label != SILENCE]
    found = in_split(words, args.split, args.data)
    clips = load_clips(found, model.labels, features)
    labelled = [
        (audio, clips.labels[target], clips.labels[target] != UNKNOWN)
        for audio, target in zip(clips.waveforms, clips.targets)
    ]
    rng = np.random.default_rng(args.seed)
    stream = build_stream(
        labelled,
        args.minutes * 60,
        rng,
        read_noise(args.noise, features.sample_rate),
        noise_rms=args.noise_rms,
        config=features,
    )
    if args.save_wav:
        write_wav(args.save_wav, stream.audio, features.sample_rate)
    recognizer = Recognizer(
        model,
        RecognizerConfig(
            detection_threshold=args.threshold,
            release_threshold=min(RecognizerConfig.release_threshold, args.threshold),
        ),
    )
    started = time.perf_counter()
    with torch_threads(max(1, args.threads)):
        detections = [r.detection for r in recognizer.run(stream.audio) if r.detection is not None]
    seconds = time.perf_counter() - started
    result = score_detections(stream.words, detections, stream.seconds, args.tolerance)
    if args.json:
        print(
            json.dumps(
                {
                    **result.to_dict(),
                    "model_calls": recognizer.model_calls,
                    "gated_windows": recognizer.gated_windows,
                    "compute_seconds": round(seconds, 2),
                }
            )
        )
    else:
        print(result.format_text())
        print(
            f"{recognizer.model_calls} windows classified, {recognizer.gated_windows} skipped as silent, "
            f"{seconds:.1f} s of compute"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
