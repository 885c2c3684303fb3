"""espeak-ng: formant synthesis, robotic but with the most speakers (accents × voice variants).

Each English accent (en-us, en-gb-x-rp, en-gb-scotland, ...) combined with each voice variant
(+m1..+m7, +f1..+f5, +klatt, ...) is one speaker. A variant sets formants, pitch range and
breathiness, so it is the *timbre*; the split holds out whole variants (every accent of them),
so a held-out timbre is never heard in training. Rate, pitch and intonation vary per clip.
"""

from __future__ import annotations

import functools
import io
import random
import subprocess

import numpy as np
import soundfile as sf

from audio.synthesis.voice import INTONATIONS, Engine, Voice, safe_name

# Variants that do not sound like a person (robots, effects); speech from them would teach
# the model features no microphone will ever hear.
EXCLUDED_VARIANTS = frozenset(
    {"demonic", "unirobot", "anikarobot", "announcer", "tweaky", "fast", "croak"}
    | {f"robosoft{n}" for n in ("", 2, 3, 4, 5, 6, 7, 8)}
)
RATE_WPM = (115, 215)  # espeak-ng default 175 words a minute
PITCH = (15, 85)  # 0..99, default 50
TIMEOUT_SECONDS = 20


class EspeakEngine(Engine):
    """espeak-ng through its command line; one short subprocess per word (~10 ms)."""

    name = "espeak"
    programs = ("espeak-ng",)

    def voices(self) -> list[Voice]:
        return [
            Voice(
                engine=self.name,
                speaker=safe_name(f"espeak-{accent}-{variant}"),
                name=f"{accent}+{variant}",
                group=f"espeak-{safe_name(variant)}",
                family="espeak",
            )
            for accent in _accents()
            for variant in _variants()
        ]

    def vary(self, voice: Voice, rng: random.Random) -> Voice:
        return voice.with_params(
            rate=rng.randint(*RATE_WPM),
            pitch=rng.randint(*PITCH),
            intonation=rng.choice(INTONATIONS),
        )

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        command = ["espeak-ng", "-v", voice.name, "--stdout"]
        command += ["-s", str(voice.param("rate", 175)), "-p", str(voice.param("pitch", 50))]
        result = subprocess.run([*command, "--", text], capture_output=True, check=True, timeout=TIMEOUT_SECONDS)
        audio, rate = sf.read(io.BytesIO(result.stdout), dtype="float32")
        return audio, rate


def _espeak_list(kind: str) -> list[list[str]]:
    """Rows of `espeak-ng --voices=<kind>` split into columns, header dropped."""
    result = subprocess.run(
        ["espeak-ng", f"--voices={kind}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT_SECONDS,
    )
    return [line.split() for line in result.stdout.splitlines()[1:] if line.strip()]


@functools.cache
def _accents() -> tuple[str, ...]:
    """English accents built into espeak-ng (not the mbrola ones, which need extra data)."""
    accents = {
        row[1] for row in _espeak_list("en") if len(row) >= 5 and row[4].startswith("gmw/") and row[1].startswith("en")
    }
    return tuple(sorted(accents))


@functools.cache
def _variants() -> tuple[str, ...]:
    """Voice variant ids (the file names under `voices/!v`), minus the non-human ones."""
    variants = {
        row[4].removeprefix("!v/") for row in _espeak_list("variant") if len(row) >= 5 and row[4].startswith("!v/")
    }
    return tuple(sorted(v for v in variants if safe_name(v) not in EXCLUDED_VARIANTS))
