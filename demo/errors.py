"""The demo's error kinds and how an error is told to the user (one line).

UsageError: the command line names nothing to process (exit code 2). BatchError: the run cannot
go on (unwritable output folder; exit code 1). ModelError: the detector or lifter cannot be
loaded, so every video would fail the same way (exit code 1, the batch stops).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator


class UsageError(Exception):
    """The command line names nothing to process (missing path, no videos); exit code 2."""


class BatchError(Exception):
    """The batch cannot go on (unwritable output folder, detector or lifter not loadable); exit code 1."""


class ModelError(BatchError):
    """The detector or lifter cannot be loaded: every video would fail the same way."""


def one_line(exc: BaseException) -> str:
    """An exception as one line for the user (the type is named unless it is a usual I/O or value error)."""
    from demo.video import VideoError

    message = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    if not isinstance(exc, (VideoError, OSError, ValueError, BatchError, UsageError)) or not message:
        return f"{type(exc).__name__}: {message}".rstrip(": ")
    return message


def _unraisable(info) -> None:
    """sys.unraisablehook that stays silent about a KeyboardInterrupt raised inside a finalizer.

    Ctrl-C or SIGTERM can land while Python runs a ``__del__`` or a weakref callback, where the
    exception cannot propagate and would be printed as a traceback; the interrupt still stops the
    run (the parent process or the next signal ends it), so nothing is lost by not printing it.
    """
    if not isinstance(info.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(info)


def quiet_interrupts_in_finalizers() -> None:
    """Install :func:`_unraisable` (the CLI and worker processes do, so Ctrl-C never shows a traceback)."""
    sys.unraisablehook = _unraisable


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the block runs; their handlers run when it ends.

    For starting a child process: an interrupt inside ``subprocess.Popen`` (after the child exists,
    before the Popen object is returned) would leave a child nobody owns, e.g. an encoder that
    later writes a file nobody removes. Only the main thread receives signals, so elsewhere this
    does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in held:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)

