"""Choosing where the model runs: --device auto|cpu|cuda|mps, on how many CPU threads (and how a batch
is split over them), and naming the machine a measurement ran on and how much of it the measurement had."""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psutil
import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then MPS, then CPU; an explicit device that is absent is an error."""
    if name not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise ValueError(f"device {name!r} is not available on this machine; use --device cpu or auto")
    return torch.device(name)


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with `count` torch CPU threads (None: as they are), then put the setting back.

    The setting is process-wide and a command's `main()` may run inside another program (the
    tests, the app), so it is never left changed.
    """
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def split_workers(device: torch.device, requested: int = 0) -> int:
    """Threads to split a batch over: `requested`, else one per torch CPU thread on the CPU and one on a GPU.

    On the CPU one batch of a small recurrent model is hundreds of small products in a row, each too
    small for torch's threads to share, so a second thread mostly waits; parts on threads of their own
    keep every core busy (docs/fine-tuning.md, "Each batch split over the cores")."""
    return requested or (torch.get_num_threads() if device.type == "cpu" else 1)


@contextmanager
def split_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of `workers` threads to run a batch's parts on, each with one torch thread of its own.

    torch keeps a thread's count per thread, but `torch.set_num_threads` also sets the count every thread
    takes at its first torch call. Held at one for a whole fine-tune, as the pool once did, that gave one
    torch thread to any thread started meanwhile: a recogniser started by Listen, or the next fine-tune's
    worker, which then did not split. So the pool's threads are all started at once and set their own
    count, and the caller's count is put back as the default before any part runs.
    """
    if workers == 1:  # the caller's own torch threads
        with ThreadPoolExecutor(1) as pool:
            yield pool
        return
    default = torch.get_num_threads()
    everyone = threading.Barrier(workers)

    def one_torch_thread() -> None:
        torch.get_num_threads()  # torch's first call on a thread sets its count to the default: done now
        torch.set_num_threads(1)
        everyone.wait()  # so that the pool starts a thread for each: none is idle until all are made

    with ThreadPoolExecutor(workers) as pool:
        for started in [pool.submit(one_torch_thread) for _ in range(workers)]:
            started.result()
        torch.set_num_threads(default)  # the caller's count (it never changed) and the default again
        yield pool


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's model name: Linux's /proc/cpuinfo names it; platform.processor() there gives only the
    architecture, and elsewhere it is all there is."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine() -> dict[str, object]:
    """What a measurement ran on, for the benches' JSON.

    A seed repeats a fine-tune exactly on the machine it ran on, but another machine trained other
    models from the same seeds (docs/fine-tuning.md, "Repeating a run"). Which difference did it was
    not found; the processor and the vector instructions torch picked its kernels by
    (`cpu_capability`) are the first suspects, so they are named.
    """
    machine: dict[str, object] = {
        "cpu": cpu_name(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        machine["cuda"] = torch.cuda.get_device_name()
    return machine


def machine_summary(machine: dict[str, object]) -> str:
    """`describe_machine` in one line, for the benches' text output."""
    cuda = f", {machine['cuda']}" if "cuda" in machine else ""
    return (
        f"{machine['cpu']} ({machine['cpu_capability']} kernels, {machine['cores']} cores, "
        f"torch {machine['torch']}{cuda})"
    )


def cpu_steal_seconds() -> float | None:
    """CPU seconds, all cores together, since boot that the hypervisor gave to other machines while
    this one had work to run (Linux's `steal`; None where the system does not report it)."""
    return getattr(psutil.cpu_times(), "steal", None)


class StolenTime:
    """The share of this machine's CPU time the hypervisor took while a timed stage ran.

    A fine-tune on this project's 2-core virtual machine trained for 14.8 s in one run and 27.8 s in
    the next, with the same work. Time given to other machines is one cause the guest can see, so the
    benches report its share beside their times (docs/fine-tuning.md, "The times are a slow evening's":
    there it explained one slow run of ten, not the rest). Made as the stage starts; the caller keeps
    the clock.
    """

    def __init__(self) -> None:
        self.steal = cpu_steal_seconds()

    def share(self, seconds: float) -> float | None:
        """Stolen seconds over what all cores had in the stage's `seconds`; None where steal is not reported."""
        steal = cpu_steal_seconds()
        if steal is None or self.steal is None:
            return None
        core_seconds = seconds * (os.cpu_count() or 1)
        return (steal - self.steal) / core_seconds if core_seconds > 0 else 0.0
