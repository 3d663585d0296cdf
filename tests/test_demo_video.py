"""demo.video: probing, exact frame counts (edit lists, damage), timestamps, rotation, the H.264 writer."""

import math
import subprocess
from fractions import Fraction

import cv2
import numpy as np
import pytest

from _demo_fakes import make_video
from demo.video import FrameClock, FrameReader, VideoError, VideoWriter, ffmpeg_exe, iter_frames, probe


def _ffmpeg_plays(path) -> list[int]:
    """Presentation timestamps (stream time base) of the frames FFmpeg itself decodes from a file."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0",
                          "-f", "framecrc", "-"], check=True, capture_output=True, text=True).stdout
    return [int(line.split(",")[2]) for line in out.splitlines() if not line.startswith("#")]


def test_probe_and_read(tmp_path):
    path = make_video(tmp_path / "a.mp4", frames=9, size=(96, 64), rate="30000/1001")
    info = probe(path)
    assert (info.width, info.height, info.fps, info.rotation) == (96, 64, Fraction(30000, 1001), 0)
    assert info.frame_count == info.stated_frame_count == 9 and info.damage == ""
    frames = list(iter_frames(path))
    assert len(frames) == 9 and frames[0].shape == (64, 96, 3) and frames[0].dtype == np.uint8
    with FrameReader(path, buffer_bytes=1) as reader:
        assert reader.info == info  # known before iterating
        threaded = list(reader)
    assert len(threaded) == 9 and all((a == b).all() for a, (b, _) in zip(frames, threaded))
    assert [t for _, t in threaded] == pytest.approx([i * 1001 / 30000 for i in range(9)], abs=1e-6)
    assert reader.decode_seconds > 0 and info.missing_frames(9) == 0
    assert len(list(iter_frames(path, max_frames=4))) == 4
    with FrameReader(path, max_frames=4) as reader:
        assert len(list(reader)) == 4 and reader.info.frame_count == 9


def test_edit_list_frames_are_counted_as_played(tmp_path):
    """An mp4 cut with stream copy keeps the frames before the cut (the key frame they need) and an
    edit list that hides them: the container states 30 frames, FFmpeg plays 15. The count, the
    frames read and their times must be those 15, with no damage reported."""
    path = make_video(tmp_path / "cut.mp4", frames=30, rate="30", extra_input=["-ss", "0.5"])
    cap = cv2.VideoCapture(str(path))
    stated = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    cap.release()
    played = _ffmpeg_plays(path)
    assert stated == 30 and len(played) == 15  # the case at hand: the container's count is wrong
    info = probe(path)
    assert info.frame_count == info.stated_frame_count == 15 and info.damage == ""
    with FrameReader(path) as reader:
        assert reader.info == info
        times = [t for _, t in reader]
    assert len(times) == 15 and info.missing_frames(len(times)) == 0
    assert times == pytest.approx([i / 30 for i in range(15)], abs=1e-6)
    assert len(list(iter_frames(path))) == 15


def test_truncated_file_is_reported_damaged(tmp_path):
    whole = make_video(tmp_path / "whole.mp4", frames=30)
    fast = tmp_path / "fast.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(whole), "-c", "copy", "-movflags", "+faststart",
                    str(fast)], check=True)
    data = fast.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.9)])  # index first, the last frames' data cut off
    info = probe(cut)
    assert info.damage and "\n" not in info.damage
    assert info.stated_frame_count == 30 and 0 < info.frame_count < 30
    with FrameReader(cut) as reader:
        decoded = sum(1 for _ in reader)
    assert 0 < decoded <= info.frame_count
    assert info.missing_frames(decoded) == 30 - decoded
    assert info.missing_frames(decoded, max_frames=decoded) == 0  # fewer asked for: nothing missing
    assert info.missing_frames(decoded - 1, max_frames=decoded) == 1


def test_variable_frame_rate_times_come_from_the_decoder(tmp_path):
    """Frames 0, 1, 2, 4, 5, 6, 8, ... / 60 s (every third interval doubled): times as played, not index / fps."""
    path = tmp_path / "vfr.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=60",
                    "-frames:v", "12", "-vf", "setpts='(N+floor(N/3))/(60*TB)'", "-fps_mode", "passthrough",
                    "-c:v", "libx264", str(path)], check=True)
    with FrameReader(path) as reader:
        times = [t for _, t in reader]
    expected = [(n + n // 3) / 60 for n in range(12)]
    assert times == pytest.approx(expected, abs=1e-6)


def test_clock_falls_back_to_frame_intervals():
    clock = FrameClock(Fraction(25))
    assert [clock.time(ms) for ms in (1000.0, 1040.0, 1080.0)] == pytest.approx([0, 0.04, 0.08])  # from the first
    assert clock.time(1080.0) == pytest.approx(0.12)  # repeated: one interval on
    assert clock.time(500.0) == pytest.approx(0.16)  # backwards: one interval on
    assert clock.time(1300.0) == pytest.approx(0.3)  # back to the decoder's times
    missing = FrameClock(Fraction(30000, 1001))
    times = [missing.time(ms) for ms in (0.0, 0.0, None, math.nan, math.inf, 0.0)]
    assert times == pytest.approx([i * 1001 / 30000 for i in range(6)])  # index / fps
    assert all(b > a for a, b in zip(times, times[1:]))
    with pytest.raises(ValueError, match="fps"):
        FrameClock(0)


def test_reader_stops_early_and_bounds_its_queue(tmp_path):
    path = make_video(tmp_path / "long.mp4", frames=40)
    reader = FrameReader(path, buffer_bytes=1)  # 2 frames at most in the queue
    frames = iter(reader)
    next(frames)
    reader._thread.join(timeout=0.5)
    assert reader._thread.is_alive() and reader._queue.qsize() <= 2  # blocked on a full queue
    reader.close()
    assert not reader._thread.is_alive()


def test_rotation_metadata_is_applied(tmp_path):
    path = make_video(tmp_path / "r.mp4", frames=3, size=(96, 64), extra_input=["-display_rotation", "90"])
    info = probe(path)
    assert (info.width, info.height) == (64, 96) and info.rotation in (90, 270)
    first = next(iter_frames(path))
    # FFmpeg itself (autorotate on by default) gives the same upright picture
    raw = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    reference = np.frombuffer(raw, np.uint8).reshape(96, 64, 3)
    assert np.abs(first.astype(int) - reference).mean() < 3


@pytest.mark.parametrize("rate", [Fraction(30000, 1001), Fraction(25), Fraction(60)])
def test_writer_keeps_fps_and_frame_count(tmp_path, rate):
    out = tmp_path / "sub" / "w.mp4"
    frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(13)]
    with VideoWriter(out, 64, 48, rate) as writer:
        for f in frames:
            writer.write(f)
        assert not out.exists()  # only a temporary name until closed
    info = probe(out)
    assert info.fps == rate and (info.width, info.height) == (64, 48)
    decoded = list(iter_frames(out))
    assert len(decoded) == 13
    assert abs(int(decoded[5].mean()) - 50) < 4
    assert [p.name for p in out.parent.iterdir()] == ["w.mp4"]


def test_writer_abort_and_bad_frames(tmp_path):
    out = tmp_path / "x.mp4"
    with pytest.raises(ValueError):
        VideoWriter(out, 63, 48, 30)
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 64, 48, 30) as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))
            with pytest.raises(ValueError):
                writer.write(np.zeros((48, 62, 3), np.uint8))
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    writer = VideoWriter(out, 64, 48, 30)
    with pytest.raises(VideoError):
        writer.close()  # nothing written
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    for path, words in ((tmp_path / "missing.mp4", "not found"), (text, "cannot read"), (tmp_path, "not a file")):
        with pytest.raises(VideoError, match=words):
            probe(path)
    with pytest.raises(VideoError, match="not found"):
        FrameReader(tmp_path / "missing.mp4")
    with pytest.raises(VideoError, match="cannot read"):
        FrameReader(text)
    empty = tmp_path / "zero.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25",
                    "-frames:v", "0", "-c:v", "libx264", str(empty)], check=True)
    for opener in (probe, FrameReader):
        with pytest.raises(VideoError, match="cannot read|no video frame"):
            opener(empty)
    with pytest.raises(ValueError, match="max_frames"):
        FrameReader(make_video(tmp_path / "ok.mp4", frames=2), max_frames=0)


def test_encoder_failure_is_reported_and_leaves_no_file(tmp_path):
    writer = VideoWriter(tmp_path / "x.mp4", 64, 48, 30, preset="no-such-preset")
    with pytest.raises(VideoError, match="encod"):
        for _ in range(200):
            writer.write(np.zeros((48, 64, 3), np.uint8))
        writer.close()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_writer_colours_and_encoder_cost(tmp_path):
    """Frames go to the encoder as BT.601 YUV converted here: colours must survive, not swap."""
    frame = np.zeros((48, 96, 3), np.uint8)
    colours = [(230, 30, 30), (30, 200, 40), (40, 60, 220)]  # R, G, B thirds
    for k, c in enumerate(colours):
        frame[:, 32 * k:32 * (k + 1)] = c
    with VideoWriter(tmp_path / "c.mp4", 96, 48, 25, crf=10) as writer:
        for _ in range(3):
            writer.write(frame)
    assert writer.convert_seconds > 0 and writer.encoder_cpu_seconds > 0
    decoded = list(iter_frames(tmp_path / "c.mp4"))[1]
    for k, c in enumerate(colours):
        got = decoded[8:40, 32 * k + 8:32 * k + 24].reshape(-1, 3).mean(0)
        assert np.abs(got - c).max() < 12, (c, got)
