"""Every figure of the README's lifter, training, shipped-weights and benchmark sections, and of
weights/MODEL_CARD.md, matches the output file it comes from.

Sources: bench/lifter_speed.json and bench/pipeline_speed.json (the benchmarks), weights/eval.json
and weights/<name>.json (the evaluation and the shipped weights' training record), the model code
(parameter counts), lifter.data.cmu_bvh (the converter's constants and joint table) and the
Makefile (the recipe's epochs). A figure shown with d decimals matches when it is within half a
unit of its last digit. A figure that cannot be found fails the test, so a rewording that drops a
figure's context has to come here too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
CARD_PATH = REPO / "weights" / "MODEL_CARD.md"
NUM = r"(\d[\d,]*(?:\.\d+)?(?:e-?\d+)?)"


def _json(relative: str) -> dict:
    return json.loads((REPO / relative).read_text(encoding="utf-8"))


def _section(heading: str, text: str | None = None) -> str:
    """The text under ``heading`` (e.g. "## Benchmarks") of ``text`` (default the README) up to the next
    heading of its level or above."""
    text = README if text is None else text
    level = len(heading.split(" ")[0])
    start = text.index(heading)
    end = re.search(rf"^#{{1,{level}}} ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + end.start()] if end else text[start:]


def near(shown: str, actual: float) -> bool:
    """``shown`` (as printed: commas, decimals, e-notation) is ``actual`` rounded to its last digit."""
    text = shown.replace(",", "").lower()
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    tolerance = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(text) - actual) <= tolerance * (1 + 1e-9)


def check(shown: str, actual: float, what: str) -> None:
    assert near(shown, actual), f"{what}: the text says {shown}, the file has {actual:.6g}"


def find(pattern: str, text: str, what: str) -> re.Match:
    match = re.search(pattern, text)
    assert match, f"{what}: not found (pattern {pattern!r})"
    return match


def _table_rows(text: str, first_cell: str) -> list[list[str]]:
    """Cells of the Markdown table rows whose first cell matches ``first_cell`` (a regex)."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first_cell, cells[0]):
            rows.append(cells)
    return rows


# -- benchmarks -----------------------------------------------------------------------------------
def test_lifter_speed_table_matches_its_json():
    bench = _json("bench/lifter_speed.json")
    configs = {k: v for k, v in bench.items() if k != "meta"}
    text = _section("## Benchmarks")
    batches = find(r"\| config \| params \| batch ([^\n]*)\|\n", text, "lifter table header").group(1)
    batches = [b.strip() for b in batches.split("|") if b.strip()]
    rows = {cells[0].split()[0]: cells for cells in _table_rows(text, r"\w+ fast / reference")}
    assert set(rows) == set(configs), f"README rows {sorted(rows)} vs JSON configs {sorted(configs)}"
    for name, r in configs.items():
        cells = rows[name]
        check(cells[1], r["params"], f"{name} params")
        assert sorted(batches, key=int) == sorted(r["ms_per_pose"], key=int), f"{name}: batch sizes"
        for batch, cell in zip(batches, cells[2:]):
            fast, ref, speedup = find(rf"{NUM} / {NUM} \({NUM}x\)", cell, f"{name} batch {batch}").groups()
            f, rf = r["ms_per_pose"][batch], r["reference_ms_per_pose"][batch]
            check(fast, f, f"{name} batch {batch} fast ms/pose")
            check(ref, rf, f"{name} batch {batch} reference ms/pose")
            check(speedup, rf / f, f"{name} batch {batch} speed-up")
        fast_rss, ref_rss = find(rf"{name} {NUM} MB \(reference {NUM} MB\)", text, f"{name} peak RSS").groups()
        check(fast_rss, r["peak_rss_mb"], f"{name} peak RSS")
        check(ref_rss, r["reference_peak_rss_mb"], f"{name} reference peak RSS")
    within = find(rf"equal to within {NUM}\)", text, "fast/reference agreement").group(1)
    check(within, max(r["max_abs_diff"] for r in configs.values()), "largest |fast - reference|")


