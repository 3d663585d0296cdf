"""mmdet person boxes, then an mmpose top-down keypoint model: a multi-person COCO-17 Detector.

The MHFormer / mmpose demo pattern: a person detector (mmdet) finds boxes in each frame, then a
top-down keypoint model (mmpose) places 17 COCO keypoints in each box. Frames are independent
(nothing is carried from frame to frame); ``demo.tracking`` gives identities. Output layout
"coco17" (``lifter.keypoints.COCO_17``).

Models (``pose_model`` / ``box_model``: a name below or the path of any mmpose top-down config /
mmdet detection config ``.py``). The named configs are the ones the mmpose and mmdet wheels ship
under ``<package>/.mim/``; their default weights are the model-zoo files in ``MODELS``:

- "rtmpose-m" (default): RTMPose-m, 256x192 input, trained on 7 body datasets (mmpose's own
  default "human" model, ``body8/rtmpose-m_8xb256-420e_body8-256x192.py``).
- "hrnet-w32": HRNet-W32 heatmap model, 256x192, COCO (the 2D model MHFormer's demo uses).
- "rtmdet-m" (default): RTMDet-m trained for the one class "person" (mmpose's default person
  detector, ``demo/mmdetection_cfg/rtmdet_m_640-8xb32_coco-person.py``), 640x640 input.
- "faster-rcnn": mmdet's Faster R-CNN R50-FPN 1x, 80 COCO classes.

A detection config must have "person" as class 0 (COCO and the person-only configs do); a pose
config must give the 17 COCO keypoints (checked by name). Both models run in eval mode, in float32,
with each config's own test pipeline and ``test_step``; ``mmpose.apis`` and ``mmdet.apis`` are not
used (they import torchvision, which has no CPU build for this project's torch).

Weights. ``weights``: 0, 1 or 2 local checkpoint files in any order (a ``.pth`` as mmengine saves
it, ``{"state_dict": ..., "meta": ...}``, or a bare state dict). Which model a file is for is told
by its keys: ``bbox_head.*`` / ``rpn_head.*`` / ``roi_head.*`` -> the person detector, ``head.*``
-> the keypoint model; a file that is neither raises ``MMPoseError``. A model without a file gets
its default model-zoo checkpoint: the file of that name in torch hub's checkpoint folder
(``torch.hub.get_dir()/checkpoints``, where mmengine puts what it downloads; ``$TORCH_HOME``
moves it) if present, else it is downloaded there first. Offline, ``MissingWeightsError`` (one
line) names the URL to fetch and the flag to pass the file with (``--detector-weights FILE``).
Every checkpoint, given or cached, goes through the same reader (``read_checkpoint``) and loader;
a checkpoint whose tensors do not fit the config's model is an error (nothing is left randomly
initialised). Files are read with ``torch.load(weights_only=True)`` only (numpy arrays and
scalars in their metadata allowed); a file holding other Python objects is refused with a
message (keep only its state dict).
``random_init=True`` (tests, benchmarks) leaves the models without a file randomly initialised
(seeded: the same weights every time) instead of downloading anything.

Per frame (``detect``): the frame (H, W, 3) uint8 RGB goes to the person detector (as BGR, the
channel order both configs' preprocessors expect); its boxes of class 0 with score >=
``box_threshold`` are kept, overlapping boxes removed by NMS (IoU > ``nms_threshold``), and the
``max_people`` best-scored go to the keypoint model in one batch (``find_people`` and
``detect_in_boxes`` are the two stages, public so that a caller can give the boxes itself).

Output (``detectors.base.PersonPose``), per person: ``xy`` (17, 2) float32 pixels of the input
frame (x right, y down; the coordinates mmpose returns, no half-pixel shift; a keypoint can lie
outside the box, up to the 1.25x padded crop the model sees, and outside the image); ``scores``
(17,) the model's keypoint confidence clipped to [0, 1] (RTMPose: the SimCC peak value;
HRNet: the heatmap peak value); a keypoint with score 0 is reported missing (NaN).
``score``: the person detector's box score in [0, 1] (for boxes given to ``detect_in_boxes``
without scores: the mean keypoint score). ``box``: the bounds of the found keypoints (as for
every detector), not the detector's box.

Install (optional; mmcv's ops are compiled from source, about 10 minutes on 2 CPU cores once per
machine): ``make mmpose`` (``.ci/install_mmpose.sh``: mmcv 2.1.0, mmengine 0.10.7, mmdet 3.3.0,
mmpose 1.3.2 with ``--no-deps`` plus the runtime dependencies they import; no opencv-python,
torchvision or chumpy). Without it, constructing the detector raises ``MMPoseError`` saying so.

Devices: ``device`` "cpu", "cuda" / "cuda:N", or "auto" (CUDA when torch sees a GPU, else CPU).
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence
from urllib.request import urlopen

import numpy as np

from detectors.base import (PersonPose, check_frame, check_max_people, check_probability,
                            check_time)
from lifter.keypoints import COCO_17

#: seconds without data before a download is given up
DOWNLOAD_TIMEOUT_S = 30.0
#: the seed of ``random_init`` weights
RANDOM_INIT_SEED = 0
#: the state-dict key prefixes that mark a person-detector checkpoint / a keypoint-model one
BOX_KEY_PREFIXES = ("bbox_head.", "rpn_head.", "roi_head.")
POSE_KEY_PREFIXES = ("head.",)


@dataclass(frozen=True)
class ModelSpec:
    """A named model: its config inside an installed package's ``.mim`` folder and its weights."""

    kind: str     # "pose" (mmpose keypoint model) | "box" (mmdet person detector)
    label: str    # for messages
    package: str  # "mmpose" | "mmdet": the wheel that ships the config
    config: str   # path below <package>/.mim/
    url: str      # the model-zoo checkpoint


