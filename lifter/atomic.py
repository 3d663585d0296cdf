"""Atomic file writes: write to a temporary name in the same folder, then rename.

After a crash at any moment (the process or the whole machine) there is never a half-written file
under a final name: the temporary file is flushed to disk (fsync) before it is renamed, and the
folder after, so that the rename itself is on disk too. The temporary name is
``.<stem>.<random>.tmp<suffix>`` (starts with '.', keeps the final suffix), easy to find and clean up.
The file is created with mode 0o666 minus the process umask, as ``open(path, "w")`` would give;
the umask is never changed (that would race with other threads).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Iterator

#: attempts at a fresh random name before giving up (a clash is already a 2**-40 event)
_NAME_ATTEMPTS = 100


def _temporary_name(final: Path) -> str:
    """A fresh temporary file name for ``final``: ``.<stem>.<10 random hex digits>.tmp<suffix>``."""
    return f".{final.stem}.{secrets.token_hex(5)}.tmp{final.suffix}"


def _create_temporary(final: Path) -> Path:
    """Create an empty temporary file beside ``final`` (never an existing one); returns its path."""
    for _ in range(_NAME_ATTEMPTS):
        tmp = final.parent / _temporary_name(final)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {final} after {_NAME_ATTEMPTS} attempts")


def fsync_file(path: Path) -> None:
    """Flush the file at ``path`` to disk, whoever wrote it (this process, a library, a subprocess)."""
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)  # Windows needs write access
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: Path) -> None:
    """Flush the folder ``path`` (its entries: a rename) to disk, where the OS can open a folder."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # Windows: a folder cannot be opened (and renames need no folder flush there)
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the file itself is on disk
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty temporary path beside ``final``; move it to ``final`` when the block succeeds.

    Write the temporary path in the block, by any means (open it, give it to a library or to another
    process); it must be complete and closed when the block ends. The temporary file keeps the final
    suffix (writers that choose a format by suffix still work). On success it is flushed to disk,
    renamed over ``final`` and the folder flushed. On an exception the temporary file is removed and
    ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temporary(final)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)  # only left there on an exception: the rename moved it
    fsync_folder(final.parent)


def write_json(final: str | os.PathLike, obj, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON to ``final`` atomically."""
    with atomic_path(final) as tmp:
        tmp.write_text(json.dumps(obj, indent=indent) + "\n", encoding="utf-8")
