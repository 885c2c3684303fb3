"""Choosing where the model runs: --device auto|cpu|cuda|mps, and on how many CPU threads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