_ZOO = "https://download.openmmlab.com"
#: name -> the model it stands for (``pose_model`` / ``box_model``)
MODELS: dict[str, ModelSpec] = {
    "rtmpose-m": ModelSpec(
        "pose", "RTMPose-m keypoint model", "mmpose",
        "configs/body_2d_keypoint/rtmpose/body8/rtmpose-m_8xb256-420e_body8-256x192.py",
        f"{_ZOO}/mmpose/v1/projects/rtmposev1/"
        "rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.pth"),
    "hrnet-w32": ModelSpec(
        "pose", "HRNet-W32 keypoint model", "mmpose",
        "configs/body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py",
        f"{_ZOO}/mmpose/v1/body_2d_keypoint/topdown_heatmap/coco/"
        "td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth"),
    "rtmdet-m": ModelSpec(
        "box", "RTMDet-m person detector", "mmpose",
        "demo/mmdetection_cfg/rtmdet_m_640-8xb32_coco-person.py",
        f"{_ZOO}/mmpose/v1/projects/rtmposev1/rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.pth"),
    "faster-rcnn": ModelSpec(
        "box", "Faster R-CNN person detector", "mmdet",
        "configs/faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py",
        f"{_ZOO}/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_1x_coco/"
        "faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth"),
}
POSE_MODELS = tuple(name for name, spec in MODELS.items() if spec.kind == "pose")
BOX_MODELS = tuple(name for name, spec in MODELS.items() if spec.kind == "box")
_KIND_LABEL = {"pose": "keypoint model", "box": "person detector"}
WEIGHTS_FLAG = "--detector-weights"


class MMPoseError(ValueError):
    """The mmpose detector cannot be made with these options (message is one line)."""


class MissingWeightsError(MMPoseError):
    """A default checkpoint is neither cached nor downloadable (message names URL and flag)."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _import_stack() -> None:
    """Import mmcv (with its compiled ops), mmengine, mmdet and mmpose, or raise MMPoseError."""
    try:
        import mmcv.ops  # noqa: F401  (the compiled ops: nms, RoIAlign)
        import mmdet  # noqa: F401
        import mmengine  # noqa: F401
        import mmpose  # noqa: F401
    except (ImportError, AssertionError) as exc:  # AssertionError: their version checks
        raise MMPoseError(f"the mmpose detector needs mmcv (with ops), mmengine, mmdet and mmpose "
                          f"installed: run `make mmpose` ({_one_line(exc)})") from exc


def default_cache_dir() -> Path:
    """Where default checkpoints are looked for and downloaded: torch hub's checkpoint folder."""
    import torch.hub
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_checkpoint(spec: ModelSpec) -> Path:
    """The path ``spec``'s default checkpoint has (or will have) in ``default_cache_dir()``."""
    return default_cache_dir() / spec.url.rsplit("/", 1)[-1]


