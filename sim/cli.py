"""Command line: ``run_scenario.py SCENARIO.yaml [--out DIR] [--seed S] [--quiet]``.

Exit status: 0 success; 2 input error (one message naming file, row/key and the fix); 1 internal
error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sim.errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_scenario.py",
        description="Simulate a heavy-pollution emergency response scenario (重污染天气应急响应) and write "
        "emission trajectories, the emergency reduction list with its ratio checks, and metrics.",
    )
    parser.add_argument("scenario", nargs="?", type=Path, help="scenario YAML file")
    parser.add_argument("--out", type=Path, help="output directory (default: output.dir of the scenario)")
    parser.add_argument("--seed", type=int, help="override ensemble.seed")
    parser.add_argument("--schema", action="store_true", help="print the JSON Schema of the scenario format and exit")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.schema:
        from sim.scenario import scenario_json_schema

        print(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.scenario is None:
        _parser().print_usage(sys.stderr)
        print("run_scenario.py: error: give a scenario YAML file (or --schema)", file=sys.stderr)
        return 2
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    try:
        from sim.api import run
        from sim.outputs import write_outputs
        from sim.scenario import load_scenario

        started = time.perf_counter()
        scenario = load_scenario(args.scenario)
        if args.seed is not None:
            scenario = scenario.replace(ensemble=scenario.ensemble.model_copy(update={"seed": args.seed}))
        out_dir = args.out if args.out is not None else scenario.output.dir
        say(f"running '{scenario.name}' ({scenario.period.hours} h)")
        result = run(scenario)
        for note in result.notes:
            say(f"note: {note}")
        written = write_outputs(result, out_dir)
        metrics = result.metrics
        say(f"{metrics['list']['lines']} lines of {metrics['list']['enterprises']} enterprises; wrote {written}")
        for level, checks in metrics["targets_met"].items():
            ratios = ", ".join(f"{p} {r:.1%}" for p, r in metrics["list_ratio"][level].items() if r is not None)
            say(f"  {level:6s} list ratio {ratios}; targets {'met' if checks['all'] else 'NOT met'}")
        say(f"done in {time.perf_counter() - started:.1f} s")
        return 0
    except InputError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no output was written", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: say so plainly, keep the traceback for reports
        import traceback

        traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc}. Please report it with the scenario.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
