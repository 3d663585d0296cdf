"""demo.render: output sizes on tiny inputs, colours, low confidence, the 'no person' panel."""

import numpy as np
import pytest

from _demo_fakes import STANDING_17, pixels_of
from demo.post import to_world_view
from demo.render import Renderer, RenderStyle, output_size


@pytest.mark.parametrize("w,h", [(64, 48), (33, 17), (48, 64), (7, 5), (1920, 1080)])
def test_output_size_is_even_and_keeps_aspect(w, h):
    width, height, left = output_size(w, h)
    assert width % 2 == 0 and height % 2 == 0 and left % 2 == 0
    assert height <= max(h, 2) and height <= 720
    assert width == left + height  # square 3D panel
    assert abs(left / height - w / h) < 0.25


def test_output_size_limits():
    assert output_size(1920, 1080) == (1280 + 720, 720, 1280)
    assert output_size(1920, 1080, RenderStyle(panel_height=None))[1] == 1080
    w, h, _ = output_size(1920, 1080, RenderStyle(max_width=1000))
    assert w <= 1000 and h % 2 == 0


@pytest.mark.parametrize("w,h", [(32, 24), (21, 15), (40, 72)])
def test_render_tiny_frames(w, h):
    r = Renderer(w, h, 25.0, 3)
    frame = np.full((h, w, 3), 128, np.uint8)
    kp = pixels_of(STANDING_17, w, h)
    for out in (r.render(frame, 0, kp, np.ones(17), to_world_view(STANDING_17)),
                r.render(frame, 1, None, None, None)):
        assert out.shape == (r.size[1], r.size[0], 3) and out.dtype == np.uint8


def test_render_draws_sides_low_confidence_and_no_person():
    w, h = 320, 240
    r = Renderer(w, h, 30.0, 10)
    assert r.size == (560, 240)
    frame = np.full((h, w, 3), 128, np.uint8)
    kp = pixels_of(STANDING_17, w, h)
    scores = np.ones(17, np.float32)
    world = to_world_view(STANDING_17)
    out = r.render(frame, 0, kp, scores, world).astype(int)
    mid = lambda a, b: np.round((kp[a] + kp[b]) / 2).astype(int)  # noqa: E731
    x, y = mid(5, 6)  # left shin: blue
    assert out[y, x, 2] > out[y, x, 0] + 60
    x, y = mid(2, 3)  # right shin: red
    assert out[y, x, 0] > out[y, x, 2] + 60
    low = scores.copy()
    low[[5, 6]] = 0.05  # left knee and ankle: drawn grey, not blue
    out_low = r.render(frame, 0, kp, low, world).astype(int)
    x, y = mid(5, 6)
    assert abs(out_low[y, x, 2] - out_low[y, x, 0]) < 30
    # 3D panel: a pose is drawn; without one the panel says so (and differs from both)
    empty = r.render(frame, 0, None, None, None)
    nan_pose = r.render(frame, 0, kp, scores, np.full((17, 3), np.nan))
    right = slice(r.left_width, None)
    background = r.background.astype(int)
    assert (out[:, right] != background).any(-1).sum() > 200
    assert (empty[:, right] != r.background).any(-1).sum() > 50
    assert (empty[:, right] == nan_pose[:, right]).all()
    assert (empty[:, right] != out[:, right]).any()
    # missing 2D joints (NaN) are skipped, and the left panel is the frame plus drawings
    kp_nan = kp.copy()
    kp_nan[13] = np.nan
    r.render(frame, 0, kp_nan, scores, world)
    with pytest.raises(ValueError):
        r.render(frame[:-2], 0, kp, scores, world)
