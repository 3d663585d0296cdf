"""Fast side-by-side renderer: the input frame with the 2D skeleton | the 3D skeleton in the world view.

Everything is drawn in memory with OpenCV (anti-aliased lines with sub-pixel precision); nothing
is written to disk and no matplotlib figure is made per frame. The 3D panel's floor grid, axes,
title and scale caption are drawn once into a background image that each frame copies.

Layout of an output frame (RGB uint8, even width and height for H.264):

    +---------------------------+------------------+
    | input frame, scaled to    | 3D panel,        |
    | the panel height, with    | panel_height x   |
    | the 2D skeleton and the   | panel_height     |
    | frame number / fps text   |                  |
    +---------------------------+------------------+

Colours: the subject's left side blue, right side red, the spine and head green. A joint whose
score is below ``min_score`` is drawn as a hollow grey ring and its bones thin and grey ("low
confidence"); a missing joint (NaN) is not drawn. A frame without a person shows "no person" in
the 3D panel.

The 3D view is fixed (it does not follow the subject, so it does not jump): world coordinates as
made by demo.post (metres, z up, pelvis at x = y = 0, lowest joint on z = 0), seen by a pinhole
camera placed ``camera_distance`` metres from the point (0, 0, box_height / 2), at
``azimuth_deg`` around z measured from +x towards +y and ``elevation_deg`` above the floor (the
defaults see the subject from the front, about 20 degrees to the side of the input camera, which
looks along azimuth 66 degrees in this world). The drawn floor is the square
[-box_half, box_half]^2 at z = 0 with grid lines every ``grid_step`` metres; the focal length is
chosen so that the floor and a column of half that width up to ``box_height`` fit the panel. A
small axis triad in the lower-left corner shows the directions of world x, y and z.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lifter.skeleton import LEFT_17, RIGHT_17, edges

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT

LEFT_COLOR = (40, 110, 255)  # RGB
RIGHT_COLOR = (235, 45, 45)
CENTER_COLOR = (40, 185, 70)
LOW_COLOR = (170, 170, 170)
PANEL_BG = (250, 250, 250)
GRID_COLOR = (205, 205, 205)
TEXT_COLOR = (30, 30, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class RenderStyle:
    """Renderer settings (sizes in output pixels unless stated).

    panel_height: height of the output frame; inputs taller are scaled down, None keeps the input
    height. max_width: upper bound of the whole output width (scales everything down), None for
    no bound. min_score: joints with a lower score are drawn as low confidence.
    """

    panel_height: int | None = 720
    max_width: int | None = None
    min_score: float = 0.3
    azimuth_deg: float = 45.0
    elevation_deg: float = 15.0
    camera_distance: float = 4.5
    box_half: float = 1.0
    box_height: float = 2.0
    grid_step: float = 0.25


def _even(n: float) -> int:
    return max(2, int(n) - int(n) % 2)


def output_size(frame_width: int, frame_height: int, style: RenderStyle = RenderStyle()) -> tuple[int, int, int]:
    """(output width, output height, left panel width) for an input frame size; all even."""
    h = frame_height if style.panel_height is None else min(frame_height, style.panel_height)
    aspect = frame_width / frame_height
    if style.max_width is not None:
        h = min(h, style.max_width / (aspect + 1.0))
    h = _even(h)
    left = _even(round(aspect * h))
    return left + h, h, left


def _bone_sides(num_joints: int) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Bones (parent, child, colour) of the 17-joint skeleton, coloured by the child's side."""
    if num_joints != 17:
        raise ValueError(f"the renderer draws H36M-17 skeletons, got {num_joints} joints")
    out = []
    for p, c in edges(17):
        color = LEFT_COLOR if c in LEFT_17 else RIGHT_COLOR if c in RIGHT_17 else CENTER_COLOR
        out.append((p, c, color))
    return out


def _joint_colors() -> list[tuple[int, int, int]]:
    return [LEFT_COLOR if j in LEFT_17 else RIGHT_COLOR if j in RIGHT_17 else CENTER_COLOR for j in range(17)]


