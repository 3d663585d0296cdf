"""A small ordered-stage executor: one background thread that works through items in order.

The pipeline's drawing pass draws a frame in the calling thread while a second thread converts
and pipes the previous one to the encoder (demo.pipeline). :class:`OrderedStage` is that second
thread: ``submit`` waits until the previous item is done, so at most one item is worked on
while the caller prepares the next (memory stays bounded), and an error met in the thread is
raised in the caller at its next ``submit`` or at ``finish``. Leaving the ``with`` block skips any item not
started and waits for the thread to end.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class OrderedStage:
    """Runs ``work(item)`` for each submitted item, in submission order, in one background thread."""

    _END = object()

    def __init__(self, work: Callable[[Any], None], name: str):
        self._work = work
        self._queue: queue.Queue = queue.Queue()  # never more than one item: submit joins first
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is self._END:
                    return
                if self._error is None and not self._stop.is_set():
                    self._work(item)
            except BaseException as exc:  # raised in the caller's thread by submit / finish
                self._error = exc
            finally:
                self._queue.task_done()
            del item  # do not keep the last item alive while waiting for the next

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, item: Any) -> None:
        """Wait for the previous item, raise its error if it failed, then queue this one."""
        self._queue.join()
        self._raise()
        self._queue.put(item)

    def finish(self) -> None:
        """Wait for the last item and raise its error if it failed."""
        self._queue.join()
        self._raise()

    def __enter__(self) -> "OrderedStage":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._queue.put(self._END)
        self._thread.join()