def test_pipeline_speed_table_matches_its_json():
    bench = _json("bench/pipeline_speed.json")
    text = _section("## Benchmarks")
    header = find(r"\| input \|([^\n]*)\|\n", text, "pipeline table header").group(1)
    columns = [c.strip() for c in header.split("|")]
    keys = {"end-to-end fps": ("end_to_end_fps",), "decode+detect fps": ("detector_only_fps",),
            "peak RSS": ("peak_rss_mb",)}
    sizes = [k for k in bench if k not in ("long_video", "targets", "meta")]
    rows = {cells[0].split()[0]: cells for cells in _table_rows(text, r"(two_people_)?\d+x\d+( \(native\))?")}
    assert set(rows) == set(sizes), f"README sizes {sorted(rows)} vs JSON {sorted(sizes)}"
    for size in sizes:
        for column, cell in zip(columns, rows[size][1:]):
            path = keys.get(column, ("ms_per_frame", column))
            value = bench[size]
            for key in path:
                value = value[key]
            check(cell.replace(" MB", ""), value, f"{size} {column}")
    lv = bench["long_video"]
    match = find(rf"The same (\d+x\d+) video looped to (\d+)x its length: peak RSS {NUM} MB \({NUM} MB for 1x\)",
                 " ".join(text.split()), "long video")
    size, loops, rss_10, rss_1 = match.groups()
    assert size == lv["size"] and int(loops) == lv["loops"], f"README: long video {size}, {loops}x"
    check(rss_10, lv["peak_rss_mb_10x"], "looped video peak RSS")
    check(rss_1, lv["peak_rss_mb_1x"], "single video peak RSS")
    assert f"`{bench['meta']['preset']}`" in text, "the encoder preset the JSON records"
    two, one = bench["two_people_1280x720"], bench[next(k for k in sizes if not k.startswith("two"))]
    flat = " ".join(text.split())
    seconds, files, people, mb, share, one_s, one_files = find(
        rf"timed in the same runs: {NUM} s for the Sports2D clip's (\d+) files \((\d+) people, {NUM} MB\), {NUM}% "
        rf"of its pipeline and keypoints time \(goal: under 10%\), and {NUM} s \((\d+) files\)", flat, "exports").groups()
    check(seconds, two["exports_s"], "exports seconds")
    check(mb, two["export_mb"], "exports MB")
    check(share, 100 * two["exports_share"], "exports share")
    check(one_s, one["exports_s"], "one-person exports seconds")
    assert int(files) == two["export_files"] and int(one_files) == one["export_files"]
    assert int(people) == two["people"], f"README: exports of {people} people"


def test_motion_quality_figures_match_their_json():
    bench = _json("bench/motion_quality.json")
    assert bench["machine"]["valid"], "bench/motion_quality.json: not a valid run"
    text = _section("### Motion and world")
    rows = {cells[0]: cells for cells in _table_rows(text, r"Sports2D demo\.mp4|Demo_MultiPerson cam01")}
    for label, key in (("Sports2D demo.mp4", "sports2d_demo"), ("Demo_MultiPerson cam01", "multiperson_cam01")):
        clip = bench["clips"][key]
        b, a = clip["before"], clip["after"]
        cells = rows[label]
        pairs = [(cells[1], "acceleration_ms2", 1), (cells[2], "acceleration_pose_ms2", 1),
                 (cells[4], "steps_over_30cm_not_shown", 1), (cells[5], "bone_cv_mean", 100),
                 (cells[6], "foot_slide_ms", 1)]
        for cell, name, scale in pairs:
            before, after = (v.strip() for v in cell.split("/"))
            check(before, scale * b[name], f"{label} {name} before")
            check(after, scale * a[name], f"{label} {name} after")
        steps = find(r"(\d+) / (\d+) of (\d+)", cells[3], f"{label} steps").groups()
        assert [int(v) for v in steps] == [b["steps_over_30cm"], a["steps_over_30cm"], a["frame_steps"]], label
        check(cells[7], clip["post_ms_per_person_frame"], f"{label} post-processing ms")
    flat = " ".join(text.split())
    s2, om = bench["clips"]["sports2d_demo"], bench["open_mocap"]
    check(find(rf"last second, over the time between\): {NUM} m/s", flat, "walker speed").group(1),
          s2["walker_speed_ms"], "walker speed")
    mpjpe = find(rf"MPJPE {NUM} mm before, {NUM} mm after; PA-MPJPE {NUM} / {NUM} mm; acceleration {NUM} / {NUM}",
                 flat, "open mocap").groups()
    for shown, value in zip(mpjpe, (om["before"]["mpjpe_mm"], om["after"]["mpjpe_mm"], om["before"]["pa_mpjpe_mm"],
                                    om["after"]["pa_mpjpe_mm"], om["before"]["acceleration_ms2"],
                                    om["after"]["acceleration_ms2"])):
        check(shown, value, "open mocap before / after")
    assert f"{om['clips']} clips" in flat and f"{om['frames']} frames" in flat


