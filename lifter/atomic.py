"""Atomic file writes: write to a temporary name in the same folder, then rename.

After a crash at any moment there is never a half-written file under a final name; the
temporary name starts with '.' and ends with '.tmp' so that it is easy to clean up.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` when the block succeeds.

    The temporary file keeps the final suffix (writers that choose a format by suffix still work).
    On an exception the temporary file is removed and the final file is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}", dir=final.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(final: str | os.PathLike, obj, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON to ``final`` atomically."""
    with atomic_path(final) as tmp:
        tmp.write_text(json.dumps(obj, indent=indent) + "\n", encoding="utf-8")
