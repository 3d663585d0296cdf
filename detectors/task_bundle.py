"""The ``.task`` bundle mediapipe's Tasks ``PoseLandmarker`` needs, built offline from the wheel.

mediapipe 0.10.21's wheel does not ship a PoseLandmarker ``.task`` file, but it ships the same two
networks for its legacy pose API. A ``.task`` file is an uncompressed zip of:

=================================  ==================================================  ==========
entry                              source in the mediapipe package                     input norm
=================================  ==================================================  ==========
``pose_detector.tflite``           ``modules/pose_detection/pose_detection.tflite``    (x - 127.5) / 127.5
``pose_landmarks_detector.tflite`` ``modules/pose_landmark/pose_landmark_full.tflite`` (x - 0) / 255
=================================  ==================================================  ==========

The Tasks API reads each network's image normalisation from TFLite metadata, which the legacy
files lack, so mediapipe's own ``MetadataWriter`` adds it (detector inputs in [-1, 1], landmark
model inputs in [0, 1]). Nothing is downloaded.

The build is deterministic (fixed zip timestamps, fixed entry order), so the same inputs give the
same bytes. :func:`ensure_bundle` writes it once into the cache folder (``$POSE3D_CACHE_DIR``, else
``$XDG_CACHE_HOME/pose3d-lifter``, else ``~/.cache/pose3d-lifter``) under a name holding a hash of
the inputs (source model bytes, normalisation, mediapipe version, recipe version), atomically
(a temporary file in the same folder, then a rename), so concurrent processes are safe.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: environment variable naming the cache folder
CACHE_ENV = "POSE3D_CACHE_DIR"
#: bump when the way the bundle is made changes (part of the cache key)
RECIPE_VERSION = 1
#: zip entry timestamp (the earliest a zip can hold), fixed so the bytes are reproducible
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BundleEntry:
    """One network of the bundle: its entry name, source file and input normalisation."""

    name: str          # entry name inside the .task zip (what mediapipe looks for)
    source: str        # path relative to the installed mediapipe package
    norm_mean: float   # model input = (pixel - norm_mean) / norm_std, pixel in [0, 255]
    norm_std: float


ENTRIES: tuple[BundleEntry, ...] = (
    BundleEntry("pose_detector.tflite", "modules/pose_detection/pose_detection.tflite", 127.5, 127.5),
    BundleEntry("pose_landmarks_detector.tflite", "modules/pose_landmark/pose_landmark_full.tflite",
                0.0, 255.0),
)


def default_cache_dir() -> Path:
    """The cache folder: $POSE3D_CACHE_DIR, else $XDG_CACHE_HOME/pose3d-lifter, else ~/.cache/..."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "pose3d-lifter"


def _mediapipe() -> tuple[Path, str]:
    import mediapipe
    return Path(mediapipe.__file__).parent, str(mediapipe.__version__)


def _sources() -> dict[str, bytes]:
    """Entry name -> the source network's bytes, read from the installed mediapipe."""
    package, version = _mediapipe()
    sources = {}
    for entry in ENTRIES:
        path = package / entry.source
        if not path.is_file():
            raise FileNotFoundError(f"mediapipe {version} at {package} lacks {entry.source}, "
                                    f"needed to build the pose model bundle")
        sources[entry.name] = path.read_bytes()
    return sources


def bundle_key(sources: dict[str, bytes] | None = None) -> str:
    """16 hex digits: a hash of everything the bundle is made from."""
    sources = _sources() if sources is None else sources
    digest = hashlib.sha256(f"recipe {RECIPE_VERSION}; mediapipe {_mediapipe()[1]}".encode())
    for entry in ENTRIES:
        digest.update(f"; {entry.name} {entry.norm_mean!r} {entry.norm_std!r} ".encode())
        digest.update(hashlib.sha256(sources[entry.name]).digest())
    return digest.hexdigest()[:16]


def build_bundle(sources: dict[str, bytes] | None = None) -> bytes:
    """The ``.task`` zip's bytes (about 9.4 MB), deterministic for the same inputs."""
    from mediapipe.tasks.python.metadata.metadata_writers.metadata_writer import MetadataWriter
    from mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils import AlignZipFile

    sources = _sources() if sources is None else sources
    buffer = io.BytesIO()
    # AlignZipFile: mediapipe's zip writer that 4-byte aligns stored entries so they can be mmap'ed
    with AlignZipFile(buffer, mode="w", alignment=4) as bundle:
        for entry in ENTRIES:
            writer = MetadataWriter.create(bytearray(sources[entry.name]))
            writer.add_general_info(entry.name.removesuffix(".tflite"),
                                    f"{entry.source} from the mediapipe wheel, with input metadata")
            writer.add_image_input(norm_mean=[entry.norm_mean], norm_std=[entry.norm_std])
            model, _ = writer.populate()
            info = zipfile.ZipInfo(entry.name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, bytes(model))
    return buffer.getvalue()


def is_bundle(path: Path) -> bool:
    """Whether ``path`` is a readable zip holding every entry of ``ENTRIES``."""
    try:
        with zipfile.ZipFile(path) as bundle:
            return {e.name for e in ENTRIES} <= set(bundle.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def ensure_bundle(cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of the bundle in ``cache_dir`` (None: :func:`default_cache_dir`), built if absent.

    An existing file that is not a valid bundle is rebuilt. Raises OSError with the folder's name
    when it cannot be written.
    """
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    sources = _sources()
    path = directory / f"pose_landmarker_full-{bundle_key(sources)}.task"
    if path.is_file() and is_bundle(path):
        return path
    data = build_bundle(sources)
    tmp_name = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)  # atomic: readers see no file or the whole file
        tmp_name = None
    except OSError as exc:
        raise OSError(f"cannot write the pose model bundle to {directory}: "
                      f"{exc.strerror or exc}; set {CACHE_ENV} to a writable folder") from exc
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return path
