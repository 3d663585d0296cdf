"""Keep the log lines of mediapipe's C++ core (absl, TFLite) off the user's console.

mediapipe 0.10.21 writes them straight to file descriptor 2 from C++ threads, e.g.::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1795850724.260683    5706 task_runner.cc:85] GPU suport is not available: ...
    INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
    W0000 00:00:1795850724.365405    5724 inference_feedback_manager.cc:114] Feedback manager ...
    W0000 00:00:1795850775.567573    7220 landmark_projection_calculator.cc:186] Using NORM_RECT ...

Measured with mediapipe 0.10.21: GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL (set before the import)
and Python's absl.logging verbosity change none of them (absl's C++ log has no environment
switch). What works is pointing fd 2 elsewhere while the C++ code runs: :func:`filtered_stderr`
does that for the duration of a ``with`` block only, then restores fd 2 and writes back every
captured line that is not one of these info/warning lines (errors, "E..."/"F..." lines, and
anything else, such as Python output from other threads, still reach the console, a little later).

The landmarker's lines come while it is created (all but the NORM_RECT one) and, once per
process, the first time a person's landmarks are computed (NORM_RECT), so the detector wraps
its creation and its ``detect`` calls until it first finds someone.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

#: the native info/warning lines dropped (absl "I"/"W" lines, TFLite "INFO:", absl's preamble)
_NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ [^\]\s]+:\d+\] "
    rb"|INFO: "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called)")

_lock = threading.Lock()
_depth = 0                # nested/concurrent blocks share one redirection
_saved_fd: int | None = None
_capture = None           # the temporary file fd 2 points to while _depth > 0
_failed = False           # some block of the current redirection raised


def is_noise(line: bytes) -> bool:
    """Whether one stderr line is a native info/warning line that is dropped."""
    return _NOISE.match(line) is not None


def drop_noise(text: bytes) -> bytes:
    """``text`` without its native info/warning lines (other lines kept, in order)."""
    return b"".join(line for line in text.splitlines(keepends=True) if not is_noise(line))


def _flush_python_stderr() -> None:
    if sys.stderr is not None:
        sys.stderr.flush()


def _begin() -> None:
    global _depth, _saved_fd, _capture
    with _lock:
        if _depth == 0:
            _flush_python_stderr()
            capture = tempfile.TemporaryFile()
            saved = os.dup(2)
            os.dup2(capture.fileno(), 2)
            _saved_fd, _capture = saved, capture
        _depth += 1


def _end(failed: bool) -> None:
    global _depth, _saved_fd, _capture, _failed
    with _lock:
        _depth -= 1
        _failed = _failed or failed
        if _depth > 0:
            return
        try:
            _flush_python_stderr()
        finally:
            os.dup2(_saved_fd, 2)
            os.close(_saved_fd)
            capture, _saved_fd, _capture = _capture, None, None
            failed, _failed = _failed, False
        with capture:
            capture.seek(0)
            text = capture.read()
        kept = text if failed else drop_noise(text)  # after a failure, every line helps
        if kept:
            os.write(2, kept)


@contextmanager
def filtered_stderr(enabled: bool = True) -> Iterator[None]:
    """Within the block, native info/warning lines written to fd 2 are dropped (if enabled).

    fd 2 is restored when the block ends, also on an exception; the other captured output is
    written to stderr then (all of it if the block raised). Thread-safe: overlapping blocks in
    several threads share one redirection, restored when the last one ends.
    """
    if not enabled:
        yield
        return
    _begin()
    failed = True
    try:
        yield
        failed = False
    finally:
        _end(failed)
