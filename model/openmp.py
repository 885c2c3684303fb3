"""How torch's OpenMP worker threads wait between parallel regions. Set before torch is imported.

An LSTM step is hundreds of small parallel regions in a row. Workers that sleep between them
(OMP_WAIT_POLICY=PASSIVE, what main.py used to set) are slow to wake; workers that spin long
take a core from the audio, GUI and other programs' threads, and collapse when another program
is busy. A short spin gets both (`python -m bench.openmp_wait`, figures in docs/fine-tuning.md).
The policy must be ACTIVE for the short spin to hold in the app: GNU OpenMP cuts spinning to 100
turns, nearly passive, once its threads outnumber the cores, and the recogniser's thread keeps a
team of its own beside the fine-tuning worker's.

torch's Linux wheels use GNU OpenMP, measured here. Elsewhere (LLVM's or Intel's OpenMP on
macOS and Windows) nothing was measured, so workers keep sleeping at once, as before.
"""

from __future__ import annotations

import os
import sys

WAITING = (
    {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "1000"}
    if sys.platform.startswith("linux")
    else {"OMP_WAIT_POLICY": "PASSIVE"}
)


def set_waiting() -> None:
    """Default the OpenMP waiting variables; a user's own OMP_WAIT_POLICY or spin count wins."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    os.environ.update(WAITING)
