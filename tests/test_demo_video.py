"""demo.video: probing, rotation, exact fps and frame count of the H.264 writer, errors."""

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from _demo_fakes import make_video
from demo.video import FrameReader, VideoError, VideoWriter, ffmpeg_exe, iter_frames, probe


def test_probe_and_read(tmp_path):
    path = make_video(tmp_path / "a.mp4", frames=9, size=(96, 64), rate="30000/1001")
    info = probe(path)
    assert (info.width, info.height, info.fps, info.rotation) == (96, 64, Fraction(30000, 1001), 0)
    assert info.frame_count == 9
    frames = list(iter_frames(path))
    assert len(frames) == 9 and frames[0].shape == (64, 96, 3) and frames[0].dtype == np.uint8
    with FrameReader(path, buffer=2) as reader:
        threaded = list(reader)
    assert len(threaded) == 9 and all((a == b).all() for a, b in zip(frames, threaded))
    assert reader.decode_seconds > 0
    assert len(list(iter_frames(path, max_frames=4))) == 4


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
    with pytest.raises(VideoError):
        FrameReader(tmp_path / "missing.mp4")


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
