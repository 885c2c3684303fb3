"""The corpus plan: every clip to make, decided up front from the seed, before any audio.

Planning first makes a build deterministic and resumable: the same arguments give the same
list of (label, text, voice, file name), so a second run can skip the files that exist.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from audio.synthesis.voice import Engine, Voice

UNKNOWN, SILENCE = "_unknown_", "_silence_"


@dataclass(frozen=True)
class Job:
    """One clip: `path` is relative to the corpus folder (`label/speaker_nohash_variant.wav`).

    `voice` is None for a `_silence_` clip, which is noise number `index`.
    """

    label: str
    text: str
    voice: Voice | None
    path: str
    split: str
    index: int = 0


class SpeakerPicker:
    """Draws (engine, voice) pairs: engines by weight, each engine's speakers in turn.

    Going round a shuffled speaker list, rather than drawing at random, spreads a label's
    clips evenly over every speaker of the engine.
    """

    def __init__(self, voices: dict[str, list[Voice]], weights: dict[str, float], rng: random.Random):
        self._rng = rng
        self._names = [name for name in voices if voices[name] and weights.get(name, 0) > 0]
        if not self._names:
            raise ValueError("no engine with voices and a positive weight; check --engines")
        self._weights = [weights[name] for name in self._names]
        self._queues = {name: [] for name in self._names}
        self._voices = voices

    def next(self) -> tuple[str, Voice]:
        name = self._rng.choices(self._names, weights=self._weights)[0]
        queue = self._queues[name]
        if not queue:
            queue.extend(self._voices[name])
            self._rng.shuffle(queue)
        return name, queue.pop()


def speech_jobs(
    label: str,
    texts: list[str],
    engines: dict[str, Engine],
    voices: dict[str, list[Voice]],
    weights: dict[str, float],
    splits: dict[str, str],
    seed: int,
) -> list[Job]:
    """One job per entry of `texts`, each spoken by the next speaker, with varied parameters.

    Command labels pass the word N times; `_unknown_` passes N different words, whose name
    then goes into the file name too.
    """
    rng = random.Random(f"{seed}-{label}")
    picker = SpeakerPicker(voices, weights, rng)
    jobs, taken = [], Counter()
    for text in texts:
        name, speaker = picker.next()
        voice = engines[name].vary(speaker, rng)
        variant = voice.tag if label != UNKNOWN else f"{text}-{voice.tag}"
        stem = f"{voice.speaker}_nohash_{variant}"
        taken[stem] += 1
        if taken[stem] > 1:  # same speaker drew the same parameters: keep both, numbered
            stem = f"{stem}-{taken[stem] - 1}"
        jobs.append(Job(label, text, voice, f"{label}/{stem}.wav", splits[voice.speaker]))
    return jobs


def silence_jobs(count: int, seed: int, fraction: float) -> list[Job]:
    """`count` noise clips; each is its own "speaker", sent to a list with `fraction` odds."""
    jobs = []
    for index in range(count):
        draw = random.Random(f"{seed}-silence-split-{index}").random()
        split = "validation" if draw < fraction else "test" if draw < 2 * fraction else "train"
        path = f"{SILENCE}/noise-{index:05d}_nohash_0.wav"
        jobs.append(Job(SILENCE, "", None, path, split, index))
    return jobs
