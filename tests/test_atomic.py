"""Atomic writes (lifter.atomic): complete files only, flushed to disk, umask respected and untouched."""

from __future__ import annotations

import glob
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lifter import atomic
from lifter.atomic import atomic_path, write_json

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and folder fsync")
_SET_UMASK = os.umask  # for the tests' own set-up; the fixture below forbids os.umask to the code under test


@pytest.fixture
def fsyncs(monkeypatch):
    """Record every os.fsync as (st_dev, st_ino, is_folder, final_text_at_that_moment) and forbid os.umask."""
    calls: list[dict] = []
    real = os.fsync

    def recording_fsync(fd):
        st = os.fstat(fd)
        calls.append({"id": (st.st_dev, st.st_ino), "folder": stat.S_ISDIR(st.st_mode)})
        real(fd)

    def no_umask(*_):
        raise AssertionError("os.umask must not be called (it is process-wide, other threads race)")

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "umask", no_umask)
    return calls


def _id(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


@POSIX
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077], ids=oct)
def test_permissions_follow_the_umask(tmp_path, mask, fsyncs):
    old = _SET_UMASK(mask)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        with atomic_path(tmp_path / "b.bin") as tmp:
            assert stat.S_IMODE(tmp.stat().st_mode) == 0o666 & ~mask  # already while it is written
            tmp.write_bytes(b"b")
    finally:
        _SET_UMASK(old)
    for name in ("a.json", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~mask, name


def test_content_complete_and_temporary_name(tmp_path):
    final = tmp_path / "sub" / "keypoints.json"
    obj = {"frames": [[i, i * 0.5] for i in range(20000)]}
    with atomic_path(final) as tmp:
        assert tmp.parent == final.parent and tmp.read_bytes() == b""  # a fresh empty file
        assert re.fullmatch(r"\.keypoints\.[0-9a-f]{10}\.tmp\.json", tmp.name), tmp.name
        assert glob.glob(str(final.parent / ".keypoints.*.tmp.json")) == [str(tmp)]  # batch mode's cleanup glob
        assert not final.exists()
        tmp.write_text(json.dumps(obj), encoding="utf-8")
    assert json.loads(final.read_text(encoding="utf-8")) == obj
    assert os.listdir(final.parent) == ["keypoints.json"]


def test_exception_leaves_no_temporary_and_keeps_final(tmp_path):
    final = tmp_path / "out.npz"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="writer failed"):
        with atomic_path(final) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert final.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.npz"]
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C too
        with atomic_path(tmp_path / "new.txt") as tmp:
            tmp.write_text("x")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["out.npz"]


@POSIX
def test_file_flushed_before_rename_and_folder_after(tmp_path, fsyncs, monkeypatch):
    final = tmp_path / "a.json"
    final.write_text("old")
    seen_final_at_file_fsync = []
    recorder = os.fsync

    def checking(fd):  # wraps the recorder: what does the final name hold at each flush?
        seen_final_at_file_fsync.append(final.read_text())
        recorder(fd)

    monkeypatch.setattr(os, "fsync", checking)
    write_json(final, {"new": True})
    assert [c["folder"] for c in fsyncs] == [False, True]
    assert fsyncs[0]["id"] == _id(final)  # the renamed file is the one flushed (a rename keeps the inode)
    assert fsyncs[1]["id"] == _id(tmp_path)
    assert seen_final_at_file_fsync[0] == "old"  # file flushed before the rename
    assert json.loads(seen_final_at_file_fsync[1]) == {"new": True}  # folder flushed after it


@POSIX
@pytest.mark.parametrize("writer", ["open_file", "path_to_library", "other_process"])
def test_every_kind_of_writer_is_flushed(tmp_path, fsyncs, writer):
    """Callers give the path to np.savez (an open file), to libraries by name, or to a subprocess (ffmpeg)."""
    final = tmp_path / f"{writer}.npz"
    data = np.arange(1000, dtype=np.float32)
    with atomic_path(final) as tmp:
        if writer == "open_file":
            with open(tmp, "wb") as f:
                np.savez_compressed(f, data=data)
        elif writer == "path_to_library":
            np.savez_compressed(tmp, data=data)  # the suffix is .npz already: numpy writes this very path
        else:
            code = f"import numpy as np; np.savez_compressed({str(tmp)!r}, data=np.arange(1000, dtype=np.float32))"
            subprocess.run([sys.executable, "-c", code], check=True)
    with np.load(final) as z:
        np.testing.assert_array_equal(z["data"], data)
    assert [c["id"] for c in fsyncs] == [_id(final), _id(tmp_path)]
    assert os.listdir(tmp_path) == [final.name]


def test_name_clash_takes_another_name(tmp_path, monkeypatch):
    taken = tmp_path / ".a.0000000000.tmp.txt"
    taken.write_text("someone else's")
    names = iter([taken.name, taken.name, ".a.1111111111.tmp.txt"])
    monkeypatch.setattr(atomic, "_temporary_name", lambda final: next(names))
    with atomic_path(tmp_path / "a.txt") as tmp:
        assert tmp.name == ".a.1111111111.tmp.txt"
        tmp.write_text("mine")
    assert taken.read_text() == "someone else's" and (tmp_path / "a.txt").read_text() == "mine"
    monkeypatch.setattr(atomic, "_temporary_name", lambda final: taken.name)
    with pytest.raises(FileExistsError, match="no free temporary name"):
        with atomic_path(tmp_path / "a.txt"):
            pass
