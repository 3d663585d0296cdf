"""The interactive 3D viewer: one self-contained HTML file per video (``<video stem>_viewer.html``).

What the file holds
-------------------
One HTML page that works offline: the stylesheet (viewer.css) and the program (viewer.js, plain
canvas 2D and a small perspective camera, no library) are copied into the page from this
package, and the poses are embedded as JSON in ``<script type="application/json"
id="pose-data">``. Nothing is loaded from the network; the only outside reference is the
optional source video (``video_url``, a relative or file URL the caller chooses).

What it shows and how to use it
-------------------------------
The world of keypoints.npz (metres, z up, the ground z = 0; demo/outputs.py): the floor grid on
z = 0 (shaded when the ground was estimated; in the "fixed view" fallback, where no ground was
found, the grid lies at the lowest joint, which that world puts on z = 0), each person's
skeleton with its grey shadow on the floor, the right side and the spine in the person's
colour and the left side in its light tint (``demo.render.track_color`` / ``light_tint``, as
in the rendered video), an "ID n" label above the head, the input camera's position as a
dark-grey mark (estimated ground only) and an x/y/z axis triad. Everything is drawn far to near
(painter's order). The default view is the one of the rendered video's 3D panel
(``demo.render.RenderStyle``: azimuth -110 deg, elevation 20 deg, distance from
``demo.render.FixedCamera``) around the centre of ``demo.render.Scene.from_world``'s box, with
the focal length that fits that box into :data:`FIT` of the canvas (centred).

Controls: Play/Pause button or the space key; the frame slider (one step = one video frame) with
the frame number and time; left/right arrow keys step one frame, Home/End jump; a speed choice
(0.25x-2x); drag to orbit (azimuth/elevation), shift- or right-drag to pan, the wheel or a
two-finger pinch to zoom, double-click or "r" to reset the view. Playback runs in real time at
the video's timing (``time_s``): the shown frame is the last one whose time has come, so a slow
machine skips frames rather than slowing down. With the source video beside the canvas, the
video is the clock: while it plays the 3D follows ``video.currentTime``, and moving the slider
seeks the video; a video that cannot be loaded is hidden and the viewer keeps its own clock.

URL options (for links and headless screenshots), after ``#`` or ``?``, joined by ``&``:
``frame=N`` (start paused at frame N; default: the first frame with a person), ``az=`` and
``el=`` (degrees), ``zoom=`` (distance factor, > 1 is farther), ``play=1`` (start playing; a
browser may refuse to start the video without a click, the 3D then plays on its own clock).
E.g. ``clip_viewer.html#frame=30&az=-90``. Page state for tests, on
``<body>``: ``data-ready="1"`` after the first drawing, ``data-errors`` (JavaScript errors and
unhandled rejections, " | "-joined), ``data-frame`` (the frame shown), ``data-canvas`` (the
canvas rectangle "left,top,width,height", CSS pixels), ``data-video`` ("ok" when loaded,
"failed" when hidden) and ``data-video-time`` (the video's time after its last seek).

Embedded data (:func:`viewer_data`, format :data:`DATA_FORMAT` version :data:`DATA_VERSION`)
--------------------------------------------------------------------------------------------
``video`` (file name), ``fps`` (0 if unknown), ``width``, ``height``, ``time_s`` (T, seconds, 1 us),
``world_kind`` ("ground" | "fixed view"), ``joints`` (the 17 names), ``parents`` (17), ``left``
(indices of the left-side joints), ``people``: one object per exported person
(``common.exported_people``) with ``id`` (track ID), ``color`` and ``tint`` ("#rrggbb") and
``frames``: T entries, each ``null`` (the person is absent: not every joint finite,
``common.present``) or 51 integers, the 17 joints' world x, y, z in **millimetres** (rounded),
joint after joint. ``camera_mm``: the input camera's world position (mm) or null (fixed view).
``view``: ``target`` (m), ``distance`` (m), ``azimuth_deg``, ``elevation_deg``, ``fit``,
``bounds`` ([[x, y, z] min, max], m). ``floor``: ``lo``, ``hi`` ([x, y], m), ``step`` (the
grid step, m, ``demo.render.grid_step_for``), ``shaded`` (bool).

Size: about 5 bytes per coordinate, so about 250 bytes per person and frame, plus about 27 KB of
program and style (a 10 s, 30 fps clip of 2 people: 154 KB; tests/test_export_viewer.py). The JSON is escaped for the
inside of ``<script>`` (``<``, ``>``, ``&``, U+2028, U+2029 as ``\\uXXXX``), so no text from the
result (the video name) can end the script early.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from pathlib import Path

import numpy as np

from demo.export.common import exported_people, present
from demo.motion import WORLD_GROUND
from demo.render import FixedCamera, RenderStyle, Scene, grid_step_for, light_tint, track_color
from lifter.atomic import atomic_path
from lifter.skeleton import JOINTS_17, LEFT_17, PARENTS_17

DATA_FORMAT = "pose3d-lifter viewer"
DATA_VERSION = 1
#: id of the <script type="application/json"> element holding the data
DATA_ELEMENT_ID = "pose-data"
#: share of the canvas (width and height, centred) the default view's scene box is fitted into
FIT = 0.92
#: the static assets copied into every page (files of this package)
ASSETS = ("viewer.css", "viewer.js")

# Runs first (before the data and the program), so that even a syntax error of the program is
# recorded on <body data-errors> for a headless check.
_ERROR_HOOK = """(function () {
  var errors = [];
  function record(text) { errors.push(String(text)); document.body.dataset.errors = errors.join(" | "); }
  window.onerror = function (message, source, line, column) {
    record(message + " (line " + line + ":" + column + ")");
  };
  window.addEventListener("unhandledrejection", function (event) { record("unhandled rejection: " + event.reason); });
})();"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 3D viewer</title>
<style>
{css}
</style>
</head>
<body>
<script>
{hook}
</script>
<header><h1>{title}</h1><span id="kind"></span><span id="legend"></span></header>
<main>
{video_panel}<div id="view"><canvas id="canvas" tabindex="0" aria-label="3D view of the poses"></canvas></div>
</main>
<footer>
<button id="play" type="button" title="play / pause (space)">&#9654; Play</button>
<input id="slider" type="range" min="0" max="0" step="1" value="0" aria-label="frame">
<span id="readout"></span>
<label>speed <select id="speed"><option value="0.25">0.25x</option><option value="0.5">0.5x</option>
<option value="1" selected>1x</option><option value="2">2x</option></select></label>
<button id="reset" type="button" title="reset the view (r, double-click)">Reset view</button>
<span class="hint">drag: orbit &middot; shift/right-drag: pan &middot; wheel/pinch: zoom &middot;
space: play &middot; &larr;/&rarr;: step</span>
</footer>
<script type="application/json" id="{data_id}">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""

