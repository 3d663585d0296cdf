"""Fast side-by-side renderer: the input frame with the 2D skeletons | the 3D skeletons in the world view.

Everything is drawn in memory with OpenCV (anti-aliased lines with sub-pixel precision); nothing
is written to disk and no matplotlib figure is made per frame. Per-video work (the output size,
the 3D camera, the 3D panel's floor, grid, camera mark, axes, title, caption and legend, the text
sizes) is done once when a :class:`Renderer` is made; each frame copies the background and draws
the people (trails, shadows, skeletons, ID labels).

Layout of an output frame (RGB uint8, even width and height for H.264), decided only by
:func:`output_size`:

    +---------------------------+------------------+
    | input frame, scaled to    | 3D panel,        |
    | the panel height, with    | height x height  |
    | the 2D skeletons, their   | (square)         |
    | IDs and the frame number  |                  |
    +---------------------------+------------------+

People are given as :class:`DrawnPerson` (a track ID, H36M-17 2D joints in input-frame pixels,
scores, the 3D joints in the world, and optionally the recent pelvis trail). Colours:

- each track has its own colour, ``track_color(track_id)``: a fixed palette of 8 saturated
  colours indexed by the track ID (IDs 1..8 all differ; the palette repeats after that);
- the person's right side and spine/head are drawn in that colour, the left side (left hip,
  knee, ankle, shoulder, elbow, wrist and their bones) in a light tint of it,
  ``light_tint(track_color(track_id))``, so left and right stay apart;
- the ID ("ID 3") is written on a label of the track colour above the person's 2D joints and
  above the head of its 3D skeleton;
- a 2D joint whose score is below ``style.min_score`` is drawn as a hollow grey ring and its
  bones thin and grey ("low confidence"); a missing joint (NaN) is not drawn;
- 3D panel: each skeleton's grey shadow (``SHADOW_COLOR``) lies on the floor z = 0, right under
  it (a person in the air, e.g. in a jump, is visibly separated from the shadow), and the pelvis
  trail (``DrawnPerson.trail``) is drawn on the floor in the track colour, fading linearly with
  age toward the floor's colour: the segment ending k frames ago has the share 1 - k / K of
  the track colour (K = the trail's length); the newest segment joins the trail to the current
  pelvis. NaN trail points leave gaps.

The 3D panel shows one world for the whole video, described by a :class:`Scene`:

- world coordinates in metres, z up, the floor is z = 0. With ``Scene.ground`` True (an
  estimated ground, see demo.ground) the world axes are: x = the input camera's image-right
  direction projected on the ground, y = along the ground away from the input camera, z up;
  people are drawn where they are (no recentring), and the floor is shaded (``FLOOR_COLOR``).
  With ``ground`` False (the "fixed view" fallback: no ground found) poses are root-centred and
  placed side by side by the caller; the floor is only a grid on the panel background. The
  default viewpoint (below) assumes the same axis directions in both modes.
- ``Scene.bounds`` (2, 3) = world min and max corners of everything drawn over the clip
  (:meth:`Scene.from_world` makes robust ones from all people's joints). The drawn floor is the
  rectangle bounds[0, :2]..bounds[1, :2] at z = 0, with its border and grid lines at the
  multiples of the grid step: ``style.grid_step``, raised to 1 m and then 2 m while the floor's
  longer side would need more than ``MAX_GRID_CELLS`` cells (:func:`grid_step_for`).
- ``Scene.camera_position`` (3,) world position of the input camera (optional): when its
  ground point lies on the drawn floor, a small dark-grey camera mark (a fan opening along +y,
  the direction it looks) is drawn there with the word "camera".
- the default ``Scene()`` is the box [-2, 2]^2 x [0, 2] m without ground (``ground`` False).

The 3D view never moves during a video (nothing jumps): a pinhole camera (:class:`FixedCamera`)
looks at the centre of the scene box (bounds with z extended down to the floor) from
``azimuth_deg`` around z (measured from +x towards +y) and ``elevation_deg`` above the floor, at
a distance that grows with the scene: ``camera_distance`` times the box's half-diagonal over
the half-diagonal of the box [-box_half, box_half]^2 x [0, box_height] (so every scene is seen
with the same perspective). The default azimuth, -110 degrees, puts the viewer on the input
camera's side (the input camera looks along +y, from azimuth -90), 20 degrees to its left and
20 degrees above the floor: people are seen from the front-side, image right is about world +x.
The focal length and image centre make the picture of the scene box as large as possible inside
the panel's free area (between the title and the legend) and centred in it. Everything that
does not change (the camera, the floor, grid, camera mark, axis triad, title, caption and
legend) is drawn once into the panel's background.

Texts of the 3D panel: the title states the mode, "3D world: ground estimated" or "3D: fixed
view, no ground"; below it "z up, metres, grid G m"; an axis triad (top right) shows the
directions of world x (red), y (green) and z (blue); the legend (bottom, always shown) explains
the colours: a bone in the track colour = "right side", in its light tint = "left side", a
hollow grey ring = "low confidence" (score below ``style.min_score``, given when above 0), a grey
bone = "shadow on floor", a fading line = "pelvis trail" (and "input camera" when the camera mark
is drawn). ``Renderer.legend_box`` = (x0, y0, x1, y1), the legend's area in panel pixels. The legend's
sample colour is track 1's. The panel shows "no person" when the frame has nobody and "no 3D
pose" when people were found but none has a 3D pose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from lifter.keypoints import LIFT_MIN_SCORE, joint_present
from lifter.skeleton import LEFT_17, edges

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT
_OFF = -1e4  # where non-finite positions are moved before the integer conversion (never drawn)

#: track colours (RGB), indexed by track ID: blue, orange, green, magenta, red, cyan, purple, olive
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 100, 235), (250, 130, 0), (20, 160, 60), (215, 35, 190),
    (215, 25, 35), (0, 175, 200), (125, 70, 215), (175, 165, 0),
)
LOW_COLOR = (170, 170, 170)  # low-confidence joints and bones
PANEL_BG = (250, 250, 250)
GRID_COLOR = (205, 205, 205)
SHADOW_COLOR = (188, 188, 188)
FLOOR_COLOR = (236, 236, 236)  # the floor when the ground is estimated
FLOOR_EDGE_COLOR = (170, 170, 170)  # the drawn floor's border
CAMERA_MARK_COLOR = (80, 80, 80)  # the input camera's mark on the floor
TEXT_COLOR = (30, 30, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX
_TINT = 0.45  # share of white in the left side's light tint
#: the grid step grows (to 1 m, then 2 m) while the floor's longer side has more cells than this
MAX_GRID_CELLS = 12
#: the default scene box (metres): world min and max corners
DEFAULT_BOUNDS = ((-2.0, -2.0, 0.0), (2.0, 2.0, 2.0))


def track_color(track_id: int) -> tuple[int, int, int]:
    """The colour (RGB) of a track: ``PALETTE[(track_id - 1) % len(PALETTE)]`` (IDs start at 1)."""
    return PALETTE[(int(track_id) - 1) % len(PALETTE)]


def light_tint(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """The light tint (RGB) used for a person's left side: the colour mixed with 45 % white."""
    return tuple(int(round((1 - _TINT) * c + _TINT * 255)) for c in color)


