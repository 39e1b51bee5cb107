"""Property tests: random valid lists and policies never break the invariants.

Monotone in level, exempt lines untouched, ratios in [0, 1], emissions never negative and
never above baseline, totals reconcile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api import run
from sim.inputs.inventory import POLLUTANTS, load_emission_factors
from sim.config.scenario import LEVELS, Policy, Scenario

from conftest import FIXTURES

FACTORS = load_emission_factors(FIXTURES / "factors")
PROCESSES = [k for k in FACTORS.processes.index if k[0] != "road_transport"]
GRADES = ["A+", "A", "B", "B-", "C", "D", "leading", "non_leading", "general"]
FLAGS = ["livelihood", "ultra_low", "whitelist", "restricted"]

fraction = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def reductions(draw):
    a, b, c = sorted(draw(st.lists(fraction, min_size=3, max_size=3)))
    return {"yellow": a, "orange": b, "red": c}


@st.composite
def policies(draw):
    exempt = {"grades": draw(st.lists(st.sampled_from(GRADES), max_size=3, unique=True)),
              "flags": draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))}
    rules = []
    for i in range(draw(st.integers(0, 4))):
        rule = {"name": f"r{i}"}
        exempt_rule = draw(st.integers(0, 4)) == 0
        # a reduction rule may not name an exempted grade or flag (a contradiction, an input error)
        grades = GRADES if exempt_rule else [g for g in GRADES if g not in exempt["grades"]]
        flags = FLAGS if exempt_rule else [f for f in FLAGS if f not in exempt["flags"]]
        if draw(st.booleans()):
            rule["industry"] = [draw(st.sampled_from(PROCESSES))[0]]
        if grades and draw(st.booleans()):
            rule["grade"] = draw(st.lists(st.sampled_from(grades), min_size=1, max_size=3, unique=True))
        if flags and draw(st.booleans()):
            rule["flags"] = [draw(st.sampled_from(flags))]
        if exempt_rule:
            rule["exempt"] = True
        else:
            rule["reduction"] = draw(reductions())
        rules.append(rule)
    return {"base_ratio": draw(reductions()), "exempt": exempt, "rules": rules}


@st.composite
def enterprise_lists(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        industry, process = draw(st.sampled_from(PROCESSES))
        row = {"enterprise_id": f"E{draw(st.integers(0, 5))}", "enterprise_name": "x", "city": "c", "industry": industry,
               "grade": draw(st.sampled_from(GRADES)), "line_id": f"L{i}", "process": process,
               "hours_per_day": draw(st.sampled_from([8, 12, 24])),
               "output_value_wan_yuan_per_day": draw(st.floats(0, 100, allow_nan=False))}
        for p in POLLUTANTS:
            row[f"{p}_kg_h"] = draw(st.floats(0, 50, allow_nan=False))
        row["pm25_kg_h"] = min(row["pm25_kg_h"], row["pm10_kg_h"])
        for flag in FLAGS:
            row[flag] = int(draw(st.integers(0, 5)) == 0)
        rows.append(row)
    return pd.DataFrame(rows)


@st.composite
def schedules(draw):
    out = []
    for _ in range(draw(st.integers(0, 3))):
        s = draw(st.integers(0, 46))
        e = draw(st.integers(s + 1, 48))
        out.append({"level": draw(st.sampled_from(LEVELS)), "start": pd.Timestamp("2024-01-01") + pd.Timedelta(hours=s),
                    "end": pd.Timestamp("2024-01-01") + pd.Timedelta(hours=e)})
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=enterprise_lists(), policy=policies(), schedule=schedules(), delay=st.integers(0, 12))
def test_random_lists_and_policies_keep_invariants(tmp_path, table, policy, schedule, delay):
    path = tmp_path / "list.csv"
    table.to_csv(path, index=False)
    scenario = Scenario.model_validate({
        "name": "prop", "period": {"start": "2024-01-01T00:00", "end": "2024-01-03T00:00"},
        "inventory": {"enterprises": str(path), "emission_factors": str(FIXTURES / "factors")},
        "policy": Policy.model_validate(policy), "warnings": {"schedule": schedule},
        "response": {"delay_hours": {"default": delay}}, "output": {"dir": str(tmp_path / "out")},
    })
    res = run(scenario)
    m = res.measures_by_line
    assert (np.diff(m.reduction, axis=1) >= 0).all()
    assert (m.reduction[m.exempt] == 0).all()
    for ratios in (res.metrics["list_ratio"], res.metrics["society_ratio"]):
        for level in LEVELS:
            for r in ratios[level].values():
                assert r is None or -1e-12 <= r <= 1 + 1e-12
    scen, base = res.scenario_run, res.baseline_run
    assert (scen.hourly_kg_h >= -1e-12).all()
    assert (scen.hourly_kg_h <= base.hourly_kg_h + 1e-9).all()
    np.testing.assert_allclose(scen.line_total_kg[m.exempt], base.line_total_kg[m.exempt], rtol=1e-12)
    np.testing.assert_allclose(scen.hourly_kg_h.sum(axis=0), scen.line_total_kg.sum(axis=0), rtol=1e-9, atol=1e-9)
    assert res.metrics["production_loss_wan_yuan"] >= 0
