"""Make the demo recording the app plays with `--file`: `python -m audio.synthesis.demo [assets/demo.wav]`.

Words said by the project's own synthesizer (Piper's bundled voice, else espeak-ng) with pauses
between them, over quiet noise, as 16 kHz mono 16-bit PCM. Run once; the result is shipped.
"""

from __future__ import annotations

import sys

import numpy as np

from audio.io import write_wav
from audio.synthesis import available_engines
from audio.synthesis.voice import SAMPLE_RATE

WORDS = ("yes", "stop", "go", "left", "no")
PAUSE_SECONDS = 1.0  # a word stays in the 1 s window for a second: a lull that long separates detections
LEAD_SECONDS = 0.5
PEAK = 0.5
NOISE_LEVEL = 0.002  # about -54 dB RMS: below the recogniser's gate, so pauses skip the model


def demo_audio(words: tuple[str, ...] = WORDS, seed: int = 0) -> np.ndarray:
    """The words with pauses, (samples,) float32 at 16 kHz."""
    engine = available_engines(["piper", "espeak"])[0]
    voice = engine.voices()[0]
    pause = np.zeros(round(PAUSE_SECONDS * SAMPLE_RATE), np.float32)
    parts = [np.zeros(round(LEAD_SECONDS * SAMPLE_RATE), np.float32)]
    for word in words:
        spoken = engine.speak(word, voice)
        parts += [PEAK * spoken / np.abs(spoken).max(), pause]
    engine.close()
    audio = np.concatenate(parts)
    rng = np.random.default_rng(seed)
    return (audio + rng.normal(0, NOISE_LEVEL, len(audio))).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else "assets/demo.wav"
    audio = demo_audio()
    write_wav(path, audio, SAMPLE_RATE)
    print(f"wrote {path}: {len(audio) / SAMPLE_RATE:.1f} s, words {', '.join(WORDS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
