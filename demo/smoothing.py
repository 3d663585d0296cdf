"""Temporal smoothing of keypoint tracks: zero-phase Butterworth, Savitzky-Golay, causal One-Euro.

Shapes and units
----------------
``x`` is a track (T, ...) of floats in any unit (pixels for 2D, metres for 3D), filtered along
axis 0 (time); every other element (joint coordinate) is filtered on its own. ``fps`` is the frame
rate (frames per second); every frequency here is in Hz (cycles per second), so a setting means the
same at any frame rate. ``valid`` (T,) bool marks the frames where the track exists.

Gaps
----
A sample is usable when its frame is valid and its value is finite. Each element's usable samples
form runs of consecutive frames; each run is filtered alone (nothing is carried across a gap and
nothing is invented in it). Samples that are not usable are returned unchanged (NaN stays NaN);
the frame count is kept. Runs shorter than ``MIN_RUN_FRAMES`` are returned unchanged.

Methods (``SMOOTH_METHODS``)
----------------------------
- "butterworth" (default): ``scipy.signal.butter`` low-pass of order ``BUTTER_ORDER`` = 2, run
  forwards and backwards (``scipy.signal.sosfiltfilt``: zero phase, no lag, the biomechanics
  standard for marker trajectories). Running twice squares the magnitude response, so the
  single-pass cut-off is raised so that the COMPLETE zero-phase filter is -3 dB (gain 1/sqrt(2))
  exactly at ``cutoff_hz`` (Winter's two-pass correction, with the bilinear transform's frequency
  warping taken into account). Edges: odd extension (keeps a run's end value and slope); a short
  run uses a shorter extension (padlen = run length - 1).
- "savgol": ``scipy.signal.savgol_filter``, polynomial order ``SAVGOL_POLYORDER`` = 2, with the
  odd window (in frames, i.e. ``window / fps`` seconds) whose -3 dB frequency is nearest to
  ``cutoff_hz`` (at 6 Hz: 5 frames at 25 and 30 fps, 11 at 60 fps, about 0.18 s). A run shorter
  than the window uses the largest odd window that fits. Flat pass band, but weaker attenuation
  above the cut-off than Butterworth (side lobes).
- "oneeuro": the causal One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) as in ``OneEuro``
  below, fed frame by frame with time stamps ``frame_index / fps`` and restarted at every run:
  ``min_cutoff_hz = cutoff_hz`` (motion below the cut-off is always kept, as with the other
  methods), ``beta`` = ``ONEEURO_BETA`` and ``d_cutoff_hz`` = ``ONEEURO_D_CUTOFF_HZ`` unless given.
  It is exactly what feeding ``OneEuro`` sample by sample gives (the live path).
- "off": a copy.

Default cut-off ``DEFAULT_CUTOFF_HZ`` = 6 Hz: the voluntary motion of human joints in walking,
running and most everyday movements lies below about 6 Hz (Winter, *Biomechanics and Motor
Control of Human Movement*: 6 Hz is the usual cut-off for gait marker data), while a lifter's and
a detector's frame-to-frame jitter is broadband up to the Nyquist frequency. At 25 fps (Nyquist
12.5 Hz) 6 Hz still leaves an attenuating band. When ``cutoff_hz >= fps / 2`` the zero-phase
filters cannot act and a copy is returned; ``cutoff_note`` gives the one-line user note.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import signal

SMOOTH_METHODS: tuple[str, ...] = ("butterworth", "savgol", "oneeuro", "off")
DEFAULT_SMOOTH: str = "butterworth"
#: Hz: -3 dB point of the zero-phase filters, rest cut-off of the One-Euro filter
DEFAULT_CUTOFF_HZ: float = 6.0
#: order of the Butterworth low-pass per pass (forward + backward = order 4 in magnitude)
BUTTER_ORDER: int = 2
#: polynomial order of the Savitzky-Golay filter
SAVGOL_POLYORDER: int = 2
#: One-Euro speed coefficient: the cut-off rises by beta Hz per (x unit / s) of filtered speed.
#: 0.5 suits metres (a joint moving at 2 m/s gets +1 Hz); scale it by 1/unit for other units
#: (e.g. about 0.002 for pixels of a person ~ 250 px tall).
ONEEURO_BETA: float = 0.5
#: One-Euro cut-off (Hz) of the low-pass applied to the speed estimate (the paper's 1 Hz)
ONEEURO_D_CUTOFF_HZ: float = 1.0
#: runs with fewer usable frames are left as they are (too short to filter meaningfully)
MIN_RUN_FRAMES: int = 4


def _check_fps(fps: float) -> float:
    fps = float(fps)
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return fps


def _check_cutoff(cutoff_hz: float) -> float:
    cutoff_hz = float(cutoff_hz)
    if not math.isfinite(cutoff_hz) or cutoff_hz <= 0:
        raise ValueError(f"cutoff_hz must be a positive number of Hz, got {cutoff_hz!r}")
    return cutoff_hz


def _check_method(method: str) -> str:
    if method not in SMOOTH_METHODS:
        raise ValueError(f"unknown smoothing method {method!r}; expected one of {', '.join(SMOOTH_METHODS)}")
    return method


def _out_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)


def cutoff_note(fps: float, method: str, cutoff_hz: float = DEFAULT_CUTOFF_HZ) -> str | None:
    """One-line user note when ``smooth`` with these settings leaves the track unfiltered, else None."""
    fps, cutoff_hz, method = _check_fps(fps), _check_cutoff(cutoff_hz), _check_method(method)
    if method in ("butterworth", "savgol") and cutoff_hz >= fps / 2:
        return (f"smoothing skipped: the {method} cut-off {cutoff_hz:g} Hz is not below half the "
                f"frame rate ({fps / 2:g} Hz at {fps:g} fps); choose a lower cut-off")
    return None


# ------------------------------------------------------------------------------------------------
# Butterworth


@lru_cache(maxsize=64)
def _butter_sos(fps: float, cutoff_hz: float) -> np.ndarray:
    """Second-order sections of the single pass whose forward-backward run is -3 dB at cutoff_hz.

    Digital Butterworth magnitude (bilinear transform): |H|^2 = 1 / (1 + (tan(pi f/fs) / tan(pi fw/fs))^(2n)).
    Two passes give |H|^2 at cutoff_hz; |H|^2 = 1/sqrt(2) needs tan(pi fc/fs) / tan(pi fw/fs) = c with
    c = (sqrt(2) - 1) ** (1 / (2n)); always fw < fs / 2.
    """
    c = (math.sqrt(2.0) - 1.0) ** (1.0 / (2 * BUTTER_ORDER))
    single = fps / math.pi * math.atan(math.tan(math.pi * cutoff_hz / fps) / c)
    return signal.butter(BUTTER_ORDER, single, btype="low", fs=fps, output="sos")


def _butter_run(run: np.ndarray, sos: np.ndarray) -> np.ndarray:
    default_pad = 3 * (2 * len(sos) + 1)  # sosfiltfilt's own default for these sections
    return signal.sosfiltfilt(sos, run, axis=0, padlen=min(default_pad, run.shape[0] - 1))


# ------------------------------------------------------------------------------------------------
# Savitzky-Golay


def _savgol_cutoff(window: int, fps: float) -> float:
    """-3 dB frequency (Hz) of the central Savitzky-Golay smoother of this window."""
    coeffs = signal.savgol_coeffs(window, SAVGOL_POLYORDER)
    freqs, response = signal.freqz(coeffs, worN=2048, fs=fps)
    below = np.nonzero(np.abs(response) < 1.0 / math.sqrt(2.0))[0]
    return float(freqs[below[0]]) if below.size else fps / 2


@lru_cache(maxsize=64)
def savgol_window(fps: float, cutoff_hz: float = DEFAULT_CUTOFF_HZ) -> int:
    """Odd window (frames) whose Savitzky-Golay -3 dB frequency is nearest to cutoff_hz (log scale).

    Starts from Schafer's estimate (IEEE Signal Processing Magazine 2011) f3dB / (fs/2) ~
    (p + 1) / (3.2 M - 4.6) for the window 2M + 1 and checks the odd windows around it.
    """
    fps, cutoff_hz = _check_fps(fps), _check_cutoff(cutoff_hz)
    smallest = SAVGOL_POLYORDER + 1 + (SAVGOL_POLYORDER % 2)  # odd and > polyorder
    half = ((SAVGOL_POLYORDER + 1) * fps / (2 * cutoff_hz) + 4.6) / 3.2
    guess = 2 * int(round(half)) + 1
    candidates = [w for w in range(guess - 6, guess + 8, 2) if w >= smallest] or [smallest]
    errors = [abs(math.log(_savgol_cutoff(w, fps) / cutoff_hz)) for w in candidates]
    return candidates[int(np.argmin(errors))]


def _savgol_run(run: np.ndarray, window: int) -> np.ndarray:
    n = run.shape[0]
    window = min(window, n if n % 2 else n - 1)
    if window <= SAVGOL_POLYORDER:
        return run
    return signal.savgol_filter(run, window, SAVGOL_POLYORDER, axis=0, mode="interp")


# ------------------------------------------------------------------------------------------------
# One-Euro


class OneEuro:
    """Causal One-Euro filter for live use, element-wise on arrays of a fixed shape.

    Per element (Casiez et al. 2012): the speed ``dx = (x - x_hat_prev) / dt`` is low-passed at
    ``d_cutoff_hz``; the cut-off ``min_cutoff_hz + beta * |dx_hat|`` (Hz) is then used for the
    exponential low-pass of x, with ``alpha = 1 / (1 + 1 / (2 pi fc dt))``. Slow motion is smoothed
    most (lag matters little there), fast motion least (low lag).

    Call with ``x`` (...) and its time stamp ``t`` (seconds, strictly increasing). An element that
    is not finite is returned as given and restarts: its next finite sample is returned unchanged
    and starts a new run (so gaps are never bridged). ``reset()`` restarts every element.
    """

    def __init__(self, min_cutoff_hz: float = DEFAULT_CUTOFF_HZ, beta: float = ONEEURO_BETA,
                 d_cutoff_hz: float = ONEEURO_D_CUTOFF_HZ) -> None:
        self.min_cutoff_hz = _check_cutoff(min_cutoff_hz)
        self.d_cutoff_hz = _check_cutoff(d_cutoff_hz)
        beta = float(beta)
        if not math.isfinite(beta) or beta < 0:
            raise ValueError(f"beta must be a number >= 0, got {beta!r}")
        self.beta = beta
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample of every element is returned unchanged."""
        self._t: float | None = None
        self._x: np.ndarray | None = None    # last filtered value (float64), NaN = no state
        self._dx: np.ndarray | None = None   # last filtered speed (float64)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x)
        dtype = _out_dtype(x)
        x64 = x.astype(np.float64)
        t = float(t)
        if self._x is None:
            self._t = t
            self._x = np.where(np.isfinite(x64), x64, np.nan)
            self._dx = np.zeros_like(x64)
            return x64.astype(dtype)
        if x64.shape != self._x.shape:
            raise ValueError(f"OneEuro got shape {x64.shape}, expected {self._x.shape} (call reset() first)")
        dt = t - self._t
        if not dt > 0:
            raise ValueError(f"time stamps must increase: got t={t!r} after t={self._t!r}")
        finite = np.isfinite(x64)
        going = finite & np.isfinite(self._x)  # elements continuing a run
        with np.errstate(invalid="ignore"):
            tau_d = 1.0 / (2.0 * math.pi * self.d_cutoff_hz)
            speed = (x64 - self._x) / dt
            dx_hat = self._dx + (speed - self._dx) / (1.0 + tau_d / dt)
            cutoff = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
            x_hat = self._x + (x64 - self._x) / (1.0 + 1.0 / (2.0 * math.pi * cutoff * dt))
        out = np.where(going, x_hat, x64)
        self._t = t
        self._x = np.where(finite, out, np.nan)
        self._dx = np.where(going, dx_hat, 0.0)
        return out.astype(dtype)


def _oneeuro_track(x2: np.ndarray, usable: np.ndarray, fps: float, cutoff_hz: float, beta: float,
                   d_cutoff_hz: float, dtype: np.dtype) -> np.ndarray:
    """Offline One-Euro over (T, C): exactly OneEuro fed frame by frame.

    Samples that are not usable are fed as NaN (restart) and returned as given.
    """
    filt = OneEuro(cutoff_hz, beta, d_cutoff_hz)
    fed = np.where(usable, x2, np.nan)
    out = np.empty(x2.shape, dtype=dtype)
    for i in range(x2.shape[0]):
        out[i] = filt(fed[i], i / fps)
    return np.where(usable, out, x2.astype(dtype))


# ------------------------------------------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of the runs of True in a (T,) bool mask."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()))


def smooth(x: np.ndarray, fps: float, method: str = DEFAULT_SMOOTH,
           cutoff_hz: float = DEFAULT_CUTOFF_HZ, valid: np.ndarray | None = None, *,
           beta: float = ONEEURO_BETA, d_cutoff_hz: float = ONEEURO_D_CUTOFF_HZ) -> np.ndarray:
    """Filter the track ``x`` (T, ...) along time; returns a new array of the same shape.

    fps: frames per second; method: one of ``SMOOTH_METHODS``; cutoff_hz: Hz (see the module
    docstring for what it means per method); valid: (T,) bool or None (all frames); beta,
    d_cutoff_hz: One-Euro only. The dtype is kept for float input (float64 otherwise). Samples in
    invalid frames or not finite are returned unchanged; runs between them are filtered alone.
    """
    method, fps, cutoff_hz = _check_method(method), _check_fps(fps), _check_cutoff(cutoff_hz)
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("x must have a time axis: shape (T, ...)")
    dtype = _out_dtype(x)
    out = np.array(x, dtype=dtype, copy=True)
    T = x.shape[0]
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != (T,):
            raise ValueError(f"valid must have shape ({T},), got {valid.shape}")
    if method == "off" or T == 0 or out.size == 0 or cutoff_note(fps, method, cutoff_hz):
        return out

    x2 = out.reshape(T, -1).astype(np.float64)
    usable = np.isfinite(x2)
    if valid is not None:
        usable &= valid[:, None]
    if method == "oneeuro":
        return _oneeuro_track(x2, usable, fps, cutoff_hz, beta, d_cutoff_hz, dtype).reshape(x.shape)

    if method == "butterworth":
        sos = _butter_sos(fps, cutoff_hz)
        run_filter = lambda run: _butter_run(run, sos)  # noqa: E731
    else:
        window = savgol_window(fps, cutoff_hz)
        run_filter = lambda run: _savgol_run(run, window)  # noqa: E731

    # columns sharing one usable pattern (usually all of them) are filtered together
    if (usable == usable[:, :1]).all():
        groups = [np.arange(x2.shape[1])]
        patterns = [usable[:, 0]]
    else:
        uniq, inverse = np.unique(usable.T, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        groups = [np.nonzero(inverse == g)[0] for g in range(len(uniq))]
        patterns = list(uniq)
    res = out.reshape(T, -1)
    for cols, pattern in zip(groups, patterns):
        whole = cols.size == x2.shape[1]
        for start, stop in _runs(pattern):
            if stop - start < MIN_RUN_FRAMES:
                continue
            block = x2[start:stop] if whole else x2[start:stop, cols]
            filtered = run_filter(block)
            if whole:
                res[start:stop] = filtered
            else:
                res[start:stop, cols] = filtered
    return res.reshape(x.shape)
