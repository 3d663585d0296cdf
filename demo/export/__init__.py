"""Exports of a video's result into other people's tools: BVH, TRC, C3D, CSV and an HTML viewer.

``--export bvh,trc,c3d,csv,html`` (default: all of them; ``none`` for none) writes, in the video's
output folder, beside keypoints.npz:

====== ===================================== ======================================================
format file                                  what, where it goes (the writer module documents it)
====== ===================================== ======================================================
bvh    ``<video stem>_person<ID>.bvh``       one skeleton per person, Y up, metres: Blender, game
                                             engines (demo.export.bvh)
trc    ``<video stem>_person<ID>.trc``       OpenSim / Pose2Sim marker file, Y up, metres
                                             (demo.export.trc)
c3d    ``<video stem>_person<ID>.c3d``       the same markers in C3D, z up, millimetres
                                             (demo.export.c3dfile)
csv    ``keypoints.csv``                     one row per frame and person: world and camera
                                             metres, pixels, scores (demo.export.table)
html   ``<video stem>_viewer.html``          a self-contained interactive 3D viewer, offline, with
                                             the source video beside it when it can be found
                                             (demo.export.viewer)
====== ===================================== ======================================================

Per-person files exist for every kept person with at least one frame (common.exported_people);
``<ID>`` is the track ID drawn in the video. Every file is written atomically (lifter.atomic).
The shared conventions (positions, the Y-up frame, marker names): demo.export.common.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Callable, Iterable

from demo.export.common import exported_people, person_stem

#: every export format, in the order they are written
FORMATS: tuple[str, ...] = ("bvh", "trc", "c3d", "csv", "html")
#: what ``--export`` writes when not given
DEFAULT_EXPORTS: tuple[str, ...] = FORMATS
#: formats with one file per person (the others: one file per video)
PER_PERSON: tuple[str, ...] = ("bvh", "trc", "c3d")
CSV_NAME = "keypoints.csv"


def parse_exports(text: str) -> tuple[str, ...]:
    """``"bvh,csv"`` -> ("bvh", "csv") in FORMATS order; ``"all"`` -> FORMATS; ``"none"`` or "" -> ().

    Raises ValueError naming the unknown format and the valid ones.
    """
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if words in ([], ["none"]):
        return ()
    if words == ["all"]:
        return FORMATS
    unknown = [w for w in words if w not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format {unknown[0]!r}; choose from {', '.join(FORMATS)}, all or none")
    return tuple(f for f in FORMATS if f in words)


def viewer_name(video_stem: str) -> str:
    return f"{video_stem}_viewer.html"


def file_name(fmt: str, video_stem: str, track_id: int | None = None) -> str:
    """The file name of one export: per person (``track_id`` given) or per video."""
    if fmt in PER_PERSON:
        return f"{person_stem(video_stem, track_id)}.{fmt}"
    return CSV_NAME if fmt == "csv" else viewer_name(video_stem)


def name_patterns(video_stem: str) -> list[str]:
    """Glob patterns (the stem escaped) matching every export file name of a video."""
    stem = glob.escape(video_stem)
    return [f"{stem}_person*.{fmt}" for fmt in PER_PERSON] + [CSV_NAME, glob.escape(viewer_name(video_stem))]


def remove_old_exports(out_dir: str | os.PathLike, video_stem: str) -> None:
    """Delete the export files a previous run of this video left (other people, other formats)."""
    own = re.compile(rf"{re.escape(video_stem)}_person\d+\.({'|'.join(PER_PERSON)})")
    for name in (CSV_NAME, viewer_name(video_stem)):
        (Path(out_dir) / name).unlink(missing_ok=True)
    for fmt in PER_PERSON:
        for path in Path(out_dir).glob(f"{glob.escape(video_stem)}_person*.{fmt}"):
            if own.fullmatch(path.name):
                path.unlink(missing_ok=True)


def _writer(fmt: str) -> Callable:
    if fmt == "bvh":
        from demo.export.bvh import write_bvh
        return write_bvh
    if fmt == "trc":
        from demo.export.trc import write_trc
        return write_trc
    if fmt == "c3d":
        from demo.export.c3dfile import write_c3d
        return write_c3d
    if fmt == "csv":
        from demo.export.table import write_csv
        return write_csv
    from demo.export.viewer import write_viewer
    return write_viewer


def write_exports(out_dir: str | os.PathLike, result, formats: Iterable[str], video_stem: str,
                  video_url: str | None = None, progress: bool = False) -> list[Path]:
    """Write the ``formats`` exports of ``result`` (a demo.outputs.Result) into ``out_dir``.

    video_url: the source video for the viewer's side panel, relative to out_dir or absolute
    (None: no video panel). Returns the paths written, per-video files after per-person ones.
    """
    out_dir = Path(out_dir)
    formats = tuple(formats)
    people = exported_people(result)
    tasks: list[tuple[str, int | None]] = [(f, p) for f in formats if f in PER_PERSON for p in people]
    tasks += [(f, None) for f in formats if f not in PER_PERSON]
    written: list[Path] = []
    from tqdm import tqdm

    for fmt, p in tqdm(tasks, desc="export", unit="file", disable=not progress or not tasks, leave=False):
        write = _writer(fmt)
        if p is not None:
            written.append(write(out_dir / file_name(fmt, video_stem, int(result.track_ids[p])), result, p))
        elif fmt == "html":
            written.append(write(out_dir / file_name(fmt, video_stem), result, video_url=video_url))
        else:
            written.append(write(out_dir / file_name(fmt, video_stem), result))
    return written


def video_url_for(video: str | os.PathLike, out_dir: str | os.PathLike) -> str | None:
    """The source video as a URL relative to ``out_dir`` (for the viewer), None if it is not a file."""
    video = Path(video)
    if not video.is_file():
        return None
    rel = os.path.relpath(video.resolve(), Path(out_dir).resolve())
    from urllib.parse import quote

    return quote(Path(rel).as_posix())
