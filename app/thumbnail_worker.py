"""Reading takes and drawing their waveform thumbnails, off the GUI thread.

A store of a thousand takes took about a second to read, which froze the window as it opened.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from app.waveform_icon import waveform_image
from audio.io import read_audio

BATCH = 32  # thumbnails sent to the panel at a time: the list fills as they come, without a signal per take


class ThumbnailWorker(QObject):
    """Lives on a QThread; `draw` reads each file and sends back its thumbnail, None for a file it cannot read."""

    drawn = Signal(list)  # [(path, (mtime, size) stamp, QImage or None), ...]

    @Slot(list)
    def draw(self, files: list) -> None:
        """`files`: [(path, stamp), ...]; the stamp goes back with the picture, to tell it from a newer one."""
        batch = []
        for path, stamp in files:
            try:
                image = waveform_image(read_audio(path))
            except (ValueError, OSError):  # broken, empty or gone since it was listed
                image = None
            batch.append((path, stamp, image))
            if len(batch) == BATCH:
                self.drawn.emit(batch)
                batch = []
        if batch:
            self.drawn.emit(batch)
