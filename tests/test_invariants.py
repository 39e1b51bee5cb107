"""Invariants over the bundled demo list: monotone in level, exempt lines untouched, totals
reconcile across emissions.csv, emissions_by_group.csv and measures.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.inventory import POLLUTANTS
from sim.scenario import LEVELS, ScheduledWarning, WarningsConfig

from conftest import ROOT

RTOL = 1e-9


@pytest.fixture(scope="module")
def demo():
    return load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml")


@pytest.fixture(scope="module")
def demo_result(demo):
    return run(demo)


def test_higher_level_never_raises_any_line(demo_result):
    m = demo_result.measures
    for lower, higher in zip(LEVELS, LEVELS[1:]):
        assert (m[f"{higher}_reduction"] >= m[f"{lower}_reduction"]).all()
        for p in POLLUTANTS:
            assert (m[f"{higher}_{p}_reduction_kg_d"] >= m[f"{lower}_{p}_reduction_kg_d"] - 1e-12).all()
    ratios = demo_result.metrics["list_ratio"]
    for lower, higher in zip(LEVELS, LEVELS[1:]):
        for p, r in ratios[lower].items():
            assert ratios[higher][p] >= r - 1e-12


def test_exempt_lines_untouched(demo_result):
    exempt = demo_result.measures_by_line.exempt
    assert exempt.sum() > 50  # the demo has A, leading, ultra-low and white-listed lines
    assert (demo_result.measures_by_line.reduction[exempt] == 0).all()
    # exempt lines outside the cement calendar emit exactly their baseline in the scenario
    lines = demo_result.inventory.lines
    cal = (lines.industry == "cement").to_numpy() & (lines.process == "clinker_kiln").to_numpy()
    free = exempt & ~cal
    np.testing.assert_allclose(demo_result.scenario_run.line_total_kg[free], demo_result.baseline_run.line_total_kg[free], rtol=RTOL)


def test_scenario_never_above_baseline(demo_result):
    e = demo_result.emissions
    base = e[e.variant == "baseline"][list(POLLUTANTS)].to_numpy()
    scen = e[e.variant == "scenario"][list(POLLUTANTS)].to_numpy()
    assert (scen <= base * (1 + 1e-12)).all()
    assert (scen >= 0).all()


def test_totals_reconcile_hourly_and_by_group(demo_result):
    e = demo_result.emissions
    g = demo_result.emissions_by_group
    for variant in ("baseline", "scenario"):
        hourly = e[e.variant == variant][list(POLLUTANTS)].sum()
        grouped = g[g.variant == variant].groupby("pollutant").total_t.sum()
        for p in POLLUTANTS:
            assert grouped[p] == pytest.approx(hourly[p], rel=RTOL)
            assert demo_result.metrics["emissions_t"][variant][p] == pytest.approx(hourly[p], rel=RTOL)


def test_reduction_over_warning_equals_measures(demo):
    """With no delay and no calendars, Σ (baseline − scenario) over the warning hours equals the
    measures list's orange reductions weighted by each line's temporal profile."""
    s = demo.replace(
        staggered_production=[],
        response=demo.response.model_copy(update={"delay_hours": {"default": 0}}),
        inventory=demo.inventory.model_copy(update={"other_sources": None}),
    )
    res = run(s)
    inv = res.inventory
    hours = slice(72, 144)  # 4-7 December
    weights = inv.profile_matrix(res.times)[:, hours].sum(axis=1)[inv.profile_id]  # [h]
    expected_kg = (res.measures[[f"orange_{p}_reduction_kg_d" for p in POLLUTANTS]].to_numpy() / 24.0) * weights[:, None]
    e = res.emissions
    diff = (e[e.variant == "baseline"][list(POLLUTANTS)].to_numpy() - e[e.variant == "scenario"][list(POLLUTANTS)].to_numpy())
    np.testing.assert_allclose(diff[hours].sum(axis=0) * 1000.0, expected_kg.sum(axis=0), rtol=1e-9)
    outside = np.r_[0:72, 144:216]
    np.testing.assert_allclose(diff[outside], 0.0, atol=1e-12)


def test_every_input_row_accounted_for(demo_result):
    listed = pd.read_csv(ROOT / "enterprises" / "demo_city.csv", dtype=str)
    m = demo_result.measures
    real = m[m.derived == 0]
    assert len(real) == len(listed)
    assert sorted(real.source_row) == list(range(2, len(listed) + 2))
    firms = listed.loc[listed.bulk_transport == "1", "enterprise_id"].nunique()
    assert (m.derived == 1).sum() == firms


def test_higher_scheduled_level_never_raises_emissions(demo):
    """Run the same warning at each level: hourly emissions fall (weakly) as the level rises."""
    runs = []
    for level in LEVELS:
        w = ScheduledWarning(level=level, start=demo.period.start.replace(day=4), end=demo.period.start.replace(day=7))
        runs.append(run(demo.replace(warnings=WarningsConfig(schedule=[w]))).scenario_run)
    for lower, higher in zip(runs, runs[1:]):
        assert (higher.hourly_kg_h <= lower.hourly_kg_h + 1e-9).all()
        assert (higher.line_total_kg <= lower.line_total_kg + 1e-9).all()
        assert higher.production_loss_wan_yuan >= lower.production_loss_wan_yuan
