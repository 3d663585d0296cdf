"""Fast side-by-side renderer: the input frame with the 2D skeletons | the 3D skeletons in the world view.

Everything is drawn in memory with OpenCV (anti-aliased lines with sub-pixel precision); nothing
is written to disk and no matplotlib figure is made per frame. Per-video work (the output size,
the 3D camera, the 3D panel's floor grid, axes, title and caption, the text sizes) is done once
when a :class:`Renderer` is made; each frame copies the background and draws the people.

Layout of an output frame (RGB uint8, even width and height for H.264), decided only by
:func:`output_size`:

    +---------------------------+------------------+
    | input frame, scaled to    | 3D panel,        |
    | the panel height, with    | height x height  |
    | the 2D skeletons, their   | (square)         |
    | IDs and the frame number  |                  |
    +---------------------------+------------------+

People are given as :class:`DrawnPerson` (a track ID, H36M-17 2D joints in input-frame pixels,
scores, and the 3D joints in the world view). Colours:

- each track has its own colour, ``track_color(track_id)``: a fixed palette of 8 saturated
  colours indexed by the track ID (IDs 1..8 all differ; the palette repeats after that);
- the person's right side and spine/head are drawn in that colour, the left side (left hip,
  knee, ankle, shoulder, elbow, wrist and their bones) in a light tint of it,
  ``light_tint(track_color(track_id))``, so left and right stay apart;
- the ID ("ID 3") is written on a label of the track colour above the person's 2D joints and
  above the head of its 3D skeleton;
- a 2D joint whose score is below ``style.min_score`` is drawn as a hollow grey ring and its
  bones thin and grey ("low confidence"); a missing joint (NaN) is not drawn.

The 3D panel draws every person whose ``kp3d_world`` is given and finite; the farthest person
first, so nearer ones cover it, with a grey shadow of each skeleton on the floor. It shows
"no person" when the frame has nobody and "no 3D pose" when people were found but none has a 3D
pose.

The 3D view is fixed (it does not follow anyone, so it does not jump): world coordinates as made
by demo.post (metres, z up, lowest joint on z = 0, people placed within about +-2 m of the
origin in x and y), seen by a pinhole camera placed ``camera_distance`` metres from the point
(0, 0, box_height / 2), at ``azimuth_deg`` around z measured from +x towards +y and
``elevation_deg`` above the floor (the defaults see the people from the front, about 20 degrees
to the side of the input camera, which looks along azimuth 66 degrees in this world). The drawn
floor is the square [-box_half, box_half]^2 at z = 0 with grid lines every ``grid_step``
metres; the focal length and image centre are chosen so that the picture of the box
[-box_half, box_half]^2 x [0, box_height] fills 92 % of the panel and is centred in it. A small
axis triad in the lower-left corner shows the directions of world x, y and z.
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
TEXT_COLOR = (30, 30, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX
_TINT = 0.45  # share of white in the left side's light tint


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
    kp3d_world: (17, 3) metres in the world view of demo.post, already placed in the world (z up);
    None, or any NaN, = no 3D pose (the person is then drawn in the 2D panel only).
    """

    track_id: int
    kp2d: np.ndarray
    scores: np.ndarray
    kp3d_world: np.ndarray | None = None


@dataclass(frozen=True)
class RenderStyle:
    """Renderer settings (sizes in output pixels unless stated).

    panel_height: height of the output frame (at least 2); inputs taller are scaled down, None
    keeps the input height. max_width: upper bound of the whole output width (at least 4; scales
    everything down, and for very wide inputs narrows the left panel), None for no bound.
    min_score: joints with a lower score are drawn as low confidence. The rest place the 3D
    camera and floor (degrees, metres; see the module docstring).
    """

    panel_height: int | None = 720
    max_width: int | None = None
    min_score: float = LIFT_MIN_SCORE
    azimuth_deg: float = 45.0
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


class FixedCamera:
    """Pinhole camera looking at the world box from a fixed direction (see the module docstring).

    ``project`` maps world points (metres) to pixels of the square 3D panel of side ``size``.
    """

    def __init__(self, size: int, style: RenderStyle):
        az, el = np.radians(style.azimuth_deg), np.radians(style.elevation_deg)
        target = np.array([0.0, 0.0, style.box_height / 2])
        to_eye = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        self.eye = target + style.camera_distance * to_eye
        fwd = -to_eye
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        self.basis = np.stack([right, up, fwd])  # rows: camera x, y (up), z (depth)
        self.center, self.focal = np.zeros(2), 1.0
        b = style.box_half
        corners = np.array([[x, y, z] for x in (-b, b) for y in (-b, b) for z in (0.0, style.box_height)])
        px = self.project(corners)[0]  # with a unit focal length and the centre at 0
        lo, hi = px.min(0), px.max(0)
        self.focal = 0.92 * size / (hi - lo).max()
        self.center = size / 2.0 - self.focal * (lo + hi) / 2  # the box's picture centred in the panel

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) metres -> pixel positions (N, 2) in the 3D panel and depths (N,) metres."""
        cam = (np.asarray(points, dtype=np.float64) - self.eye) @ self.basis.T
        depth = cam[:, 2]
        px = np.empty((len(cam), 2))
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


def _check_person(person: DrawnPerson) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(kp2d (17, 2) float64, scores (17,) float64, kp3d (17, 3) float64 or None when absent / not finite)."""
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
    return kp2d, scores, kp3d


