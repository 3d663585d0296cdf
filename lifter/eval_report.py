"""The shipped models' evaluation report (weights/eval.json, written by bench/evaluate_shipped.py): its
model names, its Markdown tables and its goal, shared by the evaluation and the model card.

report: {"<model>": {"clean" | "noisy": {"mpjpe", "p_mpjpe", "n_mpjpe"} (mm, the headline
variant), "per_category": {category: {"frames", "clean", "noisy"}}, "variants": {"plain" |
"flip": {"clean", "noisy", "per_category"}}, ...}, ..., "goal": goal(report), ...}.
"""

from __future__ import annotations

#: evaluated models, in table order
MODELS = ("pgformer", "diffpyramid", "diffpyramid_k5", "mlp_baseline")
#: metrics of every condition (mm)
METRICS = ("mpjpe", "p_mpjpe", "n_mpjpe")
#: the variant whose figures are the headline ("flip": flip averaging, the shipped Lifter's default)
HEADLINE = "flip"
#: the goal: PGFormer's noisy-2D MPJPE at least this fraction below the MLP baseline's
GOAL_REDUCTION = 0.15


def table(report: dict) -> str:
    """Overall figures (both variants) and the headline noisy MPJPE per category, as Markdown."""
    lines = ["| model | flip | clean MPJPE | clean P-MPJPE | noisy MPJPE | noisy P-MPJPE |",
             "|---|---|---:|---:|---:|---:|"]
    for name in MODELS:
        for variant in ("plain", "flip"):
            v = report[name]["variants"][variant]
            lines.append(f"| {name} | {'yes' if variant == 'flip' else 'no'} | {v['clean']['mpjpe']:.1f} | "
                         f"{v['clean']['p_mpjpe']:.1f} | {v['noisy']['mpjpe']:.1f} | {v['noisy']['p_mpjpe']:.1f} |")
    cats = list(report[MODELS[0]]["per_category"])
    lines += ["", "Noisy-2D MPJPE (mm) per motion category, flip averaging:", "",
              "| category | frames | " + " | ".join(MODELS) + " |", "|---|---:|" + "---:|" * len(MODELS)]
    for c in cats:
        row = [f"{report[m]['per_category'][c]['noisy']['mpjpe']:.1f}" for m in MODELS]
        lines.append(f"| {c} | {report[MODELS[0]]['per_category'][c]['frames']} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def goal(report: dict) -> dict:
    """PGFormer's noisy-2D MPJPE at least GOAL_REDUCTION below the MLP's (headline variant)."""
    pg, mlp = report["pgformer"]["noisy"]["mpjpe"], report["mlp_baseline"]["noisy"]["mpjpe"]
    reduction = 1.0 - pg / mlp
    return {"pgformer_noisy_mpjpe": pg, "mlp_noisy_mpjpe": mlp, "reduction": reduction, "target": GOAL_REDUCTION,
            "met": bool(reduction >= GOAL_REDUCTION)}