def test_camera_check_table_matches_its_json():
    bench = _json("bench/camera_check.json")
    assert bench["machine"]["valid"], "bench/camera_check.json: not a valid run"
    text = _section("### Motion and world")
    views = bench["runs"]["default_focal"]["views"]
    rows = {cells[0]: cells for cells in _table_rows(text, r"cam0\d")}
    assert set(rows) == set(views)
    for view, r in views.items():
        cells = rows[view]
        calibrated = [find(r"\((-?[\d.]+)\)", cells[i], f"{view} calibrated").group(1) for i in (1, 2, 3)]
        for shown, key in zip(calibrated, ("height_m", "pitch_deg", "roll_deg")):
            check(shown, r["calibrated"][key], f"{view} calibrated {key}")
        if r["world"] != "ground":
            assert cells[1].startswith("no ground"), view
            continue
        for i, key in ((1, "height_m"), (2, "pitch_deg"), (3, "roll_deg")):
            check(cells[i].split()[0], r["estimated"][key], f"{view} {key}")
        check(cells[4], r["error"]["normal_deg"], f"{view} normal error")
    summary = bench["runs"]["default_focal"]["summary"]
    flat = " ".join(text.split())
    got = find(rf"pitch {NUM} deg, roll {NUM} deg and the ground's normal {NUM} deg off on average; the heights come "
               rf"out {NUM} times", flat, "camera summary").groups()
    for shown, key in zip(got, ("mean_abs_pitch_deg", "mean_abs_roll_deg", "mean_abs_normal_deg", "mean_height_ratio")):
        check(shown, summary[key], key)


