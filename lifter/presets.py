"""Named training presets: the release's recipes (../shared/design/pgformer.md) and our own for
the open mocap. A preset is a plain dict; lifter/train.py flags override some of its values.

Keys: model (a name of lifter.models.CONFIGS), model_overrides (optional, merged into it), data ('h36m' | 'openmocap'), noise (open mocap 2D:
'clean' | 'detector'), epochs, batch_size (per process), optimizer {name 'adam' | 'adamw', lr,
weight_decay, amsgrad}, schedule (see lifter.training.lr_factor), clip_grad (max gradient norm or
None), loss ('mse' | 'mpjpe'; the denoiser stage has its own), scene (optional, open mocap only: the
training cameras, augmentation and noise model, see lifter.data.open_source), flip_train (mirror half of the
samples), flip_test (headline evaluation with flip averaging), ema (decay or None), stage ('lift':
2D -> 3D; 'denoiser': DiffPyramid's denoiser on a trained pose model given by --pose-model, see
lifter.denoiser_training).

Schedules never depend on the total number of epochs, so that a run extended with --resume gives
the same result as a run planned that long from the start.
"""

from __future__ import annotations

import copy

_LIFT = {"stage": "lift", "noise": "detector", "ema": None, "clip_grad": None, "flip_train": False,
         "flip_test": False, "loss": "mse"}

PRESETS: dict[str, dict] = {
    # release: GT 2D, 16 joints, batch 64, 100 epochs, Adam 1e-3 x0.9 every 50k steps, clip 1, MSE, no flip
    "gt16": {**_LIFT, "model": "gt16", "data": "h36m", "epochs": 100, "batch_size": 64,
             "optimizer": {"name": "adam", "lr": 1e-3},
             "schedule": {"kind": "step", "every_steps": 50000, "gamma": 0.9}, "clip_grad": 1.0},
    # release: CPN 2D, 17 joints, batch 256, 14 epochs, Adam amsgrad 1e-3, x0.5 every 5th epoch else
    # x0.95, MPJPE loss, flip in training and flip averaging at test
    "cpn17": {**_LIFT, "model": "cpn17", "data": "h36m", "epochs": 14, "batch_size": 256,
              "optimizer": {"name": "adam", "lr": 1e-3, "amsgrad": True},
              "schedule": {"kind": "epoch", "every": 5, "at_every": 0.5, "gamma": 0.95},
              "loss": "mpjpe", "flip_train": True, "flip_test": True},
    # DiffPyramid stage 1, the pose model (the description gives no recipe of its own: the CPN one)
    "diffpyramid_pose": {**_LIFT, "model": "diffpyramid_pose", "data": "h36m", "epochs": 14, "batch_size": 256,
                         "optimizer": {"name": "adam", "lr": 1e-3, "amsgrad": True},
                         "schedule": {"kind": "epoch", "every": 5, "at_every": 0.5, "gamma": 0.95},
                         "loss": "mpjpe", "flip_train": True, "flip_test": True},
    # DiffPyramid stage 2, the denoiser: batch 1024, 80 epochs, Adam 2e-5 x0.9 every 60 epochs,
    # clip 1, EMA 0.999, loss 0.975 MSE + 0.025 L1 on the predicted noise
    "diffpyramid": {**_LIFT, "stage": "denoiser", "model": "diffpyramid", "data": "h36m", "epochs": 80,
                    "batch_size": 1024, "optimizer": {"name": "adam", "lr": 2e-5},
                    "schedule": {"kind": "epoch", "every": 60, "at_every": 0.9, "gamma": 1.0},
                    "clip_grad": 1.0, "ema": 0.999, "flip_test": True, "loss": "denoiser"},
    # ours, open mocap with virtual cameras and the detector noise model (mirror is a data augmentation)
    # the DiffPyramid pose-model trunk (D=96, 5 layers, 4 heads) without its unused timestep layers
    "openmocap_pgformer": {**_LIFT, "model": "diffpyramid_pose", "model_overrides": {"time_embedding": "none"},
                           "data": "openmocap", "epochs": 40,
                           "batch_size": 256, "optimizer": {"name": "adamw", "lr": 1e-3, "weight_decay": 1e-4},
                           "schedule": {"kind": "epoch", "every": 0, "at_every": 1.0, "gamma": 0.93,
                                        "warmup_steps": 500},
                           "clip_grad": 1.0, "loss": "mpjpe", "flip_test": True},
    # the same model and recipe on wider training scenes, for real video (issue 14): narrower
    # lenses (35 deg horizontal is common), cameras higher above the pelvis looking down, closer
    # cameras, bodies further from the retargeted one; meant to continue from trained weights
    # (--init), at a lower learning rate
    "openmocap_pgformer_wild": {**_LIFT, "model": "diffpyramid_pose", "model_overrides": {"time_embedding": "none"},
                                "data": "openmocap", "epochs": 3, "batch_size": 256,
                                "optimizer": {"name": "adamw", "lr": 5e-4, "weight_decay": 1e-4},
                                "schedule": {"kind": "epoch", "every": 0, "at_every": 1.0, "gamma": 0.93,
                                             "warmup_steps": 500},
                                "clip_grad": 1.0, "loss": "mpjpe", "flip_test": True,
                                "scene": {"cameras": {"fov_deg": [30.0, 85.0], "distance_m": [2.0, 9.0],
                                                      "elevation_deg": [-10.0, 55.0]},
                                          "augment": {"body_scale": [0.8, 1.15], "bone_jitter_std": 0.08}}},
    # the same, with the noise model fitted to the real detector (lifter.data.noise.FITTED_NOISE)
    "openmocap_pgformer_wild_fitted": {},
    "openmocap_diffpyramid": {**_LIFT, "stage": "denoiser", "model": "diffpyramid", "data": "openmocap",
                              "epochs": 20, "batch_size": 1024, "optimizer": {"name": "adam", "lr": 2e-4},
                              "schedule": {"kind": "epoch", "every": 0, "at_every": 1.0, "gamma": 0.93},
                              "clip_grad": 1.0, "ema": 0.999, "flip_test": True, "loss": "denoiser"},
    "openmocap_mlp": {**_LIFT, "model": "mlp", "data": "openmocap", "epochs": 40, "batch_size": 256,
                      "optimizer": {"name": "adam", "lr": 1e-3},
                      "schedule": {"kind": "epoch", "every": 0, "at_every": 1.0, "gamma": 0.93},
                      "clip_grad": 1.0, "loss": "mpjpe", "flip_test": True},
}


PRESETS["openmocap_pgformer_wild_fitted"] = copy.deepcopy(PRESETS["openmocap_pgformer_wild"])
PRESETS["openmocap_pgformer_wild_fitted"]["scene"]["noise_params"] = "fitted"


def get_preset(name: str) -> dict:
    """A copy of the named preset (raises ValueError naming the choices)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
