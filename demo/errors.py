"""The demo's error kinds and how an error is told to the user (one line).

UsageError: the command line names nothing to process (exit code 2). BatchError: the run cannot
go on (unwritable output folder; exit code 1). ModelError: the detector or lifter cannot be
loaded, so every video would fail the same way (exit code 1, the batch stops).
"""

from __future__ import annotations

import sys


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
