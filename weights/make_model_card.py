"""Generate weights/MODEL_CARD.md from the evaluation JSON and the shipped weights' JSON metadata.

    python weights/make_model_card.py [--weights weights] [--eval weights/eval.json]
                                      [--licences ../shared/data/LICENSES.md] [--out weights/MODEL_CARD.md]

Nothing in the card is typed by hand: figures come from eval.json (bench/evaluate_shipped.py),
hashes from <weights>/<name>.json (weights/ship.py), training facts (epochs, commands, times) from
each training run's config.json and metrics.csv when the run folder is present (runs/ is not in
git), else from what <name>.json and eval.json recorded of them when the weights were shipped and
evaluated (lifter.provenance.stage_summary); the commands shown are those that reproduce the
epochs actually run (lifter.provenance.reproduce_command). The data terms and the
required acknowledgement texts are quoted from LICENSES.md, the input normalisation and the 2D
keypoint recipe from the code that implements them (lifter.skeleton, lifter.data.recipe,
lifter.keypoints). Machine-read parts (tests/test_shipped_weights.py): the "Files" table
(name, file, bytes, sha256) and one ``<!-- config:NAME -->`` JSON block per model.
Bad input: one-line error, exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import re
import sys
from pathlib import Path

from lifter.atomic import atomic_path
from lifter.data import recipe
from lifter.eval_report import MODELS, table
from lifter.keypoints import RECIPE
from lifter.provenance import epochs_note, reproduce_command, sha256_of, stage_summary
from lifter.sanity import BONE_PAIRS
from lifter.skeleton import JOINTS_17, normalize_screen

REPO = Path(__file__).resolve().parents[1]

SHIPPED = ("pgformer", "diffpyramid")
DEFAULT_LICENCES = REPO / ".." / "shared" / "data" / "LICENSES.md"


# -- licences -------------------------------------------------------------------------------------
def licence_sections(text: str) -> list[dict]:
    """The numbered sources of LICENSES.md: [{"title", "terms" (the quoted terms, verbatim Markdown
    lines), "acknowledgement" (the bold sentence(s) starting "The data used"), "citation", "sources"
    (the line naming the sources and their share of frames), "share_alike" (the notes on it)}].
    ValueError when a source has no terms or no acknowledgement text (the card must quote them)."""
    out = []
    for match in re.finditer(r"^## (\d+)\. (.+?)$(.*?)(?=^## |\Z)", text, re.M | re.S):
        title, body = match.group(2).strip(), match.group(3)
        quote = re.search(r"((?:^>.*\n?)+)", body, re.M)
        if quote is None:
            continue  # a section without quoted terms (e.g. "not included")
        terms = quote.group(1).rstrip("\n")
        plain = " ".join(line.lstrip(">").strip() for line in terms.splitlines())
        acks = [a.strip() for a in re.findall(r"\*\*(.+?)\*\*", plain) if a.strip().startswith("The data used")]
        if not acks:
            raise ValueError(f"LICENSES.md section {title!r}: no acknowledgement text found")
        citation = re.search(r"^Citation: (.+)$", body, re.M)
        share = re.search(r"^(Share-alike .*?:\n(?:\* .*\n?)+)", body, re.M)
        sources = re.search(r"^(Sources?: .+)$", body, re.M)
        out.append({"title": title, "terms": terms, "acknowledgement": " ".join(acks),
                    "citation": citation.group(1).strip() if citation else None,
                    "sources": sources.group(1).strip() if sources else None,
                    "share_alike": share.group(1).strip() if share else None})
    if len(out) < 2:
        raise ValueError("LICENSES.md: expected the CMU and HDM05 sections with quoted terms")
    return out


# -- sections ---------------------------------------------------------------------------------
def _mm(v: float) -> str:
    return f"{v:.1f}"


def _duration(seconds: float) -> str:
    h, rem = divmod(int(round(seconds)), 3600)
    return f"{h} h {rem // 60:02d} min" if h else f"{rem // 60} min {rem % 60:02d} s"


def files_section(metas: dict[str, dict], configs: dict[str, dict]) -> list[str]:
    lines = ["## Files", "", "| name | file | parameters | bytes | sha256 |", "|---|---|---:|---:|---|"]
    for name, m in metas.items():
        lines.append(f"| {name} | {name}.safetensors | {m['parameters']:,} | {m['bytes']} | `{m['sha256']}` |")
    total = sum(m["bytes"] for m in metas.values())
    lines += ["", f"Total: {total / 1e6:.1f} MB. Each file has a JSON beside it (`{{\"config\", \"meta\"}}`): the "
              "model configuration and the training metadata this card is made from.", "",
              "Load by name (`lifter.lift.Lifter.load(\"pgformer\")`, `Lifter.load(\"diffpyramid\")`; the demo's "
              "`--lifter pgformer|diffpyramid`). Configurations:", ""]
    for name, cfg in configs.items():
        lines += [f"<!-- config:{name} -->", "```json", json.dumps(cfg, indent=1, sort_keys=True), "```", ""]
    return lines


def io_section() -> list[str]:
    recipe_rows = [f"| {joint} | {' + '.join(src) if len(src) > 1 else src[0]} |" for joint, src in RECIPE.items()]
    return [
        "## Input and output", "",
        f"- Input: float array (N, 17, 2), H36M-17 joints in this order: {', '.join(JOINTS_17)}.",
        f"- Normalisation (`lifter.skeleton.normalize_screen`): {inspect.getdoc(normalize_screen)} "
        "Pixels are x right, y down, origin top-left; x ends in [-1, 1], y in [-h/w, h/w].",
        "- Output: float32 (N, 17, 3) metres, camera frame (x right, y down, z forward), root-relative "
        "(pelvis at the origin).",
        "- Flip averaging (mirror the 2D, lift, mirror back, average) is on by default in `Lifter` and is "
        "the headline variant of the evaluation.", "",
        "### 2D keypoint recipe", "",
        "The models expect the demo's conversion of a detector's keypoints (BlazePose-33 or COCO-17, "
        "`lifter/keypoints.py`); a joint made of several keypoints is their mean:", "",
        "| H36M-17 joint | detector keypoints |", "|---|---|", *recipe_rows, "",
        "Training synthesises these points from the 3D mocap (`lifter/data/recipe.py`, `detector_points_3d`): "
        "pelvis, thorax and spine are the midpoints of the hips and shoulders as above (rebuilt from the noisy "
        "2D hips and shoulders, `derive_midpoints_2d`), the 3D target stays the mocap's own joints; "
        f"the nose is placed {recipe.NOSE_FORWARD_M * 1000:.0f} mm in front of the mocap's neck_nose joint and "
        f"the ear midpoint {recipe.EAR_BACK_M * 1000:.0f} mm behind the neck_nose/head midpoint. "
        "Missing joints are filled with `lifter.skeleton.fill_missing` (nearest present ancestor) before lifting.",
        "",
    ]


def largest_body(clips_csv: Path) -> tuple[str, float] | None:
    """(skeleton, share of the primary frames) of the body most frames of the data come from, by
    clips.csv (columns skeleton, primary, frames_kept); None without that file."""
    if not clips_csv.is_file():
        return None
    frames: dict[str, int] = {}
    with clips_csv.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("primary", "1") == "1":
                frames[row["skeleton"]] = frames.get(row["skeleton"], 0) + int(row["frames_kept"])
    if not frames:
        return None
    name = max(frames, key=frames.get)
    return name, frames[name] / sum(frames.values())


def limits_section(fp: dict, body: tuple[str, float] | None = None) -> list[str]:
    cams = fp.get("cameras", {})
    aug = fp.get("augment", {})
    return [
        "## Limits", "",
        "- Single frame: each pose is lifted on its own, with no temporal context; expect frame-to-frame jitter.",
        "- Root-relative: the pelvis is always at the origin; there is no global position or trajectory.",
        "- Camera frame: the output is oriented like the camera, not to gravity or the ground.",
        "- One person, whole body in view; the depth ambiguity of a single view remains (P-MPJPE is much "
        "lower than MPJPE).",
        f"- Trained views only: virtual pinhole cameras with horizontal field of view {cams.get('fov_deg')} deg, "
        f"{cams.get('distance_m')} m from the pelvis, elevation {cams.get('elevation_deg')} deg, image sizes "
        f"{cams.get('image_sizes')}.",
        "- Body size: bone lengths are scaled per sample around Human3.6M-like means (body scale "
        f"{aug.get('body_scale')}, per-bone jitter std {aug.get('bone_jitter_std')}); the metric scale of the "
        "output is that prior, not a measurement.",
        (f"- The training motion comes mostly ({100 * body[1]:.1f}% of the data's primary frames) from a single "
         f"body (clips.csv skeleton: {body[0]}); " if body else "- ")
        + "motions unlike the mocap's categories (below) are less accurate.",
        "",
    ]


def current_stage(recorded: dict, repo: Path = REPO, weights: str | None = None,
                  sha256: str | None = None) -> tuple[dict, str]:
    """A training stage's facts: from its run folder when present (relative to ``repo``), else as
    recorded; returns (the stage, where its facts come from, in words). With ``weights`` and
    ``sha256`` (the evaluated file), the folder is used only while it still holds that file."""
    run = Path(recorded["run"])
    run = run if run.is_absolute() else repo / run
    same = True
    if weights and sha256:
        file = Path(weights) if Path(weights).is_absolute() else repo / weights
        same = file.is_file() and sha256_of(file) == sha256
    if same and (run / "config.json").is_file() and (run / "metrics.csv").is_file():
        fresh = stage_summary(run)
        fresh["run"] = recorded["run"]
        return fresh, "read from the run folder's config.json and metrics.csv"
    return recorded, ("as recorded from the run folder when the weights were shipped and evaluated "
                      "(runs/ is not in git)")


def stage_commands(stage: dict) -> list[str]:
    """The commands that reproduce a stage's finished epochs, and a comment on the recorded one."""
    done = stage["epochs_done"]
    lines = []
    if stage.get("init"):
        lines.append(f"# --init {stage['init']['path']}: the weights with sha256 {stage['init']['sha256'][:16]}..., "
                     "made by the commands above")
    lines += [reproduce_command(stage["command"], done),
             f"# resume: python lifter/train.py --resume {stage['run']} --epochs {done}"]
    note = epochs_note(stage)
    if note:
        lines.append(f"# {note}; the schedule and data of an epoch do not depend on the planned total "
                     f"(lifter.provenance), so --epochs {done} gives the same {done} epochs")
    return lines


