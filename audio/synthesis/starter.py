"""Small sets of synthetic clips made in-process, in seconds: a starting set for a word the user
typed, and the base-vocabulary material fine-tuning mixes in so old words are not forgotten.

Clips are rendered exactly as the corpus renders them (`corpus.speech_clip`: trimmed, sped up
if too long, peak-scaled, centred in 1 s), spread over the installed engines by the corpus's
weights and over each engine's speakers in turn, each with varied rate, pitch and intonation.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from audio.config import FeatureConfig
from audio.io import write_wav
from audio.labels import SILENCE, UNKNOWN, validate_label
from audio.synthesis import corpus
from audio.synthesis.engines import DEFAULT_WEIGHTS, ENGINE_NAMES, available_engines, make_engine
from audio.synthesis.noise import noise_files, silence_clip
from audio.synthesis.plan import Job, speech_jobs
from audio.synthesis.split import TEST, assign_splits
from audio.synthesis.vocabulary import MAX_LETTERS, MIN_LETTERS, WORD_LIST, drop_sound_alikes, looks_like_command

Progress = Callable[[int, int], None]  # (clips done, clips planned)

# Engines speaking at once: two, for the two cores fine-tuning is timed on. `python -m
# bench.synthesis_lanes --repeats 5`: 336 clips of base material in 4.09 s with two lanes, 5.87 s
# with one (1.44x sooner; piper, the slowest engine, then takes one lane nearly alone).
LANES = 2
# One clip at a time per engine across every render in the process: piper phonemizes through
# espeak-ng's library, whose state is global, and the app may synthesize a starting set while
# fine-tuning synthesizes base material.
_SPEAKING = {name: threading.Lock() for name in ENGINE_NAMES}

# Clips in a typed word's starting set, in the app and the own-voice bench alike. `python -m
# bench.own_voice ... --cache DIR --draw K --starter N --seed 0 --json`, K = 0-2: with 24, 95.3 %
# of the held-out takes (mean) and 57.7 % of real_dev's other words still `_unknown_`; with 36,
# 94.9 % and 48.6 %: more synthetic clips of a new word make it fire on more other words. Fewer
# than 24 trade held-out takes for false alarms, and from 12 down cost old commands
# (docs/fine-tuning.md, "Starting sets").
STARTER_CLIPS = 24


def plan_speech(
    label: str, texts: Sequence[str], seed: int = 0, engines: Sequence[str] = ENGINE_NAMES, test_voices: bool = False
) -> list[Job]:
    """One job per text, for `label`: engines by weight, speakers in turn, parameters varied.

    The default corpus's test voices (`voice_splits`) speak only with `test_voices`, for the
    old-words check, and every other voice only without: material to train on never comes from
    a voice the check listens to. Raises ValueError when none of `engines` is installed.
    """
    found = {engine.name: engine for engine in available_engines(tuple(engines))}
    if not found:
        raise ValueError(
            f"none of the speech engines {', '.join(engines)} is installed; "
            "install espeak-ng at least (apt-get install espeak-ng)"
        )
    splits = voice_splits()
    voices = {
        name: chosen
        for name, engine in found.items()
        if (chosen := [voice for voice in engine.voices() if (splits[voice.speaker] == TEST) == test_voices])
    }
    if not voices:
        raise ValueError(
            f"none of the installed voices of {', '.join(found)} is "
            f"{'a test voice' if test_voices else 'a voice to train on'}"
        )
    return speech_jobs(label, list(texts), found, voices, DEFAULT_WEIGHTS, splits, seed)


def voice_splits() -> dict[str, str]:
    """Speaker id -> "train", "validation" or "test" for every installed voice, as the default corpus
    (`synth`'s defaults, every engine) splits them.

    The shipped model never trained on the validation and test voices. Which engines one asks for
    does not move a voice, so a voice is on one side everywhere.
    """
    defaults = corpus.CorpusConfig(out_dir=Path("."))
    voices = [voice for engine in available_engines(defaults.engines) for voice in engine.voices()]
    return assign_splits(voices, defaults.seed, defaults.holdout)


def render(
    jobs: Sequence[Job],
    seed: int = 0,
    config: FeatureConfig | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    lanes: int = LANES,
) -> Iterator[tuple[int, Job, np.ndarray]]:
    """(position in `jobs`, job, clip (clip_samples,) float32) for each job that renders, as each
    finishes; a failing one is skipped.

    Each engine's jobs run in order in a thread of their own, with an engine object of their own
    (festival's interpreter and piper's model are not shared between threads); `lanes` engines
    run at once, the busiest first. The engines work in subprocesses and ONNX Runtime, outside
    the GIL, so lanes overlap (see LANES for how much).
    """
    samples = (config or FeatureConfig()).clip_samples
    by_engine: dict[str, list[tuple[int, Job]]] = defaultdict(list)
    for position, job in enumerate(jobs):
        by_engine[job.voice.engine].append((position, job))
    finished: queue.Queue[tuple[int, Job, np.ndarray] | None] = queue.Queue()  # None: an engine is done
    abandoned = threading.Event()  # the caller stopped iterating: the lanes stop too

    def speak_all(name: str, work: list[tuple[int, Job]]) -> None:
        """One engine's jobs, in order; always ends by putting None on the queue."""
        engine = None
        try:
            engine = make_engine(name)
            for position, job in work:
                if should_stop() or abandoned.is_set():
                    break
                try:
                    with _SPEAKING[name]:
                        audio = corpus.speech_clip(job, seed, samples, engine)
                    finished.put((position, job, audio))
                except Exception as error:  # an engine failing on one word must not end the set
                    corpus.log.warning("could not synthesize %r with %s: %s", job.text, job.voice.speaker, error)
        except Exception as error:  # nor one that cannot start
            corpus.log.warning("could not start %s: %s", name, error)
        finally:
            if engine is not None:
                engine.close()
            finished.put(None)

    busiest_first = sorted(by_engine.items(), key=lambda item: -len(item[1]))
    with ThreadPoolExecutor(max_workers=max(1, lanes)) as pool:
        try:
            for name, work in busiest_first:
                pool.submit(speak_all, name, work)
            running = len(busiest_first)
            while running:
                item = finished.get()
                if item is None:
                    running -= 1
                else:
                    yield item
        finally:
            abandoned.set()


def unknown_texts(count: int, exclude: Sequence[str], seed: int = 0, word_list: Path = WORD_LIST) -> list[str]:
    """`count` different short words that neither are nor sound like any of `exclude`.

    Like `vocabulary.unknown_words` but only a sample is pronounced (milliseconds, not the
    seconds the whole list takes), so fine-tuning can draw new `_unknown_` words each time.
    """
    if count <= 0:
        return []
    if not word_list.is_file():
        raise FileNotFoundError(f"{word_list} not found; install it with `apt-get install wamerican`")
    commands = tuple(word.lower() for word in exclude)
    candidates = sorted(
        {
            word
            for word in word_list.read_text(encoding="utf-8", errors="ignore").split()
            if word.isascii()
            and word.isalpha()
            and word.islower()
            and MIN_LETTERS <= len(word) <= MAX_LETTERS
            and not looks_like_command(word, commands)
        }
    )
    sample = random.Random(f"{seed}-unknown-sample").sample(candidates, min(len(candidates), 3 * count))
    return drop_sound_alikes(sample, commands)[:count]


def silence_set(
    count: int, seed: int = 0, noise_dirs: Sequence[Path] = (), config: FeatureConfig | None = None
) -> list[np.ndarray]:
    """`count` background clips (clip_samples,): coloured noise and slices of the noise recordings."""
    files = noise_files(tuple(Path(folder) for folder in noise_dirs))
    samples = (config or FeatureConfig()).clip_samples
    return [silence_clip(index, seed, samples, files)[1] for index in range(count)]


def base_material(
    words: Sequence[str],
    per_word: int,
    unknown: int,
    silence: int,
    *,
    exclude: Sequence[str] = (),
    seed: int = 0,
    noise_dirs: Sequence[Path] = (),
    engines: Sequence[str] = ENGINE_NAMES,
    test_voices: bool = False,
    config: FeatureConfig | None = None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Clips of the base vocabulary: (clips, their labels, the words said: "" for background).

    `per_word` clips of each word in `words`, `unknown` clips of other words (none sounding
    like `words` or `exclude`, e.g. the user's new labels) labelled `_unknown_`, and `silence`
    background clips labelled `_silence_`; spoken by the test voices or the others (`plan_speech`).
    """
    jobs = [job for word in words for job in plan_speech(word, [word] * per_word, seed, engines, test_voices)]
    if unknown:
        jobs += plan_speech(UNKNOWN, unknown_texts(unknown, [*words, *exclude], seed), seed, engines, test_voices)
    total = len(jobs) + silence
    rendered: dict[int, tuple[np.ndarray, Job]] = {}
    for position, job, audio in render(jobs, seed, config, should_stop):
        rendered[position] = (audio, job)
        if on_progress is not None:
            on_progress(len(rendered), total)
    in_job_order = [rendered[position] for position in sorted(rendered)]  # however the lanes finished
    clips = [audio for audio, _ in in_job_order]
    labels, texts = [job.label for _, job in in_job_order], [job.text for _, job in in_job_order]
    if should_stop():
        return clips, labels, texts
    clips += silence_set(silence, seed, noise_dirs, config)
    labels += [SILENCE] * silence
    texts += [""] * silence
    if on_progress is not None:
        on_progress(len(clips), total)
    return clips, labels, texts


def write_starter_set(
    root: Path,
    word: str,
    count: int,
    seed: int = 0,
    engines: Sequence[str] = ENGINE_NAMES,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Synthesize `count` clips of `word` into root/word/ (Speech Commands names); returns how many.

    Typing a new word calls this, so the word can be learned before the user records it. Each
    file is written atomically; clips already there (same voice and parameters) are kept.
    """
    label = validate_label(word)
    if not label.replace(" ", "").replace("-", "").replace("'", "").isalpha():
        raise ValueError(f"cannot synthesize {word!r}: type a word (letters only) to have it spoken")
    written = 0
    jobs = plan_speech(label, [label] * count, seed, engines)
    for _, job, audio in render(jobs, seed, should_stop=should_stop):
        write_wav(Path(root) / job.path, audio)
        written += 1
        if on_progress is not None:
            on_progress(written, len(jobs))
    return written
