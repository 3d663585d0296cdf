"""demo.export.viewer: the self-contained HTML viewer.

Fast tests read the page as text: one file, nothing from the network, the embedded data equal to
the result (1 mm), the size of a 10 s clip, the escaping. Heavy tests open it in the real
browser (Debian's chromium, headless, tests/real_programs.py): the screenshot shows each person
in their colour where an independent projection of the documented default camera puts them,
the page reports data-ready="1" and no JavaScript error, a missing video is hidden, a real video
is loaded and seeked to the frame shown.

docs/viewer.jpg (the README's picture) is made by this module (needs chromium): ``.venv/bin/python
-m tests.test_export_viewer outputs/demo/demo_viewer.html "#frame=150"`` (the viewer ``make demo``
writes, at the frame of docs/demo_frame.jpg; with no argument: the 2-person fixture).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from demo.export.viewer import DATA_ELEMENT_ID, FIT, read_viewer_data, script_json, viewer_data, write_viewer
from demo.motion import WORLD_FIXED, WorldCamera
from demo.render import FixedCamera, RenderStyle, Scene, light_tint, track_color
from lifter.skeleton import JOINTS_17, PARENTS_17
from tests.export_fixtures import FIRST_MISSING, SECOND_ABSENT_UNTIL, SECOND_MISSING, make_result
from tests.real_programs import require

ROOT = Path(__file__).resolve().parents[1]
DOCS_IMAGE = ROOT / "docs" / "viewer.jpg"
WINDOW = (1400, 700)
BACKGROUND = (250, 250, 250)  # the canvas' colour (viewer.js BG_COLOR)
BORDER = (221, 221, 221)  # the header's and the controls' border lines (viewer.css #ddd)


def _data_of(page: str) -> dict:
    """The embedded JSON, cut out of the page with a pattern of this test (not the module's reader)."""
    m = re.search(r'<script type="application/json" id="' + DATA_ELEMENT_ID + r'">([^<]*)</script>', page)
    assert m, "no data element in the page"
    return json.loads(m.group(1))


def _tiled(result, frames: int):
    """The result repeated along time to ``frames`` frames (the fixture's walk is shorter than 10 s)."""
    t = result.num_frames
    idx = np.arange(frames) % t

    def tile(a):
        return np.asarray(a)[:, idx]

    return replace(result, keypoints_2d=tile(result.keypoints_2d), scores=tile(result.scores),
                   keypoints_3d=tile(result.keypoints_3d), keypoints_3d_world=tile(result.keypoints_3d_world),
                   valid=tile(result.valid), time_s=np.arange(frames) / result.fps, keypoints_2d_raw=None,
                   repair_flags=None, keypoints_3d_raw=None, root_translation=tile(result.root_translation))


# ---------------------------------------------------------------- fast: the page as text


def test_one_file_nothing_from_the_network(tmp_path):
    path = write_viewer(tmp_path / "clip_viewer.html", make_result(2))
    assert path == tmp_path / "clip_viewer.html" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"https?:|//cdn|\bsrc\s*=|\bhref\s*=|<link\b|\bimport\s*\(|@import", page, re.I), \
        "the page refers to something outside it"
    # the program and the stylesheet are inside the page, not referenced
    shipped = Path(__file__).resolve().parents[1] / "demo" / "export"
    for asset in ("viewer.js", "viewer.css"):
        assert (shipped / asset).read_text(encoding="utf-8").strip() in page
    assert page.count("<script") == page.count("</script>") == 3  # the error hook, the data, the program


def test_video_panel_only_with_a_video_url(tmp_path):
    result = make_result(1)
    plain = write_viewer(tmp_path / "a.html", result).read_text(encoding="utf-8")
    assert "<video" not in plain
    page = write_viewer(tmp_path / "b.html", result, video_url='../in put/"clip".mp4').read_text(encoding="utf-8")
    assert re.search(r'<video id="video" src="\.\./in put/&quot;clip&quot;\.mp4"', page)
    assert page.count("<video") == 1


