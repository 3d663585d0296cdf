"""``python tests/fake_cli.py ARGS``: the demo's CLI (demo/vis.py) with the stand-in models of
tests/_demo_fakes.py, for tests that run it in a subprocess (kill, interrupt, bad inputs)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _demo_fakes import components  # noqa: E402
from demo import vis  # noqa: E402

if __name__ == "__main__":
    sys.exit(vis.main(sys.argv[1:], factory=components))
