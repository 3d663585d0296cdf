"""The shipped weights (weights/*.safetensors): present, matching the model card, lifting plausibly.

Shipped weights are part of the product: an empty weights/ fails these tests, it does not skip them.
The fixed 2D poses are hand-made 3D poses (metres, camera frame) whose limbs have the lengths the
training scales bones to (lifter.data.openmocap.REFERENCE_BONES_MM, the Human3.6M means of the
data README), turned into the detector's points (lifter.data.recipe) and projected by a fixed
pinhole camera; a lift is plausible when every limb bone is within 20% of those means, the head is
above the pelvis and the ankles below it, and the pose is within 200 mm MPJPE and 100 mm P-MPJPE
of the true one (an untrained model is off by about 450 mm and 400 mm).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from lifter.data.cameras import project
from lifter.data.openmocap import REFERENCE_BONES_MM, bone_lengths
from lifter.data.recipe import detector_points_3d
from lifter.lift import WEIGHTS_DIR, Lifter
from lifter.metrics import mpjpe, p_mpjpe
from lifter.skeleton import INDEX_17, JOINTS_17, PARENTS_17, normalize_screen

CARD = WEIGHTS_DIR / "MODEL_CARD.md"
REQUIRED = ("pgformer", "diffpyramid")
MAX_TOTAL_BYTES = 40_000_000
J = INDEX_17

#: direction of each bone (from its parent) in the camera frame (x right, y down, z away from the
#: camera) for a person facing the camera, and the length of the bones that are not limbs (m)
STANDING = {"r_hip": (-1, 0, 0), "r_knee": (0, 1, -0.05), "r_ankle": (0, 1, 0.05), "l_hip": (1, 0, 0),
            "l_knee": (0, 1, -0.05), "l_ankle": (0, 1, 0.05), "spine": (0, -1, 0), "thorax": (0, -1, 0),
            "neck_nose": (0, -1, -0.3), "head": (0, -1, 0.1), "l_shoulder": (1, 0, 0), "l_elbow": (0.15, 1, 0),
            "l_wrist": (0.05, 1, -0.2), "r_shoulder": (-1, 0, 0), "r_elbow": (-0.15, 1, 0), "r_wrist": (-0.05, 1, -0.2)}
#: arms raised sideways, right knee bent forward (changes to STANDING)
RAISED = {**STANDING, "l_elbow": (1, -0.6, 0), "l_wrist": (1, -0.8, -0.1), "r_elbow": (-1, -0.6, 0),
          "r_wrist": (-1, -0.8, -0.1), "r_knee": (0, 1, -0.3), "r_ankle": (0, 1, 0.3)}
TORSO_M = {"spine": 0.23, "thorax": 0.25, "neck_nose": 0.11, "head": 0.11}


def _pose(directions: dict) -> np.ndarray:
    """(17, 3) metres, camera frame, pelvis 4 m in front of the camera."""
    out = np.zeros((17, 3))
    out[0] = (0.0, 0.0, 4.0)
    for j, p in enumerate(PARENTS_17):
        if p < 0:
            continue
        d = np.asarray(directions[JOINTS_17[j]], float)
        length = REFERENCE_BONES_MM[j] / 1000 if j in REFERENCE_BONES_MM else TORSO_M[JOINTS_17[j]]
        out[j] = out[p] + d / np.linalg.norm(d) * length
    return out


def _fixed_2d(poses: np.ndarray, width: int = 1920, height: int = 1080) -> np.ndarray:
    """Camera-frame poses (B, 17, 3) -> the normalised 2D the demo would give (B, 17, 2)."""
    px = project(detector_points_3d(poses).astype(np.float64), np.full(len(poses), 1100.0),
                 np.tile([width / 2, height / 2], (len(poses), 1)))
    return normalize_screen(px, width, height)


def _shipped() -> list[Path]:
    files = sorted(WEIGHTS_DIR.glob("*.safetensors"))
    assert files, f"no shipped weights in {WEIGHTS_DIR}: run weights/ship.py (see weights/MODEL_CARD.md)"
    return files


def _card() -> str:
    assert CARD.is_file(), f"no model card {CARD}: run weights/make_model_card.py"
    return CARD.read_text(encoding="utf-8")


def _card_hashes(card: str) -> dict[str, tuple[int, str]]:
    """name -> (bytes, sha256) from the card's Files table."""
    rows = re.findall(r"^\| (\w+) \| \1\.safetensors \| [\d,]+ \| (\d+) \| `([0-9a-f]{64})` \|$", card, re.M)
    return {name: (int(size), sha) for name, size, sha in rows}


def _card_config(card: str, name: str) -> dict:
    m = re.search(rf"<!-- config:{name} -->\n```json\n(.*?)\n```", card, re.S)
    assert m, f"model card has no configuration block for {name}"
    return json.loads(m.group(1))


