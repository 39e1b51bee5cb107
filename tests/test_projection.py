"""PM2.5 projection wired into a run: contract columns, calibration identities, linear and response-surface models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.errors import InputError
from sim.config.scenario import AtmosphereConfig
from sim.inputs.meteorology import format_csv, generate_episode, load_meteorology
from sim.physics import projection
from sim.physics.projection import project_boxes, project_pm25

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


# --------------------------------------------------------------------------- several cities in one batch


def city_boxes(tmp_path, model: str) -> tuple[list[AtmosphereConfig], list]:
    """Three cities with their own synthetic weather, area, rates and local share."""
    own = {"north": {}, "south": {"parameters": {"area_km2": 2500}, "local_share": 0.3},
           "east": {"parameters": {"area_km2": 9000, "k_voc_per_h": 0.2, "deposition_cm_s": {"pm25": 0.3}}}}
    cities = {}
    for k, (name, extra) in enumerate(own.items()):
        path = tmp_path / f"{name}.csv"
        path.write_text(format_csv(generate_episode("2023-12-01", 10, seed=k + 1, peak_ug_m3=200.0 + 40 * k)), encoding="utf-8")
        cities[name] = {"meteorology": path, **{k: v for k, v in extra.items() if model != "response_surface" or k != "local_share"}}
    linear = {"sensitivities_ug_m3_per_t_h": {"pm25": 2.0, "so2": 0.4, "nox": 0.2, "nh3": 0.1}, "time_constant_h": 8.0} if model == "linear" else None
    surface = None
    if model == "response_surface":
        surface = tmp_path / "surface.csv"
        surface.write_text("# source: test\ncomponent,coefficient_ug_m3,nox,so2,nh3,pm25\nnitrate,-30,1,0,0,0\nnitrate,8,2,0,0,0\n"
                           "sulfate,-12,0,1,1,0\nprimary,-25,0,0,0,1\n", encoding="utf-8")
        surface = {"coefficients": surface, "time_constant_h": 12.0}
    config = AtmosphereConfig(model=model, cities=cities, local_share=None if surface else 0.5, linear=linear, response_surface=surface, spin_up_days=1,
                              regional_background_cut={"yellow": 0.1, "orange": 0.2, "red": 0.3})
    configs = [config.for_city(c) for c in cities]
    return configs, [load_meteorology(c.meteorology) for c in configs]


def city_emissions(members: int | None, hours: int, seed: int = 5):
    """Baseline [kg/h] (cities, hours), scenario (cities[, members], hours) and levels like it."""
    rng = np.random.default_rng(seed)
    rates = {"so2": 800.0, "nox": 2500.0, "pm25": 1200.0, "voc": 3000.0, "nh3": 400.0}
    base = {p: r * rng.uniform(0.5, 1.5, (3, hours)) for p, r in rates.items()}
    shape = (3, hours) if members is None else (3, members, hours)
    levels = np.repeat(rng.integers(0, 4, (*shape[:-1], hours // 24)), 24, axis=-1)
    cut = 1.0 - 0.15 * levels
    scen = {p: (v if members is None else v[:, None, :]) * cut for p, v in base.items()}
    return base, scen, levels


@pytest.mark.parametrize("model", ["box", "linear", "response_surface"])
@pytest.mark.parametrize("members", [None, 4])
def test_cities_in_one_batch_equal_separate_projections(tmp_path, model, members):
    """project_boxes (one box-model call for cities × variants × members) gives each city what
    project_pm25 gives it alone, to 1e-12: frame, figures, calibration and members."""
    configs, mets = city_boxes(tmp_path, model)
    times = pd.date_range("2023-12-02", periods=120, freq="h")
    base, scen, levels = city_emissions(members, len(times))
    batched = project_boxes(configs, times, base, scen, levels, mets, "scenario.yaml")
    for k, config in enumerate(configs):
        alone = project_pm25(config, times, {p: v[k] for p, v in base.items()}, {p: v[k] for p, v in scen.items()}, levels[k], "scenario.yaml")
        pd.testing.assert_frame_equal(batched[k].frame, alone.frame, check_exact=False, rtol=1e-12, atol=0)
        np.testing.assert_allclose(batched[k].members_ug_m3, alone.members_ug_m3, rtol=1e-12, atol=0)
        assert batched[k].metrics == pytest.approx(alone.metrics, rel=1e-12)
    if model != "response_surface":  # the surface has no calibration (scale 1)
        assert len({round(p.calibration_scale, 9) for p in batched}) == 3, "the cities differ"
    assert not np.allclose(batched[0].frame.scenario, batched[1].frame.scenario)


def test_large_batches_split_by_city(tmp_path, monkeypatch):
    """Above BOX_MODEL_ELEMENTS the cities go in several calls, with the same numbers."""
    configs, mets = city_boxes(tmp_path, "box")
    times = pd.date_range("2023-12-02", periods=96, freq="h")
    base, scen, levels = city_emissions(3, len(times))
    calls, real = [], projection.box_model
    monkeypatch.setattr(projection, "box_model", lambda emis, *a, **k: calls.append(next(iter(emis.values())).shape) or real(emis, *a, **k))
    whole = project_boxes(configs, times, base, scen, levels, mets)
    monkeypatch.setattr(projection, "BOX_MODEL_ELEMENTS", 2 * 4 * (96 + 24))  # two cities of 4 variants × (hours + spin-up)
    split = project_boxes(configs, times, base, scen, levels, mets)
    assert calls == [(3, 4, 120), (2, 4, 120), (1, 4, 120)]
    for a, b in zip(whole, split):
        pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=False, rtol=1e-12, atol=0)


def test_forecast_run_reads_its_meteorology_once(monkeypatch):
    """Forecast-driven warnings and the PM2.5 projection use the one reading made in prepare."""
    from sim import api

    reads, real = [], api.load_meteorology
    monkeypatch.setattr(api, "load_meteorology", lambda path: reads.append(path) or real(path))
    monkeypatch.setattr(projection, "load_meteorology", lambda path: pytest.fail(f"{path} read again"))
    scenario = api.with_overrides(load_scenario(ROOT / "scenarios" / "demo_city_forecast.yaml"), members=2)
    result = run(scenario)
    assert reads == [scenario.atmosphere.meteorology]
    assert result.warnings is not None and len(result.pm25) == scenario.period.hours


def _bundled_scenarios():
    paths = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/validation/*.yaml")])
    return [p for p in paths if not p.name.endswith(("_policy.yaml", "_other_sources.yaml"))]


@pytest.mark.parametrize("path", _bundled_scenarios(), ids=lambda p: p.stem)
def test_baseline_column_is_the_observation_in_every_bundled_scenario(path):
    """The baseline PM2.5 is the observed (or forecast) series supplied, hour by hour, exactly."""
    scenario = load_scenario(path)
    if scenario.atmosphere is None:
        pytest.skip("no PM2.5 projection")
    scenario = scenario.replace(ensemble=scenario.ensemble.model_copy(update={"members": 1}))
    result = run(scenario)
    frames = result.projection_by_city or {None: result.projection}
    for city, projection in frames.items():
        config = scenario.atmosphere.for_city(city)
        met = load_meteorology(config.meteorology).slice(result.times[0], result.times[-1] + pd.Timedelta(hours=1))
        np.testing.assert_array_equal(projection.frame.baseline.to_numpy(), met.pm25_baseline_ug_m3)
        assert (projection.frame.background >= 0).all()


def test_local_part_above_the_observation_is_capped_and_named(tmp_path):
    """Hours where c · local exceeds the observation: baseline = observation, background 0, the
    local part capped at it, the scenario scaled by the model's relative change, and a note."""
    config = AtmosphereConfig(meteorology=_episode_file(tmp_path), local_share=None)
    met = load_meteorology(config.meteorology)
    times = pd.date_range(met.times[0], periods=96, freq="h")
    hours = len(times)
    heavy = np.full(hours, 4.0e4)  # kg/h of primary PM2.5: far more local PM2.5 than observed
    base = {"so2": np.zeros(hours), "nox": np.zeros(hours), "pm25": heavy, "voc": np.zeros(hours)}
    scen = {**base, "pm25": 0.5 * heavy}
    levels = np.ones(hours, dtype=int)
    out = project_pm25(config, times, base, scen, levels, meteorology=met)
    obs = met.slice(times[0], times[-1] + pd.Timedelta(hours=1)).pm25_baseline_ug_m3
    pm = out.frame
    raw = project_pm25(config, times, base, base, levels, meteorology=met).frame  # for the uncapped model
    over = out.metrics["hours_local_above_observation"]
    assert over > 0
    np.testing.assert_array_equal(pm.baseline.to_numpy(), obs)
    assert (pm.local_baseline <= pm.baseline + 1e-9).all()
    assert (pm.background >= 0).all()
    capped = pm.background.to_numpy() == 0
    assert capped.sum() == over
    # primary PM2.5 is linear: half the emissions, half the (capped) local part
    np.testing.assert_allclose(pm.scenario.to_numpy()[capped], 0.5 * obs[capped], rtol=1e-6)
    assert raw.local_baseline.to_numpy()[capped].min() > 0
    assert any(f"in {over} of {hours} hours the modelled local PM2.5 exceeds the observed baseline" in n for n in out.notes)