def _download(url: str, dest: Path) -> None:
    """``url`` -> ``dest`` (written under a temporary name, then renamed)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + f".{os.getpid()}.partial")
    from tqdm import tqdm

    print(f"mmpose detector: downloading {url} to {dest}", file=sys.stderr, flush=True)
    try:
        with urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(partial, "wb") as out, \
                tqdm(total=int(response.headers.get("Content-Length") or 0) or None, unit="B", unit_scale=True,
                     desc=dest.name, leave=False, file=sys.stderr) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def default_checkpoint(spec: ModelSpec) -> Path:
    """``spec``'s model-zoo checkpoint: the cached file, downloaded first when absent.

    Raises MissingWeightsError (one line: the URL and ``--detector-weights``) when it cannot be
    downloaded.
    """
    path = cached_checkpoint(spec)
    if path.is_file():
        return path
    try:
        _download(spec.url, path)
    except Exception as exc:  # no network, HTTP error, full disk: all end the same way
        raise MissingWeightsError(
            f"cannot download the {spec.label} weights ({_one_line(exc)}): download {spec.url} "
            f"and pass it with {WEIGHTS_FLAG} FILE (or put it in {path.parent})") from exc
    return path


def _numpy_globals() -> list:
    """numpy's array and scalar rebuilders: plain data that OpenMMLab checkpoints keep in their
    ``meta`` (allowed in torch's weights-only unpickler; nothing else is)."""
    from numpy.core.multiarray import _reconstruct, scalar

    return [_reconstruct, scalar, np.ndarray, np.dtype, *{type(np.dtype(c)) for c in "?bhilqBHILQefdgFDG"}]


def read_checkpoint(path: str | os.PathLike) -> tuple[str, dict]:
    """A checkpoint file -> (kind, state dict): kind "pose" (keypoint model) or "box" (detector).

    Accepts mmengine's ``{"state_dict": ...}`` and a bare state dict; a ``module.`` prefix
    (DataParallel) is removed. Raises MMPoseError for an unreadable file or one that is neither.
    """
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise MMPoseError(f"weights file {str(path)!r} not found")
    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if found is None:
            raise MMPoseError(f"cannot read weights file {path}: {_one_line(exc)[:200]}") from exc
        raise MMPoseError(f"{path} holds Python objects besides tensors (e.g. {found.group(1)}), which this tool "
                          "does not unpickle; save only its state_dict") from exc
    except Exception as exc:
        raise MMPoseError(f"cannot read weights file {path}: {_one_line(exc)}") from exc
    state = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict) or not state \
            or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise MMPoseError(f"{path} is not a model checkpoint (no state dict of tensors)")
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    if any(k.startswith(BOX_KEY_PREFIXES) for k in state):
        return "box", state
    if any(k.startswith(POSE_KEY_PREFIXES) for k in state):
        return "pose", state
    raise MMPoseError(
        f"{path} is neither an mmpose keypoint-model checkpoint (keys head.*) nor an mmdet "
        f"person-detector checkpoint (keys bbox_head.*, rpn_head.* or roi_head.*)")


def _load_state(model, state: dict, source: Path, what: str) -> None:
    """Load ``state`` into ``model``; every parameter and buffer must come from it."""
    try:
        missing, _unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatch
        raise MMPoseError(f"weights {source} do not fit the {what}: "
                          f"{_one_line(exc)[:300]}") from exc
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing:
        raise MMPoseError(f"weights {source} do not fit the {what}: {len(missing)} tensors "
                          f"missing (e.g. {', '.join(missing[:3])})")


