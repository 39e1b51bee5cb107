"""The reduction-list optimiser: brute-force optimality on small lists, monotone measures,
exempt lines untouched, precise infeasibility reports, rule output that reproduces the list."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import FIXTURES, ROOT
from sim.errors import InputError
from sim.inputs.inventory import load_emission_factors, load_inventory
from sim.physics.metrics import reduction_ratios, targets_met
from sim.optimize.optimizer import (
    DEFAULT_MENU,
    InfeasibleTargets,
    Menu,
    Problem,
    SolverSettings,
    load_menu,
    optimize_list,
    policy_yaml,
    solve,
)
from sim.rules.policy import assign_measures
from sim.config.scenario import LEVELS, Policy, load_policy

EXACT = SolverSettings(mip_rel_gap=0.0, full_mip_max_binaries=10**9)
HEADER = ("enterprise_id,enterprise_name,city,district,lat,lon,industry,grade,line_id,process,activity,activity_unit,so2_kg_h,nox_kg_h,"
          "pm10_kg_h,pm25_kg_h,voc_kg_h,nh3_kg_h,hours_per_day,output_value_wan_yuan_per_day,livelihood,ultra_low,whitelist,restricted,bulk_transport,truck_trips_per_day")
PROCESS = {"cement": "clinker_kiln", "steel": "sinter", "industrial_coating": "spray_coating"}
POLICY = {
    "name": "test_policy",
    "targets": {"list": {"yellow": 0.3, "orange": 0.4, "red": 0.5}, "society": {"yellow": 0.1, "orange": 0.2, "red": 0.3}},
    "base_ratio": {"yellow": 0.3, "orange": 0.4, "red": 0.5},
    "exempt": {"grades": ["A"], "flags": ["ultra_low"]},
    "rules": [
        {"name": "livelihood", "flags": ["livelihood"], "reduction": {"yellow": 0.1, "orange": 0.1, "red": 0.15}, "reason": "保障类企业：以热定产/以量定产 (livelihood: demand-led)"},
        {"name": "grade_D", "grade": ["D"], "reduction": {"yellow": "stop", "orange": "stop", "red": "stop"}},
        {"name": "grade_C", "grade": ["C"], "reduction": {"yellow": 0.3, "orange": 0.5, "red": 0.7}},
        {"name": "grade_B", "grade": ["B"], "reduction": {"yellow": 0.0, "orange": 0.2, "red": 0.5}},
    ],
}
MENU = {
    "name": "test_menu",
    "options": [0, 0.2, 0.5, "stop"],
    "menus": [
        {"name": "livelihood", "flags": ["livelihood"], "keep": "policy"},
        {"name": "D", "grade": ["D"], "options": ["stop"]},
        {"name": "floor", "grade": ["B", "C"], "minimum": "policy"},
    ],
}


# --------------------------------------------------------------------------- brute force


def _monotone_paths(options: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Every monotone choice (cut per level) of one unit that respects its minima."""
    values = np.unique(options)
    paths = [p for p in itertools.product(values, repeat=len(LEVELS)) if all(a <= b for a, b in zip(p, p[1:])) and all(c >= m - 1e-12 for c, m in zip(p, minimum))]
    return np.array(paths)


def _brute_force(problem: Problem) -> float:
    """The least objective over every assignment, enumerated."""
    paths = [_monotone_paths(problem.options[u], problem.minimum[u]) for u in range(len(problem.value))]
    g_idx, l_idx, p_idx = np.nonzero(problem.need > 0)
    best = np.inf
    choices = np.array(list(itertools.product(*[range(len(p)) for p in paths])))
    cost = np.zeros(len(choices))
    delivered = np.zeros((len(choices), len(g_idx)))
    for u, p in enumerate(paths):
        cut = p[choices[:, u]]  # (combos, levels)
        cost += (problem.value[u] * problem.weights[None, :] * cut).sum(axis=1)
        for r, (g, l, q) in enumerate(zip(g_idx, l_idx, p_idx)):
            if problem.group[u] == g:
                delivered[:, r] += problem.rate[u, q] * cut[:, l]
    ok = (delivered >= problem.need[g_idx, l_idx, p_idx][None, :] * (1 - 1e-12)).all(axis=1)
    if ok.any():
        best = float(cost[ok].min())
    return best


