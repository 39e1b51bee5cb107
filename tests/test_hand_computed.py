"""A 4-line list with direct rates, worked by hand.

Lines (kg/h while operating): E1 cement kiln grade B, NOx 10, PM10 2, PM2.5 1, 24 h, 48 万元/d;
E2 steel sinter grade C, SO2 20, 24 h, 24 万元/d; E3 coating grade A (exempt), VOC 12, 24 h;
E4 coating grade D, VOC 6 for 12 h/d (mean 3 kg/h), 6 万元/d.
Policy: A exempt; cement B 0/20%/stop; D stop; base 30/40/50 %.
Orange warning hours 12-36 of 48; response delay 6 h (cement 12 h).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, run

TOL = 1e-12


@pytest.fixture
def result(tiny_scenario, write_scenario):
    return run(load_scenario(write_scenario(tiny_scenario)))


def test_list_ratio_by_hand(result):
    ratio = result.metrics["list_ratio"]
    assert ratio["yellow"] == pytest.approx({"so2": 0.3, "nox": 0.0, "pm": 0.0, "voc": 0.2}, abs=TOL)
    assert ratio["orange"] == pytest.approx({"so2": 0.4, "nox": 0.2, "pm": 0.2, "voc": 0.2}, abs=TOL)
    assert ratio["red"] == pytest.approx({"so2": 0.5, "nox": 1.0, "pm": 1.0, "voc": 0.2}, abs=TOL)
    met = result.metrics["targets_met"]
    assert met["orange"]["list"] == {"so2": True, "nox": False, "pm": False, "voc": False}
    assert met["red"]["all"] is False


def test_hourly_emissions_with_response_delay(result):
    scen = result.emissions[result.emissions.variant == "scenario"].reset_index(drop=True)
    base = result.emissions[result.emissions.variant == "baseline"].reset_index(drop=True)
    hours = np.arange(48)
    so2 = np.where((hours >= 18) & (hours < 36), 12.0, 20.0) / 1000  # steel C: base 40 % after 6 h
    nox = np.where((hours >= 24) & (hours < 36), 8.0, 10.0) / 1000   # cement B: 20 % after 12 h
    voc = np.where((hours >= 18) & (hours < 36), 12.0, 15.0) / 1000  # D stops after 6 h, A exempt
    np.testing.assert_allclose(scen.so2, so2, rtol=0, atol=TOL)
    np.testing.assert_allclose(scen.nox, nox, rtol=0, atol=TOL)
    np.testing.assert_allclose(scen.voc, voc, rtol=0, atol=TOL)
    np.testing.assert_allclose(base.so2, 0.020, atol=TOL)
    np.testing.assert_allclose(base.voc, 0.015, atol=TOL)


def test_production_loss_and_enterprise_days(result):
    m = result.metrics
    # E1 48 × 0.2 × 12/24 + E2 24 × 0.4 × 18/24 + E4 6 × 1.0 × 18/24
    assert m["production_loss_wan_yuan"] == pytest.approx(4.8 + 7.2 + 4.5, abs=1e-9)
    assert m["enterprise_days_limited"] == pytest.approx((12 + 18) / 24, abs=1e-12)
    assert m["enterprise_days_stopped"] == pytest.approx(18 / 24, abs=1e-12)
    assert m["warning_hours"] == {"yellow": 0, "orange": 24, "red": 0}


def test_measures_list_by_hand(result):
    rows = result.measures.set_index("enterprise_id")
    assert rows.loc["E4", "baseline_voc_kg_d"] == pytest.approx(72.0)
    assert rows.loc["E4", "yellow_voc_reduction_kg_d"] == pytest.approx(72.0)
    assert rows.loc["E1", "orange_nox_reduction_kg_d"] == pytest.approx(48.0)
    assert rows.loc["E3", "exempt_reason"] == "grade A"
    assert rows.loc["E3", "red_voc_reduction_kg_d"] == 0.0
    assert rows.loc["E2", "rule"] == "base_ratio"
    assert rows.loc["E1", "red_measure"] == "停产 (stop production)"
    assert rows.loc["E2", "orange_measure"] == "限产40% (production -40%)"
    assert rows.loc["E3", "orange_measure"] == "豁免：A级企业自主减排 (exempt: grade A, self-directed reductions)"
    assert rows.loc["E3", "reason"] == "A级企业自主减排 (grade A, self-directed reductions)"


def test_upgrade_and_lift(tiny_scenario, write_scenario):
    """Yellow 12-24 then red 24-30: the steel line (delay 6) is at yellow 18-24... then red 30-30,
    and relaxes at once when the warning ends at 30."""
    tiny_scenario["warnings"]["schedule"] = [
        {"level": "yellow", "start": "2023-12-04T12:00", "end": "2023-12-05T00:00"},
        {"level": "red", "start": "2023-12-05T00:00", "end": "2023-12-05T10:00"},
    ]
    res = run(load_scenario(write_scenario(tiny_scenario)))
    so2 = res.emissions[res.emissions.variant == "scenario"].so2.to_numpy() * 1000
    expected = np.full(48, 20.0)
    expected[18:30] = 14.0  # yellow 30 % from 18 (delay 6) ...
    expected[30:34] = 10.0  # ... red 50 % from 24 + 6 = 30 until the lift at 34
    np.testing.assert_allclose(so2, expected, atol=1e-9)
