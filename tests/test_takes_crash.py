"""Nothing lost: a process killed (SIGKILL) while it saves takes leaves every reported take intact
and nothing half-written where the loader reads; the next open removes its temp files."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from audio.dataset import scan_folder
from audio.io import read_audio
from audio.takes import METADATA_FILE, TakeStore

ROOT = Path(__file__).resolve().parent.parent
SAVER = """
import sys
import numpy as np
from audio.takes import TakeStore
store = TakeStore(sys.argv[1])
index = 0
while True:
    t = np.arange(16_000) / 16_000
    audio = (0.5 * np.sin(2 * np.pi * (100 + index) * t)).astype(np.float32)
    take = store.save("left" if index % 2 else "right", audio, device="test")
    print(index, take.name, flush=True)
    index += 1
"""


def expected(index: int) -> np.ndarray:
    t = np.arange(16_000) / 16_000
    return (0.5 * np.sin(2 * np.pi * (100 + index) * t)).astype(np.float32)


@pytest.mark.parametrize("kill_after", [5, 23])
def test_sigkill_while_saving_loses_no_reported_take(tmp_path, kill_after):
    root = tmp_path / "takes"
    child = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(root)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    reported = []
    try:
        deadline = time.monotonic() + 60
        while len(reported) < kill_after and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            index, name = line.split()
            reported.append((int(index), name))
        child.send_signal(signal.SIGKILL)  # mid-way through the next save, most likely
        child.wait(timeout=10)
        reported += [(int(i), n) for i, n in (line.split() for line in child.stdout.read().splitlines())]
    finally:
        if child.poll() is None:
            child.kill()
    assert len(reported) >= kill_after, "the saver did not start"
    for index, name in reported:  # every take reported saved is complete and holds its own audio
        audio = read_audio(root / name)
        np.testing.assert_allclose(audio, expected(index), atol=1e-3)
    for clip in scan_folder(root, ["left", "right"]):  # nothing half-written where the loader reads
        assert read_audio(clip.path).shape == (16_000,)
    visible = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert len(visible) - 1 in (len(reported), len(reported) + 1)  # + the metadata file; one may be unreported
    store = TakeStore(root)  # reopening cleans up the temp files a crash left
    assert not list(root.rglob(".*.tmp"))
    assert all(path.suffix == ".tmp" and path.name.startswith(".") for path in store.removed_temp_files)
    metadata = json.loads((root / METADATA_FILE).read_text())  # still valid JSON
    assert set(metadata["takes"]) >= {name for _, name in reported[:-1]}