def test_benchmark_load_record_and_commands():
    text = " ".join(_section("## Benchmarks").split())
    meta = _json("bench/pipeline_speed.json")["meta"]
    before, after, cpus = find(rf"load averages \({NUM} before the run, {NUM} after, on (\d+) CPUs", text,
                               "pipeline load averages").groups()
    check(before, meta["load_average_before"][0], "load average before")
    check(after, meta["load_average_after"][0], "load average after")
    assert int(cpus) == meta["cpus"], f"README: {cpus} CPUs"
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    bench_recipe = find(r"\nbench:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, "Makefile bench target").group(1)
    for script in ("lifter_speed", "pipeline_speed", "motion_quality", "camera_check"):
        command = find(rf"`python (bench/{script}\.py [^`]*)`", text, f"{script} command").group(1)
        assert f"$(PY) {command}" in bench_recipe, f"make bench does not run the README's {command!r}"
    for path in ("bench/lifter_speed.json", "bench/pipeline_speed.json"):
        recorded = _json(path).get("meta", {})
        if "machine" in recorded:  # figures of a busy run must not reach the README
            assert recorded["machine"]["valid"], f"{path}: {recorded['machine']['reason']}"
        if "command" in recorded:
            assert f"`{recorded['command']}`" in text, f"{path} was made by {recorded['command']!r}"


# -- models and shipped weights ------------------------------------------------------------------
def test_parameter_counts_match_the_models():
    from lifter.models import build_model, get_config

    text = " ".join(_section("## The lifter").split())
    bench = _json("bench/lifter_speed.json")
    shown = {"gt16": find(rf"`gt16` \({NUM} parameters\)", text, "gt16").group(1),
             "cpn17": find(rf"`cpn17` \({NUM}\)", text, "cpn17").group(1),
             "diffpyramid_pose": find(rf"DiffPyramid pose model \({NUM}\)", text, "pose model").group(1),
             "diffpyramid_denoiser": find(rf"denoiser \({NUM}\)", text, "denoiser").group(1)}
    for name, figure in shown.items():
        params = sum(p.numel() for p in build_model(get_config(name)).parameters())
        check(figure, params, f"{name} parameters")
        if name in bench:
            check(figure, bench[name]["params"], f"{name} parameters in bench/lifter_speed.json")


def _stage(meta: dict, stage: str) -> dict:
    return next(s for s in meta["training"] if s["stage"] == stage)


def test_shipped_weights_section_matches_eval_and_weights_json():
    text = " ".join(_section("## Shipped weights").split())
    ev = _json("weights/eval.json")
    pg, dp = _json("weights/pgformer.json")["meta"], _json("weights/diffpyramid.json")["meta"]
    params, epochs = find(rf"pgformer\.safetensors` \(the demo's default, {NUM} parameters, (\d+) epochs\)",
                          text, "PGFormer").groups()
    check(params, pg["parameters"], "PGFormer parameters")
    assert int(epochs) == _stage(pg, "lift")["epochs_done"], f"README: PGFormer {epochs} epochs"
    denoiser = int(find(r"DiffPyramid denoiser, (\d+) epochs", text, "denoiser epochs").group(1))
    assert denoiser == _stage(dp, "denoiser")["epochs_done"], f"README: denoiser {denoiser} epochs"
    check(find(rf"test split \({NUM} frames\)", text, "test frames").group(1), ev["meta"]["frames"]["noisy"], "frames")
    pg_mpjpe, pg_pa = find(rf"PGFormer {NUM} mm MPJPE / {NUM} mm P-MPJPE", text, "PGFormer figures").groups()
    check(pg_mpjpe, ev["pgformer"]["noisy"]["mpjpe"], "PGFormer noisy MPJPE")
    check(pg_pa, ev["pgformer"]["noisy"]["p_mpjpe"], "PGFormer noisy P-MPJPE")
    mlp, mlp_pa = find(rf"MLP trained the same way {NUM} / {NUM} mm", text, "MLP figures").groups()
    check(mlp, ev["mlp_baseline"]["noisy"]["mpjpe"], "MLP noisy MPJPE")
    check(mlp_pa, ev["mlp_baseline"]["noisy"]["p_mpjpe"], "MLP noisy P-MPJPE")
    check(find(rf"\({NUM}% lower for PGFormer\)", text, "goal").group(1), 100 * ev["goal"]["reduction"], "reduction")
    assert ev["meta"]["headline_variant"] == "flip" and "flip averaging" in text


def test_training_commands_use_the_epochs_the_shipped_runs_finished():
    pg = _json("weights/pgformer.json")["meta"]
    dp = _json("weights/diffpyramid.json")["meta"]
    mlp = _json("weights/eval.json")["mlp_baseline"]["training"]
    text = " ".join(_section("### Training").split())
    shown = int(find(r"--preset openmocap_pgformer --epochs (\d+) --out", text, "README training command").group(1))
    assert shown == _stage(pg, "lift")["epochs_done"], f"README: --epochs {shown} for openmocap_pgformer"
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    epochs = int(find(r"\nEPOCHS \?= (\d+)", makefile, "Makefile EPOCHS").group(1))
    assert epochs == _stage(pg, "lift")["epochs_done"] == mlp["epochs_done"], "make weights: PGFormer / MLP epochs"
    denoiser = int(find(r"--preset openmocap_diffpyramid [^\n]*\n?[^\n]*--epochs (\d+)", makefile, "denoiser").group(1))
    assert denoiser == _stage(dp, "denoiser")["epochs_done"], f"make weights: denoiser --epochs {denoiser}"


# -- the model card -------------------------------------------------------------------------------
def test_model_card_is_what_its_generator_writes_now():
    licences = REPO / ".." / "shared" / "data" / "LICENSES.md"
    if not licences.is_file():
        pytest.skip("the data's LICENSES.md (../shared/data) is not on this machine")
    from weights.make_model_card import build_card

    expected = build_card(REPO / "weights", REPO / "weights" / "eval.json", licences)
    assert CARD_PATH.read_text(encoding="utf-8") == expected, "run weights/make_model_card.py"


def test_model_card_training_epochs_and_commands_agree():
    card = CARD_PATH.read_text(encoding="utf-8")
    metas = {name: _json(f"weights/{name}.json")["meta"] for name in ("pgformer", "diffpyramid")}
    mlp = _json("weights/eval.json")["mlp_baseline"]["training"]
    done = {s["preset"]: s["epochs_done"] for m in metas.values() for s in m["training"]}
    done[mlp["preset"]] = mlp["epochs_done"]
    training = _section("## Training", card)
    rows = _table_rows(training, r"lift|denoiser")
    assert rows, "no training table in the card"
    for cells in rows:
        assert cells[2].isdigit() and int(cells[2]) == done[cells[1]], f"card: {cells[1]} shows {cells[2]} epochs"
    # the training section's commands, to the next "## " heading (its code blocks hold "# " comment lines);
    # the real-video section's experiments are other runs
    start = card.index("\n## Training")
    commands_text = card[start:card.index("\n## ", start + 1)]
    commands = re.findall(r"--preset (\S+)[^\n`]* --epochs (\d+)", commands_text) + \
        re.findall(r"--resume runs/(\S+) --epochs (\d+)", commands_text)
    assert len(commands) >= 4
    for preset, epochs in commands:
        assert int(epochs) == done[preset], f"card: a command for {preset} says --epochs {epochs}"
    line = find(r"The MLP baseline: preset \S+, (\d+) epochs", card, "MLP line").group(1)
    assert int(line) == mlp["epochs_done"], f"card: the MLP baseline's {line} epochs"


# -- the CMU converter ----------------------------------------------------------------------------
def test_readme_states_the_converters_constants_and_joint_table():
    from lifter.data import cmu_bvh

    text = _section("#### The open mocap data")
    flat = " ".join(text.split())
    check(find(rf"1/0\.45 inch = {NUM} mm", flat, "unit").group(1), cmu_bvh.CMU_MM_PER_UNIT, "mm per unit")
    check(find(rf"keeps {NUM} frames per second", flat, "fps").group(1), cmu_bvh.DEFAULT_FPS, "fps")
    check(find(rf"moved less than {NUM} mm", flat, "min move").group(1), cmu_bvh.DEFAULT_MIN_MOVE_MM, "min move")
    val, test = find(r"number ends in (\d) go to validation and in (\d) to test", flat, "split rule").groups()
    assert cmu_bvh.SPLIT_BY_LAST_DIGIT == {int(val): 1, int(test): 2}, "README: the default split rule"
    documented: dict[str, set[str]] = {}
    for cells in _table_rows(text, r"[a-z_, ]+"):
        if cells[0] == "H36M-17 joint":
            continue
        joints = [j.strip() for j in cells[0].split(",")]
        names = re.findall(r"`(\w+)`", cells[1])
        if "End Site" in cells[1]:
            names = [n + "_End" for n in names if n != "End"]
        if len(joints) == len(names):
            documented.update({j: {n} for j, n in zip(joints, names)})
        else:
            documented.update({j: set(names) for j in joints})
    assert documented == {j: set(src) for j, src in cmu_bvh.CMU_TO_H36M.items()}, "README: the joint table"


def test_card_reads_a_present_run_folder_and_reproduces_its_epochs(tmp_path):
    from lifter.provenance import reproduce_command
    from lifter.train_logs import write_metrics
    from weights.make_model_card import current_stage, stage_commands

    run = tmp_path / "runs" / "openmocap_mlp"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({
        "stage": "lift", "preset": "openmocap_mlp", "epochs": 5, "seed": 0, "batch_size": 256,
        "command": "lifter/train.py --preset openmocap_mlp --epochs 5 --out runs/openmocap_mlp"}))
    row = {"lr": 1e-3, "train_loss": 1.0, "val_mpjpe_mm": 90.0, "val_p_mpjpe_mm": 70.0, "epoch_seconds": 60.0,
           "samples_per_s": 100.0}
    write_metrics(run / "metrics.csv", [{"epoch": e, "step": 10 * e, **row} for e in range(1, 8)])
    recorded = {"run": "runs/openmocap_mlp", "epochs_done": 3, "epochs_planned": 5, "command": "stale"}
    stage, where = current_stage(recorded, repo=tmp_path)
    assert stage["epochs_done"] == 7 and stage["train_seconds"] == 420.0 and "run folder" in where
    lines = stage_commands(stage)
    assert lines[0] == "python lifter/train.py --preset openmocap_mlp --epochs 7 --out runs/openmocap_mlp"
    assert lines[1].endswith("--resume runs/openmocap_mlp --epochs 7") and "continued with --resume" in lines[2]
    assert current_stage(recorded, repo=tmp_path / "elsewhere")[0] is recorded  # no run folder: as recorded
    assert reproduce_command("python lifter/train.py --preset x", 4) == "python lifter/train.py --preset x --epochs 4"
    with pytest.raises(ValueError, match="epochs"):
        reproduce_command("python lifter/train.py --preset x --epochs 3", 0)


