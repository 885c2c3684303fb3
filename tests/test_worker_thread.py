"""StoppableThread: restartable, a stop cuts a wait short, and a stop from inside cannot deadlock."""

import threading

from audio.worker_thread import StoppableThread


def test_stop_ends_a_waiting_loop_and_it_restarts():
    worker = StoppableThread("test")
    rounds = []

    def loop() -> None:
        rounds.append(1)
        worker.stopping.wait(30)  # a stop must end this at once, not after 30 s

    worker.start(loop)
    assert worker.running
    assert worker.stop() and not worker.running
    worker.start(loop)
    assert worker.stop() and rounds == [1, 1]
    assert not worker.stop()  # nothing left to stop


def test_stop_from_inside_the_thread_only_asks():
    worker = StoppableThread("test")
    asked = threading.Event()

    def loop() -> None:
        assert worker.stop() is False  # joining itself would deadlock
        asked.set()

    worker.start(loop)
    assert asked.wait(5) and worker.wait(5) and worker.stopping.is_set()
