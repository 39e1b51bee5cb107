"""Start-up cost: ``import sim`` and ``run_scenario.py --help`` against ``import pandas``.

    python benchmarks/import_time.py [--repeat 7]

Each command runs in a fresh interpreter; the best of ``--repeat`` wall times is printed, with
the ratio to ``import pandas`` (the target is below 0.6). Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "import pandas": [sys.executable, "-c", "import pandas"],
    "import sim": [sys.executable, "-c", "import sim"],
    "run_scenario.py --help": [sys.executable, str(ROOT / "run_scenario.py"), "--help"],
    "python (empty)": [sys.executable, "-c", "pass"],
}


def best_of(command: list[str], repeat: int) -> float:
    """Best wall time [s] of ``repeat`` runs of ``command``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    figures = {name: best_of(command, args.repeat) for name, command in COMMANDS.items()}
    for name, seconds in figures.items():
        print(f"{name:24s} {seconds:6.3f} s   {seconds / figures['import pandas']:.2f} x import pandas")


if __name__ == "__main__":
    main()