def test_live_latency_table_matches_its_json():
    text = _section("### Live latency")
    flat = " ".join(text.split())
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    rows = {(c[1], c[0].split()[0], c[2]): c for c in _table_rows(text, r"(1|everyone) .*")}
    seen = 0
    for path, window in (("bench/live_latency.json", "no"), ("bench/live_latency_window.json", "yes")):
        bench = _json(path)
        assert bench["meta"]["machine"]["valid"], f"{path}: not a valid run"
        assert bench["meta"]["window"] == (window == "yes")
        command = find(rf"`python (bench/live_latency\.py [^`]*--json {path})`", flat, f"{path} command").group(1)
        assert f"$(PY) {command}" in makefile, f"make bench does not run {command!r}"
        for name, r in bench.items():
            if name in ("targets", "meta"):
                continue
            size, people = name.rsplit("_", 1)
            cells = rows[(size, "1" if people == "1" else "everyone", window)]
            for shown, value in zip(cells[3:7], (r["frames_sent"], r["captured"], r["processed"], r["dropped"])):
                assert int(shown) == value, f"{name} ({window} window): {shown} != {value}"
            check(cells[7], r["fps_processed"], f"{name} processed fps")
            check(cells[8], r["latency"]["median_ms"], f"{name} median latency")
            check(cells[9], r["latency"]["p95_ms"], f"{name} p95 latency")
            assert r["exact"] and r["all_captured"], name
            seen += 1
        assert all(t["pass"] for t in bench["targets"].values()) or "not met" in flat
    assert seen == len(rows)