def test_embedded_data_equals_the_result(tmp_path):
    result = make_result(2)
    data = _data_of(write_viewer(tmp_path / "v.html", result).read_text(encoding="utf-8"))
    assert data == read_viewer_data((tmp_path / "v.html").read_text(encoding="utf-8"))
    world = result.keypoints_3d_world
    assert [p["id"] for p in data["people"]] == [1, 2]
    assert data["joints"] == list(JOINTS_17) and data["parents"] == list(PARENTS_17)
    assert data["fps"] == 30.0 and len(data["time_s"]) == result.num_frames
    np.testing.assert_allclose(data["time_s"], result.time_s, atol=1e-6)
    for p, person in enumerate(data["people"]):
        rgb = track_color(person["id"])
        assert person["color"] == "#%02x%02x%02x" % rgb and person["tint"] == "#%02x%02x%02x" % light_tint(rgb)
        assert len(person["frames"]) == result.num_frames
        for t, row in enumerate(person["frames"]):
            if not np.isfinite(world[p, t]).all():
                assert row is None, (p, t)
                continue
            got = np.array(row, float).reshape(17, 3) / 1000.0
            assert np.abs(got - world[p, t]).max() <= 0.0005 + 1e-9, (p, t)
    absent = [t for t, row in enumerate(data["people"][0]["frames"]) if row is None]
    assert absent == list(FIRST_MISSING)
    absent = [t for t, row in enumerate(data["people"][1]["frames"]) if row is None]
    assert absent == list(range(SECOND_ABSENT_UNTIL)) + list(SECOND_MISSING)
    # the input camera's mark (estimated ground) and the floor
    np.testing.assert_allclose(np.array(data["camera_mm"]) / 1000, result.camera.position_world, atol=5e-4)
    assert data["world_kind"] == "ground" and data["floor"]["shaded"] is True


def test_default_view_is_the_rendered_videos_view():
    result = make_result(2)
    data = viewer_data(result)
    style = RenderStyle()
    scene = Scene.from_world(result.keypoints_3d_world, ground=True)
    cam = FixedCamera(100, style, scene)
    view = data["view"]
    np.testing.assert_allclose(view["target"], cam.target, atol=1e-3)
    assert view["distance"] == pytest.approx(cam.distance, abs=1e-3)
    assert (view["azimuth_deg"], view["elevation_deg"], view["fit"]) == (style.azimuth_deg, style.elevation_deg, FIT)
    np.testing.assert_allclose(view["bounds"], [scene.lo, scene.hi], atol=1e-3)


def test_fixed_view_and_nobody():
    fixed = make_result(1)
    fixed.camera = WorldCamera(focal_px=1000.0, center_px=np.array([320.0, 240.0]), kind=WORLD_FIXED)
    data = viewer_data(fixed)
    assert data["world_kind"] == WORLD_FIXED and data["camera_mm"] is None and data["floor"]["shaded"] is False
    nobody = viewer_data(make_result(0))
    assert nobody["people"] == [] and len(nobody["time_s"]) == 90
    assert nobody["view"]["bounds"] == [[-2.0, -2.0, 0.0], [2.0, 2.0, 2.0]]  # the default box


def test_a_person_never_present_is_left_out():
    result = make_result(2)
    result.keypoints_3d_world[1] = np.nan
    assert [p["id"] for p in viewer_data(result)["people"]] == [1]


def test_ten_second_clip_is_small(tmp_path):
    result = _tiled(make_result(2), 300)  # 10 s at 30 fps, 2 people
    assert result.num_frames == 300
    path = write_viewer(tmp_path / "v.html", result)
    size = path.stat().st_size
    print(f"viewer page of a 10 s, 30 fps, 2-person clip: {size / 1e3:.0f} kB")
    assert size < 5_000_000
    assert size < 400_000  # about 250 bytes per person and frame, as documented
    assert sum(row is not None for p in _data_of(path.read_text(encoding="utf-8"))["people"] for row in p["frames"]) \
        == int(np.isfinite(result.keypoints_3d_world).all((-1, -2)).sum())


def test_text_from_the_result_cannot_end_the_script(tmp_path):
    result = make_result(1)
    name = "a<script>alert(1)<\\script> & <!-- \u2028 <style>.mp4"  # a file name cannot hold "/"
    result.video = "/videos/" + name
    page = write_viewer(tmp_path / "v.html", result).read_text(encoding="utf-8")
    assert page.lower().count("</script") == 3  # only the page's own three scripts end
    assert page.lower().count("<script") == 3 and page.lower().count("<style") == 1
    assert "<!--" not in page
    assert _data_of(page)["video"] == name
    assert "<title>a&lt;script&gt;alert(1)&lt;\\script&gt; &amp; &lt;!-- \u2028 &lt;style&gt;.mp4 - 3D viewer" in page
    text = script_json({"k": "</script>&\u2029"})
    assert "<" not in text and "&" not in text and "\u2029" not in text
    assert json.loads(text) == {"k": "</script>&\u2029"}


def test_written_atomically_over_an_old_file(tmp_path):
    path = tmp_path / "v.html"
    path.write_text("old")
    write_viewer(path, make_result(1))
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["v.html"]  # no temporary file left


# ---------------------------------------------------------------- heavy: in the real browser


