"""Run inside Blender: import BVH files with Blender's own importer and dump the animated bones.

Usage: ``blender -b --factory-startup --python tests/blender_bvh_check.py -- OUT.json A.bvh [B.bvh ...]``

Each file is imported with ``bpy.ops.import_anim.bvh`` at its defaults (armature, native Euler
orders, forward -Z / up Y, i.e. Y up -> Blender's Z up) plus ``update_scene_fps=True`` (the scene
fps comes from the file's Frame Time). Blender 3.4's importer opens the file with mode 'rU', which
Python 3.11 refuses; ``open`` is wrapped to drop the 'U' for the import (nothing else changes).
Then every frame of each armature's action is stepped through (``scene.frame_set``) and each pose
bone's world head position (``matrix_world @ pose_bone.head``, evaluated) is recorded.

OUT.json: a list, one entry per file in argument order: ``file``, ``frame_range`` (the action's
[first, last]), ``fps`` (render.fps), ``fps_base`` (render.fps_base) right after that import,
``bones`` (bone name -> list over the frames of [x, y, z] in Blender's world, metres).
"""

import builtins
import json
import sys

import bpy

_open = builtins.open


def _open_without_u(file, mode="r", *args, **kwargs):
    if isinstance(mode, str) and "U" in mode:
        mode = mode.replace("U", "") or "r"
    return _open(file, mode, *args, **kwargs)


def main(argv):
    out_path, files = argv[0], argv[1:]
    scene = bpy.context.scene
    entries = []
    builtins.open = _open_without_u
    try:
        for path in files:
            before = set(bpy.data.objects)
            done = bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True)
            if "FINISHED" not in done:
                raise RuntimeError(f"import of {path} failed: {done}")
            (arm,) = [o for o in bpy.data.objects if o not in before and o.type == "ARMATURE"]
            action = arm.animation_data.action
            entries.append({"file": path, "object": arm.name,
                            "frame_range": [float(action.frame_range[0]), float(action.frame_range[1])],
                            "fps": int(scene.render.fps), "fps_base": float(scene.render.fps_base),
                            "bones": {b.name: [] for b in arm.pose.bones}})
    finally:
        builtins.open = _open
    first = min(int(round(e["frame_range"][0])) for e in entries)
    last = max(int(round(e["frame_range"][1])) for e in entries)
    for frame in range(first, last + 1):
        scene.frame_set(frame)
        depsgraph = bpy.context.evaluated_depsgraph_get()
        for entry in entries:
            arm = bpy.data.objects[entry["object"]].evaluated_get(depsgraph)
            for bone in arm.pose.bones:
                entry["bones"][bone.name].append(list(arm.matrix_world @ bone.head))
    with _open(out_path, "w") as f:
        json.dump(entries, f)


if __name__ == "__main__":
    main(sys.argv[sys.argv.index("--") + 1:])
