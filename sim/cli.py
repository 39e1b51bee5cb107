"""Command line: ``run_scenario.py SCENARIO.yaml [--out DIR] [--members N] [--seed S]
[--executor serial|processes|dask] [--scheduler ADDRESS] [--no-report] [--format csv|parquet|both]
[--lang en|zh] [--quiet]``
and ``run_scenario.py --compare A.yaml B.yaml ... --out DIR``.

Exit status: 0 success; 2 input error (one message naming file, row/key and the fix); 1 internal
error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

from sim.errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_scenario.py",
        description="Simulate a heavy-pollution emergency response scenario (重污染天气应急响应) and write "
        "emission trajectories, the emergency reduction list with its ratio checks, and metrics.",
    )
    parser.add_argument("scenario", nargs="?", type=Path, help="scenario YAML file")
    parser.add_argument("--compare", nargs="+", type=Path, metavar="SCENARIO", help="run several scenarios and write one comparison (needs --out)")
    parser.add_argument("--out", type=Path, help="output directory (default: output.dir of the scenario)")
    parser.add_argument("--members", type=int, help="override ensemble.members (Monte Carlo members)")
    parser.add_argument("--seed", type=int, help="override ensemble.seed")
    parser.add_argument("--executor", choices=("serial", "processes", "dask"), default="serial",
                        help="where ensemble members run: in this process, on local worker processes, or on Dask")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler (with --executor dask), e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--no-report", action="store_true", help="skip report.html, charts/ and measures.xlsx")
    parser.add_argument("--format", choices=("csv", "parquet", "both"), dest="table_format",
                        help="write the tables as CSV, Parquet (large lists: smaller, typed; pandas.read_parquet) or both "
                        "(default: output.format of the scenario, else csv)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the report and charts (Chinese is drawn with the bundled Noto Sans CJK SC subset)")
    parser.add_argument("--schema", action="store_true", help="print the JSON Schema of the scenario format and exit")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("--evaluate", action="store_true",
                        help="after-action evaluation (效果评估) from the scenario's evaluation block: compliance from the meters, realised "
                        "cuts, the PM2.5 effect, forecast and warning skill (compliance.csv, evaluation.json, evaluation.html)")
    parser.add_argument("--optimize", nargs="?", const=True, type=Path, metavar="MENU",
                        help="design the least-cost reduction list that meets the targets under an optimiser menu (default "
                        "sim/data/optimizer_menu.yaml, copied in scenarios/policies/) and compare it with the scenario's policy (see sim/optimize/optimizer.py)")
    return parser


def _unique_stems(paths: list[Path]) -> list[str]:
    stems: list[str] = []
    for path in paths:
        stem, k = path.stem, 2
        while stem in stems:
            stem, k = f"{path.stem}_{k}", k + 1
        stems.append(stem)
    return stems


def terminal_notes(notes: tuple[str, ...] | list[str]) -> list[str]:
    """Notes as printed: policy rules that settle no line of this list (usual for a province-wide
    policy on one city's list) are summed up in one line; ``metrics.json`` keeps each note."""
    from sim.config.labels import match_note

    found: dict[str, list[str]] = {"note.rule_unmatched": [], "note.rule_shadowed": []}
    other: list[str] = []
    for note in notes:
        key, name = match_note(note) or ("", "")
        if key in found:
            found[key].append(name)
        else:
            other.append(note)
    unmatched, shadowed = found["note.rule_unmatched"], found["note.rule_shadowed"]
    if len(unmatched) + len(shadowed) <= 1:
        return list(notes)
    parts = ([f"{len(unmatched)} match no line ({', '.join(unmatched)})"] if unmatched else []) + (
        [f"{len(shadowed)} only lines an earlier rule or exemption settled ({', '.join(shadowed)})"] if shadowed else [])
    return other + [f"{len(unmatched) + len(shadowed)} policy rules change no line of this list: {'; '.join(parts)} (each in metrics.json notes)"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001 - warnings.showwarning's signature
    """A warning reads as one line for a planner (``warning: ...``), not as a Python source trace."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; warnings print as ``warning: ...`` lines, and ``--quiet`` silences
    them and matplotlib's log (errors only). Both settings are undone on return."""
    args = _parser().parse_args(argv)
    mpl_log = logging.getLogger("matplotlib")
    level = mpl_log.level
    with warnings.catch_warnings():
        if args.quiet:
            warnings.simplefilter("ignore")
            mpl_log.setLevel(logging.ERROR)
        else:
            warnings.showwarning = _show_warning
        try:
            return _main(args)
        finally:
            mpl_log.setLevel(level)


def _summarise(result, say) -> None:
    metrics = result.metrics
    say(f"{metrics['list']['lines']} lines of {metrics['list']['enterprises']} enterprises")
    for level, checks in metrics["targets_met"].items():
        ratios = ", ".join(f"{p} {r:.1%}" for p, r in metrics["list_ratio"][level].items() if r is not None)
        say(f"  {level:6s} list ratio {ratios}; targets {'met' if checks['all'] else 'NOT met'}")
    if "negotiated" in metrics:  # the same without the negotiated cuts, and what they achieve
        from sim.report import negotiated_verdict

        say("  without negotiated cuts (协商减排):")
        negotiated = metrics["negotiated"]
        for level, checks in negotiated["targets_met_without"].items():
            ratios = ", ".join(f"{p} {r:.1%}" for p, r in negotiated["list_ratio_without"][level].items() if r is not None)
            say(f"  {level:6s} list ratio {ratios}; targets {'met' if checks['all'] else 'NOT met'}")
        for sentence in negotiated_verdict(metrics):
            say(f"  {sentence}")
    if "pm25" in metrics:
        pm = metrics["pm25"]
        say(f"  PM2.5 peak {pm['peak_baseline_ug_m3']:.0f} -> {pm['peak_scenario_ug_m3']:.0f} ug/m3; heavy days {pm['heavy_days_baseline']} -> {pm['heavy_days_scenario']}"
            + (f"; mean cut during warnings {pm['mean_reduction_during_warnings_ug_m3']:.1f} ug/m3" if "mean_reduction_during_warnings_ug_m3" in pm else ""))


def _summarise_evaluation(ev, say) -> None:
    m = ev.metrics
    cfg = ev.scenario.evaluation
    verdicts = ", ".join(f"{k} {v}" for k, v in m["compliance"]["verdicts"].items())
    if cfg.power_use is None:
        say("  compliance: no power_use given, so every line " + ("without CEMS data " if cfg.cems is not None else "") + "is taken as carried out as planned")
    else:
        say(f"  compliance ({m['compliance']['units']} metered units x warnings): {verdicts}; treatment off {m['compliance']['treatment_violations']}")
    from sim.config.vocabulary import LEVELS

    for level in LEVELS:
        planned, realised = m["list_ratio_planned"].get(level), m["list_ratio_realised"].get(level)
        if planned and realised:
            say(f"  {level:6s} list ratio planned / realised over the hours in force (delays, profiles, calendars; not the steady ratio above): "
                + ", ".join(f"{p} {planned[p]:.1%}/{realised[p]:.1%}" for p in planned if planned[p] is not None and realised[p] is not None))
    for city, figures in ({"": m}.items() if "by_city" not in m else m["by_city"].items()):  # one line per city
        if "pm25_effect" not in figures:
            continue
        e = figures["pm25_effect"]
        band = e.get("mean_reduction_during_warnings_p05_p95_ug_m3")
        say(f"  {city + ' ' if city else ''}PM2.5 effect during warnings: mean {e.get('mean_reduction_during_warnings_ug_m3', 0):.1f} ug/m3"
            + (f" (5-95 % {band[0]:.1f}-{band[1]:.1f})" if band else "") + f", peak {e.get('peak_reduction_during_warnings_ug_m3', 0):.1f} at {e.get('peak_reduction_time', '-')}")
    rate = m["forecast_skill"]["level_hit_rate"]
    say((f"  forecast level hit rate {'-' if rate is None else f'{rate:.0%}'} (target {m['forecast_skill']['target']:.0%}); " if cfg.forecasts is not None
         else "  no forecasts given; ")
        + f"review: {m['review']['enterprises']} enterprise rows, {m['review']['list_lines']} list lines")




def _main(args: argparse.Namespace) -> int:
    if args.schema:
        from sim.config.scenario import scenario_json_schema

        print(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.scenario is None and not args.compare:
        _parser().print_usage(sys.stderr)
        print("run_scenario.py: error: give a scenario YAML file, --compare A.yaml B.yaml ..., or --schema", file=sys.stderr)
        return 2
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    try:
        from sim.api import run, with_overrides
        from sim.outputs import write_result
        from sim.config.scenario import load_scenario

        started = time.perf_counter()
        if args.compare and args.scenario is not None:
            raise InputError(None, "--compare", "give the scenarios after --compare only.", "write: run_scenario.py --compare A.yaml B.yaml --out DIR.")
        if args.compare and args.out is None:
            raise InputError(None, "--compare", "a comparison needs an output folder.", "add --out DIR.")
        if args.scheduler and args.executor != "dask":
            raise InputError(None, "--scheduler", "a scheduler address is only used with --executor dask.", "add --executor dask or drop --scheduler.")
        if args.scheduler:
            from sim.engine.ensemble import check_scheduler

            check_scheduler(args.scheduler)  # a wrong address fails now, in seconds, not after the preparation
        if args.evaluate and (args.compare or args.optimize is not None):
            raise InputError(None, "--evaluate", "--evaluate evaluates one scenario's episode; it does not combine with --compare or --optimize.", "run --evaluate on its own.")
        if args.optimize is not None:
            from sim.optimize.optimizer import run_cli

            return run_cli(args, say)
        scenarios = [with_overrides(load_scenario(path), seed=args.seed, members=args.members) for path in (args.compare or [args.scenario])]
        from sim.outputs import OutputFolder, scenario_inputs

        # hold the output folder from the start: a folder that must not be replaced, one that
        # another run is writing to, or an unwritable place is refused before the run
        out_dir = args.out if args.out is not None else scenarios[0].output.dir
        with OutputFolder(out_dir, [p for s in scenarios for p in scenario_inputs(s)]) as target:
            results = []
            for scenario in scenarios:
                members = scenario.ensemble.members
                say(f"running '{scenario.name}' ({scenario.period.hours} h" + (f", {members} members on {args.executor})" if members > 1 else ")"))
                prepared = None
                if args.evaluate:
                    from sim.api import prepare
                    from sim.evaluation import _need

                    _need(scenario)  # a scenario without the block fails before the run
                    prepared = prepare(scenario)
                result = run(scenario, executor=args.executor, scheduler=args.scheduler, quiet=args.quiet, prepared=prepared)
                for note in terminal_notes(result.notes):
                    say(f"note: {note}")
                _summarise(result, say)
                results.append(result)
            evaluation = None
            if args.evaluate:
                from sim.evaluation import evaluate, write_evaluation

                say("evaluating the episode (evaluation block)")
                evaluation = evaluate(scenarios[0], prepared)
                for note in evaluation.notes:
                    say(f"note: {note}")
                _summarise_evaluation(evaluation, say)
            if args.compare:
                from sim.report import write_comparison

                stems = _unique_stems(args.compare)

                def fill(folder: Path) -> None:
                    for stem, scenario, result in zip(stems, scenarios, results):
                        (folder / stem).mkdir()
                        write_result(result, folder / stem, report=scenario.output.report and not args.no_report, lang=args.lang,
                                     table_format=args.table_format or scenario.output.format)
                    write_comparison(results, folder, lang=args.lang)

                written = target.commit(fill)
            else:
                scenario, result = scenarios[0], results[0]
                report = scenario.output.report and not args.no_report

                def fill_one(folder: Path) -> None:
                    write_result(result, folder, report=report, lang=args.lang, table_format=args.table_format or scenario.output.format)
                    if evaluation is not None:
                        write_evaluation(evaluation, folder, report=report, lang=args.lang)

                written = target.commit(fill_one)
        say(f"wrote {written}")
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
