"""Reduction-list optimiser: the least costly emergency reduction list that meets the targets.

Every autumn a city revises its emergency reduction list (应急减排清单) so that each warning
level meets its reduction-ratio targets for SO2, NOx, PM (颗粒物) and VOCs. This module designs
that list: for each level it picks, for every non-exempt line, one production cut from an
allowed *menu* (e.g. none, -20 %, -30 %, -50 %, stop, never below the minimum the guideline
requires) so that

* the list ratio of each pollutant reaches the level's target, per city (``scope: city``) or
  for the whole list (``scope: list``), and, with ``society: true``, the society-wide ratio
  too, given the other sources' cuts (ratios as in :func:`sim.physics.metrics.reduction_ratios`);
* measures are monotone across levels (a line never does less at red than at orange);
* the lost output value Σ_levels weight × Σ_lines output value [万元/d] × cut is least.

Formulation (a mixed-integer linear programme solved with HiGHS through
:func:`scipy.optimize.milp`). Line i has ascending options v_i0 < ... < v_iK; x[i, k, l] = 1
when it takes option k at level l, one option per line and level. The model uses the
equivalent cumulative-choice variables y[i, k, l] = Σ_{k' ≥ k} x[i, k', l] ("cuts at least
v_ik"), k = 1..K, so that

* one option per line and level  ⇔  y[i, k+1, l] ≤ y[i, k, l]   (chain),
* monotone across levels         ⇔  y[i, k, l] ≤ y[i, k, l+1]   (cumulative choice),
* cut[i, l] = v_i0 + Σ_k (v_ik − v_i,k−1) y[i, k, l], linear, and so is every ratio row:
  Σ_i baseline_ip × cut_il ≥ need_glp (list: target × Σ baseline; society: target ×
  (Σ baseline + other sources) − other sources' cuts; the larger of the two).

All rows but the few ratio rows (cities × levels × pollutants) are difference constraints, so
the LP relaxation is nearly integral: because cost and emissions are both linear in the cut,
the relaxation is the continuous problem cut ∈ [minimum, largest option], and a basic
solution leaves at most one line per ratio row between two options. Large lists are therefore
solved in two steps: (1) the LP relaxation (HiGHS dual simplex), which is also the lower bound
that the reported gap refers to; (2) the MIP above on a *core* of lines (those the LP leaves
between options plus those nearest the margin by LP reduced cost) with every other line fixed
at its LP option. Lists small enough (``solver.full_mip_max_binaries``) go to the MIP whole.
The answer is verified against every ratio row in exact arithmetic; a numerical shortfall of
the solver's tolerance is repaired by the cheapest next option.

Output: per-line cuts (granularity ``line``, 一厂一策) written as ``measures_override.csv``,
and/or the least-cost list whose measures can be written as policy rules (granularity
``rule``: one measure per city × industry × process × grade × flag set), written as a policy
file any scenario can use as is. See ``run_cli`` for the files the command line writes.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml
from pydantic import Field, ValidationError, model_validator
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from sim.errors import InputError
from sim.inputs.inventory import Inventory
from sim.rules.policy import LineMeasures, NegotiatedMeasures, _check_rule_names, _match, _percent, assign_measures, describe_reductions, rank_selection
from sim.config.scenario import (
    Fraction,
    Frozen,
    Level,
    LineSelector,
    MonotoneReductions,
    Policy,
    ProblemAt,
    Scenario,
    read_yaml,
    validation_to_input_error,
)
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN, vocabulary

#: The default menu ships as package data, so an installed wheel finds it (a copy for planners
#: to start from is scenarios/policies/optimizer_menu.yaml; tests keep the two the same).
DEFAULT_MENU = Path(str(resources.files("sim.data").joinpath("optimizer_menu.yaml")))
_SNAP = 1e-9  # an LP value this close to an option is that option [-]

# --------------------------------------------------------------------------- the menu file


class LevelWeights(Frozen):
    """Weight of each level's daily loss in the objective, e.g. expected days per season [d]."""

    yellow: float = Field(1.0, ge=0)
    orange: float = Field(1.0, ge=0)
    red: float = Field(1.0, ge=0)

    def as_array(self) -> np.ndarray:
        return np.array([self.yellow, self.orange, self.red], dtype=float)


class SolverSettings(Frozen):
    """HiGHS settings. ``mip_rel_gap``: relative gap at which the MIP stops [-];
    ``time_limit_s``: wall-clock limit of LP and MIP together [s]; lists with more binaries
    than ``full_mip_max_binaries`` are solved as LP relaxation + MIP on a core of
    ``core_lines`` decision units nearest the margin."""

    mip_rel_gap: float = Field(0.01, ge=0.0, le=1.0)
    time_limit_s: float = Field(60.0, gt=0)
    full_mip_max_binaries: int = Field(20_000, ge=0)
    core_lines: int = Field(200, ge=0)


class Largest(Frozen):
    """The largest emitters of ``pollutant`` among an entry's lines, taken largest first (by
    enterprise, per city) until they cover ``share`` of the lines' emissions (``share_of:
    city``: of the city's whole list); ties in ascending ``enterprise_id``."""

    pollutant: Literal["so2", "nox", "pm", "voc"]
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    share_of: Literal["selected", "city"] = "selected"


class MenuEntry(LineSelector):
    """The allowed measures of the lines it matches (first matching entry wins; conditions as
    in policy rules). ``options``: production cuts a line may take at any level (``stop`` =
    1.0); ``minimum``: the least cut per level, or ``policy`` for the scenario policy's
    measure of that line (the guideline's requirement); the minima are options too.
    ``keep: policy``: the line keeps the policy's measure and is not optimised.
    ``negotiated: true``: the entry is for lines the policy *exempts* (an ordinary entry never
    reaches them): its options are negotiated production cuts (协商减排, 003 item 31), costed
    as output value × cut like any other and reported as negotiated, proposed from
    ``from_level`` (orange) upward; ``largest`` limits it to the largest emitters among its
    lines."""

    options: list[Fraction] | None = None
    minimum: MonotoneReductions | Literal["policy"] | None = None
    keep: Literal["policy"] | None = None
    negotiated: bool = False
    from_level: Level = Field("orange", description="negotiated entries: the lowest level at which a cut may be proposed (003 item 31: orange and above)")
    largest: Largest | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _keep_alone(self) -> "MenuEntry":
        if self.keep is not None and (self.options is not None or self.minimum is not None):
            raise ProblemAt((), "an entry with 'keep: policy' takes no 'options' or 'minimum'", "remove 'keep', or remove 'options' and 'minimum'.")
        if self.options is not None and not self.options:
            raise ProblemAt(("options",), "the option list is empty", "give at least one cut, e.g. [0, 0.3, stop].")
        if self.negotiated and (self.keep is not None or self.minimum == "policy"):
            raise ProblemAt(("negotiated",), "a negotiated entry's lines are exempt, so they have no policy measure to keep or to start from",
                            "remove 'keep' or 'minimum: policy' (a negotiated entry starts from no cut).")
        if self.largest is not None and not self.negotiated:
            raise ProblemAt(("largest",), "'largest' selects the emitters to negotiate with; it needs 'negotiated: true'", "add 'negotiated: true', or remove 'largest'.")
        return self


