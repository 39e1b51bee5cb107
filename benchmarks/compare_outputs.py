"""Compare two output folders number by number: for each file whose bytes differ, the largest
relative difference of a number and where it is, and any text that differs.

    python benchmarks/pin_outputs.py --work OLD > /dev/null    # on the old code
    python benchmarks/pin_outputs.py --work NEW > /dev/null    # on the new code
    python benchmarks/compare_outputs.py OLD NEW

Use it when a refactoring changes a pin: a change in the last digits of a float (summation
order) shows as a relative difference near 1e-15 (metrics.json, full precision) or as one
cell moving by one unit in the 9th significant digit (CSV files, rounded to 9 digits).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def _flat(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flat(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flat(v, f"{path}[{i}]")
    else:
        yield path, value


def compare(old_file: Path, new_file: Path) -> str:
    """One line: the largest relative difference between the two files and where it is."""
    worst, where, other = 0.0, None, []
    if old_file.suffix == ".json":
        a, b = dict(_flat(json.loads(old_file.read_text()))), dict(_flat(json.loads(new_file.read_text())))
        for key, x in a.items():
            y = b.get(key)
            if x == y or key.endswith("seconds"):  # solver timings differ run to run
                continue
            if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                rel = abs(x - y) / max(abs(x), 1e-300)
                if rel > worst:
                    worst, where = rel, key
            else:
                other.append(key)
    else:
        a, b = pd.read_csv(old_file), pd.read_csv(new_file)
        for column in a.columns:
            if column not in b.columns:
                other.append(column)
            elif a[column].dtype.kind == "f":
                rel = (a[column] - b[column]).abs() / a[column].abs().clip(lower=1e-300)
                if rel.max() > worst:
                    worst, where = float(rel.max()), f"{column} ({int((rel > 0).sum())} cells)"
            elif not a[column].equals(b[column]):
                other.append(column)
    return f"worst relative difference {worst:.1e} at {where}" + (f"; other values differ in {', '.join(other[:5])}" if other else "")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    old, new = Path(sys.argv[1]), Path(sys.argv[2])
    for old_file in sorted(p for p in old.rglob("*") if p.is_file() and not p.name.startswith(".")):
        new_file = new / old_file.relative_to(old)
        if not new_file.exists():
            print(f"{old_file.relative_to(old)}: missing in {new}")
        elif old_file.read_bytes() != new_file.read_bytes():
            print(f"{old_file.relative_to(old)}: {compare(old_file, new_file)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
