"""`python main.py trace --model DIR FILE --out GATES.npz`: every gate of every layer for one sound file.

The file is read as `predict` reads it (mono, 16 kHz, its loudest second) and run through the
model's trace path, the step-by-step recomputation the app's gate panel draws. The archive holds
the window, its MFCC, the probabilities and each state (layers, directions, frames, hidden): see
`model/gate_archive.py`, or load it with `np.load`.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from scipy.special import softmax

from audio.io import fit_length, read_audio
from cli.common import add_device_option, add_model_option, load_model_from, run_command
from model.gate_archive import save_gates


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxgate trace", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_model_option(parser)
    parser.add_argument("file", metavar="FILE", help="an audio file (any rate or channels)")
    parser.add_argument("--out", required=True, metavar="GATES.npz", help="where to write the archive")
    parser.add_argument("--json", action="store_true", help="say what was saved as one JSON line")
    add_device_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    model = load_model_from(args).model
    features = model.config.features
    audio = fit_length(read_audio(args.file, features.sample_rate), features.clip_samples)
    trace = model.trace(torch.from_numpy(audio[None]).to(model.device))
    probabilities = softmax(trace.logits[0])
    states = trace.states[:, :, :, 0]  # (layers, directions, states, frames, hidden): batch of one
    try:
        save_gates(
            args.out,
            audio=audio,
            sample_rate=features.sample_rate,
            mfcc=trace.features[0],
            state_names=trace.state_names,
            states=states,
            labels=model.labels,
            probabilities=probabilities,
        )
    except OSError as error:  # its text names the hidden temp file; the reason alone says more
        raise ValueError(f"cannot write {args.out}: {error.strerror or error}") from error
    top = int(np.argmax(probabilities))
    layers, directions, _, frames, hidden = states.shape
    if args.json:
        print(
            json.dumps(
                {
                    "file": args.file,
                    "out": args.out,
                    "label": model.labels[top],
                    "probability": float(probabilities[top]),
                    "state_names": list(trace.state_names),
                    "shape": [layers, directions, frames, hidden],
                }
            )
        )
    else:
        print(
            f"{args.file}: {model.labels[top]} {probabilities[top]:.1%}; saved {', '.join(trace.state_names)} "
            f"as {layers} layers × {directions} directions × {frames} frames × {hidden} units to {args.out}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(run, build_parser(), argv)
