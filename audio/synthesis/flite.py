"""flite: CMU's small engine with recorded (diphone and statistical) voices of real people.

Voices: kal and kal16 (both Kal, 8 and 16 kHz diphones), awb (Scottish male), rms (US male),
slt (US female); awb_time is awb again. Their `group` is the person, shared with festival's
recordings of the same people, so one person is never on both sides of the split.
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
import tempfile

import numpy as np
import soundfile as sf

from audio.synthesis.voice import INTONATIONS, Engine, Voice, uniform

# flite voice -> (person, typical f0 in Hz). Unknown extra voices get their own group.
KNOWN_VOICES = {
    "kal": ("kal", 105.0),
    "kal16": ("kal", 105.0),
    "awb": ("awb", 110.0),
    "awb_time": ("awb", 110.0),
    "rms": ("rms", 105.0),
    "slt": ("slt", 170.0),
}
STRETCH = (0.75, 1.35)  # duration_stretch: > 1 is slower
F0_FACTOR = (0.75, 1.35)  # multiplies the voice's typical f0
TIMEOUT_SECONDS = 20


class FliteEngine(Engine):
    """flite through its command line; one short subprocess per word (~20 ms)."""

    name = "flite"
    programs = ("flite",)

    def voices(self) -> list[Voice]:
        return [
            Voice(
                engine=self.name,
                speaker=f"flite-{name.replace('_', '-')}",
                name=name,
                group=f"person-{KNOWN_VOICES.get(name, (name, 0))[0].replace('_', '-')}",
                family="person",
            )
            for name in _flite_voices()
        ]

    def vary(self, voice: Voice, rng: random.Random) -> Voice:
        return voice.with_params(
            rate=uniform(rng, *STRETCH),
            pitch=uniform(rng, *F0_FACTOR),
            intonation=rng.choice(INTONATIONS),
        )

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        f0 = KNOWN_VOICES.get(voice.name, ("", 120.0))[1] * float(voice.param("pitch", 1.0))
        handle, path = tempfile.mkstemp(suffix=".wav")
        os.close(handle)
        try:
            subprocess.run(
                [
                    "flite",
                    "-voice",
                    voice.name,
                    "--setf",
                    f"duration_stretch={voice.param('rate', 1.0)}",
                    "--setf",
                    f"int_f0_target_mean={f0:.1f}",
                    "-t",
                    text,
                    "-o",
                    path,
                ],
                capture_output=True,
                check=True,
                timeout=TIMEOUT_SECONDS,
            )
            audio, rate = sf.read(path, dtype="float32")
        finally:
            os.unlink(path)
        return audio, rate


@functools.cache
def _flite_voices() -> tuple[str, ...]:
    """Voice names from `flite -lv` ("Voices available: kal awb ..."), awb_time left out."""
    result = subprocess.run(["flite", "-lv"], capture_output=True, text=True, check=True, timeout=TIMEOUT_SECONDS)
    names = result.stdout.split(":", 1)[-1].split()
    return tuple(sorted(name for name in names if name != "awb_time"))