@dataclass
class DrawnPerson:
    """One person to draw in one frame.

    track_id: the tracker's ID (an int, from 1), shown as "ID n" and choosing the colour.
    kp2d: (17, 2) H36M-17 joints in pixels of the INPUT frame (x right, y down), NaN = missing.
    scores: (17,) joint confidences in [0, 1]; below ``RenderStyle.min_score`` = low confidence.
    kp3d_world: (17, 3) metres in the world (z up, floor z = 0), already placed where the person
    is; None, or any NaN, = no 3D pose (the person is then drawn in the 2D panel only).
    trail: (K, 3) world pelvis positions (metres) of the previous K frames, oldest first (the
    caller passes about 1 s); rows with NaN are gaps; drawn on the floor (z ignored) fading with
    age over K frames, so pass the same K every frame (NaN-padded at a track's start) for the same
    fade per frame of age. None or K = 0: no trail.
    """

    track_id: int
    kp2d: np.ndarray
    scores: np.ndarray
    kp3d_world: np.ndarray | None = None
    trail: np.ndarray | None = None


@dataclass(frozen=True)
class RenderStyle:
    """Renderer settings (sizes in output pixels unless stated).

    panel_height: height of the output frame (at least 2); inputs taller are scaled down, None
    keeps the input height. max_width: upper bound of the whole output width (at least 4; scales
    everything down, and for very wide inputs narrows the left panel), None for no bound.
    min_score: joints with a lower score are drawn as low confidence. The rest place the 3D
    camera and floor (degrees, metres; see the module docstring): box_half and box_height give
    the scene box used when no :class:`Scene` is given (and the reference size for
    camera_distance); grid_step is the finest floor grid step.
    """

    panel_height: int | None = 720
    max_width: int | None = None
    min_score: float = LIFT_MIN_SCORE
    azimuth_deg: float = -110.0
    elevation_deg: float = 20.0
    camera_distance: float = 9.0
    box_half: float = 2.0
    box_height: float = 2.0
    grid_step: float = 0.5

    def __post_init__(self):
        if self.panel_height is not None and self.panel_height < 2:
            raise ValueError(f"panel_height must be at least 2 pixels, got {self.panel_height}")
        if self.max_width is not None and self.max_width < 4:
            raise ValueError(f"max_width must be at least 4 pixels (2 + a 2-pixel 3D panel), got {self.max_width}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if not (self.box_half > 0 and self.box_height > 0 and self.grid_step > 0):
            raise ValueError("box_half, box_height and grid_step must be positive")
        if not -89.0 <= self.elevation_deg <= 89.0:
            raise ValueError(f"elevation_deg must be in [-89, 89], got {self.elevation_deg}")
        if self.camera_distance <= np.hypot(self.box_half * np.sqrt(2), self.box_height / 2):
            raise ValueError(f"camera_distance {self.camera_distance} m puts the camera inside the drawn box")


def _even(n: float) -> int:
    """n rounded down to an even integer, at least 2."""
    return max(2, int(n) - int(n) % 2)


def output_size(frame_width: int, frame_height: int, style: RenderStyle = RenderStyle()) -> tuple[int, int, int]:
    """(output width, output height, left panel width) in pixels for an input frame size.

    The only place the output frame size is decided (the Renderer uses exactly this). All three
    are even and at least 2; width == left + height (the 3D panel is square); height is the input
    height capped by ``style.panel_height``, lowered so that width <= ``style.max_width``; the
    left panel keeps the input's aspect ratio (to the nearest even pixel) unless that would break
    max_width, in which case it is narrowed.
    """
    fw, fh = int(frame_width), int(frame_height)
    if fw < 1 or fh < 1:
        raise ValueError(f"frame size must be positive, got {frame_width}x{frame_height}")
    aspect = fw / fh
    h = float(fh if style.panel_height is None else min(fh, style.panel_height))
    if style.max_width is not None:
        h = min(h, style.max_width / (aspect + 1.0), style.max_width - 2)
    height = _even(h)
    left = _even(round(aspect * height))
    if style.max_width is not None:
        left = min(left, _even(style.max_width - height))
    return left + height, height, left


@dataclass(frozen=True)
class Scene:
    """The world the 3D panel shows for a whole video (see the module docstring).

    bounds: (2, 3) world min and max corners (metres, z up) of everything drawn over the clip;
    any array-like, stored as a tuple of two (x, y, z) tuples; max > min on every axis.
    ground: True when the world has an estimated ground (people at their world positions);
    False for the fixed-view fallback (root-centred people placed side by side).
    camera_position: (3,) world position of the input camera, or None (unknown; a non-finite
    value counts as unknown). Its mark is drawn only when it lies over the drawn floor.
    """

    bounds: tuple[tuple[float, float, float], tuple[float, float, float]] = DEFAULT_BOUNDS
    ground: bool = False
    camera_position: tuple[float, float, float] | None = None

    def __post_init__(self):
        b = np.asarray(self.bounds, np.float64)
        if b.shape != (2, 3) or not np.isfinite(b).all():
            raise ValueError(f"Scene bounds must be finite (2, 3) min and max corners, got {b.shape}")
        if not (b[1] > b[0]).all():
            raise ValueError(f"Scene bounds: max must exceed min on every axis, got {b.tolist()}")
        object.__setattr__(self, "bounds", (tuple(b[0].tolist()), tuple(b[1].tolist())))
        object.__setattr__(self, "ground", bool(self.ground))
        if self.camera_position is not None:
            c = np.asarray(self.camera_position, np.float64)
            if c.shape != (3,):
                raise ValueError(f"Scene camera_position must be (3,), got {c.shape}")
            object.__setattr__(self, "camera_position", tuple(c.tolist()) if np.isfinite(c).all() else None)

    @property
    def lo(self) -> np.ndarray:
        """(3,) world min corner (a new array)."""
        return np.array(self.bounds[0])

    @property
    def hi(self) -> np.ndarray:
        """(3,) world max corner (a new array)."""
        return np.array(self.bounds[1])

    @classmethod
    def from_box(cls, half: float = 2.0, height: float = 2.0, ground: bool = False,
                 camera_position=None) -> Scene:
        """The box [-half, half]^2 x [0, height] metres (``Scene()`` is ``from_box()``)."""
        return cls(((-half, -half, 0.0), (half, half, height)), ground, camera_position)

    @classmethod
    def from_world(cls, world, ground: bool = True, camera_position=None, *, percentile: float = 1.0,
                   pad: float = 0.5, top_pad: float = 0.3, min_floor: float = 4.0, min_height: float = 2.0,
                   max_floor: float = 40.0) -> Scene:
        """Robust scene bounds from all people's world joints over the clip.

        world: (P, T, 17, 3) metres with NaN (missing), or one person (T, 17, 3), or a sequence of
        per-person arrays (T_p, ..., 3). Per person, the ``percentile`` and ``100 - percentile``
        percentiles of its finite joint coordinates (so a few wild frames do not stretch the view,
        while a person seen only briefly still counts); the union over people is padded by ``pad``
        metres in x and y and ``top_pad`` above, z min is lowered to the floor (z = 0) if above it;
        the floor is then widened about its centre to at least ``min_floor`` metres a side and the
        height raised to at least ``min_height`` metres; a floor side longer than ``max_floor``
        is cut to that, centred on the median of all joints. No finite joint: the default box.
        """
        if isinstance(world, np.ndarray) or not isinstance(world, (list, tuple)):
            arr = np.asarray(world, np.float64)
            people = list(arr) if arr.ndim == 4 else [arr]
        else:
            people = [np.asarray(w, np.float64) for w in world]
        los, his, finite_all = [], [], []
        for person in people:
            if person.size == 0:
                continue
            if person.shape[-1] != 3:
                raise ValueError(f"world joints must end in a coordinate axis of 3, got {person.shape}")
            pts = person.reshape(-1, 3)
            pts = pts[np.isfinite(pts).all(-1)]
            if len(pts) == 0:
                continue
            los.append(np.percentile(pts, percentile, axis=0))
            his.append(np.percentile(pts, 100.0 - percentile, axis=0))
            finite_all.append(pts)
        if not los:
            return cls(DEFAULT_BOUNDS, ground, camera_position)
        lo, hi = np.min(los, axis=0), np.max(his, axis=0)
        lo[:2] -= pad
        hi[:2] += pad
        hi[2] += top_pad
        lo[2] = min(lo[2], 0.0)
        centre = (lo[:2] + hi[:2]) / 2
        half = np.maximum((hi[:2] - lo[:2]) / 2, min_floor / 2)
        if (half > max_floor / 2).any():
            median = np.median(np.concatenate(finite_all)[:, :2], axis=0)
            centre = np.where(half > max_floor / 2, median, centre)
            half = np.minimum(half, max_floor / 2)
        lo[:2], hi[:2] = centre - half, centre + half
        hi[2] = max(hi[2], lo[2] + min_height)
        return cls((lo, hi), ground, camera_position)


def grid_step_for(scene: Scene, base: float) -> float:
    """The floor grid step (metres): ``base``, or 1 m, or 2 m, the first (not below base) that cuts
    the floor's longer side into at most ``MAX_GRID_CELLS`` cells (2 m, or base if larger, at most)."""
    span = float((scene.hi - scene.lo)[:2].max())
    for step in (base, 1.0, 2.0):
        if step >= base and span / step <= MAX_GRID_CELLS + 1e-9:
            return step
    return max(base, 2.0)


class FixedCamera:
    """Pinhole camera looking at the scene box from a fixed direction (see the module docstring).

    size: the square 3D panel's side (pixels); scene: the world (default: the box of ``style``);
    region: (x0, y0, x1, y1) pixels the scene box's picture must fit into, centred (default: the
    centred square of 92 % of the panel). ``project`` maps world points (metres) to panel pixels.
    """

    def __init__(self, size: int, style: RenderStyle, scene: Scene | None = None,
                 region: tuple[float, float, float, float] | None = None):
        scene = Scene.from_box(style.box_half, style.box_height) if scene is None else scene
        lo, hi = scene.lo, scene.hi
        lo[2] = min(lo[2], 0.0)  # the floor is always in the picture
        self.box = np.stack([lo, hi])
        reference = np.hypot(style.box_half * np.sqrt(2), style.box_height / 2)
        self.distance = style.camera_distance * np.linalg.norm(hi - lo) / 2 / reference
        az, el = np.radians(style.azimuth_deg), np.radians(style.elevation_deg)
        self.target = (lo + hi) / 2
        to_eye = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        self.eye = self.target + self.distance * to_eye
        fwd = -to_eye
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        self.basis = np.stack([right, up, fwd])  # rows: camera x, y (up), z (depth)
        if region is None:
            region = (0.04 * size, 0.04 * size, 0.96 * size, 0.96 * size)
        x0, y0, x1, y1 = (float(v) for v in region)
        self.center, self.focal = np.zeros(2), 1.0
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        px = self.project(corners)[0]  # with a unit focal length and the centre at 0
        a, b = px.min(0), px.max(0)
        self.focal = min(max(x1 - x0, 1e-3) / (b[0] - a[0]), max(y1 - y0, 1e-3) / (b[1] - a[1]))
        self.center = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - self.focal * (a + b) / 2

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) metres -> pixel positions (N, 2) in the 3D panel and depths (N,) metres."""
        cam = (np.asarray(points, dtype=np.float64) - self.eye) @ self.basis.T
        depth = cam[:, 2]
        px = np.empty((len(cam), 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            px[:, 0] = self.center[0] + self.focal * cam[:, 0] / depth
            px[:, 1] = self.center[1] - self.focal * cam[:, 1] / depth
        return px, depth


def _fixed(pts: np.ndarray) -> np.ndarray:
    """Float pixel positions -> int32 fixed-point positions for cv2 drawing with shift=_SHIFT
    (non-finite ones moved far outside the image, huge ones clipped so that int32 cannot overflow)."""
    pts = np.clip(np.nan_to_num(pts, nan=_OFF, posinf=_OFF, neginf=_OFF), -1e5, 1e5)
    return np.round(pts * _ONE).astype(np.int32)


def _line(img, a, b, color, thickness) -> None:
    cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), color, thickness, cv2.LINE_AA, _SHIFT)


def _circle(img, c, radius, color, thickness) -> None:
    cv2.circle(img, (int(c[0]), int(c[1])), int(radius * _ONE), color, thickness, cv2.LINE_AA, _SHIFT)


def _text(img, text, org, scale, color=TEXT_COLOR, thickness=1, box=None) -> None:
    """Text at org (bottom-left, pixels); with box, drawn over a filled rectangle of that colour."""
    if box is not None:
        (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
        pad = max(2, int(4 * scale))
        cv2.rectangle(img, (org[0] - pad, org[1] - th - pad), (org[0] + tw + pad, org[1] + base + pad), box, -1)
    cv2.putText(img, text, org, FONT, scale, color, thickness, cv2.LINE_AA)


def _check_person(person: DrawnPerson) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(kp2d (17, 2) float64, scores (17,) float64, kp3d (17, 3) float64 or None when absent / not finite,
    trail (K, 3) float64 or None when absent / empty)."""
    kp2d = np.asarray(person.kp2d, np.float64)
    scores = np.asarray(person.scores, np.float64)
    if kp2d.shape != (17, 2) or scores.shape != (17,):
        raise ValueError(f"person {person.track_id}: expected kp2d (17, 2) and scores (17,), "
                         f"got {kp2d.shape} and {scores.shape}")
    kp3d = None
    if person.kp3d_world is not None:
        kp3d = np.asarray(person.kp3d_world, np.float64)
        if kp3d.shape != (17, 3):
            raise ValueError(f"person {person.track_id}: expected kp3d_world (17, 3), got {kp3d.shape}")
        if not np.isfinite(kp3d).all():
            kp3d = None
    trail = None
    if person.trail is not None:
        trail = np.asarray(person.trail, np.float64)
        if trail.ndim != 2 or trail.shape[1] != 3:
            raise ValueError(f"person {person.track_id}: expected trail (K, 3), got {trail.shape}")
        if len(trail) == 0:
            trail = None
    return kp2d, scores, kp3d, trail