def _resolve_config(model: str | os.PathLike, kind: str) -> tuple[Path, ModelSpec | None]:
    """(config path, spec or None) of a model name in MODELS or a config file path."""
    names = POSE_MODELS if kind == "pose" else BOX_MODELS
    option = "pose_model" if kind == "pose" else "box_model"
    if isinstance(model, str) and model in names:
        spec = MODELS[model]
        package = __import__(spec.package)
        path = Path(package.__file__).parent / ".mim" / spec.config
        if not path.is_file():
            raise MMPoseError(f"the installed {spec.package} lacks its config {spec.config}: "
                              f"reinstall with `make mmpose`")
        return path, spec
    path = Path(model).expanduser()
    if path.suffix != ".py" or not path.is_file():
        raise MMPoseError(f"{option} must be one of {', '.join(names)} or an existing config .py "
                          f"file, got {str(model)!r}")
    return path, None


def _choose_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        if not torch.cuda.is_available():
            raise MMPoseError(f"device {device!r} asked for, but torch sees no CUDA GPU")
        return device
    raise MMPoseError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")


def _pipeline_cfg(cfg) -> list:
    dataset = cfg.test_dataloader.dataset
    while "pipeline" not in dataset and "dataset" in dataset:  # wrappers (RepeatDataset, ...)
        dataset = dataset.dataset
    return copy.deepcopy(list(dataset.pipeline))


def _mmpose_name(name: str) -> str:
    return name.replace("left_", "l_").replace("right_", "r_")