def _random_problem(seed: int, n: int, options: list[float], groups: int = 1, pollutants: int = 3) -> Problem:
    rng = np.random.default_rng(seed)
    rate = rng.lognormal(0.0, 1.0, (n, pollutants)) * (rng.random((n, pollutants)) < 0.7)
    value = rng.lognormal(2.0, 0.8, n)
    group = rng.integers(0, groups, n)
    opts = np.tile(np.array(options, float), (n, 1))
    minimum = np.zeros((n, len(LEVELS)))
    floor = rng.random(n) < 0.3  # some units with a guideline minimum, e.g. (0, 0.5, 0.5)
    minimum[floor] = np.array([0.0, options[1], options[1]])
    most = np.zeros((groups, pollutants))
    np.add.at(most, group, rate * opts[:, -1:])
    share = np.sort(rng.uniform(0.2, 0.85, (groups, 1, pollutants)) * np.array([0.6, 0.8, 1.0])[None, :, None], axis=1)
    need = share * most[:, None, :]
    return Problem(rate, value, group, opts, minimum, need, np.array([1.0, 1.5, 0.7]))


@pytest.mark.parametrize("seed", range(8))
def test_optimum_equals_brute_force(seed):
    n = 6 if seed < 2 else 5
    problem = _random_problem(seed, n, [0.0, 0.5, 1.0], groups=1 if seed % 2 else 2, pollutants=2 if n == 6 else 3)
    best = _brute_force(problem)
    solution = solve(problem, EXACT)
    assert np.isfinite(best)
    assert solution.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert solution.bound <= solution.objective + 1e-9
    _check_solution(problem, solution.cut)


@pytest.mark.parametrize("seed", range(4))
def test_core_method_is_feasible_and_bounded(seed):
    """LP relaxation + core MIP (forced on a small list): feasible, monotone, between the LP
    bound and the brute-force optimum's neighbourhood."""
    problem = _random_problem(100 + seed, 4, [0.0, 0.3, 0.6, 1.0], groups=2)
    best = _brute_force(problem)
    solution = solve(problem, SolverSettings(mip_rel_gap=0.0, full_mip_max_binaries=0, core_lines=1))
    _check_solution(problem, solution.cut)
    assert solution.bound <= best + 1e-6 <= solution.objective + 2e-6
    assert solution.gap == pytest.approx((solution.objective - solution.bound) / solution.objective)


def _check_solution(problem: Problem, cut: np.ndarray) -> None:
    assert (np.diff(cut, axis=1) >= 0).all(), "monotone across levels"
    assert (cut >= problem.minimum - 1e-12).all()
    assert all(np.isin(cut[u], problem.options[u]).all() for u in range(len(cut))), "every cut is an option"
    for g, l, p in zip(*np.nonzero(problem.need > 0)):
        m = problem.group == g
        assert problem.rate[m, p] @ cut[m, l] >= problem.need[g, l, p] * (1 - 1e-12)


# --------------------------------------------------------------------------- on enterprise lists