class FixedCamera:
    """Pinhole camera looking at the world box from a fixed direction (see the module docstring)."""

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
        self.center = size / 2.0
        self.focal = 1.0
        b, t = style.box_half, style.box_half / 2
        fit = np.array([[x, y, 0.0] for x in (-b, b) for y in (-b, b)]
                       + [[x, y, style.box_height] for x in (-t, t) for y in (-t, t)])
        extent = np.abs(self.project(fit)[0] - self.center).max()
        self.focal = 0.92 * (size / 2.0) / extent

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) metres -> pixel positions (N, 2) and depths (N,) metres."""
        cam = (np.asarray(points, dtype=np.float64) - self.eye) @ self.basis.T
        depth = cam[:, 2]
        px = np.empty((len(cam), 2))
        px[:, 0] = self.center + self.focal * cam[:, 0] / depth
        px[:, 1] = self.center - self.focal * cam[:, 1] / depth
        return px, depth


def _fixed(pts: np.ndarray) -> np.ndarray:
    """Float pixel positions -> int32 fixed-point positions for cv2 drawing with shift=_SHIFT."""
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


class Renderer:
    """Draws output frames for one video size.

    frame_width, frame_height: input frame size in pixels; fps: shown in the text; num_frames:
    the total shown as "frame i of N", i being the 0-based row of the frame in the saved arrays
    (None shows only i). ``size`` is the output (width, height).
    """

    def __init__(self, frame_width: int, frame_height: int, fps: float, num_frames: int | None = None,
                 style: RenderStyle = RenderStyle()):
        self.style = style
        self.frame_size = (int(frame_width), int(frame_height))
        self.fps = float(fps)
        self.num_frames = num_frames
        width, height, self.left_width = output_size(frame_width, frame_height, style)
        self.size = (width, height)
        self.scale = self.left_width / frame_width, height / frame_height
        self.unit = height / 720.0  # text and line sizes scale with the panel height
        self.bones = _bone_sides(17)
        self.joint_colors = _joint_colors()
        self.camera = FixedCamera(height, style)
        self.background = self._draw_background()

    # --- static 3D background -------------------------------------------------------------
    def _draw_background(self) -> np.ndarray:
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

    # --- per frame ------------------------------------------------------------------------
    def _draw_2d(self, img: np.ndarray, kp2d: np.ndarray, scores: np.ndarray) -> None:
        u = self.unit
        pts = _fixed(np.nan_to_num(kp2d * np.array(self.scale), nan=-1e4, posinf=-1e4, neginf=-1e4))
        present = np.isfinite(kp2d).all(-1)
        good = present & (scores >= self.style.min_score)
        thick, thin = max(1, round(3 * u)), max(1, round(1.5 * u))
        for p, c, color in self.bones:
            if not (present[p] and present[c]):
                continue
            if good[p] and good[c]:
                _line(img, pts[p], pts[c], color, thick)
            else:
                _line(img, pts[p], pts[c], LOW_COLOR, thin)
        r = 3.5 * u
        for j in np.nonzero(present)[0]:
            if good[j]:
                _circle(img, pts[j], r, self.joint_colors[j], -1)
            else:
                _circle(img, pts[j], r + 1.0 * u, (255, 255, 255), thin + 1)
                _circle(img, pts[j], r + 1.0 * u, LOW_COLOR, thin)

    def _draw_3d(self, img: np.ndarray, kp3d: np.ndarray) -> None:
        u = self.unit
        px, depth = self.camera.project(kp3d)
        floor = kp3d.copy()
        floor[:, 2] = 0.0
        shadow = _fixed(self.camera.project(floor)[0])
        pts = _fixed(px)
        sw = max(1, round(2 * u))
        for p, c, _ in self.bones:
            _line(img, shadow[p], shadow[c], GRID_COLOR, sw)
        bone_depth = np.array([depth[p] + depth[c] for p, c, _ in self.bones])
        thick = max(1, round(3.5 * u))
        for k in np.argsort(-bone_depth):  # far bones first, near ones drawn over them
            p, c, color = self.bones[k]
            _line(img, pts[p], pts[c], color, thick)
        for j in np.argsort(-depth):
            _circle(img, pts[j], 3.0 * u, self.joint_colors[j], -1)

    def render(self, frame: np.ndarray, index: int, kp2d: np.ndarray | None, scores: np.ndarray | None,
               kp3d_world: np.ndarray | None) -> np.ndarray:
        """One output frame, RGB uint8 (height, width, 3), a new array.

        frame: input RGB uint8 (frame_height, frame_width, 3). index: 0-based frame number.
        kp2d: (17, 2) pixels in the input frame, NaN for missing joints, or None. scores: (17,).
        kp3d_world: (17, 3) metres in the world view of demo.post, or None / NaN when the frame has
        no person.
        """
        w, h = self.size
        fw, fh = self.frame_size
        if frame.shape != (fh, fw, 3):
            raise ValueError(f"expected a frame of shape {(fh, fw, 3)}, got {frame.shape}")
        out = np.empty((h, w, 3), np.uint8)
        left = out[:, : self.left_width]
        if (self.left_width, h) == (fw, fh):
            left[:] = frame
        else:
            left[:] = cv2.resize(frame, (self.left_width, h), interpolation=cv2.INTER_LINEAR)
        right = out[:, self.left_width:]
        right[:] = self.background
        u = self.unit
        if kp2d is not None and scores is not None:
            self._draw_2d(left, np.asarray(kp2d, np.float64), np.asarray(scores))
        person = kp3d_world is not None and np.isfinite(kp3d_world).all()
        if person:
            self._draw_3d(right, np.asarray(kp3d_world, np.float64))
        else:
            (tw, _), _ = cv2.getTextSize("no person", FONT, 1.2 * u, max(1, round(2 * u)))
            _text(right, "no person", ((h - tw) // 2, h // 2), 1.2 * u, (200, 40, 40), max(1, round(2 * u)),
                  box=(255, 255, 255))
        total = f" of {self.num_frames}" if self.num_frames else ""
        _text(left, f"frame {index}{total}   {self.fps:.2f} fps", (int(10 * u), int(28 * u)), 0.65 * u,
              (255, 255, 255), max(1, round(1.5 * u)), box=(20, 20, 20))
        return out