def test_detector_speed_table_matches_its_json():
    text = _section("### 2D detectors")
    flat = " ".join(text.split())
    bench = _json("bench/detector_speed.json")
    assert bench["meta"]["machine"]["valid"], "bench/detector_speed.json: not a valid run"
    command = find(r"`python (bench/pipeline_speed\.py --compare-detectors [^`]*--json bench/detector_speed\.json)`",
                   flat, "detector speed command").group(1)
    assert f"$(PY) {command}" in (REPO / "Makefile").read_text(encoding="utf-8"), "make bench does not run it"
    rows = {c[0].split()[0].strip("`"): c for c in _table_rows(text, r"`?(blazepose|mmpose)`?.*")}
    assert sorted(rows) == sorted(bench["detectors"])
    for name, r in bench["detectors"].items():
        cells = rows[name]
        check(cells[1], r["detector_only_fps"], f"{name} detector-only fps")
        check(cells[2], r["end_to_end_fps"], f"{name} end-to-end fps")
        check(cells[3], r["ms_per_frame"]["detect"], f"{name} detect ms")
    assert f"{bench['meta']['frames']} frames" in flat and bench["meta"]["size"] in flat


def test_detector_threads_figures_match_their_json():
    flat = " ".join(_section("## Benchmarks").split())
    bench = _json("bench/detector_threads.json")
    assert bench["machine"]["valid"], "bench/detector_threads.json: not a valid run"
    assert bench["same_keypoints_1_vs_2_threads"], "README: bit for bit the same keypoints"
    assert "$(PY) bench/detector_threads.py --json bench/detector_threads.json" in (REPO / "Makefile").read_text()
    ways = {k: v["ms_per_frame"] for k, v in bench["ways"].items()}
    two, one = find(rf"engine asked for 2 threads follows one person in {NUM} ms a frame instead of {NUM}", flat,
                    "one landmarker, 1 and 2 threads").groups()
    check(two, ways["landmarker_1_t2"], "1 person, 2 threads")
    check(one, ways["landmarker_1_t1"], "1 person, 1 thread")
    old, old2 = find(rf"\(the product before\) took {NUM} ms a frame \({NUM} on 2 threads\)", flat,
                     "up to 4 people").groups()
    check(old, ways["landmarker_4_t1"], "up to 4 people, 1 thread")
    check(old2, ways["landmarker_4_t2"], "up to 4 people, 2 threads")
    check(find(rf"a landmarker of their own \({NUM} ms a frame", flat, "followers").group(1), ways["followers"],
          "followers")
    check(find(rf"2 threads each at once took {NUM} ms a frame", flat, "at once").group(1),
          ways["two_2thread_landmarkers_at_once"], "two 2-thread landmarkers at once")
    check(find(rf"by the person detector alone \({NUM} ms, one thread\)", flat, "search").group(1),
          ways["person_search"], "person search")


def test_identity_check_meets_its_goal():
    bench = _json("bench/identity_check.json")
    for name, clip in bench["clips"].items():
        assert (clip["long_tracks"], clip["switches"]) == (2, 0), f"{name}: {clip['long_tracks']} long tracks, " \
            f"{clip['switches']} switches"
    woman = min(bench["clips"]["demo"]["tracks"].values(), key=lambda t: abs(t["mean_centre_px"][1] - 740))
    assert f"picked up at frame {woman['first']} rather than 59" in " ".join(README.split())