_VIDEO_PANEL = ('<div id="videoPanel"><video id="video" src="{url}" muted playsinline preload="auto">'
                '</video></div>\n')

_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(obj) -> str:
    """Compact JSON of ``obj`` that is safe inside a ``<script>`` element and still valid JSON:
    ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX`` (they only occur inside strings)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group(0)], text)


def read_viewer_data(page: str) -> dict:
    """The data embedded in a viewer page (the text of a file :func:`write_viewer` wrote)."""
    found = re.search(rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', page, re.S)
    if not found:
        raise ValueError("no viewer data in this page")
    return json.loads(found.group(1))


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def _mm(points: np.ndarray) -> list[int]:
    return [int(v) for v in np.rint(np.asarray(points, np.float64) * 1000.0).reshape(-1)]


def viewer_data(result) -> dict:
    """The JSON object a viewer page embeds for ``result`` (layout: the module docstring)."""
    world = np.asarray(result.keypoints_3d_world, np.float64)
    people = exported_people(result)
    ground = result.camera.kind == WORLD_GROUND
    camera = np.asarray(result.camera.position_world, np.float64) if ground else None
    if camera is not None and not np.isfinite(camera).all():
        camera = None
    style = RenderStyle()
    scene = Scene.from_world([world[p] for p in people], ground=ground)
    view = FixedCamera(2, style, scene)  # the rendered video's 3D-panel view: target and distance
    step = grid_step_for(scene, style.grid_step)
    persons = []
    for p in people:
        here = present(world[p])
        frames = [_mm(world[p, t]) if here[t] else None for t in range(world.shape[1])]
        color = track_color(int(result.track_ids[p]))
        persons.append({"id": int(result.track_ids[p]), "color": _hex(color), "tint": _hex(light_tint(color)),
                        "frames": frames})
    fps = float(result.fps) if np.isfinite(result.fps) and result.fps > 0 else 0.0
    times = np.asarray(result.time_s, np.float64)
    if not np.isfinite(times).all():  # never expected; the page needs a time per frame
        times = np.arange(times.shape[0]) / (fps or 30.0)
    r3 = lambda a: [round(float(v), 3) for v in a]  # noqa: E731
    return {
        "format": DATA_FORMAT, "version": DATA_VERSION,
        "video": os.path.basename(str(result.video or "")), "fps": fps,
        "width": int(result.width), "height": int(result.height),
        "time_s": [round(float(t), 6) for t in times],
        "world_kind": str(result.camera.kind), "joints": list(JOINTS_17), "parents": list(PARENTS_17),
        "left": list(LEFT_17), "people": persons,
        "camera_mm": None if camera is None else _mm(camera),
        "view": {"target": r3(view.target), "distance": round(float(view.distance), 3),
                 "azimuth_deg": style.azimuth_deg, "elevation_deg": style.elevation_deg, "fit": FIT,
                 "bounds": [r3(scene.lo), r3(scene.hi)]},
        "floor": {"lo": r3(scene.lo[:2]), "hi": r3(scene.hi[:2]), "step": float(step), "shaded": bool(ground)},
    }


def _asset(name: str) -> str:
    text = resources.files("demo.export").joinpath(name).read_text(encoding="utf-8")
    if "</script" in text.lower() or "</style" in text.lower():
        raise ValueError(f"{name} must not contain a closing </script> or </style> tag")
    return text


def viewer_page(result, video_url: str | None = None) -> str:
    """The viewer page's HTML text (see :func:`write_viewer`)."""
    name = os.path.basename(str(result.video or "")) or "video"
    panel = "" if video_url is None else _VIDEO_PANEL.format(url=html.escape(str(video_url), quote=True))
    return _PAGE.format(title=html.escape(name), css=_asset("viewer.css"), hook=_ERROR_HOOK, video_panel=panel,
                        data_id=DATA_ELEMENT_ID, data=script_json(viewer_data(result)), js=_asset("viewer.js"))


def write_viewer(path, result, video_url: str | None = None) -> Path:
    """Write the self-contained viewer page of ``result`` (a demo.outputs.Result) to ``path``, atomically.

    video_url: the source video as the page should load it (a URL relative to the page, or a
    file: URL), shown beside the 3D view and synced with it; None for no video panel. Returns
    the path written.
    """
    path = Path(path)
    page = viewer_page(result, video_url)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