def _write_list(path: Path, rows: list[dict]) -> Path:
    keys = HEADER.split(",")
    lines = [HEADER] + [",".join(str(r.get(k, "")) for k in keys) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(i: int, industry: str, grade: str, so2=0.0, nox=0.0, pm=0.0, voc=0.0, value=10.0, **flags) -> dict:
    row = {"enterprise_id": f"E{i:04d}", "enterprise_name": f"企业{i}", "city": flags.pop("city", "tiny"), "district": "d1", "lat": 32.1, "lon": 119.4,
           "industry": industry, "grade": grade, "line_id": "L1", "process": PROCESS[industry], "so2_kg_h": so2, "nox_kg_h": nox, "pm10_kg_h": pm,
           "pm25_kg_h": pm / 2, "voc_kg_h": voc, "nh3_kg_h": 0, "hours_per_day": 24, "output_value_wan_yuan_per_day": value}
    for flag in ("livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport"):
        row[flag] = int(flags.get(flag, 0))
    return row


def _random_list(tmp_path: Path, n: int, seed: int, cities: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        industry = rng.choice(list(PROCESS))
        grade = rng.choice(["A", "B", "C", "D", "general"], p=[0.1, 0.2, 0.3, 0.1, 0.3])
        rates = rng.lognormal(0, 1, 4) * (rng.random(4) < 0.8)
        rows.append(_line(i, industry, grade, *np.round(rates, 4), value=round(float(rng.lognormal(2, 1)), 3),
                          livelihood=rng.random() < 0.05, ultra_low=rng.random() < 0.05, city=f"c{rng.integers(cities)}"))
    return _write_list(tmp_path / "list.csv", rows)


def _inventory(path: Path):
    return load_inventory(path, load_emission_factors(FIXTURES / "factors"))


def _menu(**changes) -> Menu:
    return Menu.model_validate({**MENU, **changes})


@pytest.mark.parametrize("granularity", ["line", "rule"])
def test_list_meets_targets_monotone_exempt_untouched(tmp_path, granularity):
    inventory = _inventory(_random_list(tmp_path, 400, seed=3, cities=2))
    policy = Policy.model_validate(POLICY)
    menu = _menu(solver={"mip_rel_gap": 0.01, "full_mip_max_binaries": 0, "core_lines": 50}, society=False, on_infeasible="closest")
    result = optimize_list(inventory, policy, menu, granularity=granularity)
    cut = result.measures.reduction
    base = assign_measures(inventory, policy)
    assert (np.diff(cut, axis=1) >= 0).all()
    assert (cut[base.exempt] == 0).all() and result.measures.exempt.tolist() == base.exempt.tolist()
    keep = inventory.lines.livelihood.to_numpy(bool) & ~base.exempt
    assert np.array_equal(cut[keep], base.reduction[keep]), "keep: policy lines keep the policy's measure"
    grade = inventory.lines.grade.to_numpy()
    free = ~base.exempt & ~keep
    assert (cut[free & (grade == "D")] == 1.0).all()
    floor = free & np.isin(grade, ["B", "C"])
    assert (cut[floor] >= base.reduction[floor] - 1e-12).all(), "never below the guideline minimum"
    allowed = [0, 0.2, 0.5, 1.0]
    general = free & (grade == "general")
    assert np.isin(cut[general], allowed).all()
    # the ratios, as sim.physics.metrics computes them, meet the targets where the menu can
    for city in sorted(inventory.lines.city.unique()):
        m = (inventory.lines.city == city).to_numpy()
        lr, _ = reduction_ratios(inventory.mean_rate_kg_h[m], cut[m], np.zeros((0, 6)), np.zeros((0, 3, 6)))
        unreachable = {(r["level"], r["pollutant"]) for r in result.relaxed if r["city"] == city}
        for level in LEVELS:
            for p, ratio in lr[level].items():
                if ratio is not None and (level, p) not in unreachable:
                    assert ratio >= getattr(policy.targets.list, level) - 1e-9, (city, level, p)
    assert result.solution.gap <= 0.01 + 1e-12
    assert result.solution.bound <= result.solution.objective + 1e-9
    if granularity == "rule":
        again = assign_measures(inventory, load_policy(_write(tmp_path / "p.yaml", policy_yaml(result.policy))))
        assert np.array_equal(again.reduction, cut) and np.array_equal(again.exempt, result.measures.exempt)
        # the policy's words for exempt and livelihood lines survive in the written rules
        assert (result.measures.reason[keep] == "保障类企业：以热定产/以量定产 (livelihood: demand-led)").all() and keep.any()
        assert np.array_equal(again.reason, result.measures.reason)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_list_optimum_equals_brute_force(tmp_path):
    """End to end on a 6-line list (3 options x 3 levels, monotone), enumerated."""
    rows = [
        _line(1, "cement", "general", so2=2.0, nox=9.0, pm=1.0, value=40),
        _line(2, "steel", "general", so2=12.0, nox=2.0, pm=3.0, value=25),
        _line(3, "industrial_coating", "general", voc=8.0, pm=0.5, value=6),
        _line(4, "industrial_coating", "general", voc=5.0, nox=0.5, value=9),
        _line(5, "cement", "general", so2=1.0, nox=4.0, pm=4.0, value=12),
        _line(6, "steel", "A", so2=5.0, nox=5.0, pm=1.0, voc=1.0, value=30),  # exempt
    ]
    inventory = _inventory(_write_list(tmp_path / "six.csv", rows))
    policy = Policy.model_validate(POLICY)
    menu = Menu.model_validate({"name": "m", "options": [0, 0.5, "stop"], "society": False, "level_weights": {"yellow": 2, "orange": 1, "red": 0.5},
                                "solver": {"mip_rel_gap": 0.0, "full_mip_max_binaries": 10**9}})
    result = optimize_list(inventory, policy, menu)
    # brute force over the five non-exempt lines
    rate = inventory.mean_rate_kg_h[:, [0, 1, 2, 4]]
    value = inventory.lines.output_value_wan_yuan_per_day.to_numpy()
    weights = np.array([2.0, 1.0, 0.5])
    targets = np.array([0.3, 0.4, 0.5])
    paths = _monotone_paths(np.array([0, 0.5, 1.0]), np.zeros(3))
    best, best_cut = np.inf, None
    for combo in itertools.product(range(len(paths)), repeat=5):
        cut = np.vstack([paths[list(combo)], np.zeros((1, 3))])
        reduced = np.einsum("ip,il->lp", rate, cut)
        if (reduced >= targets[:, None] * rate.sum(axis=0)[None, :] - 1e-12).all():
            cost = float((value[:, None] * weights[None, :] * cut).sum())
            if cost < best:
                best, best_cut = cost, cut
    assert result.solution.objective == pytest.approx(best, rel=1e-6)
    assert (result.measures.reduction[5] == 0).all()
    lr, sr = reduction_ratios(inventory.mean_rate_kg_h, result.measures.reduction, np.zeros((0, 6)), np.zeros((0, 3, 6)))
    assert all(targets_met(lr, sr, policy.targets)[lv]["list"][p] for lv in LEVELS for p in ("so2", "nox", "pm", "voc"))


def test_infeasible_names_pollutant_level_and_shortfall(tmp_path):
    # NOx: the exempt A line holds 6 of 10 kg/h, so at most 40 % can be cut: red (50 %) is out of reach by 10 points
    rows = [
        _line(1, "cement", "A", nox=6.0, so2=1.0, value=50),
        _line(2, "cement", "general", nox=4.0, so2=4.0, pm=2.0, value=20),
        _line(3, "industrial_coating", "general", voc=5.0, value=5),
    ]
    inventory = _inventory(_write_list(tmp_path / "three.csv", rows))
    policy = Policy.model_validate(POLICY)
    with pytest.raises(InfeasibleTargets) as caught:
        optimize_list(inventory, policy, _menu(society=False))
    shortfalls = caught.value.shortfalls
    assert [(s["pollutant"], s["level"], s["scope"]) for s in shortfalls] == [("nox", "red", "list")]
    assert shortfalls[0]["max_ratio"] == pytest.approx(0.4)
    assert shortfalls[0]["shortfall"] == pytest.approx(0.1)
    assert "nox at red" in caught.value.message and "short by 10.00 points" in caught.value.message
    assert isinstance(caught.value, InputError)
    # closest: red does all it can for NOx, every other target is met at least cost
    result = optimize_list(inventory, policy, _menu(society=False, on_infeasible="closest"))
    assert [(r["pollutant"], r["level"]) for r in result.relaxed] == [("nox", "red")]
    assert result.measures.reduction[1, 2] == 1.0
    assert (result.measures.reduction[0] == 0).all()


def test_society_target_uses_other_sources(tmp_path):
    """With other sources, the society-wide target can bind where the list target does not."""
    from types import SimpleNamespace

    rows = [_line(1, "cement", "general", nox=10.0, value=10), _line(2, "steel", "general", nox=10.0, value=20)]
    inventory = _inventory(_write_list(tmp_path / "two.csv", rows))
    policy = Policy.model_validate({**POLICY, "targets": {"list": {"yellow": 0.1, "orange": 0.1, "red": 0.1}, "society": {"yellow": 0.3, "orange": 0.3, "red": 0.3}}})
    rate = np.zeros((1, 6))
    rate[0, 1] = 20.0  # other sources: 20 kg/h NOx, not cut
    other = SimpleNamespace(names=("traffic",), rate_kg_h=rate, reduction=np.zeros((1, 4, 6)), city_id=np.array([0]))
    menu = Menu.model_validate({"name": "m", "options": [0, 0.5, 1], "solver": {"mip_rel_gap": 0}})
    cut = optimize_list(inventory, policy, menu, other).measures.reduction
    # society: 0.3 x 40 = 12 kg/h from the list; cheapest: line 1 stopped (10) + line 2 at 0.5 (5)
    assert cut[:, 0].tolist() == [1.0, 0.5]
    assert optimize_list(inventory, policy, menu.model_copy(update={"society": False}), other).measures.reduction[:, 0].tolist() == [0.5, 0.0]


def test_menu_file_is_validated(tmp_path):
    menu = load_menu(DEFAULT_MENU)
    assert menu.menus and menu.file == DEFAULT_MENU
    bad = tmp_path / "menu.yaml"
    bad.write_text(yaml.safe_dump({"name": "m", "optionz": [0, 1]}), encoding="utf-8")
    with pytest.raises(InputError, match="unknown key 'optionz'.*did you mean 'options'"):
        load_menu(bad)
    bad.write_text(yaml.safe_dump({"name": "m", "menus": [{"name": "x", "keep": "policy", "options": [0, 1]}]}), encoding="utf-8")
    with pytest.raises(InputError, match="keep"):
        load_menu(bad)
    inventory = _inventory(_random_list(tmp_path, 20, seed=1))
    with pytest.raises(InputError, match="industry 'cemnt' is unknown"):
        optimize_list(inventory, Policy.model_validate(POLICY), Menu.model_validate({"name": "m", "menus": [{"name": "x", "industry": "cemnt", "options": [0]}]}))


# --------------------------------------------------------------------------- command line


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_optimize_writes_list_policy_and_comparison(tmp_path, tiny_scenario, write_scenario):
    menu = _write(tmp_path / "menu.yaml", yaml.safe_dump({**MENU, "granularity": "both", "on_infeasible": "closest"}, allow_unicode=True))
    out = tmp_path / "opt"
    proc = _cli(str(write_scenario(tiny_scenario)), "--optimize", str(menu), "--out", str(out), "--no-report")
    assert proc.returncode == 0, proc.stderr
    for name in ("optimisation.json", "comparison.csv", "measures_override.csv", "optimised_policy.yaml", "default/measures.csv", "optimised_line/measures.csv", "optimised_rule/metrics.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "optimisation.json").read_text(encoding="utf-8"))
    assert {"lists", "feasibility", "comparison", "runs"} <= set(summary)
    assert summary["lists"]["line"]["not_reachable"], "the tiny list cannot reach the VOC target"
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison.variant) == {"default", "optimised_line", "optimised_rule"}
    # the written policy is a valid policy file that a scenario uses as is
    scenario = dict(tiny_scenario, policy=str(out / "optimised_policy.yaml"), output={"dir": str(tmp_path / "rerun")})
    assert _cli(str(write_scenario(scenario, "again.yaml")), "--quiet", "--no-report").returncode == 0


def test_cli_optimize_unreachable_target_exits_2(tmp_path, tiny_scenario, write_scenario):
    menu = _write(tmp_path / "menu.yaml", yaml.safe_dump({**MENU, "on_infeasible": "stop"}, allow_unicode=True))
    out = tmp_path / "opt"
    proc = _cli(str(write_scenario(tiny_scenario)), "--optimize", str(menu), "--out", str(out))
    assert proc.returncode == 2
    assert "voc at orange" in proc.stderr and "short by" in proc.stderr
    assert not out.exists()


def test_optimize_scenario_runs_both_lists(tiny_scenario, write_scenario):
    """In process (warnings are errors): the default and optimised runs, and their comparison."""
    from sim.optimize.optimizer import optimize
    from sim.config.scenario import load_scenario

    scenario = load_scenario(write_scenario(tiny_scenario))
    result = optimize(scenario, _menu(granularity="both", on_infeasible="closest"))
    line = result.lists["line"]
    assert np.array_equal(result.runs["line"].measures_by_line.reduction, line.measures.reduction)
    # per-line measures can do no worse than rules (each within the 1 % gap of its own optimum)
    assert line.solution.objective <= result.lists["rule"].solution.objective / (1 - 0.01) + 1e-9
    figures = result.comparison.set_index(["variant", "level"])
    for level in LEVELS:
        assert figures.loc[("optimised_line", level), "list_so2"] == pytest.approx(result.runs["line"].metrics["list_ratio"][level]["so2"])
        assert figures.loc[("default", level), "list_so2"] == pytest.approx(result.default.metrics["list_ratio"][level]["so2"])
    assert result.summary()["runs"]["optimised_line"]["production_loss_wan_yuan"] >= 0


def test_cli_optimize_refuses_lines_without_output_value(tmp_path, tiny_scenario, write_scenario):
    """A blank output value (日产值) would make the line look free to cut: an error naming the
    rows (the first five and a count) for --optimize; a normal run of the same files only notes
    it (tests/bad_inputs/ok_output_value_blank)."""
    rows = [_line(i, "cement", "C", nox=2.0 + i, value="" if i % 2 else 10) for i in range(1, 15)]
    path = _write_list(tmp_path / "list.csv", rows)
    menu = _write(tmp_path / "menu.yaml", yaml.safe_dump({**MENU, "on_infeasible": "closest"}, allow_unicode=True))
    scenario = write_scenario(dict(tiny_scenario, inventory={"enterprises": str(path), "emission_factors": str(FIXTURES / "factors")}))
    out = tmp_path / "opt"
    proc = _cli(str(scenario), "--optimize", str(menu), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    [error] = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert "list.csv: rows 2, 4, 6, 8, 10 and 2 more, column output_value_wan_yuan_per_day: 7 line(s)" in error, error
    assert "Fix: fill in each line's daily output value" in error
    assert "Traceback" not in proc.stderr and not out.exists()
