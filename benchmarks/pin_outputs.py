"""Pin the outputs of every bundled scenario: run each with ``--no-report`` and print
{scenario: {file: sha256}} as JSON, so a refactoring that must not change behaviour can be
checked byte for byte (run before and after, compare the two JSON files).

    python benchmarks/pin_outputs.py [--work DIR] [--jobs 2] > pins.json

Scenarios: ``scenarios/*.yaml``, ``scenarios/validation/*.yaml`` and ``--optimize`` of
``scenarios/demo_city_orange.yaml`` with the default optimiser menu and with the menu that may
propose negotiated cuts (``scenarios/policies/optimizer_menu_negotiated.yaml``), and
``--evaluate`` of ``scenarios/demo_city_evaluation.yaml``. ``.manifest.json`` is left
out (it lists input paths and holds the hashes anyway); in ``optimisation.json`` the solver's
wall-clock times (keys ending in ``seconds``) are dropped before hashing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".manifest.json"}


def runs() -> dict[str, list[str]]:
    out = {}
    for path in sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/validation/*.yaml")]):
        if path.name.endswith(("_policy.yaml", "_other_sources.yaml")):
            continue  # inputs of a scenario, not scenarios
        out[str(path.relative_to(ROOT))] = [str(path)]
    out["scenarios/demo_city_orange.yaml --optimize"] = [str(ROOT / "scenarios" / "demo_city_orange.yaml"), "--optimize"]
    out["scenarios/demo_city_orange.yaml --optimize optimizer_menu_negotiated.yaml"] = [
        str(ROOT / "scenarios" / "demo_city_orange.yaml"), "--optimize", str(ROOT / "scenarios" / "policies" / "optimizer_menu_negotiated.yaml")]
    out["scenarios/demo_city_evaluation.yaml --evaluate"] = [str(ROOT / "scenarios" / "demo_city_evaluation.yaml"), "--evaluate"]
    return out


def _without_times(value):
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def digest(path: Path) -> str:
    data = path.read_bytes()
    if path.name == "optimisation.json":  # solver timings differ run to run
        data = json.dumps(_without_times(json.loads(data)), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def pin(name: str, args: list[str], work: Path) -> dict[str, str]:
    out = work / name.replace("/", "_").replace(" ", "_")
    done = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), *args, "--no-report", "--quiet", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return {"<exit>": f"{done.returncode}: {done.stderr.strip()[-500:]}"}
    return {str(p.relative_to(out)): digest(p)
            for p in sorted(out.rglob("*")) if p.is_file() and p.name not in SKIP}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="folder for the outputs (default: a temporary one)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="pin_outputs_"))
    work.mkdir(parents=True, exist_ok=True)
    todo = runs()
    with ThreadPoolExecutor(args.jobs) as pool:
        pins = dict(zip(todo, pool.map(lambda item: pin(item[0], item[1], work), todo.items())))
    print(json.dumps(pins, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