def _chromium(args: list[str], url: str, profile: Path) -> str:
    exe = require("chromium")
    cmd = [exe, "--headless", "--no-sandbox", "--hide-scrollbars", f"--user-data-dir={profile}",
           f"--window-size={WINDOW[0]},{WINDOW[1]}", *args, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _screenshot(page: Path, fragment: str, out: Path) -> np.ndarray:
    """RGB (H, W, 3) int screenshot of ``page#fragment``."""
    import cv2

    _chromium([f"--screenshot={out}"], page.as_uri() + fragment, out.parent / "profile")
    image = cv2.imread(str(out), cv2.IMREAD_COLOR)
    assert image is not None, f"no screenshot at {out}"
    return image[:, :, ::-1].astype(int)


def _body(page: Path, fragment: str = "", budget_ms: int = 0) -> dict[str, str]:
    """The <body> data-* attributes after the page ran (chromium --dump-dom)."""
    args = ["--dump-dom"] + ([f"--virtual-time-budget={budget_ms}"] if budget_ms else [])
    dom = _chromium(args, page.as_uri() + fragment, page.parent / "profile")
    tag = re.search(r"<body([^>]*)>", dom)
    assert tag, dom[:500]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(1)))


def _canvas_rows(image: np.ndarray) -> tuple[int, int]:
    """First and last row of the canvas (no video panel: full width): between the header's bottom
    border and the controls' top border, the two full-width grey (#ddd) lines of the page."""
    borders = np.flatnonzero((image == BORDER).all(-1).mean(1) > 0.95)
    assert len(borders) == 2 and borders[1] - borders[0] > 200, f"canvas band not found: {borders}"
    top, bottom = int(borders[0]) + 1, int(borders[1]) - 1
    assert (image[[top, bottom], 1] == BACKGROUND).all()
    return top, bottom


def _project(data: dict, points: np.ndarray, width: float, height: float, az_deg: float) -> np.ndarray:
    """World points (N, 3) -> canvas pixels (N, 2) with the camera the module docstring describes:
    orbit around view.target at distance view.distance, azimuth az_deg, elevation view.elevation_deg;
    focal length fitting the scene box seen from the default view into view.fit of the canvas, the
    principal point at the canvas centre."""
    view = data["view"]

    def basis(az):
        az, el = np.radians(az), np.radians(view["elevation_deg"])
        to_eye = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        eye = np.array(view["target"]) + view["distance"] * to_eye
        fwd = -to_eye
        right = np.cross(fwd, [0, 0, 1.0])
        right /= np.linalg.norm(right)
        return eye, np.stack([right, np.cross(right, fwd), fwd])

    eye0, b0 = basis(view["azimuth_deg"])
    lo, hi = np.array(view["bounds"])
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    c = (corners - eye0) @ b0.T
    focal = min((view["fit"] * width / 2 / np.abs(c[:, 0] / c[:, 2])).min(),
                (view["fit"] * height / 2 / np.abs(c[:, 1] / c[:, 2])).min())
    eye, b = basis(az_deg)
    c = (np.asarray(points, float) - eye) @ b.T
    return np.stack([width / 2 + focal * c[:, 0] / c[:, 2], height / 2 - focal * c[:, 1] / c[:, 2]], -1)


def _person_pixels(image: np.ndarray, track_id: int, top: int, bottom: int) -> np.ndarray:
    """(N, 2) x, y canvas pixels in the track's colour or its light tint (the canvas band only)."""
    band = image[top:bottom + 1]
    mask = np.zeros(band.shape[:2], bool)
    for rgb in (track_color(track_id), light_tint(track_color(track_id))):
        mask |= (np.abs(band - np.array(rgb)).max(-1) <= 8)
    ys, xs = np.nonzero(mask)
    return np.stack([xs, ys], -1).astype(float)


@pytest.mark.heavy
@pytest.mark.parametrize("az", [None, 70.0])
def test_screenshot_shows_each_person_where_the_camera_puts_them(tmp_path, az):
    result = make_result(2)
    page = write_viewer(tmp_path / "v.html", result)
    data = viewer_data(result)
    frame = 60
    fragment = f"#frame={frame}" + ("" if az is None else f"&az={az:g}")
    image = _screenshot(page, fragment, tmp_path / "shot.png")
    top, bottom = _canvas_rows(image)
    width, height = image.shape[1], bottom - top + 1
    azimuth = data["view"]["azimuth_deg"] if az is None else az
    centres = []
    for p, track_id in enumerate(result.track_ids):
        pixels = _person_pixels(image, int(track_id), top, bottom)
        assert len(pixels) > 300, f"person {track_id}: only {len(pixels)} pixels of its colour"
        joints = result.keypoints_3d_world[p, frame]
        label = joints[JOINTS_17.index("head")] + [0.0, 0.0, 0.2]
        expected = _project(data, np.vstack([joints, label]), width, height, azimuth)
        lo, hi = expected.min(0) - 14, expected.max(0) + 14
        lo[1] -= 20  # the ID label stands on its anchor point
        inside = ((pixels >= lo) & (pixels <= hi)).all(-1).mean()
        assert inside > 0.98, f"person {track_id}: {inside:.1%} of its pixels where projected ({lo}..{hi})"
        centre = pixels.mean(0)
        assert (centre > lo).all() and (centre < hi).all()
        assert np.linalg.norm(centre - expected[:17].mean(0)) < 40, (centre, expected[:17].mean(0))
        centres.append(centre[0])
    order = np.argsort(centres)
    pelvis = _project(data, result.keypoints_3d_world[:, frame, 0], width, height, azimuth)
    assert list(order) == list(np.argsort(pelvis[:, 0]))
    if az is not None:  # seen from the other side the two swap places
        default = _project(data, result.keypoints_3d_world[:, frame, 0], width, height, data["view"]["azimuth_deg"])
        assert list(np.argsort(default[:, 0])) != list(order)


