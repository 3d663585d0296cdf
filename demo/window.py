"""The live view's window: OpenCV HighGUI (Qt in the opencv-contrib-python wheel mediapipe brings).

Call everything from one thread (the main thread: Qt wants its windows there). ``show`` puts an
RGB frame on screen; ``poll`` lets the window handle its events for ``wait_ms`` milliseconds and
tells whether the user asked to stop: the key ``q`` (or ``Q``) or Esc, or the window closed.
:func:`display_problem` says why no window can be opened (no display on Linux, an OpenCV build
without a GUI, a display that refuses the connection), or None when one can. Qt ends the whole
process (abort) when it cannot reach the display, so the last check opens a window in a child
process first (about half a second).
"""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np

#: keys that stop the live view: q, Q, Esc
STOP_KEYS = (ord("q"), ord("Q"), 27)


def display_problem() -> str | None:
    """Why a window cannot be opened here, or None when it can."""
    info = cv2.getBuildInformation()
    gui = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
        return "this OpenCV has no GUI support (a headless build)"
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not display:
        return "no display (DISPLAY is not set)"
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return f"opening a window on display {display} did not finish in 30 s"
    if probe.returncode != 0:
        said = [line.strip() for line in probe.stderr.splitlines() if line.strip()]
        return f"cannot open a window on display {display}" + (f" ({said[0]})" if said else "")
    return None


#: what the child process of display_problem runs
_PROBE = "import cv2; cv2.namedWindow('probe'); cv2.waitKey(1); cv2.destroyAllWindows()"


class Window:
    """One HighGUI window showing RGB frames (see the module docstring)."""

    def __init__(self, title: str):
        self.title = title
        self._shown = False
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)

    def show(self, frame_rgb: np.ndarray) -> None:
        """Show an RGB uint8 (H, W, 3) frame (drawn at the next ``poll``)."""
        cv2.imshow(self.title, cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))
        self._shown = True

    def poll(self, wait_ms: int = 1) -> bool:
        """Handle the window's events for ``wait_ms`` ms; False when the user asked to stop."""
        key = cv2.waitKey(max(1, int(wait_ms)))
        if key != -1 and (key & 0xFF) in STOP_KEYS:
            return False
        if self._shown and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return False  # closed with the window manager's button
        return True

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass
