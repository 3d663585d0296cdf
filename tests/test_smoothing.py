"""demo.smoothing: frame count and gaps kept, cut-offs in Hz at any fps, One-Euro causal and live == offline."""

from __future__ import annotations

import time

import numpy as np
import pytest

from demo.smoothing import (
    DEFAULT_CUTOFF_HZ,
    DEFAULT_SMOOTH,
    MIN_RUN_FRAMES,
    SMOOTH_METHODS,
    OneEuro,
    cutoff_note,
    savgol_window,
    smooth,
)

FILTERS = ("butterworth", "savgol", "oneeuro")


def _track(T: int, fps: float = 30.0, seed: int = 0) -> np.ndarray:
    """(T, 17, 3) metres: slow sway per joint plus 1 cm jitter."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None, None] / fps
    phase = rng.uniform(0, 2 * np.pi, (1, 17, 3))
    return 0.3 * np.sin(2 * np.pi * 0.8 * t + phase) + rng.normal(0, 0.01, (T, 17, 3))


def _gain(method: str, freq: float, fps: float, seconds: float = 8.0) -> float:
    """Amplitude ratio output / input of a sine in the middle half of the track."""
    t = np.arange(int(seconds * fps)) / fps
    x = np.sin(2 * np.pi * freq * t)
    y = smooth(x, fps, method)
    mid = slice(len(t) // 4, 3 * len(t) // 4)
    return float(np.std(y[mid]) / np.std(x[mid]))


def test_constants():
    assert SMOOTH_METHODS == ("butterworth", "savgol", "oneeuro", "off")
    assert DEFAULT_SMOOTH == "butterworth"
    assert 3.0 <= DEFAULT_CUTOFF_HZ <= 10.0


@pytest.mark.parametrize("method", SMOOTH_METHODS)
def test_shape_dtype_and_copy(method):
    x = _track(90).astype(np.float32)
    y = smooth(x, 30.0, method)
    assert y.shape == x.shape and y.dtype == np.float32
    assert y is not x and not np.shares_memory(x, y)
    if method == "off":
        np.testing.assert_array_equal(y, x)
    else:
        assert np.abs(y - x).max() > 1e-4  # it did something
    assert smooth(np.arange(40), 30.0, method).dtype == np.float64  # int input -> float


@pytest.mark.parametrize("method", FILTERS)
@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_pass_band_kept_stop_band_attenuated(method, fps):
    """The cut-off is in Hz: the same sines are kept / attenuated at 25, 30 and 60 fps."""
    assert _gain(method, 1.0, fps) > 0.95
    if method == "oneeuro":  # first-order and speed-adaptive: weaker, but still a low-pass
        assert _gain(method, 11.0, fps) < 0.75
        return
    assert _gain(method, 11.0, fps) < 0.3


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0, 120.0])
def test_butterworth_minus_3db_at_cutoff(fps):
    for cutoff in (3.0, DEFAULT_CUTOFF_HZ):
        t = np.arange(int(10 * fps)) / fps
        x = np.sin(2 * np.pi * cutoff * t)
        y = smooth(x, fps, "butterworth", cutoff)
        mid = slice(len(t) // 4, 3 * len(t) // 4)
        assert np.std(y[mid]) / np.std(x[mid]) == pytest.approx(1 / np.sqrt(2), abs=0.02)


def test_savgol_window_follows_fps():
    w30, w60, w120 = (savgol_window(fps, 6.0) for fps in (30.0, 60.0, 120.0))
    assert all(w % 2 == 1 for w in (w30, w60, w120))
    assert w30 < w60 < w120
    assert w120 / 120 == pytest.approx(w60 / 60, rel=0.15)  # about the same number of seconds


@pytest.mark.parametrize("method", FILTERS)
def test_constant_stays_constant(method):
    x = np.full((50, 17, 3), 1.25)
    np.testing.assert_allclose(smooth(x, 30.0, method), x, atol=1e-9)


def test_savgol_keeps_a_linear_motion_and_butterworth_nearly():
    t = np.arange(60) / 30.0
    x = np.stack([2.0 * t - 1.0, -0.5 * t], axis=1)
    np.testing.assert_allclose(smooth(x, 30.0, "savgol"), x, atol=1e-9)
    np.testing.assert_allclose(smooth(x, 30.0, "butterworth"), x, atol=1e-3)


@pytest.mark.parametrize("method", SMOOTH_METHODS)
@pytest.mark.parametrize("T", [0, 1, 2])
def test_tiny_tracks(method, T):
    x = _track(max(T, 1))[:T]
    y = smooth(x, 30.0, method, valid=np.ones(T, bool))
    assert y.shape == (T, 17, 3)
    if method == "oneeuro" and T == 2:  # causal: the first sample as given, the second filtered
        np.testing.assert_array_equal(y[0], x[0])
        assert (np.abs(y[1] - x[0]) <= np.abs(x[1] - x[0]) + 1e-12).all()
        return
    np.testing.assert_array_equal(y, x)  # too short to filter: unchanged


@pytest.mark.parametrize("method", ("butterworth", "savgol"))
def test_short_runs(method):
    x = _track(MIN_RUN_FRAMES + 2)
    y = smooth(x, 30.0, method)
    assert np.isfinite(y).all() and not np.array_equal(y, x)
    short = x[: MIN_RUN_FRAMES - 1]
    np.testing.assert_array_equal(smooth(short, 30.0, method), short)


@pytest.mark.parametrize("method", FILTERS)
def test_nan_gap_splits_the_track(method):
    x = _track(120)
    x[50:60] = np.nan
    y = smooth(x, 30.0, method)
    assert y.shape == x.shape
    assert np.isnan(y[50:60]).all() and np.isfinite(y[:50]).all() and np.isfinite(y[60:]).all()
    # each run is filtered alone: exactly what filtering the pieces separately gives
    np.testing.assert_allclose(y[:50], smooth(x[:50], 30.0, method), atol=1e-12)
    np.testing.assert_allclose(y[60:], smooth(x[60:], 30.0, method), atol=1e-12)


@pytest.mark.parametrize("method", FILTERS)
def test_invalid_frames_split_and_stay_unchanged(method):
    x = _track(100)
    valid = np.ones(100, bool)
    valid[40:45] = False
    x[40:45] = 99.0  # garbage of a frame where the person does not exist
    y = smooth(x, 30.0, method, valid=valid)
    np.testing.assert_array_equal(y[40:45], x[40:45])
    assert np.abs(y[:40]).max() < 1.0 and np.abs(y[45:]).max() < 1.0  # nothing leaked
    np.testing.assert_allclose(y[:40], smooth(x[:40], 30.0, method), atol=1e-12)


@pytest.mark.parametrize("method", ("butterworth", "savgol"))
def test_one_joint_missing_only_splits_that_joint(method):
    x = _track(100)
    x[30:33, 5] = np.nan
    y = smooth(x, 30.0, method)
    assert np.isnan(y[30:33, 5]).all()
    assert np.isfinite(np.delete(y, 5, axis=1)).all()
    np.testing.assert_allclose(np.delete(y, 5, axis=1), smooth(np.delete(x, 5, axis=1), 30.0, method),
                               atol=1e-12)
    np.testing.assert_allclose(y[:30, 5], smooth(x[:30, 5], 30.0, method), atol=1e-12)


def test_cutoff_at_or_above_nyquist_returns_copy_with_a_note():
    x = _track(60)
    for method in ("butterworth", "savgol"):
        np.testing.assert_array_equal(smooth(x, 10.0, method, cutoff_hz=5.0), x)
        note = cutoff_note(10.0, method, 5.0)
        assert isinstance(note, str) and "5 Hz" in note and "\n" not in note
        assert cutoff_note(30.0, method, 5.0) is None
    assert cutoff_note(10.0, "off", 6.0) is None
    assert cutoff_note(10.0, "oneeuro", 6.0) is None


def test_bad_arguments():
    x = _track(20)
    with pytest.raises(ValueError, match="unknown smoothing method"):
        smooth(x, 30.0, "kalman")
    with pytest.raises(ValueError, match="fps"):
        smooth(x, 0.0)
    with pytest.raises(ValueError, match="cutoff"):
        smooth(x, 30.0, cutoff_hz=-1.0)
    with pytest.raises(ValueError, match="valid"):
        smooth(x, 30.0, valid=np.ones(19, bool))


# ------------------------------------------------------------------------------------------------
# One-Euro


def _feed(x: np.ndarray, fps: float, **kw) -> np.ndarray:
    filt = OneEuro(**kw)
    return np.stack([filt(frame, i / fps) for i, frame in enumerate(x)])


def test_oneeuro_offline_equals_live_exactly():
    x = _track(150)
    x[70:74] = np.nan
    x[100:102, 3] = np.nan
    live = _feed(x, 30.0, min_cutoff_hz=2.0, beta=0.7, d_cutoff_hz=1.5)
    offline = smooth(x, 30.0, "oneeuro", cutoff_hz=2.0, beta=0.7, d_cutoff_hz=1.5)
    np.testing.assert_array_equal(offline, live)
    assert np.isnan(offline[70:74]).all() and np.isnan(offline[100:102, 3]).all()
    np.testing.assert_array_equal(offline[74], x[74])  # restart after a gap: first sample as given


def test_oneeuro_is_causal():
    x = _track(100)
    changed = x.copy()
    changed[60:] += np.random.default_rng(5).normal(0, 1.0, changed[60:].shape)
    for y, z in ((smooth(x, 30.0, "oneeuro"), smooth(changed, 30.0, "oneeuro")),
                 (_feed(x, 30.0), _feed(changed, 30.0))):
        np.testing.assert_array_equal(y[:60], z[:60])
        assert not np.allclose(y[60:], z[60:])
    # the zero-phase filters do look ahead (so the causality test can tell them apart)
    assert not np.allclose(smooth(x, 30.0, "butterworth")[:60], smooth(changed, 30.0, "butterworth")[:60])


def test_oneeuro_reduces_jitter_at_rest_and_beta_reduces_lag():
    rng = np.random.default_rng(1)
    still = rng.normal(0, 0.01, (300, 17, 3))
    y = smooth(still, 30.0, "oneeuro", cutoff_hz=1.0)
    assert y[30:].std() < 0.5 * still[30:].std()
    # a fast ramp (3 m/s): the speed term raises the cut-off and cuts the lag
    t = np.arange(60) / 30.0
    ramp = 3.0 * t
    lag_slow = np.abs(smooth(ramp, 30.0, "oneeuro", cutoff_hz=1.0, beta=0.0) - ramp)[30:].mean()
    lag_fast = np.abs(smooth(ramp, 30.0, "oneeuro", cutoff_hz=1.0, beta=2.0) - ramp)[30:].mean()
    assert lag_fast < 0.5 * lag_slow


def test_oneeuro_same_hz_behaviour_at_any_fps():
    """Time stamps, not frame counts: a step settles in the same time at 30 and 60 fps."""
    settle = []
    for fps in (30.0, 60.0):
        step = np.where(np.arange(int(2 * fps)) >= fps / 2, 1.0, 0.0)
        y = _feed(step[:, None], fps, min_cutoff_hz=2.0, beta=0.0)[:, 0]
        settle.append(np.argmax(y > 0.9) / fps)
    assert settle[0] == pytest.approx(settle[1], abs=0.04)


def test_oneeuro_reset_and_checks():
    filt = OneEuro(min_cutoff_hz=1.0, beta=0.0)
    a = np.zeros(3)
    filt(a, 0.0)
    b = np.ones(3)
    assert (filt(b, 0.1) < 1.0).all()
    with pytest.raises(ValueError, match="increase"):
        filt(b, 0.1)
    with pytest.raises(ValueError, match="shape"):
        filt(np.ones(4), 0.2)
    filt.reset()
    np.testing.assert_array_equal(filt(b, 0.0), b)  # first sample after reset: as given
    with pytest.raises(ValueError):
        OneEuro(min_cutoff_hz=0.0)
    with pytest.raises(ValueError):
        OneEuro(beta=-1.0)


def test_speed_report():
    x = _track(300).astype(np.float32)
    for method in SMOOTH_METHODS:
        smooth(x, 30.0, method)  # warm caches
        start = time.perf_counter()
        for _ in range(5):
            smooth(x, 30.0, method)
        per_frame_ms = (time.perf_counter() - start) / 5 / 300 * 1e3
        print(f"smooth {method}: {per_frame_ms:.4f} ms per frame (T=300, 17x3)")