class MMPoseDetector:
    """mmdet person boxes + mmpose top-down COCO-17 keypoints, up to ``max_people`` per frame.

    max_people: at most this many people (the best-scored boxes) per frame, >= 1.
    pose_model: "rtmpose-m" | "hrnet-w32" | path of an mmpose top-down config .py.
    box_model: "rtmdet-m" | "faster-rcnn" | path of an mmdet detection config .py.
    weights: local checkpoint files (0, 1 or 2, any order; see the module docstring).
    device: "cpu" | "cuda" | "cuda:N" | "auto".
    box_threshold: the least person-box score kept, in [0, 1] (mmpose's demo default 0.3).
    nms_threshold: boxes overlapping a better one by more than this IoU are dropped, in [0, 1].
    random_init: models without a weights file get seeded random weights instead of the
        model-zoo checkpoint (tests and benchmarks; no download).
    verbose: let mmpose/mmdet warnings through.

    Raises MMPoseError (a ValueError, one line) when the stack is not installed, an option or
    weights file is wrong; MissingWeightsError when a default checkpoint cannot be downloaded.
    """

    name = "mmpose"
    layout = "coco17"

    def __init__(self, max_people: int = 4, *, pose_model: str | os.PathLike = "rtmpose-m",
                 box_model: str | os.PathLike = "rtmdet-m",
                 weights: Sequence[str | os.PathLike] | str | os.PathLike | None = (),
                 device: str = "auto", box_threshold: float = 0.3, nms_threshold: float = 0.3,
                 random_init: bool = False, verbose: bool = False) -> None:
        self.max_people = check_max_people(max_people)
        self.box_threshold = check_probability("box_threshold", box_threshold)
        self.nms_threshold = check_probability("nms_threshold", nms_threshold)
        self.verbose = bool(verbose)
        _import_stack()
        self.device = _choose_device(device)
        pose_config, pose_spec = _resolve_config(pose_model, "pose")
        box_config, box_spec = _resolve_config(box_model, "box")

        # The weights first (quick errors before the models are built): given files by kind.
        if weights is None:
            weights = ()
        elif isinstance(weights, (str, os.PathLike)):
            weights = (weights,)
        if len(weights) > 2:
            raise MMPoseError(f"at most 2 weights files (keypoint model, person detector), "
                              f"got {len(weights)}")
        states: dict[str, tuple[Path, dict]] = {}
        for file in weights:
            kind, state = read_checkpoint(file)
            if kind in states:
                raise MMPoseError(f"two {_KIND_LABEL[kind]} weights files: {states[kind][0]} "
                                  f"and {file}")
            states[kind] = (Path(file).expanduser(), state)
        for kind, spec, config in (("pose", pose_spec, pose_config), ("box", box_spec, box_config)):
            if kind in states or random_init:
                continue
            if spec is None:
                raise MMPoseError(f"no default weights for the {_KIND_LABEL[kind]} config "
                                  f"{config}: pass its checkpoint with {WEIGHTS_FLAG} FILE")
            path = default_checkpoint(spec)
            got, state = read_checkpoint(path)
            if got != kind:
                raise MMPoseError(f"the cached {path} is not a {_KIND_LABEL[kind]} checkpoint: "
                                  f"delete it")
            states[kind] = (path, state)
        #: where each model's weights came from (None: random_init)
        self.weights_files = {kind: states[kind][0] if kind in states else None
                              for kind in ("pose", "box")}

        with self._quiet():
            #: the mmdet person detector and the mmpose keypoint model (torch modules, eval mode)
            self.box_net, self._box_pipeline = self._build_box(box_config, states.get("box"))
            self.pose_net, self._pose_pipeline, self._pose_meta = self._build_pose(
                pose_config, states.get("pose"))
        self._closed = False

    # -- construction ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """mmpose/mmdet warnings hidden unless verbose."""
        if self.verbose:
            yield
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield

    def _build(self, registry, cfg, state, what: str):
        """Build cfg.model in its scope; load ``state`` or seed random weights; eval on device."""
        import torch
        from mmengine.model import revert_sync_batchnorm

        cfg.model.train_cfg = None
        if "init_cfg" in cfg.model.get("backbone", {}):
            cfg.model.backbone.init_cfg = None  # no pretrained-backbone download
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_INIT_SEED)
            model = registry.build(cfg.model)
        model = revert_sync_batchnorm(model)
        if state is not None:
            _load_state(model, state[1], state[0], what)
        return model.to(self.device).eval()

    def _build_box(self, config: Path, state):
        from mmengine.config import Config
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope

        cfg = Config.fromfile(str(config))
        scope = cfg.get("default_scope", "mmdet")
        with DefaultScope.overwrite_default_scope(scope):
            from mmdet.registry import DATASETS, MODELS
            dataset = cfg.test_dataloader.dataset
            classes = (dataset.get("metainfo") or {}).get("classes")
            if classes is None:
                try:
                    classes = DATASETS.get(dataset.type).METAINFO["classes"]
                except Exception:  # an unusual dataset: trust the user's config
                    classes = None
            if classes is not None and (len(classes) == 0 or classes[0] != "person"):
                raise MMPoseError(f"the person detector config {config} has class 0 "
                                  f"{classes[0] if classes else None!r}, not 'person'")
            model = self._build(MODELS, cfg, state, f"person detector config {config.name}")
            steps = [s for s in _pipeline_cfg(cfg) if "LoadAnnotations" not in s["type"]]
            steps[0] = dict(type="mmdet.LoadImageFromNDArray")
            pipeline = Compose(steps)
        return model, pipeline

    def _build_pose(self, config: Path, state):
        from mmengine.config import Config
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope

        cfg = Config.fromfile(str(config))
        if cfg.model.get("type") != "TopdownPoseEstimator":
            raise MMPoseError(f"{config} is not an mmpose top-down config (model type "
                              f"{cfg.model.get('type')!r}, want 'TopdownPoseEstimator')")
        scope = cfg.get("default_scope", "mmpose")
        with DefaultScope.overwrite_default_scope(scope):
            from mmpose.datasets.datasets.utils import parse_pose_metainfo
            from mmpose.registry import DATASETS, MODELS
            dataset = cfg.test_dataloader.dataset
            metainfo = dataset.get("metainfo") or DATASETS.get(dataset.type).METAINFO
            meta = parse_pose_metainfo(copy.deepcopy(dict(metainfo)))
            names = [_mmpose_name(meta["keypoint_id2name"][i]) for i in range(meta["num_keypoints"])]
            if tuple(names) != COCO_17:
                raise MMPoseError(f"the keypoint model config {config} gives {len(names)} "
                                  f"keypoints {names[:4]}..., not the 17 COCO keypoints")
            model = self._build(MODELS, cfg, state, f"keypoint model config {config.name}")
            model.dataset_meta = meta
            pipeline = Compose(_pipeline_cfg(cfg))
        return model, pipeline, meta

    # -- the two stages ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("MMPoseDetector used after close()")

    def find_people(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The person boxes in an (H, W, 3) uint8 RGB frame: (N, 4) float32 x0, y0, x1, y1 pixels
        and (N,) float32 scores in [0, 1], best first, N <= max_people (class 0, score >=
        box_threshold, after NMS)."""
        self._check_open()
        frame = check_frame(frame_rgb)
        return self._find(np.ascontiguousarray(frame[..., ::-1]))

    def _find(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch
        from mmcv.ops import nms

        data = self._box_pipeline(dict(img=bgr, img_id=0))
        batch = {"inputs": [data["inputs"]], "data_samples": [data["data_samples"]]}
        with torch.no_grad(), self._quiet():
            result = self.box_net.test_step(batch)[0].pred_instances
        boxes = result.bboxes.detach().float().cpu()
        scores = result.scores.detach().float().cpu()
        keep = (result.labels.cpu() == 0) & (scores >= self.box_threshold)
        boxes, scores = boxes[keep], scores[keep]
        if len(boxes):
            _, order = nms(boxes.contiguous(), scores.contiguous(), self.nms_threshold)
            order = order[: self.max_people]
            boxes, scores = boxes[order], scores[order]
        return (boxes.numpy().astype(np.float32).reshape(-1, 4),
                np.clip(scores.numpy().astype(np.float32), 0.0, 1.0).reshape(-1))

    def detect_in_boxes(self, frame_rgb: np.ndarray, boxes: np.ndarray,
                        box_scores: np.ndarray | None = None) -> list[PersonPose]:
        """The keypoint model alone on given person boxes: one PersonPose per box, in box order
        (a box whose keypoints all score 0 gives none).

        boxes: (N, 4) x0, y0, x1, y1 pixels of ``frame_rgb`` (any N >= 0; ``max_people`` does not
        apply). box_scores: (N,) person scores in [0, 1] (None: each person's mean keypoint score).
        """
        self._check_open()
        frame = check_frame(frame_rgb)
        boxes = np.asarray(boxes, dtype=np.float32)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4 or not np.isfinite(boxes).all() \
                or (boxes[:, 2:] <= boxes[:, :2]).any():
            raise ValueError(f"boxes must be (N, 4) finite x0, y0, x1, y1 with x1 > x0, y1 > y0; "
                             f"got shape {boxes.shape}")
        if box_scores is not None:
            box_scores = np.asarray(box_scores, dtype=np.float32).reshape(-1)
            if box_scores.shape != (len(boxes),):
                raise ValueError(f"box_scores must have one score per box ({len(boxes)}), got "
                                 f"shape {box_scores.shape}")
        return self._pose(np.ascontiguousarray(frame[..., ::-1]), boxes, box_scores)

    def _pose(self, bgr: np.ndarray, boxes: np.ndarray,
              box_scores: np.ndarray | None) -> list[PersonPose]:
        import torch
        from mmengine.dataset import pseudo_collate

        if len(boxes) == 0:
            return []
        items = []
        for box in boxes:
            info = dict(img=bgr, bbox=box[None].copy(), bbox_score=np.ones(1, dtype=np.float32))
            info.update(self._pose_meta)
            items.append(self._pose_pipeline(info))
        with torch.no_grad(), self._quiet():
            samples = self.pose_net.test_step(pseudo_collate(items))
        people = []
        for i, sample in enumerate(samples):
            pred = sample.pred_instances
            xy = np.asarray(pred.keypoints, dtype=np.float32)[0, :, :2]
            scores = np.asarray(pred.keypoint_scores, dtype=np.float32)[0]
            person = PersonPose.from_keypoints(
                xy, scores, score=None if box_scores is None else float(box_scores[i]))
            if person is not None:
                people.append(person)
        return people

    # -- the Detector protocol ---------------------------------------------------------------

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list[PersonPose]:
        """The people in an (H, W, 3) uint8 RGB frame (``time_s`` is checked, otherwise unused:
        frames are independent). Each: xy (17, 2) pixels, scores (17,), score = box score."""
        self._check_open()
        frame = check_frame(frame_rgb)
        check_time(time_s)
        bgr = np.ascontiguousarray(frame[..., ::-1])
        boxes, scores = self._find(bgr)
        return self._pose(bgr, boxes, scores)

    def reset(self) -> None:
        """Nothing to forget: frames are independent."""

    def close(self) -> None:
        """Release the models (idempotent)."""
        if not self._closed:
            self.box_net = self.pose_net = None
            self._box_pipeline = self._pose_pipeline = None
            self._closed = True

    def __enter__(self) -> "MMPoseDetector":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
