"""Words for `_unknown_`: many short English words that do not sound like any command.

A word that sounds like a command ("know" for no, "write" for right) taught as `_unknown_`
would pull real commands into `_unknown_`. Three filters keep them out:
1. a hand-made list of near-homophones and inflections of the default commands;
2. any word that starts with a command and ends in a common suffix (goes, stopped, ups);
3. when espeak-ng is installed, any word whose pronunciation is within one phoneme of a
   command's (dawn ~ down, top ~ stop), compared on espeak's en-us IPA without stress marks.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

WORD_LIST = Path("/usr/share/dict/american-english")  # Debian package `wamerican`
# Short words only: what a keyword spotter hears besides its commands is mostly short everyday
# words, and long rare words (most of the list) differ from commands by length alone. The README's
# default-model section shows what the change from 2-8 letters did on real speech.
MIN_LETTERS, MAX_LETTERS = 2, 6
# Near-homophones, rhymes and inflections of the default commands, by the command they echo.
SOUNDS_LIKE = {
    "yes": ("yeah", "yet", "yep", "yea", "yell", "jess", "less", "mess", "guess", "chess"),
    "no": ("know", "now", "note", "nor", "gnaw", "snow", "known", "knows", "noes", "nod"),
    "up": ("upper", "pup", "cup", "sup", "ups", "op"),
    "down": ("dawn", "town", "gown", "drown", "downs", "don", "done", "sound", "noun"),
    "left": ("lift", "loft", "lest", "cleft", "theft", "lefty"),
    "right": ("light", "write", "bright", "rite", "wright", "fright", "night", "rye", "ride", "rights"),
    "on": ("own", "in", "an", "one", "un", "honor"),
    "off": ("of", "often", "cough"),
    "stop": ("stock", "top", "stops", "step", "stub", "stomp", "shop"),
    "go": ("goes", "gone", "grow", "gore", "goal", "ago", "dough", "toe"),
}
CONFUSABLE = frozenset(word for words in SOUNDS_LIKE.values() for word in words) | frozenset(SOUNDS_LIKE)
SUFFIXES = ("s", "es", "ed", "d", "ing", "er", "ers", "est", "y", "ly", "ward", "wards", "n", "ne")
_STRESS = re.compile(r"[ˈˌːˑ‿]")


def unknown_words(commands: list[str] | tuple[str, ...], word_list: Path = WORD_LIST) -> list[str]:
    """Sorted lowercase alphabetic words of 2-6 letters from `word_list`, minus confusables.

    Raises FileNotFoundError with the package to install when the word list is missing.
    The result is cached per process: pronouncing the list takes a few seconds.
    """
    return list(_unknown_words(tuple(word.lower() for word in commands), Path(word_list)))


@functools.lru_cache(maxsize=8)
def _unknown_words(commands: tuple[str, ...], word_list: Path) -> tuple[str, ...]:
    if not word_list.is_file():
        raise FileNotFoundError(f"{word_list} not found; install it with `apt-get install wamerican`")
    candidates = {
        word
        for word in word_list.read_text(encoding="utf-8", errors="ignore").split()
        if word.isascii() and word.isalpha() and word.islower() and MIN_LETTERS <= len(word) <= MAX_LETTERS
    }
    kept = {word for word in candidates if not looks_like_command(word, commands)}
    kept = drop_sound_alikes(sorted(kept), commands)
    log.info("unknown vocabulary: %d of %d candidate words kept", len(kept), len(candidates))
    return tuple(kept)


def looks_like_command(word: str, commands: tuple[str, ...]) -> bool:
    if word in commands or word in CONFUSABLE:
        return True
    return any(word.startswith(command) and word[len(command) :] in SUFFIXES for command in commands)


def drop_sound_alikes(words: list[str], commands: tuple[str, ...]) -> list[str]:
    """`words` minus those within one phoneme of a command (all kept without espeak-ng).

    Only words at most one letter longer than the longest command are pronounced: longer
    ones have too many phonemes to be one edit away, and this halves the espeak-ng time.
    """
    if not shutil.which("espeak-ng"):
        log.warning("espeak-ng missing: unknown words are filtered by spelling only")
        return words
    targets = list(_pronounce(commands).values())
    limit = max(len(command) for command in commands) + 1
    short = tuple(word for word in words if len(word) <= limit)
    sounds = _pronounce(short)
    return [
        word for word in words if word not in sounds or not any(_within_one(sounds[word], target) for target in targets)
    ]


def _pronounce(words: tuple[str, ...], processes: int = 4) -> dict[str, str]:
    """IPA for each word (stress marks removed), from a few espeak-ng processes in parallel."""
    chunks = [words[i::processes] for i in range(processes) if words[i::processes]]
    running = [
        subprocess.Popen(
            ["espeak-ng", "-q", "--ipa", "-v", "en-us"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in chunks
    ]
    sounds = {}
    for chunk, process in zip(chunks, running, strict=True):
        output, _ = process.communicate("\n".join(chunk) + "\n", timeout=300)
        lines = [_STRESS.sub("", line.strip()) for line in output.splitlines() if line.strip()]
        if len(lines) != len(chunk):
            raise RuntimeError(f"espeak-ng gave {len(lines)} pronunciations for {len(chunk)} words")
        sounds.update(zip(chunk, lines, strict=True))
    return sounds


def _within_one(a: str, b: str) -> bool:
    """True when phoneme strings `a` and `b` are at most one edit apart (one IPA char a symbol)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
