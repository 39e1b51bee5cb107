"""Benchmark: load, engine and atmosphere time, peak memory and the read_csv floor.

    python benchmarks/bench.py [--sizes 1000 10000 100000 1000000] [--cities 13] [--hours 2900]
                               [--ensemble-members 1000] [--skip-ensemble] [--work DIR]

For each list size a synthetic province (``sim.synthetic.synth``) is written once, then a child process
times, on the season scenario (~20 warnings, staggered production, one box per city, no
report): the plain ``pandas.read_csv`` of the list (the I/O floor), loading and policy
(``prepare``), the event engine (scenario and baseline), the PM2.5 model, the whole
``run`` + writing the outputs, and the peak resident memory. Last, a 1,000-member ensemble of a
3,000-line city over 720 h on the processes executor. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(scenario_path: str, list_path: str) -> dict:
    """Run in a fresh process: the timings of one size and its peak memory."""
    import numpy as np
    import pandas as pd

    from sim.api import prepare, run
    from sim.engine.simulation import baseline_run
    from sim.engine.ensemble import run_member
    from sim.outputs import write_outputs
    from sim.config.scenario import load_scenario

    out = {}
    t = time.perf_counter(); pd.read_csv(list_path); out["read_csv_s"] = time.perf_counter() - t
    scenario = load_scenario(scenario_path)
    t = time.perf_counter(); prepared = prepare(scenario); out["load_s"] = time.perf_counter() - t
    t = time.perf_counter(); member = run_member(prepared.shared, 0); base = baseline_run(prepared.shared.engine); out["engine_s"] = time.perf_counter() - t
    out["events"] = len(member.events)
    t = time.perf_counter(); result = run(scenario); out["run_s"] = time.perf_counter() - t
    out["atmosphere_s"] = max(0.0, out["run_s"] - out["load_s"] - out["engine_s"])
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter(); write_outputs(result, Path(tmp) / "out"); out["write_s"] = time.perf_counter() - t
    out["total_s"] = out["run_s"] + out["write_s"]
    out["lines"] = int(len(prepared.inventory.lines))
    out["hours"] = int(len(prepared.times))
    out["cities"] = len(prepared.cities)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del np
    return out


def ensemble(members: int, lines: int, hours: int, work: Path) -> dict:
    """A forecast-driven ensemble of a one-city list on the processes executor."""
    import yaml

    from sim.api import run
    from sim.config.scenario import load_scenario
    from sim.synthetic.synth import write_province
    from sim.config.yamlio import read_yaml

    folder = work / f"city_{lines}"
    if not (folder / "province_season.yaml").exists():
        write_province(folder, 1, lines, 11)
    raw = read_yaml(folder / "province_season.yaml", "scenario")
    raw["period"] = {"start": "2023-12-01T00:00", "end": (__import__("pandas").Timestamp("2023-12-01") + __import__("pandas").Timedelta(hours=hours)).isoformat(timespec="minutes")}
    raw["warnings"] = {"standard": "mee_2019", "forecast": {"error_sigma_by_lead_day": [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]}}
    raw["response"]["compliance"] = {"default": 0.95, "D": 0.75}
    raw["ensemble"] = {"members": members, "seed": 5}
    path = folder / "ensemble.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    t = time.perf_counter()
    result = run(load_scenario(path), executor="processes")
    return {"members": members, "lines": int(len(result.inventory.lines)), "hours": hours, "wall_s": time.perf_counter() - t}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--cities", type=int, default=13)
    parser.add_argument("--ensemble-members", type=int, default=1000)
    parser.add_argument("--skip-ensemble", action="store_true")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sim_bench")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    from sim.synthetic.synth import write_province

    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {__import__('os').cpu_count()} cores")
    print(f"{'lines':>9} {'cities':>6} {'hours':>5} {'events':>6} {'read_csv':>9} {'load':>7} {'engine':>7} {'atmos':>7} {'write':>7} {'total':>7} {'total/floor':>11} {'peak MB':>8}")
    for size in args.sizes:
        folder = args.work / f"province_{size}"
        cities = min(args.cities, max(1, size // 1000))
        if not (folder / "province_season.yaml").exists():
            write_province(folder, cities, size, 1)
        proc = subprocess.run([sys.executable, __file__, "--measure", str(folder / "province_season.yaml"), str(folder / "enterprises.csv")], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{m['lines']:>9} {m['cities']:>6} {m['hours']:>5} {m['events']:>6} {m['read_csv_s']:>8.2f}s {m['load_s']:>6.2f}s {m['engine_s']:>6.2f}s "
              f"{m['atmosphere_s']:>6.2f}s {m['write_s']:>6.2f}s {m['total_s']:>6.2f}s {m['total_s'] / m['read_csv_s']:>10.1f}x {m['peak_rss_mb']:>8.0f}", flush=True)
    if not args.skip_ensemble:
        e = ensemble(args.ensemble_members, 3000, 720, args.work)
        print(f"ensemble: {e['members']} members, {e['lines']} lines, {e['hours']} h, processes executor: {e['wall_s']:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
