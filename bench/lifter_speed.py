"""Lifter speed: the fast PGFormer against the plain reference formulation, side by side.

    python bench/lifter_speed.py [--json OUT.json] [--configs gt16,cpn17] [--batches 1,64,256,4096]
                                 [--rounds 3] [--require-idle]

For each configuration a fresh worker process builds the fast model (lifter.models) and the
reference (lifter.models.reference) with the same random weights, checks that their outputs
agree, and times both in eval mode under torch.inference_mode on --threads CPU threads (default 2):
interleaved rounds (fast, reference, fast, ...), the best round counts, as milliseconds per pose.
Peak memory is the worker's peak resident set size after one forward pass of the largest batch,
first for the fast model (peak_rss_mb), then for the reference (reference_peak_rss_mb).
The machine's load during the run is recorded (lifter.machine): on a busy machine the figures
are marked not valid with a warning, or refused with --require-idle (exit code 3, nothing written).
JSON: {"<config>": {"params", "ms_per_pose": {"1": ..}, "reference_ms_per_pose": {..},
"peak_rss_mb", "reference_peak_rss_mb", "baseline_rss_mb", "max_abs_diff", "threads", "device"},
..., "meta": {"command", "machine": lifter.machine record}}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from lifter.atomic import write_json
from lifter.machine import BusyMachine, MachineLoad, describe, judge


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _time_per_pose(model, x, target_s: float) -> float:
    """Seconds per pose of one timed run of about target_s (a single call when that is already longer)."""
    t0 = time.perf_counter()
    model(x)
    once = time.perf_counter() - t0
    if once >= target_s:
        return once / x.shape[0]
    reps = max(1, int(target_s / max(once, 1e-6)))
    t0 = time.perf_counter()
    for _ in range(reps):
        model(x)
    return (time.perf_counter() - t0) / reps / x.shape[0]


def worker(name: str, batches: list[int], threads: int, rounds: int, target_s: float) -> dict:
    import torch

    from lifter.models import build_model, get_config
    from lifter.models.reference import ReferencePGFormer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = get_config(name)
    fast = build_model(cfg).eval()
    ref = ReferencePGFormer(**{k: v for k, v in cfg.items() if k != "arch"}).eval()
    ref.load_state_dict(fast.state_dict())
    g = torch.Generator().manual_seed(1)
    inputs = {b: 0.4 * torch.randn(b, cfg["num_joints"], cfg["in_dim"], generator=g) for b in batches}
    result = {"params": sum(p.numel() for p in fast.parameters()), "threads": threads, "device": "cpu"}
    with torch.inference_mode():
        probe = inputs[min(batches, key=lambda b: abs(b - 64))]
        result["max_abs_diff"] = float((fast(probe) - ref(probe)).abs().max())
        biggest = inputs[max(batches)]
        result["baseline_rss_mb"] = round(_rss_mb(), 1)
        fast(biggest)
        result["peak_rss_mb"] = round(_rss_mb(), 1)
        ref(biggest)
        result["reference_peak_rss_mb"] = round(_rss_mb(), 1)
        fast_ms, ref_ms = {}, {}
        for b in batches:
            x = inputs[b]
            n_rounds = rounds if b <= 256 else 1
            best_fast = best_ref = float("inf")
            for _ in range(n_rounds):
                best_fast = min(best_fast, _time_per_pose(fast, x, target_s))
                best_ref = min(best_ref, _time_per_pose(ref, x, target_s))
            fast_ms[str(b)], ref_ms[str(b)] = best_fast * 1e3, best_ref * 1e3
            print(f"  {name} batch {b}: fast {fast_ms[str(b)]:.4f} ms/pose, reference {ref_ms[str(b)]:.4f}",
                  file=sys.stderr, flush=True)
    result["ms_per_pose"], result["reference_ms_per_pose"] = fast_ms, ref_ms
    return result


def _table(results: dict) -> str:
    lines = [f"{'config':<8} {'params':>10} {'batch':>6} {'fast ms/pose':>13} {'ref ms/pose':>12} {'speed-up':>9}"]
    for name, r in results.items():
        if name == "meta":
            continue
        for b, f in r["ms_per_pose"].items():
            rr = r["reference_ms_per_pose"][b]
            lines.append(f"{name:<8} {r['params']:>10,} {b:>6} {f:>13.4f} {rr:>12.4f} {rr / f:>8.2f}x")
        lines.append(f"{'':<8} peak RSS: fast {r['peak_rss_mb']:.0f} MB, reference {r['reference_peak_rss_mb']:.0f} MB "
                     f"(process before the largest batch {r['baseline_rss_mb']:.0f} MB); "
                     f"max |fast - reference| = {r['max_abs_diff']:.2e}; {r['threads']} threads")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--configs", default="gt16,cpn17", help="comma-separated PGFormer configurations")
    p.add_argument("--batches", default="1,64,256,4096", help="comma-separated batch sizes")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per batch size (1 above 256)")
    p.add_argument("--target-s", type=float, default=0.3, help="approximate seconds per timed run")
    p.add_argument("--require-idle", action="store_true",
                   help="refuse (exit 3, write nothing) when other programs kept the machine busy")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        batches = sorted({int(b) for b in args.batches.split(",")})
    except ValueError:
        print(f"error: --batches must be comma-separated integers, got {args.batches!r}", file=sys.stderr)
        return 2
    if args.worker:
        print(json.dumps(worker(args.worker, batches, args.threads, args.rounds, args.target_s)))
        return 0
    results = {}
    with MachineLoad() as load:
        for name in [c for c in args.configs.split(",") if c]:
            print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, "--worker", name, "--batches", args.batches, "--threads",
                   str(args.threads), "--rounds", str(args.rounds), "--target-s", str(args.target_s)]
            done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            if done.returncode:
                print(f"error: the benchmark of {name} failed (exit {done.returncode})", file=sys.stderr)
                return 2
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    machine = load.report()
    results["meta"] = {"command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
                       if argv is None else "python bench/lifter_speed.py " + " ".join(argv),
                       "machine": machine}
    print(_table(results))
    print(describe(machine))
    try:
        judge(machine, args.require_idle)
    except BusyMachine as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if args.json:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