def _which(checkpoint: str) -> str:
    if checkpoint.endswith("best.safetensors"):
        return "the lowest validation MPJPE"
    return "the last epoch; validation MPJPE"


def training_section(metas: dict[str, dict], repo: Path = REPO) -> list[str]:
    lines = ["## Training", ""]
    for name, m in metas.items():
        stages = [current_stage(s, repo) for s in m["training"]]
        lines += [f"### {name}", "",
                  f"Shipped checkpoint: epoch {m.get('epoch')} of `{m['checkpoint']}` ({_which(m['checkpoint'])}: "
                  f"{_mm(m['val']['val_mpjpe_mm'])} mm on {m['val'].get('val_set')})." if m.get("val") else
                  f"Shipped checkpoint: epoch {m.get('epoch')} of `{m['checkpoint']}`.", "",
                  "| stage | preset | epochs run | seed | batch | training time | samples/s |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for s, where in stages:
            lines.append(f"| {s['stage']} | {s['preset']} | {s['epochs_done']} | {s['seed']} | "
                         f"{s['batch_size']} | {_duration(s['train_seconds'])} | {s['mean_samples_per_s']:.0f} |")
        sources: dict[str, list[str]] = {}
        for s, where in stages:
            sources.setdefault(where, []).append(f"`{s['run']}`")
        lines += ["", "Training facts (epochs, times, commands) of each run: " +
                  "; ".join(f"{', '.join(runs)}: {where}" for where, runs in sources.items()) + ".",
                  "", "Commands that reproduce these epochs, in order (each resumable after an interruption with "
                  "the `resume` line):", "", "```sh"]
        for s, _ in stages:
            lines += stage_commands(s)
        lines += ["```", "",
                  f"Training time in total: {_duration(sum(s['train_seconds'] for s, _ in stages))} (sum of the "
                  "epochs' training loops, validation not included), on: " + m["hardware"] + ".", ""]
    return lines


def data_section(fp: dict, sections: list[dict]) -> list[str]:
    frames = fp.get("frames", {})
    noise = fp.get("noise_params", {})
    lines = ["## Data", "",
             f"Trained on `{fp.get('file')}` ({fp.get('bytes')} bytes, sha256 of the first MB "
             f"`{fp.get('sha256_first_mb')}`), real human motion capture converted to the 17 H36M joints, "
             f"primary frames: train {frames.get('train')}, validation {frames.get('val')}, test {frames.get('test')} "
             "(split by subject). The data is internal and not shipped. 2D inputs are made on the fly: one "
             "virtual camera per pose, the keypoint recipe above, and the detector-like noise model "
             f"(`lifter/data/noise.py`: {', '.join(f'{k} {v}' for k, v in noise.items())}).", "",
             "Every primary frame of the training split was used, HDM05's included (the fingerprint names no "
             "source filter)." if "sources" not in fp else f"Sources used: {fp['sources']}.", "",
             "### Sources, licences and acknowledgements", "",
             "The acknowledgement texts below are required by the data's terms; they are quoted verbatim "
             "from the data's LICENSES.md.", ""]
    for s in sections:
        lines += [f"#### {s['title']}", ""]
        if s["sources"]:
            lines += [s["sources"], ""]
        lines += ["Terms:", "", s["terms"], "",
                  f"Required acknowledgement: **{s['acknowledgement']}**", ""]
        if s["citation"]:
            lines += [f"Citation: {s['citation']}", ""]
        if s["share_alike"]:
            lines += [s["share_alike"], ""]
    return lines


def evaluation_section(ev: dict, repo: Path = REPO) -> list[str]:
    meta = ev["meta"]
    g = ev["goal"]
    lines = ["## Evaluation", "",
             f"Open mocap test split ({meta['frames']['clean']} frames per condition"
             f"{', subsampled' if meta.get('max_frames') else ''}), fixed seeded virtual cameras "
             f"(seed {meta['data_fingerprint'].get('eval_seed')}); \"clean\": exact 2D, \"noisy\": the detector noise "
             "model (each condition has its own cameras, the same for every model). Errors in mm, mean over frames. "
             f"diffpyramid: one deterministic hypothesis; diffpyramid_k5: {meta['diffpyramid_k5']['hypotheses']} "
             f"hypotheses aggregated by {meta['diffpyramid_k5']['aggregate']} (torch seed "
             f"{meta['diffpyramid_k5']['torch_seed']}); mlp_baseline: the SimpleBaseline MLP trained with the same data, "
             "noise and seed (not shipped). \"flip\": flip averaging.", "",
             table(ev).rstrip("\n"), "",
             f"Goal (PGFormer's noisy-2D MPJPE at least {100 * g['target']:.0f}% below the MLP's): "
             f"{_mm(g['pgformer_noisy_mpjpe'])} mm vs "
             f"{_mm(g['mlp_noisy_mpjpe'])} mm, {100 * g['reduction']:.1f}% lower: **{'met' if g['met'] else 'not met'}**.",
             ""]
    mlp = ev["mlp_baseline"].get("training")
    if mlp:
        mlp, _ = current_stage(mlp, repo, ev["mlp_baseline"].get("weights"), ev["mlp_baseline"].get("sha256"))
        note = epochs_note(mlp)
        lines += [f"The MLP baseline: preset {mlp['preset']}, {mlp['epochs_done']} epochs, seed {mlp['seed']}, "
                  f"batch {mlp['batch_size']}, {_duration(mlp['train_seconds'])} of training "
                  f"(`{reproduce_command(mlp['command'], mlp['epochs_done'])}`{f'; {note}' if note else ''}).", ""]
    lines += [f"Produced by: `{ev['command']}` (device {meta.get('device')}, {_duration(meta['seconds_total'])}).", ""]
    return lines


def video_section(ev: dict) -> list[str]:
    vs = ev.get("video_sanity")
    if vs is None:
        return ["## Real-video sanity check", "", "Not run (the evaluation was made with --no-video).", ""]
    bones = list(BONE_PAIRS)
    lines = ["## Real-video sanity check", "",
             f"2D keypoints of {vs['source']}, lifted with flip averaging; valid frames only. Bone asymmetry: "
             "|L - R| / mean(L, R) per frame, averaged (thigh, shin, upper arm, forearm, and their mean). Natural knee: "
             "the knee's offset from the hip-ankle line along the pelvis' forward direction "
             "(normalize(cross(l_hip - r_hip, thorax - pelvis))) is at least "
             f"-{vs['knee_tolerance_mm']:.0f} mm; the fraction counts frames where both knees are natural.", "",
             "| model | frames | " + " | ".join(b.replace('_', ' ') for b in bones) + " | mean asymmetry | natural knees |",
             "|---|---:|" + "---:|" * (len(bones) + 2)]
    rows = [(name, s) for name, s in vs["models"].items()] + [("mocap test poses (reference)", vs["reference_mocap_test"])]
    for name, s in rows:
        a = s["bone_asymmetry"]
        lines.append(f"| {name} | {s['frames']} | " + " | ".join(f"{100 * a[b]:.1f}%" for b in bones) +
                     f" | {100 * a['mean']:.1f}% | {100 * s['knee_natural_fraction']:.1f}% |")
    return lines + [""]


def _cell(fig: dict | None) -> str:
    if not fig or not fig.get("frames"):
        return "-"
    return f"{fig['median_mm']:.1f} / {fig['mean_mm']:.1f} / {100 * fig['above_150mm']:.0f}%"


def wild_section(wild: dict | None, shipped_sha: str) -> list[str]:
    """Real-video accuracy and the experiments, from bench/wild_accuracy.json."""
    head = ["## Real-video accuracy and experiments", ""]
    if wild is None:
        return head + ["Not measured (no bench/wild_accuracy.json).", ""]
    names = list(wild["lifters"])
    lines = head + [
        "pose2sim's Demo_MultiPerson: four calibrated views of two people (the main one balancing on a raised "
        "treadmill, the other walking), 100 frames at 60 fps, 1088x1920. Pseudo ground truth: the detector's own "
        f"keypoints triangulated across the views (robust weighted DLT, views within {wild['max_error_px']:.0f} px, "
        f"at least {wild['min_views']} agreeing; a joint whose bone is more than "
        f"{100 * wild['bone_tolerance']:.0f}% off its reference length is dropped). Each view's monocular 3D from "
        "the whole demo chain (BlazePose, repair, lifter, smoothing, constant bones) is scored per frame by "
        "PA-MPJPE of the 12 limb joints, on the frames where the view's detection is of that person; "
        "MediaPipe's own world landmarks go through the same scoring. Cells: median / mean mm / share of frames "
        f"above 150 mm. Produced by `python {wild['command']}`.", ""]
    for label, cams in wild["per_camera"].items():
        lines += [f"{label} person:", "", "| lifter | " + " | ".join(cams) + " |", "|---|" + "---|" * len(cams)]
        lines.append("| frames scored (on the other person) | " + " | ".join(
            f"{c['frames_scored']} ({c['frames_other_person']})" for c in cams.values()) + " |")
        lines.append("| MediaPipe world landmarks | " + " | ".join(_cell(c["mediapipe"]) for c in cams.values()) + " |")
        for n in names:
            lines.append(f"| {n} | " + " | ".join(_cell(c.get(n)) for c in cams.values()) + " |")
            lines.append(f"| {n}, perfect 2D | " + " | ".join(_cell(c.get(n + "/perfect_2d")) for c in cams.values()) + " |")
        lines.append("")
    syn = wild.get("synthetic", {})
    lines += ["Experiments (the shipped file is marked; synthetic: open mocap test split, fixed cameras and the "
              "default noise, flip averaging, MPJPE / P-MPJPE mm; training time: the epochs' training loops, on "
              "the 2-core CPU, shared with the other runs of this table while they ran):", "",
              "| lifter | shipped | synthetic | training (epochs, time) | command |", "|---|---|---|---|---|"]
    for n in names:
        info = wild["lifters"][n]
        t = info.get("training")
        train = "the previously shipped weights (see Training)" if t is None else \
            f"{t['epochs_done']} epochs, {_duration(t['train_seconds'])}" + \
            (f", from {t['init']['path']} (sha256 {t['init']['sha256'][:12]})" if t.get("init") else "")
        cmd = f"`{reproduce_command(t['command'], t['epochs_done'])}`" if t and t.get("command") else "-"
        sy = syn.get(n)
        synthetic = f"{sy['mpjpe_mm']:.1f} / {sy['p_mpjpe_mm']:.1f}" if sy else "-"
        shipped = "yes" if info["sha256"] == shipped_sha else "no"
        lines.append(f"| {n} | {shipped} | {synthetic} | {train} | {cmd} |")
    g = wild["goal"]
    lines += ["", "A run's training noise is the code's at the time it was trained (its config records it: "
              "`noise_params`); `lifter.data.noise.FITTED_NOISE` always holds the values of the JSON above.",
              "", f"Goal: {g['rule']}."]
    for n, row in g["lifters"].items():
        lines.append(f"- {n}: **{'met' if row['met'] else 'not met'}** (" +
                     "; ".join(f"{v}: x{r['vs_mediapipe']:.2f} MediaPipe, x{r['vs_shipped']:.2f} pgformer, "
                               f"{100 * r['above_150mm']:.0f}% above 150 mm" for v, r in row["cameras"].items()) + ")")
    lines.append("")
    return lines


def build_card(weights_dir: Path, eval_path: Path, licences_path: Path) -> str:
    """The Markdown text of the model card (see the module docstring)."""
    metas, configs = {}, {}
    for name in SHIPPED:
        side = weights_dir / f"{name}.json"
        if not side.is_file():
            raise FileNotFoundError(f"no shipped weights metadata {side} (run weights/ship.py first)")
        doc = json.loads(side.read_text(encoding="utf-8"))
        metas[name], configs[name] = doc["meta"], doc["config"]
    if not eval_path.is_file():
        raise FileNotFoundError(f"no evaluation {eval_path} (run bench/evaluate_shipped.py first)")
    ev = json.loads(eval_path.read_text(encoding="utf-8"))
    missing = [m for m in MODELS if m not in ev]
    if missing:
        raise ValueError(f"{eval_path}: models missing: {missing}")
    if not licences_path.is_file():
        raise FileNotFoundError(f"licences file not found: {licences_path}")
    for name, m in metas.items():
        if ev[name].get("sha256") != m["sha256"]:
            raise ValueError(f"{eval_path} evaluated other {name} weights than the shipped ones (sha256 differs); "
                             "rerun bench/evaluate_shipped.py")
    fp = metas["pgformer"].get("data_fingerprint") or {}
    lines = ["# Model card: shipped 3D pose lifters", "",
             "<!-- generated by weights/make_model_card.py from weights/eval.json and weights/*.json; do not edit -->", "",
             "Two single-frame 2D-to-3D human pose lifters trained on open motion capture: **pgformer** (PGFormer, "
             f"the demo's default) and **diffpyramid** (a PGFormer pose model plus a diffusion denoiser; its pose "
             f"model is the shipped PGFormer: {metas['diffpyramid'].get('pose_model_is_shipped_pgformer')}).", ""]
    lines += files_section(metas, configs)
    lines += io_section()
    lines += limits_section(fp, largest_body(licences_path.parent / "clips.csv"))
    lines += evaluation_section(ev)
    lines += video_section(ev)
    wild_path = REPO / "bench" / "wild_accuracy.json"
    wild = json.loads(wild_path.read_text(encoding="utf-8")) if wild_path.is_file() else None
    lines += wild_section(wild, metas["pgformer"]["sha256"])
    lines += training_section(metas)
    lines += data_section(fp, licence_sections(licences_path.read_text(encoding="utf-8")))
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="weights/make_model_card.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", default=str(REPO / "weights"), help="folder of the shipped weights")
    p.add_argument("--eval", help="evaluation JSON (default <weights>/eval.json)")
    p.add_argument("--licences", default=str(DEFAULT_LICENCES), help="the data's LICENSES.md")
    p.add_argument("--out", help="output Markdown (default <weights>/MODEL_CARD.md)")
    args = p.parse_args(argv)
    weights = Path(args.weights)
    out = Path(args.out) if args.out else weights / "MODEL_CARD.md"
    try:
        text = build_card(weights, Path(args.eval) if args.eval else weights / "eval.json", Path(args.licences))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
