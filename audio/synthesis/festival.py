"""festival: the Edinburgh engine, with diphone (kal, ked) and HTS (slt) recordings of people.

Starting festival and loading a voice costs ~0.3 s, a word ~5-40 ms, so each engine keeps one
festival interpreter running and feeds it Scheme on stdin. festival buffers its stdout when
it is not a terminal, so every command ends by writing "ok" to a pipe of our own
(`/dev/fd/N`) and flushing it: reading that line is how we know the wave file is complete.
"""

from __future__ import annotations

import os
import random
import select
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from audio.synthesis.voice import INTONATIONS, Engine, Voice, uniform

VOICE_DIRS = Path("/usr/share/festival/voices")
# festival voice -> (speaker suffix, person, diphone f0 settings or None for HTS voices)
KNOWN_VOICES = {
    "kal_diphone": ("kal", "kal", (105, 14)),
    "ked_diphone": ("ked", "ked", (105, 15)),
    "cmu_us_slt_arctic_hts": ("slt", "slt", None),
}
STRETCH = (0.75, 1.35)  # Duration_Stretch: > 1 is slower
F0_FACTOR = (0.75, 1.35)  # multiplies the diphone voice's mean f0 (HTS voices keep theirs)
TIMEOUT_SECONDS = 30


class FestivalEngine(Engine):
    """festival with one long-lived interpreter per engine object (so one per worker)."""

    name = "festival"
    programs = ("festival",)

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._ack = None

    def available(self) -> bool:
        return super().available() and bool(_installed_voices())

    def voices(self) -> list[Voice]:
        result = []
        for name in _installed_voices():
            suffix, person, _ = KNOWN_VOICES.get(name, (name, name, None))
            result.append(
                Voice(
                    engine=self.name,
                    speaker=f"festival-{suffix.replace('_', '-')}",
                    name=name,
                    group=f"person-{person.replace('_', '-')}",
                    family="person",
                )
            )
        return result

    def vary(self, voice: Voice, rng: random.Random) -> Voice:
        varied = voice.with_params(rate=uniform(rng, *STRETCH), intonation=rng.choice(INTONATIONS))
        if KNOWN_VOICES.get(voice.name, ("", "", None))[2] is not None:
            varied = varied.with_params(pitch=uniform(rng, *F0_FACTOR))
        return varied

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        if self._process is None or self._process.poll() is not None:
            self._start()
        handle, name = tempfile.mkstemp(prefix="voxgate-festival-", suffix=".wav")
        os.close(handle)
        path = Path(name)
        try:
            path.unlink()  # festival creates it; its absence afterwards means synthesis failed
            self._run(_scheme(text, voice, path))
            if not path.exists():
                raise RuntimeError(f"festival wrote no audio for {text!r} with voice {voice.name}")
            audio, rate = sf.read(path, dtype="float32")
        finally:
            path.unlink(missing_ok=True)
        return audio, rate

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()
            self._process.wait(timeout=TIMEOUT_SECONDS)
            self._ack.close()
            self._process = None

    def _run(self, scheme: str) -> None:
        """Send `scheme` to the running interpreter and wait until it has been evaluated."""
        self._process.stdin.write(scheme + '\n(format ack "ok\\n")\n(fflush ack)\n')
        self._process.stdin.flush()
        ready, _, _ = select.select([self._ack], [], [], TIMEOUT_SECONDS)
        if not ready or not self._ack.readline():
            self._process.kill()
            self._process = None
            raise RuntimeError("festival stopped answering; it was restarted for the next word")

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        self._process = subprocess.Popen(
            ["festival", "--pipe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            pass_fds=(write_end,),
        )
        os.close(write_end)  # the interpreter holds the only writer: its death gives EOF
        self._ack = os.fdopen(read_end, "r")
        self._process.stdin.write(f'(set! ack (fopen "/dev/fd/{write_end}" "w"))\n')


def _scheme(text: str, voice: Voice, path: Path) -> str:
    """Scheme that selects `voice` with its parameters and saves `text` to `path` as RIFF."""
    stretch = float(voice.param("rate", 1.0))
    lines = [f"(voice_{voice.name})", f"(Parameter.set 'Duration_Stretch {stretch})"]
    f0 = KNOWN_VOICES.get(voice.name, ("", "", None))[2]
    if f0 is not None:
        mean, std = f0[0] * float(voice.param("pitch", 1.0)), f0[1]
        lines.append(
            f"(set! int_lr_params '((target_f0_mean {mean:.1f}) (target_f0_std {std})"
            " (model_f0_mean 170) (model_f0_std 34)))"
        )
    else:  # HTS voices ignore Duration_Stretch; their engine takes a speed factor instead
        lines.append(f'(set! hts_engine_params (append hts_engine_params \'(("-r" {1 / stretch:.3f}))))')
    quoted = text.replace("\\", "").replace('"', "")
    lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{path}" \'riff)')
    return "\n".join(lines)


def _installed_voices() -> list[str]:
    """Voice folders under /usr/share/festival/voices/<language>/ (kal_diphone, ...)."""
    if not VOICE_DIRS.is_dir():
        return []
    return sorted(folder.name for folder in VOICE_DIRS.glob("*/*") if folder.is_dir())
