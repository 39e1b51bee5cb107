"""Edge cases of the calendar and the list: a one-hour period, a one-line list, every line
exempt, a list without emissions, a leap day, a year end, a calendar rule over the whole
period. Each runs and writes its tables without an error or a warning (warnings are errors in
the test suite, so a division by zero would fail here)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.outputs import write_tables

from conftest import FIXTURES

HEADER, *ROWS = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
STEEL = 1  # E2: steel sinter, grade C, 20 kg/h SO2 for 24 h (the only SO2 of the list)


def _run(tmp_path, write_scenario, data):
    result = run(load_scenario(write_scenario(data)))
    folder = tmp_path / "tables"
    folder.mkdir()
    write_tables(result, folder)
    return result, folder


def _so2(result, variant):
    e = result.emissions
    return e[e.variant == variant].so2.to_numpy() * 1000.0  # [kg/h]


def _list(tmp_path, rows) -> str:
    path = tmp_path / "list.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_one_hour_period(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["period"] = {"start": "2023-12-04T12:00", "end": "2023-12-04T13:00"}
    data["response"] = {"delay_hours": {"default": 0}}
    result, folder = _run(tmp_path, write_scenario, data)
    assert len(result.times) == 1 and result.metrics["period"]["hours"] == 1
    assert result.metrics["warning_hours"]["orange"] == 1
    assert _so2(result, "scenario")[0] == pytest.approx(0.6 * 20.0)  # steel C: base ratio, orange 40 %
    assert len(pd.read_csv(folder / "emissions.csv")) == 2
    assert pd.read_csv(folder / "warnings.csv").start.tolist() == ["2023-12-04T12:00"]


def test_one_line_list(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["inventory"]["enterprises"] = _list(tmp_path, [ROWS[STEEL]])
    result, folder = _run(tmp_path, write_scenario, data)
    ratio = result.metrics["list_ratio"]
    assert ratio["orange"]["so2"] == pytest.approx(0.4) and ratio["red"]["so2"] == pytest.approx(0.5)
    assert ratio["orange"]["voc"] is None, "no VOC on the list: no ratio, not a division by zero"
    m = pd.read_csv(folder / "measures.csv")
    assert len(m) == 1 and m.source_row.tolist() == [2]


def test_every_line_exempt(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["policy"] = {**data["policy"], "exempt": {"grades": ["A", "B", "C", "D"]}, "rules": []}
    data["staggered_production"] = []
    result, _ = _run(tmp_path, write_scenario, data)
    for level in ("yellow", "orange", "red"):
        assert all(r == 0.0 for r in result.metrics["list_ratio"][level].values() if r is not None)
    assert (result.measures_by_line.reduction == 0).all() and result.measures_by_line.exempt.all()
    np.testing.assert_array_equal(result.scenario_run.hourly_kg_h, result.baseline_run.hourly_kg_h)
    assert result.metrics["production_loss_wan_yuan"] == 0.0
    assert result.metrics["enterprise_days_limited"] == 0.0 and result.metrics["enterprise_days_stopped"] == 0.0


def test_list_without_emissions(tmp_path, write_scenario, tiny_scenario):
    zero = [",".join(cell if not (12 <= i <= 17) else "0" for i, cell in enumerate(row.split(","))) for row in ROWS]
    data = copy.deepcopy(tiny_scenario)
    data["inventory"]["enterprises"] = _list(tmp_path, zero)
    result, _ = _run(tmp_path, write_scenario, data)
    assert all(r is None for level in result.metrics["list_ratio"].values() for r in level.values())
    assert result.metrics["emissions_t"]["baseline"]["so2"] == 0.0


def test_leap_day(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["period"] = {"start": "2024-02-28T00:00", "end": "2024-03-01T12:00"}
    data["warnings"] = {"schedule": [{"level": "red", "start": "2024-02-29T00:00", "end": "2024-03-01T00:00"}]}
    data["response"] = {"delay_hours": {"default": 0}}
    data["staggered_production"] = [{"industry": "steel", "start": "2024-02-29T06:00", "end": "2024-02-29T18:00", "reduction": 0.8}]
    result, folder = _run(tmp_path, write_scenario, data)
    times = pd.read_csv(folder / "emissions.csv").query("variant == 'baseline'").time.tolist()
    assert len(times) == 60 and "2024-02-29T23:00" in times and times[-1] == "2024-03-01T11:00"
    so2 = _so2(result, "scenario")
    np.testing.assert_allclose(so2[:24], 20.0)
    np.testing.assert_allclose(so2[24:30], 20.0 * 0.5)  # red: base ratio 50 %
    np.testing.assert_allclose(so2[30:42], 20.0 * 0.2)  # the calendar is stricter
    np.testing.assert_allclose(so2[48:], 20.0)
    assert result.metrics["warning_hours"]["red"] == 24


def test_year_end(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["period"] = {"start": "2023-12-31T12:00", "end": "2024-01-01T12:00"}
    data["warnings"] = {"schedule": [{"level": "yellow", "start": "2023-12-31T18:00", "end": "2024-01-01T06:00"}]}
    data["response"] = {"delay_hours": {"default": 0}}
    result, folder = _run(tmp_path, write_scenario, data)
    assert result.times[0] == pd.Timestamp("2023-12-31T12:00") and result.times[-1] == pd.Timestamp("2024-01-01T11:00")
    assert (result.times[1:] - result.times[:-1] == pd.Timedelta(hours=1)).all()
    so2 = _so2(result, "scenario")
    np.testing.assert_allclose(so2[6:18], 20.0 * 0.7)
    np.testing.assert_allclose(np.r_[so2[:6], so2[18:]], 20.0)
    w = pd.read_csv(folder / "warnings.csv")
    assert w.start.tolist() == ["2023-12-31T18:00"] and w.end.tolist() == ["2024-01-01T06:00"]
    assert result.metrics["period"] == {"start": "2023-12-31T12:00:00", "end": "2024-01-01T12:00:00", "hours": 24}


def test_calendar_rule_over_the_whole_period(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["warnings"] = {"schedule": []}
    data["staggered_production"] = [{"industry": "steel", "start": "2023-11-15", "end": "2024-03-16", "reduction": 0.5}]
    result, _ = _run(tmp_path, write_scenario, data)
    np.testing.assert_allclose(_so2(result, "scenario"), 10.0)
    np.testing.assert_allclose(_so2(result, "baseline"), 20.0)
    lines = result.inventory.lines
    steel = (lines.industry == "steel").to_numpy()
    np.testing.assert_allclose(result.scenario_run.line_total_kg[~steel], result.baseline_run.line_total_kg[~steel])
    # the production loss is half the steel works' output value over the two days [万元]
    assert result.metrics["production_loss_wan_yuan"] == pytest.approx(0.5 * 24.0 * 2)
