"""Invariants over the bundled demo list: monotone in level, exempt lines untouched, totals
reconcile across emissions.csv, emissions_by_group.csv and measures.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.inputs.inventory import POLLUTANTS
from sim.config.scenario import LEVELS, ScheduledWarning, WarningsConfig

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


def test_written_files_reconcile(demo_result, tmp_path):
    """With the cement calendar and the other sources in force, the three files written agree:
    every input row is one line of measures.csv (source_row), the derived truck rows come one
    per bulk-transport enterprise from a row of that enterprise, and the period totals of
    emissions.csv, emissions_by_group.csv and the baseline [kg/d] of measures.csv reconcile."""
    from sim.outputs import write_tables

    write_tables(demo_result, tmp_path)
    e = pd.read_csv(tmp_path / "emissions.csv")
    g = pd.read_csv(tmp_path / "emissions_by_group.csv", dtype={"grade": str})
    m = pd.read_csv(tmp_path / "measures.csv", dtype={"enterprise_id": str, "line_id": str, "grade": str})
    listed = pd.read_csv(ROOT / "enterprises" / "demo_city.csv", dtype=str)
    assert demo_result.scenario.staggered_production and demo_result.other.names

    # no silent loss: every input row once, derived rows accounted for
    real, derived = m[m.derived == 0], m[m.derived == 1]
    assert sorted(real.source_row) == list(range(2, len(listed) + 2))
    assert list(real.enterprise_id) == list(listed.enterprise_id)
    bulk = listed[listed.bulk_transport == "1"]
    assert sorted(derived.enterprise_id) == sorted(bulk.enterprise_id.unique())
    row_of = dict(zip(real.source_row, real.enterprise_id))
    assert all(row_of[r] == ent for r, ent in zip(derived.source_row, derived.enterprise_id))

    # hourly file = grouped file, per variant and pollutant (files keep 9 significant digits)
    for variant in ("baseline", "scenario"):
        hourly = e[e.variant == variant][list(POLLUTANTS)].sum()
        grouped = g[g.variant == variant].groupby("pollutant").total_t.sum()
        for p in POLLUTANTS:
            assert grouped[p] == pytest.approx(hourly[p], rel=1e-7)

    # the baseline of measures.csv [kg/d], shaped by each line's temporal profile, is the
    # baseline of emissions_by_group.csv per city, industry and grade [t]; the file lists the
    # lines in the published order (list_order), the run's arrays in inventory order
    inv = demo_result.inventory
    hours = inv.profile_matrix(demo_result.times).sum(axis=1)[inv.profile_id][demo_result.list_order]  # [h]
    per_line = m[[f"baseline_{p}_kg_d" for p in POLLUTANTS]].to_numpy() / 24.0 * hours[:, None] / 1000.0
    expected = pd.DataFrame(per_line, columns=list(POLLUTANTS)).assign(city=m.city, industry=m.industry, grade=m.grade)
    expected = expected.groupby(["city", "industry", "grade"])[list(POLLUTANTS)].sum()
    base = g[(g.variant == "baseline") & ~g.industry.str.startswith("other:")].pivot_table(index=["city", "industry", "grade"], columns="pollutant", values="total_t")
    np.testing.assert_allclose(base.loc[expected.index, list(POLLUTANTS)].to_numpy(), expected.to_numpy(), rtol=1e-7, atol=1e-9)

    # other sources: category totals [t/d] times their temporal weights, untouched in the baseline
    other = g[(g.variant == "baseline") & g.industry.str.startswith("other:")]
    weights = demo_result.other.weights.sum(axis=1)  # [h]
    for k, name in enumerate(demo_result.other.names):
        for j, p in enumerate(POLLUTANTS):
            got = other[(other.industry == f"other:{name}") & (other.pollutant == p)].total_t.sum()
            assert got == pytest.approx(demo_result.other.rate_kg_h[k, j] * weights[k] / 1000.0, rel=1e-7, abs=1e-12)