def test_real_video_accuracy_table_matches_its_json():
    """README's real-video table: each cell a median PA-MPJPE of bench/wild_accuracy.json (column
    headers name the scorer: MediaPipe, a lifter of the run, or "<lifter>, perfect 2D"); the
    fitted noise model in the code is the one that run measured."""
    bench = _json("bench/wild_accuracy.json")
    assert bench["machine"]["valid"], "bench/wild_accuracy.json: not a valid run"
    text = _section("### Accuracy on real video")
    header = next(c for c in _table_rows(text, "person, view"))
    keys = []
    for h in header[2:]:
        h = h.replace(" (mm)", "")
        keys.append("mediapipe" if h == "MediaPipe" else h.replace(", perfect 2D", "/perfect_2d"))
    rows = _table_rows(text, r"(main|other) cam0\d")
    assert len(rows) == sum(len(v) for v in bench["per_camera"].values())
    for cells in rows:
        label, view = cells[0].split()
        fig = bench["per_camera"][label][view]
        assert int(cells[1]) == fig["frames_scored"], cells[0]
        for shown, key in zip(cells[2:], keys):
            check(shown, fig[key]["median_mm"], f"{cells[0]} {key}")
    flat = " ".join(text.split())
    assert f"`python {bench['command']}`" in flat, "README does not show the command that made the JSON"
    man, woman = find(rf"mean reprojection error {NUM} px for the man and {NUM} px for the woman", flat,
                      "reprojection").groups()
    check(man, bench["people"]["main"]["reprojection_px"]["mean"], "reprojection, man")
    check(woman, bench["people"]["other"]["reprojection_px"]["mean"], "reprojection, woman")
    main = bench["per_camera"]["main"]
    best, best_mean, below, shipped_mean = find(rf"the best mean of the man's medians \(`(\w+)`, {NUM} mm\) is "
                                                rf"{NUM}% below the shipped weights' \({NUM} mm\)", flat,
                                                "best mean").groups()
    assert best == bench["goal"]["best"]
    best_mean_mm = bench["goal"]["lifters"][best]["mean_of_medians_mm"]
    shipped_mean_mm = sum(f["pgformer"]["median_mm"] for f in main.values()) / len(main)
    check(best_mean, best_mean_mm, "best mean")
    check(shipped_mean, shipped_mean_mm, "shipped mean")
    check(below, 100 * (1 - best_mean_mm / shipped_mean_mm), "best mean's gain")
    product, alone = find(rf"cam03 {NUM} mm against {NUM} mm for the lifter alone", flat, "post-processing").groups()
    check(product, main["cam03"]["pgformer"]["median_mm"], "cam03 product")
    check(alone, main["cam03"]["pgformer/lifter_only"]["median_mm"], "cam03 lifter alone")
    for who, label in (("the man", "main"), ("the woman", "other")):
        lo, hi, plo, phi = find(rf"{who} at {NUM}-{NUM} mm \(the product: {NUM}-{NUM}\)", flat, who).groups()
        perfect = [f["pgformer/perfect_2d"]["median_mm"] for f in bench["per_camera"][label].values()]
        product = [f["pgformer"]["median_mm"] for f in bench["per_camera"][label].values()]
        for shown, value in zip((lo, hi, plo, phi), (min(perfect), max(perfect), min(product), max(product))):
            check(shown, value, f"{who}'s range")
    check(find(rf"2D of the leaning man costs {NUM} mm", flat, "cam03 cost").group(1),
          main["cam03"]["pgformer"]["median_mm"] - main["cam03"]["pgformer/perfect_2d"]["median_mm"], "cam03 cost")
    many, scored, share = find(rf"In cam02 {NUM} of the {NUM} frames \({NUM}%\) are above 150 mm for every lifter",
                               flat, "cam02 failures").groups()
    assert int(scored) == main["cam02"]["frames_scored"]
    assert {f["above_150mm"] for n, f in main["cam02"].items() if "/" not in n and n in bench["lifters"]} == \
        {round(int(many) / int(scored), 4)}
    check(share, 100 * int(many) / int(scored), "cam02 share")
    assert main["cam02"]["pgformer/perfect_2d"]["above_150mm"] == 0.0
    refitted = find(rf"`wild_refitted` \({NUM} mm\) is within {NUM} mm of the shipped weights on each of the "
                    "woman's views", flat, "wild_refitted").groups()
    check(refitted[0], bench["goal"]["lifters"]["wild_refitted"]["mean_of_medians_mm"], "wild_refitted mean")
    assert all(abs(f["wild_refitted"]["median_mm"] - f["pgformer"]["median_mm"]) <= float(refitted[1])
               for f in bench["per_camera"]["other"].values())
    # the pseudo ground truth's bone check and the frames on the other person
    man, woman = bench["people"]["main"], bench["people"]["other"]
    spread_man, spread_woman, tolerance = find(rf"within {NUM}% of it for the man and {NUM}% for the woman\) and a "
                                               rf"joint whose bone is more than {NUM}% off it", flat, "bones").groups()
    check(spread_man, 100 * man["bones"]["reference_spread_p90"], "bone spread, man")
    check(spread_woman, 100 * woman["bones"]["reference_spread_p90"], "bone spread, woman")
    check(tolerance, 100 * bench["bone_tolerance"], "bone tolerance")
    counts = find(rf"dropped \({NUM} of the man's joints, {NUM} of the woman's; frames with all 12 limb joints: "
                  rf"{NUM} -> {NUM} for the man, {NUM} -> {NUM} for the woman\)", flat, "dropped joints").groups()
    assert [int(c) for c in counts] == [man["joints_dropped_for_bones"], woman["joints_dropped_for_bones"],
                                        man["frames_all_limbs_without_bone_check"], man["frames_all_limbs"],
                                        woman["frames_all_limbs_without_bone_check"], woman["frames_all_limbs"]]
    check(find(rf"bones up to {NUM} times their reference length", flat, "largest bone").group(1),
          man["bones"]["largest_ratio"], "largest bone")
    other = find(rf"and {NUM} of its frames are counted there", flat, "cam03 on the woman").group(1)
    assert int(other) == main["cam03"]["frames_other_person"]
    # the goal against what perfect 2D allows
    pgformers = [n for n in ("pgformer", "longer", "wild", "wild_fitted", "wild_refitted") if n in main["cam01"]]
    goal01, goal02, lo01, hi01, lo02, hi02 = find(
        rf"0.8x MediaPipe on the man is {NUM} mm in cam01 and {NUM} mm in cam02, and lifting perfect 2D already "
        rf"gives {NUM}-{NUM} mm and {NUM}-{NUM} mm there", flat, "goal vs perfect 2D").groups()
    for view, goal, lo, hi in (("cam01", goal01, lo01, hi01), ("cam02", goal02, lo02, hi02)):
        check(goal, 0.8 * main[view]["mediapipe"]["median_mm"], f"{view} goal")
        perfect = [main[view][n + "/perfect_2d"]["median_mm"] for n in pgformers]
        check(lo, min(perfect), f"{view} perfect 2D, lowest")
        check(hi, max(perfect), f"{view} perfect 2D, highest")
        assert min(perfect) > 0.8 * main[view]["mediapipe"]["median_mm"]
    assert all(not g["met"] for g in bench["goal"]["lifters"].values()) == ("are not met by any lifter" in flat)
    det = bench["detector_2d"]
    limb_rows = [det["joints"][n] for n in ("r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "l_shoulder",
                                            "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist")]
    figures = find(rf"both people, {NUM} keypoints; .*?inlier spread {NUM}-{NUM}% per axis, outliers \(over 10%\) "
                   rf"{NUM}-{NUM}% per limb joint, left/right swaps {NUM}-{NUM}% per pair, .*?bone under 60% of its "
                   rf"length\) {NUM}-{NUM}%", flat, "detector 2D").groups()
    assert int(figures[0].replace(",", "")) == det["keypoints"]
    rms = [r["rms_per_axis"] for r in limb_rows]
    outliers = [r["outlier"] for r in limb_rows]
    collapsed = [r["collapsed"] for r in det["joints"].values() if "collapsed" in r]
    swaps = list(det["swap_pairs"].values())
    for (lo, hi), values, what in zip(zip(figures[1::2], figures[2::2]), (rms, outliers, swaps, collapsed),
                                      ("inlier spread", "outliers", "swaps", "collapsed")):
        check(lo, 100 * min(values), f"{what}, lowest")
        check(hi, 100 * max(values), f"{what}, highest")
    from dataclasses import asdict

    from lifter.data.noise import FITTED_NOISE

    fitted = asdict(FITTED_NOISE)
    for key, value in bench["fitted_noise"].items():
        assert fitted[key] == (tuple(value) if isinstance(value, list) else value), key