def test_required_weights_are_shipped_and_small():
    names = {p.stem for p in _shipped()}
    assert set(REQUIRED) <= names, f"missing shipped weights: {sorted(set(REQUIRED) - names)}"
    total = sum(p.stat().st_size for p in WEIGHTS_DIR.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES, f"weights/ holds {total / 1e6:.1f} MB (limit 40 MB)"


def test_every_weight_file_matches_the_model_card():
    card = _card()
    hashes = _card_hashes(card)
    for path in _shipped():
        name = path.stem
        assert name in hashes, f"{path.name} is not listed in the model card"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        size, card_sha = hashes[name]
        assert (path.stat().st_size, sha) == (size, card_sha), f"{path.name} differs from the model card (stale card?)"
        doc = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert doc["meta"]["sha256"] == sha, f"{path.with_suffix('.json').name}: sha256 is not the file's"
        assert doc["config"] == _card_config(card, name), f"{name}: config differs from the model card"


def test_card_quotes_the_required_acknowledgements():
    card = _card()
    for text in ("The data used in this project was obtained from mocap.cs.cmu.edu.",
                 "The database was created with funding from NSF EIA-0196217.",
                 "The data used in this project was obtained from HDM05."):
        assert text in card


@pytest.mark.parametrize("pose", [STANDING, RAISED], ids=["standing", "arms_raised_knee_bent"])
def test_every_shipped_lifter_lifts_a_fixed_pose_plausibly(pose):
    truth = _pose(pose)[None]
    x = _fixed_2d(truth)
    target = truth - truth[:, :1]
    limbs = sorted(REFERENCE_BONES_MM)
    for path in _shipped():
        out = Lifter.load(str(path), device="cpu").lift(x)[0].astype(np.float64)
        lengths = bone_lengths(out)[limbs] * 1000
        means = np.array([REFERENCE_BONES_MM[j] for j in limbs])
        bad = {JOINTS_17[j]: round(float(v)) for j, v, m in zip(limbs, lengths, means) if abs(v / m - 1) > 0.2}
        assert not bad, f"{path.name}: bones (by child joint, mm) off by more than 20%: {bad}"
        assert out[J["head"], 1] < out[J["pelvis"], 1] - 0.3, f"{path.name}: head not above the pelvis"
        assert (out[[J["l_ankle"], J["r_ankle"]], 1] > out[J["pelvis"], 1] + 0.4).all(), f"{path.name}: ankles not below"
        err, aligned = float(mpjpe(out[None], target)[0]), float(p_mpjpe(out[None], target)[0])
        assert err < 0.2 and aligned < 0.1, f"{path.name}: MPJPE {err * 1000:.0f} mm, P-MPJPE {aligned * 1000:.0f} mm"


@pytest.mark.parametrize("name", REQUIRED)
def test_shipped_lifters_load_by_name(name):
    lifter = Lifter.load(name, device="cpu")
    assert lifter.num_joints == 17
    out = lifter.lift(_fixed_2d(_pose(STANDING)[None]))
    assert out.shape == (1, 17, 3) and np.isfinite(out).all()


# -- the evaluation's sanity measures and the card's licence quotes (no weights needed) -------------
def test_knee_measure_tells_natural_from_backward_knees():
    from lifter.sanity import KNEE_TOLERANCE_M, knee_forward_offsets, pose_sanity

    bent = {**STANDING, "r_knee": (0, 1, -0.4), "r_ankle": (0, 1, 0.4), "l_knee": (0, 1, -0.4), "l_ankle": (0, 1, 0.4)}
    backward = {**bent, "l_knee": (0, 1, 0.4), "l_ankle": (0, 1, -0.4)}
    off = knee_forward_offsets(np.stack([_pose(bent), _pose(backward)]))
    assert (off[0] > 0.1).all()  # facing the camera, both knees towards it
    assert off[1, 1] > 0.1 and off[1, 0] < -KNEE_TOLERANCE_M  # the left knee bent backwards
    turned = _pose(bent) * np.array([-1.0, 1.0, -1.0])  # turned 180 degrees about the vertical: back to the camera
    assert (knee_forward_offsets(turned[None]) > 0.1).all()
    s = pose_sanity(np.stack([_pose(bent), _pose(backward)]))
    assert s["knee_natural_fraction"] == 0.5 and s["bone_asymmetry"]["mean"] < 1e-9


def test_asymmetry_measures_left_right_difference():
    from lifter.sanity import bone_asymmetry

    pose = _pose(STANDING)
    pose[J["l_wrist"]] = pose[J["l_elbow"]] + (pose[J["l_wrist"]] - pose[J["l_elbow"]]) * 1.5  # forearm 1.5x
    a = bone_asymmetry(pose[None])
    assert a["forearm"] == pytest.approx(0.5 / 1.25) and a["thigh"] < 1e-9
    assert a["mean"] == pytest.approx(0.4 / 4)


def test_card_generator_quotes_every_acknowledgement(tmp_path):
    from weights.make_model_card import licence_sections

    text = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "LICENSES.md")
    sample = text.read_text(encoding="utf-8") if text.is_file() else (
        "## 1. A\n\nTerms:\n\n> free\n> **The data used in this project was obtained from A.\n> Thanks.**\n\n"
        "## 2. B\n\n> **CC**: **The data used in this project was obtained from B.**\n\nCitation: B, 2007.\n")
    sections = licence_sections(sample)
    assert all(s["acknowledgement"].startswith("The data used in this project was obtained from") for s in sections)
    with pytest.raises(ValueError):
        licence_sections("## 1. A\n\n> terms without the required text\n\n## 2. B\n\n> none\n")