class Menu(Frozen):
    """An optimiser menu (see ``sim/data/optimizer_menu.yaml``, the default)."""

    name: str = "menu"
    description: str = ""
    source: str | None = None
    granularity: Literal["line", "rule", "both"] = "line"
    scope: Literal["city", "list"] = "city"
    society: bool = True
    on_infeasible: Literal["stop", "closest"] = "stop"
    level_weights: LevelWeights = LevelWeights()
    options: list[Fraction] = Field(default_factory=lambda: [0.0, 0.2, 0.3, 0.5, 1.0])
    minimum: MonotoneReductions | Literal["policy"] | None = None
    menus: list[MenuEntry] = []
    solver: SolverSettings = SolverSettings()
    file: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _checks(self) -> "Menu":
        if not self.options:
            raise ProblemAt(("options",), "the default option list is empty", "give at least one cut, e.g. [0, 0.3, stop].")
        names = [m.name for m in self.menus]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ProblemAt(("menus",), f"menu entry names must be unique; repeated: {', '.join(dupes)}", "rename one of the entries.")
        return self

    @property
    def granularities(self) -> tuple[str, ...]:
        return ("line", "rule") if self.granularity == "both" else (self.granularity,)


def load_menu(path: str | Path) -> Menu:
    """Load and validate an optimiser menu file (unknown keys are errors)."""
    path = Path(path)
    data = read_yaml(path, "optimiser menu")
    try:
        menu = Menu.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        raise validation_to_input_error(exc, path, Menu) from None
    return menu.model_copy(update={"file": path})


class InfeasibleTargets(InputError):
    """A target that no allowed measure reaches; ``shortfalls`` lists each one (city, level,
    pollutant, scope, target, max_ratio, shortfall)."""

    def __init__(self, file: object, shortfalls: list[dict]):
        self.shortfalls = shortfalls
        parts = [
            f"{s['pollutant']} at {s['level']} ({s['scope']} ratio{'' if s['city'] == 'all' else ', ' + s['city']}): at most {s['max_ratio']:.1%} against {s['target']:.0%}, short by {s['shortfall'] * 100:.2f} points"
            for s in shortfalls
        ]
        super().__init__(file, "targets", "the targets cannot be reached even with every allowed measure: " + "; ".join(parts) + ".",
                         "widen the menu (more options, fewer 'keep: policy' entries), lower the target, or set 'on_infeasible: closest' to get as close as the menu allows.")


# --------------------------------------------------------------------------- the solver core


@dataclass(frozen=True)
class Problem:
    """A menu problem over decision units (lines or groups of lines).

    ``rate`` [kg/h] (units, P): emission removed per unit of cut, for the P ratio pollutants;
    ``value`` [万元/d] (units,): output value lost per unit of cut; ``group`` (units,) index of
    the city (or 0); ``options`` [-] (units, K) ascending cuts, padded by repeating the largest;
    ``minimum`` [-] (units, levels); ``need`` [kg/h] (groups, levels, P): reduction the units
    must deliver together (≤ 0: no constraint); ``weights`` (levels,) of the objective;
    ``maximum`` [-] (units, levels), optional: 0 at the levels where a unit may not be cut
    (a negotiated entry below its level), at least its largest option elsewhere.
    """

    rate: np.ndarray
    value: np.ndarray
    group: np.ndarray
    options: np.ndarray
    minimum: np.ndarray
    need: np.ndarray
    weights: np.ndarray
    maximum: np.ndarray | None = None  # [-] (units, levels), non-decreasing across levels: the most a unit may cut (negotiated entries: 0 below their level); None: no cap


@dataclass(frozen=True)
class Solution:
    """``cut`` [-] (units, levels); ``objective`` Σ weight × value × cut; ``bound``: a proven
    lower bound on the optimum (LP relaxation, or the MIP's dual bound when it saw the whole
    list); ``gap`` = (objective − bound) / objective."""

    cut: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    seconds: float
    lp_seconds: float
    mip_seconds: float
    binaries: int
    core_units: int
    fractional_units: int
    repaired: int = 0

    def stats(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "cut"}


