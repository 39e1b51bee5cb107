"""Benchmark: what a user pays for a command, against the I/O floor. Prints, asserts nothing.

    python benchmarks/bench.py [--sizes 10000 100000 1000000] [--repeat 3] [--skip-events]
                               [--skip-ensemble] [--work DIR]

Every figure is a whole process (interpreter start and imports included), best of
``--repeat``, with its peak resident memory:

- **Province scale**: for each list size a synthetic province (``sim.synthetic.synth``, 13
  cities, winter season of 2,928 h, ~20 regional and city warnings, staggered production, one
  box per city) is written once; then ``run_scenario.py --no-report --quiet`` is timed against
  the floor ``python -c "import pandas; pandas.read_csv(LIST)"``, and once more with
  ``--format parquet``.
- **Events**: the 100k list with 20, 200 and 2,000 scheduled warnings, each in one city
  (cycling through the cities and the three levels), and 2,000 warnings of every city at once;
  time relative to the 20-warning run.
- **Ensembles**: ``scenarios/demo_city_forecast.yaml`` with 1 and 1,000 members (serial), and
  100 members serial against the processes executor.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(args: list[str], repeat: int) -> tuple[float, float]:
    """Best wall time [s] of ``repeat`` runs of the command and its peak RSS [MB]."""
    best, peak = float("inf"), 0.0
    # bytecode cached, as an installed package has it (pip compiles at install)
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "MPLCONFIGDIR": tempfile.mkdtemp()}
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.read().decode()[-800:]}")
        proc.stderr.close()
        best, peak = min(best, wall), max(peak, usage.ru_maxrss / 1024)
    return best, peak


def run_command(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "run_scenario.py"), str(scenario), "--no-report", "--quiet", "--out", str(out), *extra]


def with_warnings(source: Path, count: int, every_city: bool) -> Path:
    """The province scenario with ``count`` scheduled warnings spread over the period."""
    import pandas as pd
    import yaml

    from sim.config.yamlio import read_yaml

    raw = read_yaml(source, "scenario")
    start = pd.Timestamp(raw["period"]["start"])
    hours = int((pd.Timestamp(raw["period"]["end"]) - start) / pd.Timedelta(hours=1))
    cities = sorted(raw["atmosphere"]["cities"])
    step = hours / count
    schedule = []
    for i in range(count):
        begin = start + pd.Timedelta(hours=int(i * step))
        end = begin + pd.Timedelta(hours=max(1, int(step * 0.6)))
        warning = {"level": ("yellow", "orange", "red")[i % 3], "start": begin.isoformat(timespec="minutes"), "end": end.isoformat(timespec="minutes")}
        if not every_city:
            warning["city"] = [cities[i % len(cities)]]
        schedule.append(warning)
    raw["warnings"] = {"schedule": schedule}
    path = source.parent / f"warnings_{count}{'_every_city' if every_city else ''}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--cities", type=int, default=13)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-events", action="store_true")
    parser.add_argument("--skip-ensemble", action="store_true")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sim_bench")
    args = parser.parse_args()
    from sim.synthetic.synth import write_province

    out = args.work / "out"
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores; best of {args.repeat}, whole processes")
    print(f"\n{'lines':>9} {'floor':>7} {'run':>7} {'ratio':>6} {'peak MB':>8} {'floor MB':>8} {'parquet':>8} {'ratio':>6}")
    provinces = {}
    for size in args.sizes:
        folder = args.work / f"province_{size}"
        if not (folder / "province_season.yaml").exists():
            write_province(folder, min(args.cities, max(1, size // 1000)), size, 1)
        provinces[size] = folder / "province_season.yaml"
        floor, floor_mb = timed([sys.executable, "-c", f"import pandas; pandas.read_csv({str(folder / 'enterprises.csv')!r})"], args.repeat)
        total, peak = timed(run_command(provinces[size], out), args.repeat)
        parquet, _ = timed(run_command(provinces[size], out, "--format", "parquet"), args.repeat)
        print(f"{size:>9,} {floor:>6.2f}s {total:>6.2f}s {total / floor:>5.1f}x {peak:>8.0f} {floor_mb:>8.0f} {parquet:>7.2f}s {parquet / floor:>5.1f}x", flush=True)
    if not args.skip_events:
        size = 100_000 if 100_000 in provinces else max(provinces)
        print(f"\nevents on the {size:,}-line list (scheduled warnings):")
        base = None
        for count, every in ((20, False), (200, False), (2000, False), (2000, True)):
            wall, _ = timed(run_command(with_warnings(provinces[size], count, every), out), args.repeat)
            base = base or wall
            print(f"  {count:>5} warnings{' of every city' if every else ', one city each':<17} {wall:>6.2f}s {wall / base:>5.2f}x", flush=True)
    if not args.skip_ensemble:
        demo = ROOT / "scenarios" / "demo_city_forecast.yaml"
        print("\nensembles (scenarios/demo_city_forecast.yaml):")
        one, _ = timed(run_command(demo, out, "--members", "1"), args.repeat)
        many, many_mb = timed(run_command(demo, out, "--members", "1000"), args.repeat)
        print(f"  1 member {one:.2f}s; 1,000 members serial {many:.2f}s = {many / one:.2f}x, peak {many_mb:.0f} MB")
        serial, _ = timed(run_command(demo, out, "--members", "100"), args.repeat)
        processes, _ = timed(run_command(demo, out, "--members", "100", "--executor", "processes"), args.repeat)
        print(f"  100 members: serial {serial:.2f}s, processes {processes:.2f}s")
        processes_many, _ = timed(run_command(demo, out, "--members", "1000", "--executor", "processes"), args.repeat)
        print(f"  1,000 members: serial {many:.2f}s, processes {processes_many:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
