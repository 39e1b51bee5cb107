"""PM2.5 projection wired into a run: contract columns, calibration identities, linear model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.errors import InputError
from sim.config.scenario import AtmosphereConfig

from conftest import ROOT

PM25_COLUMNS = ["time", "baseline", "scenario", "background", "local_baseline", "local_scenario", "primary",
                "sulfate", "nitrate", "ammonium", "soa", "aqi_baseline", "aqi_scenario", "warning_level"]


@pytest.fixture(scope="module")
def demo():
    return load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml")


@pytest.fixture(scope="module")
def result(demo):
    return run(demo)


def test_pm25_frame_has_contract_columns(result):
    assert list(result.pm25.columns) == PM25_COLUMNS
    assert len(result.pm25) == 216
    assert set(result.pm25.warning_level) == {"none", "orange"}


def test_calibration_identities(result, demo):
    pm = result.pm25
    obs = pd.read_csv(ROOT / "scenarios" / "data" / "demo_episode_2023-12.csv").pm25_baseline_ug_m3.to_numpy()[:216]
    positive = pm.background.to_numpy() > 0
    np.testing.assert_allclose(pm.baseline.to_numpy()[positive], obs[positive], rtol=1e-12)
    assert pm.local_baseline.mean() == pytest.approx(demo.atmosphere.local_share * obs.mean(), rel=1e-12)
    parts = pm[["primary", "sulfate", "nitrate", "ammonium", "soa"]].sum(axis=1)
    np.testing.assert_allclose(parts, pm.local_scenario, rtol=1e-12)
    np.testing.assert_allclose(pm.scenario, pm.background + pm.local_scenario, rtol=1e-12)
    assert (pm.scenario <= pm.baseline + 1e-9).all()
    assert result.metrics["calibration_scale"] == result.projection.calibration_scale > 0


def test_reduction_builds_up_after_the_warning_starts(result):
    """The effect of an orange warning peaks tens of hours after it starts (published 48-72 h)."""
    pm = result.pm25
    reduction = (pm.baseline - pm.scenario).to_numpy()
    start = int(np.argmax(pm.warning_level.to_numpy() != "none"))
    assert reduction[start + 6] < 0.5 * reduction.max()
    assert 24 <= result.metrics["pm25"]["hours_to_peak_reduction"] <= 96


def test_metrics_pm25_block(result):
    m = result.metrics["pm25"]
    pm = result.pm25
    assert m["peak_baseline_ug_m3"] == pytest.approx(pm.baseline.max())
    warned = pm.warning_level != "none"
    assert m["mean_reduction_during_warnings_ug_m3"] == pytest.approx((pm.baseline - pm.scenario)[warned].mean())
    assert m["heavy_days_baseline"] >= m["heavy_days_scenario"]
    assert m["heavy_days_avoided"] == m["heavy_days_baseline"] - m["heavy_days_scenario"]


def test_linear_model_steady_response(demo):
    """Linear model with constant sensitivities: at the end of a long warning the local
    reduction approaches Σ s_p ΔE_p, and without warnings scenario equals baseline."""
    cfg = AtmosphereConfig(model="linear", meteorology=demo.atmosphere.meteorology,
                           linear={"sensitivities_ug_m3_per_t_h": {"pm25": 20.0, "so2": 5.0, "nox": 3.0}, "time_constant_h": 6.0})
    res = run(demo.replace(atmosphere=cfg, staggered_production=[]))
    pm = res.pm25
    e = res.emissions
    base = e[e.variant == "baseline"].reset_index(drop=True)
    scen = e[e.variant == "scenario"].reset_index(drop=True)
    delta = 20.0 * (base.pm25 - scen.pm25) + 5.0 * (base.so2 - scen.so2) + 3.0 * (base.nox - scen.nox)
    last_warning_hour = int(np.flatnonzero(pm.warning_level.to_numpy() != "none")[-1])
    # four time constants after the start with slowly varying emissions: within 10 %
    assert (pm.baseline - pm.scenario)[last_warning_hour] == pytest.approx(delta.iloc[last_warning_hour - 24:last_warning_hour].mean(), rel=0.1)
    before = int(np.argmax(pm.warning_level.to_numpy() != "none"))
    np.testing.assert_allclose(pm.baseline[:before], pm.scenario[:before], atol=1e-9)


def test_meteorology_must_cover_the_period(demo):
    longer = demo.replace(period=demo.period.model_copy(update={"end": demo.period.end.replace(day=20)}))
    with pytest.raises(InputError, match="not covered by the meteorology"):
        run(longer)