@pytest.mark.heavy
def test_an_absent_person_is_not_drawn(tmp_path):
    result = make_result(2)
    page = write_viewer(tmp_path / "v.html", result)
    image = _screenshot(page, "#frame=5", tmp_path / "shot.png")  # person 2 arrives at frame 10
    top, bottom = _canvas_rows(image)
    assert len(_person_pixels(image, 1, top, bottom)) > 300
    assert len(_person_pixels(image, 2, top, bottom)) == 0


@pytest.mark.heavy
@pytest.mark.parametrize("people", [2, 0])
def test_page_is_ready_without_errors(tmp_path, people):
    page = write_viewer(tmp_path / "v.html", make_result(people))
    body = _body(page, "#frame=30")
    assert body.get("ready") == "1" and "errors" not in body, body
    assert body["frame"] == "30"
    image = _screenshot(page, "#frame=30", tmp_path / "shot.png")
    top, bottom = _canvas_rows(image)
    drawn = image[top:bottom + 1]
    assert (np.abs(drawn - np.array(BACKGROUND)).max(-1) > 30).sum() > 1000  # the floor grid at least


@pytest.mark.heavy
def test_a_missing_video_is_hidden_without_error(tmp_path):
    page = write_viewer(tmp_path / "v.html", make_result(2), video_url="no_such_video.mp4")
    body = _body(page, "#frame=12&play=1", budget_ms=3000)
    assert body.get("ready") == "1" and "errors" not in body, body
    assert body.get("video") == "failed"
    assert float(body["canvas"].split(",")[0]) == 0.0  # the canvas took the panel's place


@pytest.mark.heavy
def test_the_video_beside_is_seeked_to_the_frame_shown(tmp_path):
    import imageio_ffmpeg

    clip = tmp_path / "clip.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=320x240:rate=30", "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264", str(clip)],
                   check=True, timeout=120)
    result = make_result(2)
    page = write_viewer(tmp_path / "v.html", result, video_url=clip.name)
    for budget_ms in (3000, 10000, 30000):  # the seek runs in real time: a busy machine needs longer
        body = _body(page, "#frame=30", budget_ms=budget_ms)
        if "video-time" in body:
            break
    assert body.get("ready") == "1" and "errors" not in body, body
    assert body.get("video") == "ok"
    # the middle of frame 30: 1.0 s + half a frame
    assert float(body["video-time"]) == pytest.approx(30 / 30 + 0.5 / 30, abs=2e-3)
    assert float(body["canvas"].split(",")[0]) > 100  # the video panel is on the left
    playing = _body(page, "#frame=10&play=1", budget_ms=2000)
    assert playing.get("ready") == "1" and "errors" not in playing, playing
    assert int(playing["frame"]) >= 10


# ---------------------------------------------------------------- docs/viewer.jpg


def make_docs_screenshot(page: Path | None = None, fragment: str = "#frame=60&zoom=0.9", out: Path = DOCS_IMAGE,
                         width: int = 900) -> Path:
    """The README's picture of the viewer: ``page#fragment`` (default: the 2-person fixture at frame
    60) in headless chromium, scaled to ``width`` pixels, JPEG."""
    import cv2

    with tempfile.TemporaryDirectory() as tmp:
        if page is None:
            page = write_viewer(Path(tmp) / "synthetic_viewer.html", make_result(2))
        image = _screenshot(Path(page).resolve(), fragment, Path(tmp) / "shot.png").astype(np.uint8)
    small = cv2.resize(image, (width, round(image.shape[0] * width / image.shape[1])), interpolation=cv2.INTER_AREA)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), small[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out


if __name__ == "__main__":  # python -m tests.test_export_viewer [VIEWER.html [#frame=N...]]
    written = make_docs_screenshot(*(Path(a) if i == 0 else a for i, a in enumerate(sys.argv[1:3])))
    print(f"{written}: {written.stat().st_size / 1e3:.0f} kB", file=sys.stderr)
