"""Split by voice: which speakers are held out for validation and testing.

How the held-out speakers are picked (deterministic for a seed and a set of voices):
- Voices are pooled by `family` ("espeak", "person" for the recorded people of flite and
  festival, "piper") and, inside a family, grouped by `group`: the timbre or person. An
  espeak group is one voice variant in *every* accent (so a held-out timbre is heard in
  no accent in training); a person group is one recorded person in *every* engine (flite's
  and festival's kal are the same man, so are their slt).
- Each family's groups are sorted, shuffled with `random.Random(f"{seed}-{family}")`, and
  the first `round(fraction × groups)` (at least 1) go to validation, the next as many to
  testing. A family with fewer than 3 groups (piper's single voice) is never held out: its
  only voice is worth more in training than in an evaluation nobody could pass.
- Held-out espeak variants therefore appear across all accents, and every family with
  enough people contributes to both lists, so the lists are spread across engines.
"""

from __future__ import annotations

import random
from collections import defaultdict

from audio.synthesis.voice import Voice

TRAIN, VALIDATION, TEST = "train", "validation", "test"
MIN_GROUPS_TO_HOLD_OUT = 3


def assign_splits(voices: list[Voice], seed: int, fraction: float = 0.1) -> dict[str, str]:
    """Map every speaker id in `voices` to "train", "validation" or "test".

    `fraction` is the share of each family's groups held out for each of the two lists.
    """
    if not 0 <= fraction < 0.5:
        raise ValueError(f"fraction must be in [0, 0.5), got {fraction}")
    families: dict[str, set[str]] = defaultdict(set)
    for voice in voices:
        families[voice.family].add(voice.group)
    split_of_group: dict[str, str] = {}
    for family, groups in sorted(families.items()):
        ordered = sorted(groups)
        random.Random(f"{seed}-{family}").shuffle(ordered)
        count = max(1, round(fraction * len(ordered))) if len(ordered) >= MIN_GROUPS_TO_HOLD_OUT else 0
        for position, group in enumerate(ordered):
            split_of_group[group] = VALIDATION if position < count else TEST if position < 2 * count else TRAIN
    return {voice.speaker: split_of_group[voice.group] for voice in voices}
