"""Build a synthetic Speech Commands corpus: plan every clip, render them in parallel, list splits.

Layout (the same as Google Speech Commands, so one loader reads all data sets):

    out_dir/yes/espeak-en-us-f3_nohash_q-p62-r181.wav   16 kHz mono 16-bit, exactly 1 s
    out_dir/_unknown_/flite-slt_nohash_apple-s-p105-r92.wav
    out_dir/_silence_/noise-00012_nohash_0.wav
    out_dir/validation_list.txt, testing_list.txt       `label/file.wav`, one a line

Files of held-out speakers (see `audio.synthesis.split`) are listed; everything else is
training. Existing files are kept, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import librosa
import numpy as np
from tqdm import tqdm

from audio.atomic import write_text_atomically
from audio.config import FeatureConfig
from audio.io import fit_length, write_wav
from audio.synthesis.engines import DEFAULT_WEIGHTS, ENGINE_NAMES, available_engines, make_engine
from audio.synthesis.noise import noise_files, silence_clip
from audio.synthesis.plan import UNKNOWN, Job, silence_jobs, speech_jobs
from audio.synthesis.split import TEST, VALIDATION, assign_splits
from audio.synthesis.vocabulary import unknown_words
from audio.synthesis.voice import Engine

log = logging.getLogger(__name__)

DEFAULT_COMMANDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SPEECH_SECONDS = 0.95  # longer words are sped up to this, leaving a little room in the clip
PEAK = (0.3, 0.95)  # peak level of a speech clip, drawn per clip
JOBS_PER_TASK = 16  # clips sent to a worker at once: fewer round trips, still a smooth bar


@dataclass(frozen=True)
class CorpusConfig:
    """What to build. Counts are clips per label; `silence_count` None means `per_word`."""

    out_dir: Path
    words: tuple[str, ...] = DEFAULT_COMMANDS
    per_word: int = 1000
    unknown_count: int = 1000
    silence_count: int | None = None
    engines: tuple[str, ...] = ENGINE_NAMES
    noise_dirs: tuple[Path, ...] = ()
    seed: int = 0
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    holdout: float = 0.1  # share of each voice family's speakers in each of the two lists
    features: FeatureConfig = field(default_factory=FeatureConfig)

    def __post_init__(self) -> None:
        if not self.words or any(not w.isalpha() or w != w.lower() for w in self.words):
            raise ValueError(f"words must be lowercase letters only, got {self.words}")
        if min(self.per_word, self.unknown_count, self.silence_count or 0) < 0:
            raise ValueError("per_word, unknown_count and silence_count must be >= 0")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")


@dataclass
class CorpusSummary:
    """What a build did: clips per label, engine and split; how many were made or reused."""

    per_label: Counter = field(default_factory=Counter)
    per_engine: Counter = field(default_factory=Counter)
    per_split: Counter = field(default_factory=Counter)
    speakers: Counter = field(default_factory=Counter)  # distinct speakers per engine
    created: int = 0
    reused: int = 0
    failed: int = 0
    seconds: float = 0.0


def build_corpus(config: CorpusConfig) -> CorpusSummary:
    """Write the corpus described by `config` and return a summary of it.

    Raises ValueError when none of the requested engines is installed.
    """
    started = time.perf_counter()
    files = [str(path) for path in noise_files(config.noise_dirs)]  # fail early on a bad folder
    jobs, speakers = plan_corpus(config)
    out_dir = Path(config.out_dir)
    todo = [job for job in jobs if not (out_dir / job.path).exists()]
    summary = CorpusSummary(speakers=speakers, reused=len(jobs) - len(todo))
    failed = set(_render_all(todo, out_dir, config, files))
    summary.failed, summary.created = len(failed), len(todo) - len(failed)
    for job in jobs:
        if job.path not in failed:
            summary.per_label[job.label] += 1
            summary.per_engine[job.voice.engine if job.voice else "noise"] += 1
            summary.per_split[job.split] += 1
    _write_list(out_dir / "validation_list.txt", jobs, VALIDATION, failed)
    _write_list(out_dir / "testing_list.txt", jobs, TEST, failed)
    summary.seconds = time.perf_counter() - started
    return summary


def plan_corpus(config: CorpusConfig) -> tuple[list[Job], Counter]:
    """Every job of the corpus, and the number of distinct speakers per engine."""
    engines = {engine.name: engine for engine in available_engines(config.engines)}
    if not engines:
        raise ValueError(
            f"none of the speech engines {', '.join(config.engines)} is installed; "
            "install espeak-ng at least (apt-get install espeak-ng)"
        )
    voices = {name: engine.voices() for name, engine in engines.items()}
    splits = assign_splits([v for vs in voices.values() for v in vs], config.seed, config.holdout)
    jobs: list[Job] = []
    for word in config.words:
        texts = [word] * config.per_word
        jobs += speech_jobs(word, texts, engines, voices, DEFAULT_WEIGHTS, splits, config.seed)
    if config.unknown_count:
        jobs += speech_jobs(UNKNOWN, _unknown_texts(config), engines, voices, DEFAULT_WEIGHTS, splits, config.seed)
    silence = config.per_word if config.silence_count is None else config.silence_count
    jobs += silence_jobs(silence, config.seed, config.holdout)
    return jobs, Counter({name: len(vs) for name, vs in voices.items()})


def _unknown_texts(config: CorpusConfig) -> list[str]:
    """`unknown_count` words, all different while the vocabulary lasts, then repeating."""
    vocabulary = unknown_words(config.words)
    rng = random.Random(f"{config.seed}-unknown-words")
    texts: list[str] = []
    while len(texts) < config.unknown_count:
        texts += rng.sample(vocabulary, min(len(vocabulary), config.unknown_count - len(texts)))
    return texts


def _render_all(jobs: list[Job], out_dir: Path, config: CorpusConfig, files: list[str]) -> list[str]:
    """Render `jobs` (in worker processes when workers > 1); returns paths that failed."""
    tasks = [jobs[i : i + JOBS_PER_TASK] for i in range(0, len(jobs), JOBS_PER_TASK)]
    args = (str(out_dir), config.seed, config.features, files)
    failed: list[str] = []
    with tqdm(total=len(jobs), unit="clip", desc="synth", disable=not jobs) as bar:
        if config.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                failed += render_task(task, *args)
                bar.update(len(task))
            close_engines()
            return failed
        with ProcessPoolExecutor(max_workers=config.workers) as pool:
            futures = {pool.submit(render_task, task, *args): len(task) for task in tasks}
            for future in as_completed(futures):
                failed += future.result()
                bar.update(futures[future])
    return failed


_ENGINES: dict[str, Engine] = {}  # one engine object per process, kept between tasks


def render_task(jobs: list[Job], out_dir: str, seed: int, features: FeatureConfig, files: list[str]) -> list[str]:
    """Render and write each job; a failure is logged and returned, never raised."""
    samples, failed = features.clip_samples, []
    for job in jobs:
        try:
            if job.voice is None:
                _, audio = silence_clip(job.index, seed, samples, [Path(f) for f in files])
            else:
                audio = speech_clip(job, seed, samples)
            write_wav(Path(out_dir) / job.path, audio, features.sample_rate)
        except Exception as error:
            log.warning("could not make %s: %s", job.path, error)
            failed.append(job.path)
    return failed


def speech_clip(job: Job, seed: int, samples: int, engine: Engine | None = None) -> np.ndarray:
    """The job's word in a clip of `samples` (samples,): sped up if too long, peak-scaled.

    `engine` speaks it when given (it must be the job's engine); otherwise this process's own.
    """
    if engine is None:
        if job.voice.engine not in _ENGINES:
            _ENGINES[job.voice.engine] = make_engine(job.voice.engine)
        engine = _ENGINES[job.voice.engine]
    audio = engine.speak(job.text, job.voice)
    limit = round(SPEECH_SECONDS * samples)
    if len(audio) > limit:  # phase-vocoder speed-up keeps the pitch (only slow, long words)
        audio = librosa.effects.time_stretch(audio, rate=len(audio) / limit)[:limit]
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < 1e-3:
        raise RuntimeError(f"{job.voice.engine} returned silence for {job.text!r}")
    level = random.Random(f"{seed}-{job.path}").uniform(*PEAK)
    return fit_length(audio * np.float32(level / peak), samples).astype(np.float32)


def close_engines() -> None:
    for engine in _ENGINES.values():
        engine.close()
    _ENGINES.clear()


def _write_list(path: Path, jobs: list[Job], split: str, failed: set[str]) -> None:
    """Write the sorted paths of `split`'s clips that exist, atomically (temp + rename)."""
    lines = sorted(job.path for job in jobs if job.split == split and job.path not in failed)
    write_text_atomically(path, "".join(f"{line}\n" for line in lines))