def _episode_file(tmp_path):
    path = tmp_path / "met.csv"
    path.write_text(format_csv(generate_episode(pd.Timestamp("2024-01-01"), 4, seed=3)), encoding="utf-8")
    return path


def test_drawn_parameters_widen_the_band_and_keep_the_baseline(demo):
    """Fixed warnings and full compliance: members are identical unless they draw the
    atmosphere's parameters; drawn, they differ (a band) while the baseline stays the observation
    and the same seed gives the same numbers."""
    fixed = demo.replace(ensemble=demo.ensemble.model_copy(update={"members": 12}))
    drawn = fixed.replace(atmosphere=fixed.atmosphere.model_copy(update={"draw_parameters": True}))
    plain, a, b = run(fixed), run(drawn), run(drawn)
    warned = plain.pm25.warning_level.to_numpy() != "none"
    assert np.ptp(plain.projection.members_ug_m3, axis=0).max() < 1e-9
    assert np.ptp(a.projection.members_ug_m3[:, warned], axis=0).min() > 0.01
    np.testing.assert_array_equal(a.pm25.baseline, plain.pm25.baseline)
    np.testing.assert_array_equal(a.projection.members_ug_m3, b.projection.members_ug_m3)
    low, high = a.metrics["pm25"]["calibration_scale_p05_p95"]
    assert low < a.projection.calibration_scale < high
    # emissions do not depend on the atmosphere's draws
    np.testing.assert_array_equal(a.scenario_run.hourly_kg_h, plain.scenario_run.hourly_kg_h)


def test_metrics_with_observations_of_zero_during_warnings():
    times = pd.date_range("2024-01-01", periods=48, freq="h")
    baseline = np.full(48, 50.0)
    baseline[10:14] = 0.0
    scenario = baseline * 0.9
    level = np.zeros(48, dtype=int)
    level[8:16] = 2
    m = projection.pm25_metrics(times, baseline, scenario, level)
    assert m["peak_reduction_during_warnings_pct"] == pytest.approx(10.0)
    assert np.isfinite(m["mean_reduction_during_warnings_pct"])
    level[:] = 0
    level[10:14] = 2
    assert projection.pm25_metrics(times, baseline, scenario, level)["peak_reduction_during_warnings_pct"] is None