class Renderer:
    """Draws output frames for one video.

    frame_width, frame_height: the INPUT video's frame size in pixels (2D joints are given in
    these pixels); fps: shown in the text; num_frames: the total shown as "frame i of N", i being
    the 0-based row of the frame in the saved arrays (None shows only i). ``size`` is the output
    (width, height) and ``left_width`` the left panel's width, both exactly
    ``output_size(frame_width, frame_height, style)``; ``panel_size`` = (left_width, height) is
    the size ``shrink`` reduces an input frame to.
    """

    def __init__(self, frame_width: int, frame_height: int, fps: float, num_frames: int | None = None,
                 style: RenderStyle = RenderStyle()):
        self.style = style
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
        self.camera = FixedCamera(height, style)
        self.background = self._draw_background()

    # --- per video ------------------------------------------------------------------------
    def _draw_background(self) -> np.ndarray:
        """The 3D panel without people (height, height, 3) RGB uint8: floor grid, axis triad, texts."""
        s, cam, u = self.style, self.camera, self.unit
        h = self.size[1]
        bg = np.empty((h, h, 3), np.uint8)
        bg[:] = PANEL_BG
        ticks = np.arange(-s.box_half, s.box_half + 1e-9, s.grid_step)
        lw = max(1, round(u))
        for t in ticks:
            for a, b in (([t, -s.box_half, 0], [t, s.box_half, 0]), ([-s.box_half, t, 0], [s.box_half, t, 0])):
                px = _fixed(cam.project(np.array([a, b]))[0])
                _line(bg, px[0], px[1], GRID_COLOR, lw)
        origin = np.array([50 * u, h - 75 * u])
        for axis, (name, color) in enumerate((("x", (200, 40, 40)), ("y", (40, 160, 40)), ("z", (40, 70, 220)))):
            direction = cam.basis[:2, axis] * np.array([1.0, -1.0])  # image direction of the world axis
            tip = origin + 35 * u * direction
            cv2.arrowedLine(bg, tuple(_fixed(origin)), tuple(_fixed(tip)), color, max(1, round(2 * u)),
                            cv2.LINE_AA, _SHIFT, 0.2)
            label = tip + direction / max(1e-6, np.linalg.norm(direction)) * 10 * u
            _text(bg, name, (int(label[0] - 5 * u), int(label[1] + 5 * u)), 0.55 * u, color, max(1, round(u)))
        _text(bg, "3D pose, world view", (int(12 * u), int(30 * u)), 0.7 * u, TEXT_COLOR, max(1, round(1.5 * u)))
        _text(bg, f"z up, metres, grid {s.grid_step:g} m", (int(12 * u), h - int(14 * u)), 0.5 * u,
              (90, 90, 90), max(1, round(u)))
        return bg

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

    def _draw_3d(self, img: np.ndarray, people: list[tuple[int, np.ndarray]]) -> None:
        """People (track ID, (17, 3) world metres) on the 3D panel: shadows, then far to near, then IDs."""
        cam, u = self.camera, self.unit
        projected = []
        for track_id, kp3d in people:  # shadows first: they lie under everyone
            floor = kp3d.copy()
            floor[:, 2] = 0.0
            shadow = _fixed(cam.project(floor)[0])
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
            left[:] = cv2.resize(frame, self.panel_size, interpolation=cv2.INTER_LINEAR)
        else:
            raise ValueError(f"expected a frame of shape {(fh, fw, 3)} or {(h, self.left_width, 3)}, "
                             f"got {frame.shape}")
        right = out[:, self.left_width:]
        right[:] = self.background
        u = self.unit
        labels, lifted = [], []
        for person in people:
            kp2d, scores, kp3d = _check_person(person)
            color = track_color(person.track_id)
            drawn = self._draw_2d(left, kp2d, scores, color, light_tint(color))
            if drawn is not None:
                labels.append((person.track_id, drawn))
            if kp3d is not None:
                lifted.append((person.track_id, kp3d))
        for track_id, drawn in labels:  # over all skeletons
            x0, x1 = drawn[:, 0].min(), drawn[:, 0].max()
            self._label(left, track_id, (x0 + x1) / 2, drawn[:, 1].min() - 6 * u)
        if lifted:
            self._draw_3d(right, lifted)
        else:
            message = "no 3D pose" if len(people) else "no person"
            scale, thick = 1.2 * u, max(1, round(2 * u))
            (tw, _), _ = cv2.getTextSize(message, FONT, scale, thick)
            _text(right, message, ((h - tw) // 2, h // 2), scale, (200, 40, 40), thick, box=(255, 255, 255))
        total = f" of {self.num_frames}" if self.num_frames is not None else ""
        _text(left, f"frame {index}{total}   {self.fps:.2f} fps", (int(10 * u), int(28 * u)), 0.65 * u,
              (255, 255, 255), max(1, round(1.5 * u)), box=(20, 20, 20))
        return out