class Renderer:
    """Draws output frames for one video.

    frame_width, frame_height: the INPUT video's frame size in pixels (2D joints are given in
    these pixels); fps: shown in the text; num_frames: the total shown as "frame i of N", i being
    the 0-based row of the frame in the saved arrays (None shows only i). ``size`` is the output
    (width, height) and ``left_width`` the left panel's width, both exactly
    ``output_size(frame_width, frame_height, style)``; ``panel_size`` = (left_width, height) is
    the size ``shrink`` reduces an input frame to. scene: the world of the whole video (None: the
    box of ``style``, i.e. ``Scene()`` for the default style); ``camera`` is the fixed 3D view
    framed on it and ``grid_step`` the floor grid step (metres) actually drawn.
    """

    def __init__(self, frame_width: int, frame_height: int, fps: float, num_frames: int | None = None,
                 style: RenderStyle = RenderStyle(), scene: Scene | None = None):
        self.style = style
        self.scene = Scene.from_box(style.box_half, style.box_height) if scene is None else scene
        width, height, self.left_width = output_size(frame_width, frame_height, style)
        self.frame_size = (int(frame_width), int(frame_height))
        self.size = (width, height)
        self.panel_size = (self.left_width, height)
        self.fps = float(fps)
        self.num_frames = num_frames
        self.scale = np.array([self.left_width / self.frame_size[0], height / self.frame_size[1]])
        u = self.unit = height / 720.0  # text and line sizes scale with the output height
        self.bones = edges(17)
        self.left_side = np.zeros(17, bool)
        self.left_side[list(LEFT_17)] = True
        self.bone_left = [bool(self.left_side[c]) for _, c in self.bones]
        self.thick2d, self.thin2d = max(1, round(3 * u)), max(1, round(1.5 * u))
        self.thick3d, self.shadow3d = max(1, round(3.5 * u)), max(1, round(2 * u))
        self.label_scale, self.label_thick = 0.6 * u, max(1, round(1.5 * u))
        self._labels: dict[int, np.ndarray] = {}  # track ID -> its label image, made on first use
        self.grid_step = grid_step_for(self.scene, style.grid_step)
        # the scene's picture fits between the title lines and the legend
        self.camera = FixedCamera(height, style, self.scene, (0.06 * height, 74 * u, 0.94 * height, height - 60 * u))
        self.trail_base = np.array(FLOOR_COLOR if self.scene.ground else PANEL_BG, np.float64)
        self.trail_thick = max(1, round(2.5 * u))
        self.background = self._draw_background()

    # --- per video ------------------------------------------------------------------------
    def _draw_background(self) -> np.ndarray:
        """The 3D panel without people (height, height, 3) RGB uint8: floor, grid, camera mark,
        axis triad, title, caption and legend."""
        scene, cam, u = self.scene, self.camera, self.unit
        h = self.size[1]
        bg = np.empty((h, h, 3), np.uint8)
        bg[:] = PANEL_BG
        lo, hi = scene.lo, scene.hi
        corners = np.array([[lo[0], lo[1], 0.0], [hi[0], lo[1], 0.0], [hi[0], hi[1], 0.0], [lo[0], hi[1], 0.0]])
        floor = _fixed(cam.project(corners)[0])
        if scene.ground:
            cv2.fillPoly(bg, [floor], FLOOR_COLOR, cv2.LINE_AA, _SHIFT)
        lw = max(1, round(u))
        step = self.grid_step
        for axis in (0, 1):  # lines of constant x, then of constant y, at the multiples of the step
            other = 1 - axis
            for t in np.arange(np.ceil(lo[axis] / step - 1e-9) * step, hi[axis] - 1e-9, step):
                if t <= lo[axis] + 1e-9:
                    continue  # the border is drawn below
                a, b = np.zeros(3), np.zeros(3)
                a[axis] = b[axis] = t
                a[other], b[other] = lo[other], hi[other]
                px = _fixed(cam.project(np.array([a, b]))[0])
                _line(bg, px[0], px[1], GRID_COLOR, lw)
        cv2.polylines(bg, [floor], True, FLOOR_EDGE_COLOR, lw, cv2.LINE_AA, _SHIFT)
        self.camera_mark = self._draw_camera_mark(bg)
        origin = np.array([h - 52 * u, 62 * u])  # axis triad, top right
        for axis, (name, color) in enumerate((("x", (200, 40, 40)), ("y", (40, 160, 40)), ("z", (40, 70, 220)))):
            direction = cam.basis[:2, axis] * np.array([1.0, -1.0])  # image direction of the world axis
            tip = origin + 32 * u * direction
            cv2.arrowedLine(bg, tuple(_fixed(origin)), tuple(_fixed(tip)), color, max(1, round(2 * u)),
                            cv2.LINE_AA, _SHIFT, 0.2)
            label = tip + direction / max(1e-6, np.linalg.norm(direction)) * 10 * u
            _text(bg, name, (int(label[0] - 5 * u), int(label[1] + 5 * u)), 0.55 * u, color, max(1, round(u)))
        title = "3D world: ground estimated" if scene.ground else "3D: fixed view, no ground"
        _text(bg, title, (int(12 * u), int(30 * u)), 0.7 * u, TEXT_COLOR, max(1, round(1.5 * u)))
        _text(bg, f"z up, metres, grid {step:g} m", (int(12 * u), int(54 * u)), 0.5 * u, (90, 90, 90), lw)
        self._draw_legend(bg)
        return bg

    def _draw_camera_mark(self, bg: np.ndarray) -> bool:
        """The input camera's mark on the floor (a fan opening along +y) when it lies over the drawn
        floor; returns whether it was drawn."""
        c = self.scene.camera_position
        lo, hi = self.scene.lo, self.scene.hi
        if c is None or not (lo[0] <= c[0] <= hi[0] and lo[1] <= c[1] <= hi[1]):
            return False
        u = self.unit
        size = max(0.25, 0.05 * float((hi - lo)[:2].max()))
        half = np.radians(30.0)
        fan = np.array([[c[0], c[1], 0.0],
                        [c[0] - size * np.sin(half), c[1] + size * np.cos(half), 0.0],
                        [c[0] + size * np.sin(half), c[1] + size * np.cos(half), 0.0]])
        px, depth = self.camera.project(fan)
        if depth.min() < 0.1:
            return False
        cv2.fillPoly(bg, [_fixed(px)], CAMERA_MARK_COLOR, cv2.LINE_AA, _SHIFT)
        _circle(bg, _fixed(px[:1])[0], 3.0 * u, CAMERA_MARK_COLOR, -1)
        _text(bg, "camera", (int(px[0, 0] + 6 * u), int(px[0, 1] + 16 * u)), 0.45 * u, CAMERA_MARK_COLOR,
              max(1, round(u)))
        return True

    def _draw_legend(self, bg: np.ndarray) -> None:
        """The colour legend, two rows at the bottom of the 3D panel (sample colour: track 1's)."""
        u, h = self.unit, self.size[1]
        scale, thick = 0.45 * u, max(1, round(u))
        color = track_color(1)
        low = f"low confidence (< {self.style.min_score:g})" if self.style.min_score > 0 else "low confidence"
        rows = [[("bone", color, "right side"), ("bone", light_tint(color), "left side"), ("ring", LOW_COLOR, low)],
                [("bone", SHADOW_COLOR, "shadow on floor"), ("trail", color, "pelvis trail")]]
        if self.camera_mark:
            rows[1].append(("camera", CAMERA_MARK_COLOR, "input camera"))
        self.legend_box = (0, int(h - 58 * u), h, h)  # (x0, y0, x1, y1) pixels: where the legend is
        base = np.array(PANEL_BG, np.float64)
        for r, row in enumerate(rows):
            y = h - (34 - 22 * r) * u  # text baselines
            x = 12 * u
            for kind, shade, text in row:
                mid = y - 5 * u
                if kind == "bone":
                    _line(bg, _fixed([x, mid]), _fixed([x + 26 * u, mid]), shade, self.thick3d)
                elif kind == "ring":
                    _circle(bg, _fixed([x + 13 * u, mid]), 5.0 * u, shade, self.thin2d)
                elif kind == "trail":
                    for k in range(4):  # fading, oldest (left) to newest
                        mix = tuple(int(v) for v in np.round(base + (np.array(shade) - base) * (k + 1) / 4))
                        _line(bg, _fixed([x + 6.5 * k * u, mid]), _fixed([x + 6.5 * (k + 1) * u, mid]), mix,
                              self.trail_thick)
                else:
                    tri = _fixed(np.array([[x + 13 * u, mid + 6 * u], [x + 6 * u, mid - 6 * u],
                                           [x + 20 * u, mid - 6 * u]]))
                    cv2.fillPoly(bg, [tri], shade, cv2.LINE_AA, _SHIFT)
                _text(bg, text, (int(x + 32 * u), int(y)), scale, TEXT_COLOR, thick)
                (tw, _), _ = cv2.getTextSize(text, FONT, scale, thick)
                x += 32 * u + tw + 18 * u

    def _label_sprite(self, track_id: int) -> np.ndarray:
        """The "ID n" label (rows, cols, 3) RGB uint8: text on a box of the track colour, drawn once per track."""
        sprite = self._labels.get(track_id)
        if sprite is None:
            text, color = f"ID {track_id}", track_color(track_id)
            (tw, th), base = cv2.getTextSize(text, FONT, self.label_scale, self.label_thick)
            pad = max(1, round(3 * self.unit))
            sprite = np.empty((th + base + 2 * pad, tw + 2 * pad, 3), np.uint8)
            sprite[:] = color
            ink = (0, 0, 0) if 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2] > 150 else (255, 255, 255)
            cv2.putText(sprite, text, (pad, pad + th), FONT, self.label_scale, ink, self.label_thick, cv2.LINE_AA)
            self._labels[track_id] = sprite
        return sprite

    # --- per frame ------------------------------------------------------------------------
    def shrink(self, frame: np.ndarray) -> np.ndarray:
        """An input RGB frame (frame_height, frame_width, 3) uint8 -> the left panel's size
        (height, left_width, 3); the frame itself when the sizes already match."""
        fw, fh = self.frame_size
        if frame.shape != (fh, fw, 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame of shape {(fh, fw, 3)}, got {frame.dtype} {frame.shape}")
        if self.panel_size == self.frame_size:
            return frame
        return cv2.resize(frame, self.panel_size, interpolation=cv2.INTER_LINEAR)

    def _label(self, img: np.ndarray, track_id: int, cx: float, bottom: float) -> None:
        """The "ID n" label centred at x = cx with its lower edge at y = bottom (pixels), kept inside img."""
        sprite = self._label_sprite(track_id)
        bh, bw = min(sprite.shape[0], img.shape[0]), min(sprite.shape[1], img.shape[1])
        x0 = int(np.clip(round(cx - bw / 2), 0, img.shape[1] - bw))
        y0 = int(np.clip(round(bottom - bh), 0, img.shape[0] - bh))
        img[y0: y0 + bh, x0: x0 + bw] = sprite[:bh, :bw]

    def _draw_2d(self, img: np.ndarray, kp2d: np.ndarray, scores: np.ndarray, color, light) -> np.ndarray | None:
        """One person's 2D skeleton on the left panel; returns its present joints in panel pixels (n, 2)."""
        u = self.unit
        px = kp2d * self.scale
        present = joint_present(kp2d, scores)
        if not present.any():
            return None
        pts = _fixed(np.where(present[:, None], px, 0.0))
        good = joint_present(kp2d, scores, self.style.min_score)
        for (p, c), left in zip(self.bones, self.bone_left):
            if not (present[p] and present[c]):
                continue
            if good[p] and good[c]:
                _line(img, pts[p], pts[c], light if left else color, self.thick2d)
            else:
                _line(img, pts[p], pts[c], LOW_COLOR, self.thin2d)
        r = 3.5 * u
        for j in np.nonzero(present)[0]:
            if good[j]:
                _circle(img, pts[j], r, light if self.left_side[j] else color, -1)
            else:
                _circle(img, pts[j], r + 1.0 * u, (255, 255, 255), self.thin2d + 1)
                _circle(img, pts[j], r + 1.0 * u, LOW_COLOR, self.thin2d)
        return px[present]

    def _draw_trail(self, img: np.ndarray, track_id: int, trail: np.ndarray, pelvis: np.ndarray | None) -> None:
        """A pelvis trail (K, 3) world metres, oldest first, on the floor: K segments (the last one to
        the current pelvis, when known), the one ending k frames ago with the share 1 - k / K of
        the track colour, the rest the floor's colour; segments touching a NaN point are skipped."""
        points = trail if pelvis is None else np.concatenate([trail, pelvis[None]])
        points = points.copy()
        points[:, 2] = 0.0
        px, depth = self.camera.project(points)
        ok = np.isfinite(px).all(-1) & (depth > 0.1)
        n = len(trail)
        seg = np.nonzero(ok[:-1] & ok[1:])[0]
        if len(seg) == 0:
            return
        share = (seg + 1) / n  # the segment i..i+1 ends n - 1 - i frames ago
        colors = np.round(self.trail_base + (np.array(track_color(track_id)) - self.trail_base) * share[:, None])
        pts = _fixed(px)
        for i, c in zip(seg.tolist(), colors.astype(int).tolist()):
            _line(img, pts[i], pts[i + 1], tuple(c), self.trail_thick)

    def _draw_3d(self, img: np.ndarray, people: list[tuple[int, np.ndarray | None, np.ndarray | None]]) -> None:
        """People (track ID, (17, 3) world metres or None, trail (K, 3) or None) on the 3D panel:
        trails and shadows on the floor first, then the skeletons far to near, then the IDs."""
        cam, u = self.camera, self.unit
        for track_id, kp3d, trail in people:  # trails lie under everything
            if trail is not None:
                self._draw_trail(img, track_id, trail, None if kp3d is None else kp3d[0])
        projected = []
        for track_id, kp3d, _ in people:  # shadows next: they lie under every skeleton
            if kp3d is None:
                continue
            floor = kp3d.copy()
            floor[:, 2] = 0.0
            shadow, shadow_depth = cam.project(floor)
            if shadow_depth.min() >= 0.1:
                shadow = _fixed(shadow)
                for p, c in self.bones:
                    _line(img, shadow[p], shadow[c], SHADOW_COLOR, self.shadow3d)
            px, depth = cam.project(kp3d)
            if depth.min() < 0.1:  # at or behind the camera: not drawable
                continue
            projected.append((float(depth.mean()), track_id, px, depth))
        projected.sort(key=lambda item: -item[0])  # the farthest person first
        for _, track_id, px, depth in projected:
            color = track_color(track_id)
            light = light_tint(color)
            pts = _fixed(px)
            bone_depth = np.array([depth[p] + depth[c] for p, c in self.bones])
            for k in np.argsort(-bone_depth):  # far bones first, near ones drawn over them
                p, c = self.bones[k]
                _line(img, pts[p], pts[c], light if self.bone_left[k] else color, self.thick3d)
            for j in np.argsort(-depth):
                _circle(img, pts[j], 3.0 * u, light if self.left_side[j] else color, -1)
        for _, track_id, px, _ in projected:
            top = px[np.argmin(px[:, 1])]
            self._label(img, track_id, top[0], top[1] - 8 * u)

    def render(self, frame: np.ndarray, index: int, people: Sequence[DrawnPerson] = ()) -> np.ndarray:
        """One output frame, RGB uint8 (height, width, 3) = ``size`` reversed, a new array.

        frame: the input RGB uint8 frame, either at the input size (frame_height, frame_width, 3)
        or already shrunk to ``panel_size`` (height, left_width, 3) by :meth:`shrink`.
        index: 0-based frame number. people: the people of this frame (any number, possibly none),
        their 2D joints in INPUT-frame pixels whichever frame size is given.
        """
        w, h = self.size
        fw, fh = self.frame_size
        if frame.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame, got dtype {frame.dtype}")
        out = np.empty((h, w, 3), np.uint8)
        left = out[:, : self.left_width]
        if frame.shape == (h, self.left_width, 3):
            left[:] = frame
        elif frame.shape == (fh, fw, 3):
            left[:] = self.shrink(frame)
        else:
            raise ValueError(f"expected a frame of shape {(fh, fw, 3)} or {(h, self.left_width, 3)}, "
                             f"got {frame.shape}")
        right = out[:, self.left_width:]
        right[:] = self.background
        u = self.unit
        labels, in_3d, lifted = [], [], False
        for person in people:
            kp2d, scores, kp3d, trail = _check_person(person)
            color = track_color(person.track_id)
            drawn = self._draw_2d(left, kp2d, scores, color, light_tint(color))
            if drawn is not None:
                labels.append((person.track_id, drawn))
            if kp3d is not None or trail is not None:
                in_3d.append((person.track_id, kp3d, trail))
                lifted |= kp3d is not None
        for track_id, drawn in labels:  # over all skeletons
            x0, x1 = drawn[:, 0].min(), drawn[:, 0].max()
            self._label(left, track_id, (x0 + x1) / 2, drawn[:, 1].min() - 6 * u)
        if in_3d:
            self._draw_3d(right, in_3d)
        if not lifted:
            message = "no 3D pose" if len(people) else "no person"
            scale, thick = 1.2 * u, max(1, round(2 * u))
            (tw, _), _ = cv2.getTextSize(message, FONT, scale, thick)
            _text(right, message, ((h - tw) // 2, h // 2), scale, (200, 40, 40), thick, box=(255, 255, 255))
        total = f" of {self.num_frames}" if self.num_frames is not None else ""
        _text(left, f"frame {index}{total}   {self.fps:.2f} fps", (int(10 * u), int(28 * u)), 0.65 * u,
              (255, 255, 255), max(1, round(1.5 * u)), box=(20, 20, 20))
        return out