def _lower(options: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Smallest option ≥ the minimum, per unit and level."""
    ok = options[:, None, :] >= minimum[:, :, None] - 1e-12
    k = np.argmax(ok, axis=2)
    k = np.where(ok.any(axis=2), k, options.shape[1] - 1)
    return np.take_along_axis(options, k, axis=1)


def _rows(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Active ratio rows (g, l, p) and the normalised coefficient of every unit in them:
    a[u, r] = rate[u, p] / need[g, l, p] (zero outside the row's group)."""
    g_idx, l_idx, p_idx = np.nonzero(problem.need > 0)
    return np.column_stack([g_idx, l_idx, p_idx]), problem.need[g_idx, l_idx, p_idx]


def _coupling(problem: Problem, rows: np.ndarray, units: np.ndarray, per_unit_level: np.ndarray, var_of: np.ndarray) -> sp.csr_matrix:
    """Ratio rows over variables ``var_of`` (units, levels, J) with coefficients
    rate × ``per_unit_level`` (units, J) / need; var_of < 0: no variable."""
    r_list, c_list, v_list = [], [], []
    for r, (g, l, p) in enumerate(rows):
        in_group = problem.group[units] == g
        coef = problem.rate[units, p][:, None] * per_unit_level / problem.need[g, l, p]
        mask = in_group[:, None] & (coef > 0) & (var_of[:, l, :] >= 0)
        c_list.append(var_of[:, l, :][mask])
        v_list.append(coef[mask])
        r_list.append(np.full(int(mask.sum()), r))
    n_vars = int(var_of.max()) + 1 if var_of.size else 0
    return sp.csr_matrix((np.concatenate(v_list) if v_list else [], (np.concatenate(r_list) if r_list else [], np.concatenate(c_list) if c_list else [])),
                         shape=(len(rows), n_vars))


def _delivered(problem: Problem, cut: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Normalised delivery of each ratio row (≥ 1 means met)."""
    out = np.empty(len(rows))
    for r, (g, l, p) in enumerate(rows):
        m = problem.group == g
        out[r] = float(problem.rate[m, p] @ cut[m, l]) / problem.need[g, l, p]
    return out


def _solve_lp(problem: Problem, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray, time_limit: float) -> tuple[np.ndarray, float, np.ndarray]:
    """LP relaxation: cut[u, l] ∈ [lo, hi], monotone, ratio rows. Returns cut, objective and
    the row prices λ ≥ 0 [objective per unit of normalised row]."""
    n, L = lo.shape
    units = np.arange(n)
    var = (units[:, None] * L + np.arange(L)[None, :])  # (n, L)
    cost = (problem.value[:, None] * problem.weights[None, :]).ravel()
    mono_r = np.concatenate([np.arange(n * (L - 1))] * 2)
    mono_c = np.concatenate([var[:, :-1].ravel(), var[:, 1:].ravel()])
    mono_v = np.concatenate([np.ones(n * (L - 1)), -np.ones(n * (L - 1))])
    mono = sp.csr_matrix((mono_v, (mono_r, mono_c)), shape=(n * (L - 1), n * L))
    couple = _coupling(problem, rows, units, np.ones((n, 1)), var[:, :, None])
    couple.resize((len(rows), n * L))
    a_ub = sp.vstack([mono, -couple]).tocsr()
    b_ub = np.concatenate([np.zeros(n * (L - 1)), -np.ones(len(rows))])
    bounds = np.column_stack([lo.ravel(), np.repeat(hi, L) if hi.ndim == 1 else hi.ravel()])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs-ds", options={"time_limit": max(time_limit, 1.0), "presolve": True})
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"the LP relaxation failed ({res.message}); raise solver.time_limit_s in the menu if the time limit was reached")
    prices = -np.asarray(res.ineqlin.marginals)[n * (L - 1):]
    return res.x.reshape(n, L), float(res.fun), np.maximum(prices, 0.0)


def _snap(options: np.ndarray, cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest option to each LP value, and whether the value lies between options."""
    dist = np.abs(options[:, None, :] - cut[:, :, None])
    k = np.argmin(dist, axis=2)
    snapped = np.take_along_axis(options, k, axis=1)
    return snapped, np.take_along_axis(dist, k[:, :, None], axis=2)[:, :, 0] > _SNAP


def _solve_mip(problem: Problem, core: np.ndarray, fixed_cut: np.ndarray, lo: np.ndarray, rows: np.ndarray, settings: SolverSettings, time_limit: float):
    """The cumulative-choice MIP over the ``core`` units, the others fixed at ``fixed_cut``.
    Returns (cut of the core units or None, HiGHS result, number of binaries)."""
    L = lo.shape[1]
    opts = problem.options[core]
    m, K = opts.shape
    step = np.diff(opts, axis=1)  # (m, K-1): increment k lifts the cut from v_k to v_k+1
    exists = step > 1e-12
    var_of = np.full((m, L, K - 1), -1, dtype=np.int64)
    n_vars = int(exists.sum()) * L
    var_of[np.broadcast_to(exists[:, None, :], var_of.shape)] = np.arange(n_vars)
    # cost and bounds per variable
    uu, ll, kk = np.nonzero(var_of >= 0)
    order = var_of[uu, ll, kk]
    cost = np.empty(n_vars)
    cost[order] = problem.weights[ll] * problem.value[core][uu] * step[uu, kk]
    lb = np.zeros(n_vars)
    lb[order] = (opts[uu, kk + 1] <= lo[core][uu, ll] + 1e-12).astype(float)
    pairs = []
    chain = (var_of[:, :, 1:] >= 0)  # y[k+1] <= y[k]
    pairs.append((var_of[:, :, 1:][chain], var_of[:, :, :-1][chain]))
    mono = var_of[:, :-1, :] >= 0  # y[l] <= y[l+1]
    pairs.append((var_of[:, :-1, :][mono], var_of[:, 1:, :][mono]))
    a_idx = np.concatenate([p[0] for p in pairs])
    b_idx = np.concatenate([p[1] for p in pairs])
    k_rows = a_idx.size
    diff = sp.csr_matrix((np.concatenate([np.ones(k_rows), -np.ones(k_rows)]), (np.concatenate([np.arange(k_rows)] * 2), np.concatenate([a_idx, b_idx]))), shape=(k_rows, n_vars))
    couple = _coupling(problem, rows, core, step, var_of)
    couple.resize((len(rows), n_vars))
    # what the fixed units and the core's smallest options already deliver
    base_cut = fixed_cut.copy()
    base_cut[core] = opts[:, :1]
    rhs = 1.0 - _delivered(problem, base_cut, rows)
    constraints = [LinearConstraint(diff, -np.inf, 0.0)] if k_rows else []
    if len(rows):
        constraints.append(LinearConstraint(couple, rhs, np.inf))
    if n_vars == 0:
        return opts[:, :1].repeat(L, axis=1), None, 0
    ub = np.ones(n_vars)
    if problem.maximum is not None:  # an increment beyond a level's cap is not allowed there
        ub[order] = (opts[uu, kk + 1] <= problem.maximum[core][uu, ll] + 1e-12).astype(float)
    res = milp(cost, constraints=constraints, integrality=np.ones(n_vars), bounds=Bounds(lb, ub),
               options={"mip_rel_gap": settings.mip_rel_gap, "time_limit": max(time_limit, 1.0), "presolve": True})
    if res.x is None:
        return None, res, n_vars
    y = np.zeros((m, L, K - 1))
    y[var_of >= 0] = np.round(res.x[var_of[var_of >= 0]])
    cut = opts[:, :1] + np.einsum("mlk,mk->ml", y, step)
    return cut, res, n_vars


def _repair(problem: Problem, cut: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Lift the cheapest units to their next option until every ratio row is met (removes a
    shortfall of the solver's tolerance; every row can be met, so this ends)."""
    cut = cut.copy()
    moves = 0
    L = cut.shape[1]
    for _ in range(10 * len(cut) + 10):
        done = _delivered(problem, cut, rows)
        bad = np.flatnonzero(done < 1.0 - 1e-12)
        if not bad.size:
            break
        g, l, p = rows[bad[0]]
        top = problem.options[:, -1] if problem.maximum is None else np.minimum(problem.options[:, -1], problem.maximum[:, l])
        cand = np.flatnonzero((problem.group == g) & (problem.rate[:, p] > 0) & (cut[:, l] < top - 1e-12))
        if not cand.size:
            break
        above = problem.options[cand] > cut[cand, l][:, None] + 1e-12
        nxt = np.take_along_axis(problem.options[cand], np.argmax(above, axis=1)[:, None], axis=1)[:, 0]
        lifted = np.maximum(cut[cand], np.where(np.arange(L)[None, :] >= l, nxt[:, None], -np.inf))
        extra = ((lifted - cut[cand]) * problem.weights[None, :]).sum(axis=1) * problem.value[cand]
        gain = problem.rate[cand, p] * (nxt - cut[cand, l])
        best = int(np.argmin(extra / gain))
        cut[cand[best]] = lifted[best]
        moves += 1
    return cut, moves


def _solve_block(problem: Problem, settings: SolverSettings, deadline: float) -> Solution:
    """One independent block (one group's units that have a choice)."""
    started = time.perf_counter()
    n, L = problem.minimum.shape
    lo = _lower(problem.options, problem.minimum)
    hi = problem.options[:, -1] if problem.maximum is None else np.minimum(problem.options[:, -1][:, None], problem.maximum)
    rows, _ = _rows(problem)
    objective = lambda c: float((problem.value[:, None] * problem.weights[None, :] * c).sum())  # noqa: E731
    if n == 0 or not len(rows) or np.all(_delivered(problem, lo, rows) >= 1.0):
        obj = objective(lo)
        return Solution(lo, obj, obj, 0.0, "optimal", "minimum", time.perf_counter() - started, 0.0, 0.0, 0, 0, 0)
    free_vars = int((problem.options[:, 1:] > problem.options[:, :-1] + 1e-12).sum()) * L
    t0 = time.perf_counter()
    lp_cut, lp_obj, prices = _solve_lp(problem, lo, hi, rows, deadline - time.perf_counter())
    lp_seconds = time.perf_counter() - t0
    snapped, between = _snap(problem.options, lp_cut)
    fractional = between.any(axis=1)
    if free_vars <= settings.full_mip_max_binaries:
        core = np.arange(n)
        method = "MIP"
    else:
        # Lagrangian reduced cost per unit of cut, and what flipping a unit fully would cost
        rc = problem.weights[None, :] * problem.value[:, None]
        for r, (g, l, p) in enumerate(rows):
            m = problem.group == g
            rc[m, l] -= prices[r] * problem.rate[m, p] / problem.need[g, l, p]
        score = (np.abs(rc) * ((hi[:, None] if hi.ndim == 1 else hi) - lo)).min(axis=1)
        score[fractional] = -1.0
        core = np.sort(np.argsort(score, kind="stable")[: max(settings.core_lines, int(fractional.sum()))])
        method = "LP + core MIP"
    t0 = time.perf_counter()
    core_cut, res, binaries = _solve_mip(problem, core, snapped, lo, rows, settings, deadline - time.perf_counter())
    mip_seconds = time.perf_counter() - t0
    bound = lp_obj
    if core_cut is None:  # no incumbent in time: round the LP up to the next option (feasible)
        up = problem.options[:, None, :] >= lp_cut[:, :, None] - _SNAP
        cut = np.take_along_axis(problem.options, np.argmax(up, axis=2), axis=1)
        status = "time limit: LP rounded up"
    else:
        cut = snapped.copy()
        cut[core] = core_cut
        status = "optimal" if res is None or res.status == 0 else "time limit"
        if res is not None and len(core) == n and getattr(res, "mip_dual_bound", None) is not None and np.isfinite(res.mip_dual_bound):
            const = float((problem.value[:, None] * problem.weights[None, :] * problem.options[:, :1]).sum())
            bound = max(bound, float(res.mip_dual_bound) + const)
    cut = np.maximum.accumulate(cut, axis=1)  # exact monotonicity (guards rounding only)
    cut, repaired = _repair(problem, cut, rows)
    obj = objective(cut)
    bound = min(bound, obj)
    gap = 0.0 if obj <= 0 else (obj - bound) / obj
    return Solution(cut, obj, bound, gap, status, method, time.perf_counter() - started, lp_seconds, mip_seconds, binaries, len(core), int(fractional.sum()), repaired)


def solve(problem: Problem, settings: SolverSettings = SolverSettings()) -> Solution:
    """The least-cost monotone choice of options that meets every ratio row (see module doc).

    Groups share no row, so each group is an independent block; units without a choice (the
    minimum is the largest option at every level) are constants."""
    started = time.perf_counter()
    deadline = started + settings.time_limit_s
    n, L = problem.minimum.shape
    lo = _lower(problem.options, problem.minimum)
    cut = lo.copy()
    choice = lo[:, 0] < problem.options[:, -1] - 1e-12
    blocks = []
    for g in range(problem.need.shape[0]):
        in_g = problem.group == g
        units = np.flatnonzero(in_g & choice)
        const = in_g & ~choice
        need = problem.need[g:g + 1] - np.einsum("up,ul->lp", problem.rate[const], lo[const])[None]
        sub = Problem(problem.rate[units], problem.value[units], np.zeros(len(units), dtype=np.int64), problem.options[units], problem.minimum[units],
                      np.where(problem.need[g:g + 1] > 0, np.maximum(need, 0.0), 0.0), problem.weights,
                      None if problem.maximum is None else problem.maximum[units])
        sol = _solve_block(sub, settings, deadline)
        cut[units] = sol.cut
        blocks.append(sol)
    objective = float((problem.value[:, None] * problem.weights[None, :] * cut).sum())
    const_obj = objective - sum(b.objective for b in blocks)
    bound = min(objective, const_obj + sum(b.bound for b in blocks))
    statuses = sorted({b.status for b in blocks}, key=lambda s: s != "optimal", reverse=True) or ["optimal"]
    methods = sorted({b.method for b in blocks if b.method != "minimum"}) or ["minimum"]
    return Solution(cut, objective, bound, 0.0 if objective <= 0 else (objective - bound) / objective, statuses[0], " / ".join(methods),
                    time.perf_counter() - started, sum(b.lp_seconds for b in blocks), sum(b.mip_seconds for b in blocks),
                    sum(b.binaries for b in blocks), sum(b.core_units for b in blocks), sum(b.fractional_units for b in blocks), sum(b.repaired for b in blocks))


# --------------------------------------------------------------------------- the list problem


def ratio_columns() -> tuple[list[str], list[int]]:
    """Ratio keys (so2, nox, pm, voc) and their columns in :data:`POLLUTANTS`."""
    keys = list(RATIO_COLUMN)
    return keys, [POLLUTANTS.index(RATIO_COLUMN[k]) for k in keys]


@dataclass(frozen=True)
class LineMenu:
    """The menu resolved per line: ``free`` lines are optimised over ``options`` (lines, K)
    with ``minimum`` (lines, levels); the others keep ``fixed_cut`` (exempt: 0; ``keep:
    policy``: the policy's cut). ``entry``: the menu entry (or ``exempt``) of each line."""

    free: np.ndarray
    fixed_cut: np.ndarray
    options: np.ndarray
    minimum: np.ndarray
    entry: np.ndarray
    policy_measures: LineMeasures
    notes: tuple[str, ...]
    negotiated: np.ndarray | None = None  # lines optimised under a negotiated entry (exempt lines); None: no such entry
    maximum: np.ndarray | None = None  # [-] (lines, levels): 0 where a negotiated entry may not cut (below its level), else inf; None: no caps


def _option_table(options: list[float], minimum: np.ndarray) -> np.ndarray:
    """Per line: the options and its minima, sorted, unique, padded with the largest."""
    h = minimum.shape[0]
    both = np.sort(np.concatenate([np.broadcast_to(np.asarray(options, float), (h, len(options))), minimum], axis=1), axis=1)
    dup = np.zeros_like(both, dtype=bool)
    dup[:, 1:] = np.diff(both, axis=1) <= 1e-12
    both = np.where(dup, both[:, -1:], both)
    return np.sort(both, axis=1)


def resolve_menu(inventory: Inventory, policy: Policy, menu: Menu) -> LineMenu:
    """Exemptions of the policy first (they keep 0), then the menu entries (first match wins),
    then the menu's default options for the rest."""
    lines = inventory.lines
    n = len(lines)
    base = assign_measures(inventory, policy)
    file = menu.file or "menu"
    for i, entry in enumerate(menu.menus):
        try:
            _check_rule_names(file, f"menus[{i}]", entry.industry, entry.process, inventory)
        except InputError as exc:
            raise InputError(exc.file, f"{exc.where} ({entry.name})", exc.problem, exc.fix) from None
    free = ~base.exempt
    fixed = np.zeros((n, len(LEVELS)))
    entry_name = np.where(base.exempt, "exempt", "").astype(object)
    blocks: list[tuple[np.ndarray, list[float], np.ndarray]] = []
    notes = []

    def minimum_of(spec: Any, mask: np.ndarray, options: list[float]) -> np.ndarray:
        if spec == "policy":
            return base.reduction[mask]
        cut = (min(options),) * len(LEVELS) if spec is None else spec.as_tuple()  # no minimum: the smallest option
        return np.broadcast_to(np.array(cut, float), (int(mask.sum()), len(LEVELS)))

    negotiated = np.zeros(n, dtype=bool) if any(e.negotiated for e in menu.menus) else None
    maximum = None if negotiated is None else np.full((n, len(LEVELS)), np.inf)
    production = ~lines.derived.to_numpy(bool)
    for entry in menu.menus:
        if entry.negotiated:  # exempt lines only, production lines only
            hits = _match(lines, entry.industry, entry.process, entry.grade, entry.city, entry.flags) & base.exempt & production & ~negotiated
            if entry.largest is not None:
                rank = SimpleNamespace(name=entry.name, industry=entry.industry, process=entry.process, grade=entry.grade, city=entry.city,
                                       flags=entry.flags, **entry.largest.model_dump())
                hits &= rank_selection(inventory, rank, file)[0]
            if not hits.any():
                notes.append(f"menu entry '{entry.name}' (negotiated) matches no exempt line")
            entry_name[hits] = entry.name
            negotiated |= hits
            free |= hits
            maximum[np.ix_(hits, np.arange(len(LEVELS)) < LEVELS.index(entry.from_level))] = 0.0
            opts = list(entry.options if entry.options is not None else menu.options)
            blocks.append((hits, opts, minimum_of(entry.minimum, hits, opts)))
            continue
        hits = _match(lines, entry.industry, entry.process, entry.grade, entry.city, entry.flags) & (entry_name == "")
        if not hits.any():
            notes.append(f"menu entry '{entry.name}' matches no line that is not exempt or settled by an earlier entry")
        entry_name[hits] = entry.name
        if entry.keep == "policy":
            free &= ~hits
            fixed[hits] = base.reduction[hits]
        else:
            opts = list(entry.options if entry.options is not None else menu.options)
            blocks.append((hits, opts, minimum_of(entry.minimum if entry.minimum is not None else menu.minimum, hits, opts)))
    rest = entry_name == ""
    entry_name[rest] = "default"
    blocks.append((rest, list(menu.options), minimum_of(menu.minimum, rest, list(menu.options))))
    width = max(len(o) + len(LEVELS) for _, o, _ in blocks)
    options = np.zeros((n, width))
    minimum = np.zeros((n, len(LEVELS)))
    for mask, opts, mins in blocks:
        if mask.any():
            table = _option_table(opts, mins)
            options[mask] = np.concatenate([table, np.repeat(table[:, -1:], width - table.shape[1], axis=1)], axis=1)
            minimum[mask] = mins
    options[~free] = fixed[~free].max(axis=1, keepdims=True)  # not optimised: one option
    return LineMenu(free, fixed, options, minimum, entry_name, base, tuple(notes), negotiated, maximum)


def _groups(inventory: Inventory, scope: str) -> tuple[list[str], np.ndarray]:
    if scope == "list":
        return ["all"], np.zeros(inventory.size, dtype=np.int64)
    cities = sorted(inventory.lines.city.unique())
    return cities, np.searchsorted(np.array(cities, dtype=object), inventory.lines.city.to_numpy()).astype(np.int64)


def _other_by_group(other: Any, scope: str, n_groups: int, cols: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Other sources' baseline (groups, P) and cut (groups, levels, P) [kg/h]."""
    base = np.zeros((n_groups, len(cols)))
    cut = np.zeros((n_groups, len(LEVELS), len(cols)))
    if other is None or len(other.names) == 0:
        return base, cut
    gid = np.zeros(len(other.names), dtype=np.int64) if scope == "list" else np.asarray(other.city_id)
    rate = other.rate_kg_h[:, cols]
    red = other.reduction[:, 1:, :][:, :, cols]
    np.add.at(base, gid, rate)
    np.add.at(cut, gid, rate[:, None, :] * red)
    return base, cut


@dataclass(frozen=True)
class ListOptimisation:
    """The optimised list: ``measures`` (all lines, exempt ones untouched), the solver's
    ``solution`` (over decision units), ``feasibility`` (one row per city, level, pollutant
    and scope: target, max achievable ratio, shortfall), ``granularity``, and for ``rule``
    granularity the ``policy`` whose rules reproduce the measures."""

    measures: LineMeasures
    solution: Solution
    feasibility: pd.DataFrame
    granularity: str
    line_menu: LineMenu
    groups: list[str]
    policy: Policy | None = None
    relaxed: tuple[dict, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def cut(self) -> np.ndarray:
        """Production cut of every line [-] (lines, levels), negotiated cuts included."""
        return self.measures.production_cut


def _cell_keys(lines: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Rule cells: city × industry × process × grade × the exact set of flags."""
    flags = vocabulary().flags
    flagset = np.full(len(lines), "", dtype=object)
    for f in flags:
        flagset = np.where(lines[f].to_numpy(bool), flagset + "+" + f, flagset)
    keys = pd.DataFrame({"city": lines.city.to_numpy(), "industry": lines.industry.to_numpy(), "process": lines.process.to_numpy(),
                         "grade": lines.grade.to_numpy(), "flagset": flagset})
    cols = list(keys.columns)
    grouped = keys.groupby(cols, sort=True)
    return grouped.ngroup().to_numpy(), grouped.size().reset_index()[cols]


def _check_output_values(inventory: Inventory, free: np.ndarray) -> None:
    """Every line the optimiser may cut needs its output value: the objective is the output
    value lost, so a line without one (blank, read as 0) would look free and be stopped first,
    and the "cheaper" list would be an artefact of the gap."""
    lines = inventory.lines
    missing = free & ~lines.derived.to_numpy(bool) & ~(lines.output_value_wan_yuan_per_day.to_numpy(float) > 0)
    if not missing.any():
        return
    rows = [int(r) for r in lines.source_row.to_numpy()[missing]]
    shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    raise InputError(inventory.source_file, f"row{'s' if len(rows) > 1 else ''} {shown}, column output_value_wan_yuan_per_day",
                     f"{len(rows)} line(s) the optimiser may cut have no output value (日产值; blank or 0), so cutting them would look free and they would be stopped first.",
                     "fill in each line's daily output value in 万元/d (annual output value ÷ operating days will do), then run --optimize again.")


def optimize_list(inventory: Inventory, policy: Policy, menu: Menu, other: Any = None, *, granularity: str = "line") -> ListOptimisation:
    """Design the least-costly list under ``menu`` for ``inventory`` and ``policy`` (its
    exemptions and targets), with the other sources ``other`` (an
    :class:`sim.api.OtherSourceArrays`, for the society-wide target; None: none).

    Raises :class:`InfeasibleTargets` when a target is out of reach and ``on_infeasible`` is
    ``stop``; with ``closest`` that target is lowered to the most the menu can reach.
    """
    if granularity not in ("line", "rule"):
        raise ValueError("granularity is 'line' or 'rule'")
    keys, cols = ratio_columns()
    rate = inventory.mean_rate_kg_h[:, cols]
    value = inventory.lines.output_value_wan_yuan_per_day.to_numpy(float)
    lm = resolve_menu(inventory, policy, menu)
    groups, gid = _groups(inventory, menu.scope)
    G, L, P = len(groups), len(LEVELS), len(cols)
    base = np.zeros((G, P))
    np.add.at(base, gid, rate)
    other_base, other_cut = _other_by_group(other, menu.scope, G, cols)
    fixed = np.zeros((G, L, P))
    np.add.at(fixed, gid[~lm.free], rate[~lm.free][:, None, :] * lm.fixed_cut[~lm.free][:, :, None])
    most = fixed.copy()
    largest = lm.options[lm.free, -1][:, None, None] if lm.maximum is None else np.minimum(lm.options[lm.free, -1][:, None], lm.maximum[lm.free])[:, :, None]
    np.add.at(most, gid[lm.free], rate[lm.free][:, None, :] * largest)
    targets = policy.targets
    t_list = np.array(targets.list.as_tuple())[None, :, None]
    t_soc = np.array(targets.society.as_tuple())[None, :, None]
    list_need = t_list * base[:, None, :]
    soc_need = t_soc * (base + other_base)[:, None, :] - other_cut
    present = np.broadcast_to(base[:, None, :] > 0, (G, L, P))
    need = np.where(present, list_need, 0.0)
    if menu.society:
        need = np.maximum(need, np.where(present, soc_need, 0.0))
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        max_list = np.where(base[:, None, :] > 0, most / base[:, None, :], np.nan)
        max_soc = np.where((base + other_base)[:, None, :] > 0, (most + other_cut) / (base + other_base)[:, None, :], np.nan)
    for g, city in enumerate(groups):
        for l, level in enumerate(LEVELS):
            for p, key in enumerate(keys):
                if not present[g, l, p]:
                    continue
                for scope, ratio, target in (("list", max_list, t_list), ("society", max_soc, t_soc)):
                    if scope == "society" and not menu.society:
                        continue
                    short = float(target[0, l, 0] - ratio[g, l, p])
                    rows.append({"city": city, "level": level, "pollutant": key, "scope": scope, "target": float(target[0, l, 0]),
                                 "max_ratio": float(ratio[g, l, p]), "shortfall": max(short, 0.0), "feasible": short <= 1e-12})
    feasibility = pd.DataFrame(rows, columns=["city", "level", "pollutant", "scope", "target", "max_ratio", "shortfall", "feasible"])
    short = feasibility[~feasibility.feasible]
    relaxed: tuple[dict, ...] = ()
    if len(short):
        if menu.on_infeasible == "stop":
            raise InfeasibleTargets(menu.file or "menu", short.drop(columns="feasible").to_dict("records"))
        relaxed = tuple(short.drop(columns="feasible").to_dict("records"))
        need = np.minimum(need, most * (1.0 - 1e-12))  # as close as the menu allows
    need_free = need - fixed
    notes = list(lm.notes)
    _check_output_values(inventory, lm.free)
    derived_free = lm.free & inventory.lines.derived.to_numpy(bool)
    if derived_free.any():  # truck rows carry no output value of their own (the bundled menu keeps them at policy)
        notes.append(f"{int(derived_free.sum())} derived heavy-truck row(s) are optimised: they carry no output value, so cutting them costs nothing in the objective")
    if granularity == "line":
        idx = np.flatnonzero(lm.free)
        unit_of = idx
        problem = Problem(rate[idx], value[idx], gid[idx], lm.options[idx], lm.minimum[idx], need_free, menu.level_weights.as_array(),
                          None if lm.maximum is None else lm.maximum[idx])
    else:
        codes, _ = _cell_keys(inventory.lines)
        idx = np.flatnonzero(lm.free)
        cell, first = np.unique(codes[idx], return_index=True)
        unit_of = np.searchsorted(cell, codes[idx])
        n_units = len(cell)
        u_rate = np.zeros((n_units, P))
        u_value = np.zeros(n_units)
        np.add.at(u_rate, unit_of, rate[idx])
        np.add.at(u_value, unit_of, value[idx])
        rep = idx[first]
        u_min = np.zeros((n_units, L))
        np.maximum.at(u_min, unit_of, lm.minimum[idx])  # equal within a cell; the largest is safe
        problem = Problem(u_rate, u_value, gid[rep], lm.options[rep], u_min, need_free, menu.level_weights.as_array(),
                          None if lm.maximum is None else lm.maximum[rep])
    solution = solve(problem, menu.solver)
    cut = lm.fixed_cut.copy()
    cut[idx] = solution.cut if granularity == "line" else solution.cut[unit_of]
    measures = _line_measures(lm, cut)
    out = ListOptimisation(measures, solution, feasibility, granularity, lm, groups, None, relaxed, tuple(notes))
    if granularity == "rule":
        out = dataclasses.replace(out, policy=rules_policy(inventory, policy, out, menu))
    return out


def _line_measures(lm: LineMenu, cut: np.ndarray) -> LineMeasures:
    """The optimised cuts as measures; cuts of exempt lines under a negotiated entry are
    negotiated cuts (协商减排), kept apart from the grade measures (their ``reduction`` stays 0)."""
    base = lm.policy_measures
    text = base.measure_text.copy()
    rule = base.rule.copy()
    graded = lm.free if lm.negotiated is None else lm.free & ~lm.negotiated
    text[graded] = describe_reductions(cut[graded])
    rule[graded] = "optimised:" + lm.entry[graded].astype(str)
    negotiated = None
    if lm.negotiated is not None:
        agreed = np.where(lm.negotiated[:, None], cut, 0.0)
        cut = np.where(lm.negotiated[:, None], 0.0, cut)
        words = np.full(agreed.shape, "", dtype=object)
        for value in np.unique(agreed[agreed > 0]):
            pct = _percent(float(value))
            words[agreed == value] = f"协商减排：限产{pct} (negotiated: production -{pct})" if value < 1.0 else "协商减排：停产 (negotiated: stop production)"
        label = np.where(agreed.max(axis=1) > 0, "optimised:" + lm.entry.astype(str), "").astype(object)
        source = np.where(agreed.max(axis=1) > 0, "sim.optimize (negotiated menu entry)", "").astype(object)
        negotiated = NegotiatedMeasures(agreed, np.repeat(agreed[:, :, None], len(POLLUTANTS), axis=2), label, words, source)
    return LineMeasures(cut, base.exempt.copy(), base.exempt_reason.copy(), rule, text, base.reason.copy(), base.notes, negotiated)


# --------------------------------------------------------------------------- rule output


def rules_policy(inventory: Inventory, policy: Policy, opt: ListOptimisation, menu: Menu) -> Policy:
    """A policy whose rules give every line exactly the optimised cut: the policy's targets,
    base ratio and exemptions, then one rule per city × industry × process × grade × flag set
    (rules with more flags first, so each line meets its own cell's rule first). Verified by
    applying it with :func:`sim.rules.policy.assign_measures`."""
    lines = inventory.lines
    m = opt.measures
    reason = pd.Series(m.exempt_reason.astype(str))
    by_exempt_block = (reason.str.startswith("grade ") | reason.str.startswith("flag ")).to_numpy()
    codes, cells = _cell_keys(lines)
    uniq, first = np.unique(codes, return_index=True)
    rules = []
    for code, i in zip(uniq, first):
        if by_exempt_block[i]:
            continue
        key = cells.iloc[code]
        flags = [f for f in key.flagset.split("+") if f]
        rule: dict[str, Any] = {"name": f"{key.city}/{key.industry}/{key.process}/{key.grade}" + "".join(f"+{f}" for f in flags),
                                "city": [key.city], "industry": [key.industry], "process": [key.process], "grade": [key.grade]}
        if flags:
            rule["flags"] = flags
        if m.exempt[i]:
            rule["exempt"] = True
            rule["source"] = f"policy {m.exempt_reason[i]}"
        else:
            rule["reduction"] = {lv: float(m.reduction[i, j]) for j, lv in enumerate(LEVELS)}
            if opt.line_menu.free[i]:
                rule["source"] = f"optimised ({menu.name}: {opt.line_menu.entry[i]})"
            else:
                rule["measure"] = {lv: str(m.measure_text[i, j]) for j, lv in enumerate(LEVELS)}
                rule["source"] = f"kept from policy rule {m.rule[i]}"
        if m.reason[i]:  # the policy's words for the cell (白名单, 保障类 ...) stay with it
            rule["reason"] = str(m.reason[i])
        rules.append((len(flags), rule))
    rules.sort(key=lambda t: -t[0])
    data = {
        "name": f"{policy.name}_optimised",
        "description": f"Least-cost list under menu '{menu.name}' on top of policy '{policy.name}'; one rule per city, industry, process, grade and flag set.",
        "source": f"sim.optimize (menu {menu.name}); exemptions and targets of policy {policy.name}",
        "targets": policy.targets.model_dump(),
        "base_ratio": policy.base_ratio.model_dump(),
        "exempt": policy.exempt.model_dump(),
        "rules": [r for _, r in rules],
    }
    if m.negotiated is not None:  # exempt lines the optimiser cut: negotiated agreements, not rules (exemptions come first)
        agreements = []
        ids, line_ids = lines.enterprise_id.astype(str).to_numpy(), lines.line_id.astype(str).to_numpy()
        for i in np.flatnonzero(m.negotiated.production.max(axis=1) > 0):
            before = 0.0
            for j, level in enumerate(LEVELS):
                cut = float(m.negotiated.production[i, j])
                if cut > before:
                    agreements.append({"enterprise_id": ids[i], "line_id": line_ids[i], "from_level": level, "production_cut": cut,
                                       "source": f"optimised ({menu.name}: {opt.line_menu.entry[i]})"})
                    before = cut
        data["negotiated"] = {"agreements": agreements}
    new = Policy.model_validate(data)
    check = assign_measures(inventory, new)
    if not (np.allclose(check.production_cut, m.production_cut, atol=1e-12) and np.array_equal(check.exempt, m.exempt)):
        raise RuntimeError("the rule policy does not reproduce the optimised measures")
    return new


def policy_yaml(policy: Policy) -> str:
    """A policy as YAML text (rules in flow style, one per line)."""
    data = policy.model_dump(mode="json", exclude_none=True)
    head = {k: v for k, v in data.items() if k != "rules"}
    text = yaml.safe_dump(head, allow_unicode=True, sort_keys=False, width=200)
    text += "rules:\n"
    for rule in data["rules"]:
        rule = {k: v for k, v in rule.items() if not (k == "flags" and not v) and not (k == "exempt" and v is False) and not (k == "measure" and not any(v.values()))}
        text += "  - " + yaml.safe_dump(rule, allow_unicode=True, sort_keys=False, default_flow_style=True, width=100000).strip() + "\n"
    return text


def override_frame(inventory: Inventory, opt: ListOptimisation) -> pd.DataFrame:
    """The per-line result as a measures override table: enterprise and line, menu entry,
    cut per level [-]."""
    lines = inventory.lines
    out = lines[["enterprise_id", "enterprise_name", "city", "industry", "process", "line_id", "grade"]].copy()
    out["menu_entry"] = opt.line_menu.entry
    out["optimised"] = opt.line_menu.free.astype(int)
    if opt.line_menu.negotiated is not None:  # a negotiated cut of an exempt line, not a grade measure
        out["negotiated"] = opt.line_menu.negotiated.astype(int)
    for j, level in enumerate(LEVELS):
        out[level] = opt.measures.production_cut[:, j]
    out["derived"] = lines.derived.astype(int)
    return out


# --------------------------------------------------------------------------- figures and runs


def list_figures(inventory: Inventory, measures: LineMeasures, other: Any, targets: Any) -> pd.DataFrame:
    """Designed figures of a list per level: ratios, daily loss [万元/d], enterprises and lines
    cut, enterprises stopped (every production line stopped)."""
    from sim.physics.metrics import reduction_ratios, targets_met

    lr, sr = reduction_ratios(inventory.mean_rate_kg_h, measures.reduction if measures.negotiated is None else measures.emission_cut(), other.rate_kg_h, other.reduction[:, 1:, :])
    met = targets_met(lr, sr, targets)
    lines = inventory.lines
    prod = ~lines.derived.to_numpy(bool)
    value = lines.output_value_wan_yuan_per_day.to_numpy(float)
    firm = lines.enterprise_code.to_numpy()
    rows = []
    production_cut = measures.production_cut
    for j, level in enumerate(LEVELS):
        c = production_cut[:, j]
        cut = prod & (c > 0)
        stopped_lines = pd.Series(np.where(prod, c >= 1.0, True)).groupby(firm).all()
        has_prod = pd.Series(prod).groupby(firm).any()
        row = {"level": level, "loss_wan_yuan_per_day": float((value * c).sum()), "lines_cut": int(cut.sum()),
               "enterprises_cut": int(np.unique(firm[cut]).size), "enterprises_stopped": int((stopped_lines & has_prod).sum()), "targets_met": bool(met[level]["all"])}
        for k, r in lr[level].items():
            row[f"list_{k}"] = r
        for k, r in sr[level].items():
            row[f"society_{k}"] = r
        rows.append(row)
    return pd.DataFrame(rows)


def run_with_measures(scenario: Scenario, measures: LineMeasures | None = None, prepared: Any = None, **run_kwargs: Any):
    """Run ``scenario`` with the given per-line ``measures`` in place of those its policy
    assigns (the per-line measures override); None: the policy's own. Reuses ``prepared``
    (from :func:`sim.api.prepare`) when given."""
    from sim import api

    prepared = prepared if prepared is not None else api.prepare(scenario)
    if measures is not None:
        if measures.reduction.shape != prepared.measures.reduction.shape:
            raise ValueError("the measures do not belong to this scenario's list")
        engine = dataclasses.replace(prepared.shared.engine, level_reduction=np.column_stack([np.zeros(len(measures.reduction)), measures.production_cut]),
                                     level_emission_cut=api.engine_emission_cut(measures))
        prepared = dataclasses.replace(prepared, measures=measures, shared=dataclasses.replace(prepared.shared, engine=engine))
    return api.run(scenario, prepared=prepared, **run_kwargs)


@dataclass(frozen=True)
class Optimisation:
    """Scenario-level result: the optimised lists by granularity, the runs of the default
    policy and of each optimised list, and their comparison (one row per variant and level)."""

    scenario: Scenario
    menu: Menu
    lists: dict[str, ListOptimisation]
    inventory: Inventory
    default: Any = None
    runs: dict[str, Any] = field(default_factory=dict)
    comparison: pd.DataFrame | None = None

    def summary(self) -> dict:
        """JSON-ready summary: solver figures, feasibility, comparison, run figures."""
        out: dict[str, Any] = {"scenario": self.scenario.name, "menu": self.menu.name, "scope": self.menu.scope, "society": self.menu.society,
                               "level_weights": self.menu.level_weights.model_dump(), "lists": {}}
        for g, lst in self.lists.items():
            out["lists"][g] = {"solver": lst.solution.stats(), "not_reachable": list(lst.relaxed), "notes": list(lst.notes)}
            if lst.measures.negotiated is not None:
                out["lists"][g]["negotiated"] = negotiated_figures(self.inventory, lst.measures)
        out["feasibility"] = next(iter(self.lists.values())).feasibility.to_dict("records") if self.lists else []
        if self.comparison is not None:
            out["comparison"] = self.comparison.to_dict("records")
        runs = {"default": self.default, **{f"optimised_{g}": r for g, r in self.runs.items()}}
        out["runs"] = {}
        for name, result in runs.items():
            if result is None:
                continue
            m = result.metrics
            entry = {"production_loss_wan_yuan": m["production_loss_wan_yuan"], "enterprise_days_limited": m["enterprise_days_limited"],
                     "enterprise_days_stopped": m["enterprise_days_stopped"], "warning_hours": m["warning_hours"]}
            if "pm25" in m:
                entry["pm25"] = {k: m["pm25"].get(k) for k in ("peak_baseline_ug_m3", "peak_scenario_ug_m3", "mean_scenario_ug_m3", "mean_reduction_during_warnings_ug_m3",
                                                                "peak_reduction_during_warnings_ug_m3", "heavy_days_baseline", "heavy_days_scenario")}
            out["runs"][name] = entry
        return out


def optimize(scenario: Scenario, menu: Menu | str | Path | None = None, *, granularity: str | None = None, simulate: bool = True, **run_kwargs: Any) -> Optimisation:
    """Optimise the scenario's list under ``menu`` (default: the bundled optimiser menu) and,
    with ``simulate``, run the scenario with the guideline default and with each optimised
    list (same warnings, calendars, atmosphere) for the comparison."""
    from sim import api

    if scenario.resolved_policy.negotiated is not None:
        # the optimiser designs the list from the grade measures up; agreements already signed
        # are not (yet) fixed givens of its problem, so it would quietly plan without them
        raise InputError(scenario.resolved_policy.file or scenario.source_file, "key negotiated",
                         "--optimize does not take a policy's negotiated cuts (agreements) as given yet; its list would leave them out.",
                         "optimise the policy without 'negotiated' and let the menu propose negotiated cuts "
                         "(an entry with 'negotiated: true', as in scenarios/policies/optimizer_menu_negotiated.yaml).")
    if menu is None or isinstance(menu, (str, Path)):
        menu = load_menu(menu if menu is not None else DEFAULT_MENU)
    grans = menu.granularities if granularity is None else (("line", "rule") if granularity == "both" else (granularity,))
    prepared = api.prepare(scenario)
    policy = scenario.resolved_policy
    lists = {g: optimize_list(prepared.inventory, policy, menu, prepared.other, granularity=g) for g in grans}
    frames = [list_figures(prepared.inventory, prepared.measures, prepared.other, policy.targets).assign(variant="default")]
    frames += [list_figures(prepared.inventory, lst.measures, prepared.other, policy.targets).assign(variant=f"optimised_{g}") for g, lst in lists.items()]
    comparison = pd.concat(frames, ignore_index=True)
    comparison.insert(0, "variant", comparison.pop("variant"))
    default, runs = None, {}
    if simulate:
        default = run_with_measures(scenario, None, prepared, **run_kwargs)
        for g, lst in lists.items():
            named = scenario.model_copy(update={"name": f"{scenario.name} (optimised, {g})"})
            if g == "rule":
                named = named.model_copy(update={"policy": lst.policy})
                runs[g] = api.run(named, **run_kwargs)
            else:
                runs[g] = run_with_measures(named, lst.measures, prepared, **run_kwargs)
    return Optimisation(scenario, menu, lists, prepared.inventory, default, runs, comparison)


# --------------------------------------------------------------------------- command line


def write_optimisation(opt: Optimisation, folder: Path, *, report: bool = True, lang: str = "en") -> list[str]:
    """Write the optimisation into ``folder``: ``optimisation.json`` (solver, feasibility,
    comparison, run figures), ``comparison.csv``, ``measures_override.csv`` (line
    granularity), ``optimised_policy.yaml`` (rule granularity), and one folder of ordinary
    run outputs (measures.csv, measures.xlsx, metrics.json, ...) per variant."""
    from sim.outputs import write_csv, write_result

    written = []
    (folder / "optimisation.json").write_text(json.dumps(opt.summary(), indent=2, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
    written.append("optimisation.json")
    if opt.comparison is not None:
        write_csv(opt.comparison, folder / "comparison.csv")
        written.append("comparison.csv")
    if "line" in opt.lists:
        write_csv(override_frame(opt.inventory, opt.lists["line"]), folder / "measures_override.csv")
        written.append("measures_override.csv")
    if "rule" in opt.lists:
        one_line = lambda name: " ".join(str(name).split())  # noqa: E731 - a name with a line break must not end the comment
        header = ("# Optimised emergency measures written by sim.optimize: a policy file any scenario can use as is\n"
                  f"# (policy: optimised_policy.yaml). Menu '{one_line(opt.menu.name)}', scenario '{one_line(opt.scenario.name)}'.\n")
        (folder / "optimised_policy.yaml").write_text(header + policy_yaml(opt.lists["rule"].policy), encoding="utf-8")
        written.append("optimised_policy.yaml")
    for name, result in (("default", opt.default), *((f"optimised_{g}", r) for g, r in opt.runs.items())):
        if result is not None:
            (folder / name).mkdir()
            write_result(result, folder / name, report=report, lang=lang)
            written.append(name + "/")
    return written


def negotiated_figures(inventory: Inventory, measures: LineMeasures) -> dict:
    """What an optimised list asks of exempt lines as negotiated cuts (协商减排): lines and
    enterprises, and the output value it costs per day at each level [万元/d]."""
    agreed = measures.negotiated.production
    lines = agreed.max(axis=1) > 0
    value = inventory.lines.output_value_wan_yuan_per_day.to_numpy(float)
    return {"lines": int(lines.sum()), "enterprises": int(np.unique(inventory.lines.enterprise_id.to_numpy()[lines]).size),
            "enterprise_ids": sorted({str(e) for e in inventory.lines.enterprise_id.to_numpy()[lines]}),
            "loss_wan_yuan_per_day": {lv: float(value @ agreed[:, j]) for j, lv in enumerate(LEVELS)}}


def _say_summary(opt: Optimisation, say) -> None:
    for g, lst in opt.lists.items():
        s = lst.solution
        say(f"optimised ({g}): {s.method}, {s.status}; objective {s.objective:,.1f}, bound {s.bound:,.1f}, gap {s.gap:.3%}; {s.seconds:.1f} s")
        if lst.measures.negotiated is not None:
            f = negotiated_figures(opt.inventory, lst.measures)
            loss = ", ".join(f"{lv} {v:,.0f}" for lv, v in f["loss_wan_yuan_per_day"].items())
            say(f"  negotiated cuts (协商减排) proposed for {f['lines']} exempt lines of {f['enterprises']} enterprises; output value [万元/d]: {loss}")
        for r in lst.relaxed:
            say(f"  not reachable: {r['pollutant']} at {r['level']} ({r['scope']}, {r['city']}): at most {r['max_ratio']:.1%} against {r['target']:.0%}")
    if opt.comparison is not None:
        for _, row in opt.comparison.iterrows():
            ratios = ", ".join(f"{k} {row[f'list_{k}']:.1%}" for k in ratio_columns()[0] if pd.notna(row.get(f"list_{k}")))
            say(f"  {row.variant:16s} {row.level:6s} loss {row.loss_wan_yuan_per_day:,.0f} 万元/d, {row.enterprises_cut} enterprises cut; list {ratios}; targets {'met' if row.targets_met else 'NOT met'}")


def run_cli(args: Any, say) -> int:
    """``run_scenario.py SCENARIO.yaml --optimize [MENU.yaml] [--out DIR]``: writes to ``DIR``
    (default: the scenario's output.dir + ``_optimised``). Input problems, including targets
    out of reach (with ``on_infeasible: stop``), raise InputError (exit 2)."""
    from sim.api import with_overrides
    from sim.outputs import OutputFolder, scenario_inputs
    from sim.config.scenario import load_scenario

    started = time.perf_counter()
    if getattr(args, "compare", None):
        raise InputError(None, "--optimize", "--optimize works on one scenario, not with --compare.", "write: run_scenario.py SCENARIO.yaml --optimize [MENU.yaml].")
    if args.scenario is None:
        raise InputError(None, "--optimize", "no scenario given.", "name the scenario first: run_scenario.py SCENARIO.yaml --optimize [MENU.yaml].")
    scenario = with_overrides(load_scenario(args.scenario), seed=args.seed, members=args.members)
    menu_file = Path(args.optimize) if isinstance(args.optimize, (str, Path)) else DEFAULT_MENU
    menu = load_menu(menu_file)
    out_dir = args.out if getattr(args, "out", None) is not None else Path(str(scenario.output.dir) + "_optimised")
    with OutputFolder(out_dir, [*scenario_inputs(scenario), menu_file]) as target:  # checked and locked before the work
        say(f"optimising '{scenario.name}' under menu '{menu.name}' ({menu.granularity}, scope {menu.scope})")
        opt = optimize(scenario, menu, executor=getattr(args, "executor", "serial"), scheduler=getattr(args, "scheduler", None), quiet=getattr(args, "quiet", True))
        _say_summary(opt, say)
        report = scenario.output.report and not getattr(args, "no_report", False)
        written = target.commit(lambda folder: write_optimisation(opt, folder, report=report, lang=getattr(args, "lang", "en")))
    say(f"wrote {written}")
    say(f"done in {time.perf_counter() - started:.1f} s")
    return 0
