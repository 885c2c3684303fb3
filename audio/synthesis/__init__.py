"""Training speech from installed TTS engines: voices, engines and the corpus builder."""

from audio.synthesis.corpus import DEFAULT_COMMANDS, CorpusConfig, CorpusSummary, build_corpus
from audio.synthesis.engines import ENGINE_NAMES, available_engines, make_engine
from audio.synthesis.voice import Engine, Voice

__all__ = [
    "DEFAULT_COMMANDS",
    "ENGINE_NAMES",
    "CorpusConfig",
    "CorpusSummary",
    "Engine",
    "Voice",
    "available_engines",
    "build_corpus",
    "make_engine",
]
