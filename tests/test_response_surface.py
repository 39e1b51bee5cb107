"""Response-surface model (atmosphere.model: response_surface): the polynomial, the lag, the
reader's errors and the bundled scenario through the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.config.scenario import AtmosphereConfig
from sim.errors import InputError
from sim.inputs.response_surface import ResponseSurface, load_response_surface
from sim.physics.atmosphere import emission_cuts, lagged_response, response_surface
from sim.physics.projection import local_components

from conftest import ROOT

# ΔPM = −20 x_nox + 5 x_nox² − 10 x_so2 x_nh3 [μg/m³]
HAND = [{"coefficient_ug_m3": -20, "nox": 1}, {"coefficient_ug_m3": 5, "nox": 2}, {"coefficient_ug_m3": -10, "so2": 1, "nh3": 1}]


@pytest.fixture(scope="module")
def hand() -> ResponseSurface:
    return ResponseSurface.from_terms(HAND)


def test_hand_computed_surface(hand):
    cuts = {"nox": np.array([0.5, 1.0, 0.2]), "so2": np.array([0.4, 1.0, 0.0]), "nh3": np.array([0.3, 1.0, 0.9])}
    np.testing.assert_array_equal(response_surface(cuts, hand), [-20 * 0.5 + 5 * 0.25 - 10 * 0.4 * 0.3, -25.0, -20 * 0.2 + 5 * 0.04])
    parts = response_surface(cuts, hand, by_component=True)
    np.testing.assert_array_equal(parts["nitrate"], -20 * cuts["nox"] + 5 * cuts["nox"] ** 2)  # nox terms → nitrate
    np.testing.assert_array_equal(parts["sulfate"], -10 * cuts["so2"] * cuts["nh3"])  # so2·nh3 → sulfate (first pollutant)
    np.testing.assert_array_equal(parts["primary"], 0.0)


def test_zero_cuts_give_zero_change(hand):
    zero = {p: np.zeros((2, 5)) for p in ("nox", "so2", "nh3", "voc", "pm25")}
    out = response_surface(zero, hand)
    assert out.shape == (2, 5)
    np.testing.assert_array_equal(out, 0.0)
    np.testing.assert_array_equal(response_surface({}, hand), 0.0)


def test_cuts_from_emissions():
    base = {"nox": np.array([100.0, 100.0, 0.0]), "so2": np.array([50.0, 50.0, 50.0])}
    scen = {"nox": np.array([100.0, 40.0, 0.0]), "so2": np.array([25.0, 60.0, 0.0])}
    cuts = emission_cuts(scen, base, ("nox", "so2", "voc"))
    np.testing.assert_allclose(cuts["nox"], [0.0, 0.6, 0.0])  # no baseline emissions: no cut
    np.testing.assert_allclose(cuts["so2"], [0.5, -0.2, 1.0])
    np.testing.assert_array_equal(cuts["voc"], 0.0)


def test_step_cut_follows_the_lag(hand):
    """A step to cuts x at hour 100 reaches S(x)(1 − e^{−t/τ}); hour k averages that over [k, k+1]."""
    T, tau = 600, 24.0
    step = (np.arange(T) >= 100).astype(float)
    cuts = {"nox": 0.5 * step, "so2": 0.4 * step, "nh3": 0.3 * step}
    target = -20 * 0.5 + 5 * 0.25 - 10 * 0.4 * 0.3
    change = lagged_response(response_surface(cuts, hand), tau)
    np.testing.assert_array_equal(change[:100], 0.0)
    k = np.arange(T - 100)
    np.testing.assert_allclose(change[100:], target * (1 - np.exp(-k / tau) * tau * (1 - np.exp(-1 / tau))), rtol=1e-12)
    assert change[-1] == pytest.approx(target, rel=1e-9)


def test_local_components_baseline_holds_the_whole_contribution(tmp_path):
    """Baseline variant: L = −S(all cuts 1); a variant with cuts x: L + lagged S(x)."""
    surface = tmp_path / "s.csv"
    surface.write_text("# source: test\ncomponent,coefficient_ug_m3,nox,so2,nh3\nnitrate,-20,1,0,0\nnitrate,5,2,0,0\nsulfate,-10,0,1,1\n", encoding="utf-8")
    met = ROOT / "scenarios" / "data" / "demo_episode_2023-12.csv"
    cfg = AtmosphereConfig(model="response_surface", meteorology=met, response_surface={"coefficients": surface, "time_constant_h": 1e-9}, spin_up_days=0)
    T = 30
    base = {p: np.full(T, 100.0) for p in ("nox", "so2", "nh3", "voc", "pm25")}
    scen = {**base, "nox": np.full(T, 50.0), "so2": np.full(T, 60.0), "nh3": np.full(T, 70.0)}
    emis = {p: np.stack([base[p], scen[p]])[None] for p in base}
    out = local_components([cfg], emis, [None], surface=load_response_surface(surface))
    whole = 20 - 5 + 10
    np.testing.assert_allclose(out["local"][0, 0], whole, rtol=1e-12)
    np.testing.assert_allclose(out["local"][0, 1], whole + (-20 * 0.5 + 5 * 0.25 - 10 * 0.4 * 0.3), rtol=1e-9)
    np.testing.assert_allclose(out["nitrate"][0, 0], 15.0, rtol=1e-12)


@pytest.mark.parametrize(("text", "where", "problem"), [
    ("# source: t\ncoefficient_ug_m3,nox,co\n-20,1,0\n", "row 2, column co", "'co' is not a column"),
    ("# source: t\ncoefficient_ug_m3,nox\n-20,1\n5,-1\n", "row 4, column nox", "'-1' is not a whole number"),
    ("# source: t\ncoefficient_ug_m3,nox\n-20,2.5\n", "row 3, column nox", "'2.5' is not a whole number"),
    ("# source: t\ncoefficient_ug_m3,nox,so2\n,1,0\n", "row 3, column coefficient_ug_m3", "the coefficient is missing"),
    ("# source: t\ncoefficient_ug_m3,nox,so2\nabc,1,0\n", "row 3, column coefficient_ug_m3", "'abc' is not a number"),
    ("# source: t\ncoefficient_ug_m3,nox,so2\n-3,0,0\n", "row 3", "all exponents 0"),
    ("# source: t\ncoefficient_ug_m3,nox\n-3,1\n-4,1\n", "row 4", "the same term"),
    ("# source: t\ncomponent,coefficient_ug_m3,nox\nnitrogen,-3,1\n", "row 3, column component", "'nitrogen' is not a PM2.5 component"),
    ("# source: t\n", None, "the file is empty"),
    ("", None, "the file is empty"),
    ("# source: t\ncoefficient_ug_m3,nox\n", "row 2", "a header but no terms"),
    ("coefficient_ug_m3,nox\n-3,1\n", "comment lines", "where its coefficients come from"),
    ("# source: t\n# valid_max_cut: nox=1.5\ncoefficient_ug_m3,nox\n-3,1\n", "row 2 (valid_max_cut).nox", "not a cut between 0 and 1"),
    ("# source: t\n# valid_max_cut: co=0.5\ncoefficient_ug_m3,nox\n-3,1\n", "row 2 (valid_max_cut).co", "unknown pollutant"),
])
def test_bad_files(tmp_path, text, where, problem):
    path = tmp_path / "surface.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_response_surface(path)
    assert info.value.file == str(path)
    assert info.value.where == where
    assert problem in info.value.problem
    assert info.value.fix


def test_yaml_file_and_valid_max_cut(tmp_path):
    path = tmp_path / "surface.yaml"
    path.write_text("source: test\nvalid_max_cut: {nox: 0.5}\nterms:\n  - {coefficient_ug_m3: -20, nox: 1, component: nitrate}\n"
                    "  - {coefficient_ug_m3: -10, so2: 1, nh3: 1}\n", encoding="utf-8")
    surface = load_response_surface(path)
    assert surface.valid_max_cut == {"nox": 0.5}
    assert surface.components == ("nitrate", "sulfate")
    assert response_surface({"nox": 0.5, "so2": 1.0, "nh3": 0.5}, surface) == -15.0
    path.write_text("source: test\nterms:\n  - {coefficient_ug_m3: -20, nox: 1.5}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"key terms\[0\]\.nox: the exponent '1.5'"):
        load_response_surface(path)


def test_bundled_example_is_marked_estimate():
    surface = load_response_surface(ROOT / "scenarios" / "data" / "response_surface_example.csv")
    assert surface.source.startswith("estimate")
    assert (surface.coefficients_ug_m3 < 0).all()


def test_settings_are_validated():
    met = ROOT / "scenarios" / "data" / "demo_episode_2023-12.csv"
    with pytest.raises(ValueError, match="needs a 'response_surface' block"):
        AtmosphereConfig(model="response_surface", meteorology=met)
    with pytest.raises(ValueError, match="only used with model: response_surface"):
        AtmosphereConfig(model="box", meteorology=met, response_surface={"coefficients": "x.csv"})
    with pytest.raises(ValueError, match="remove local_share"):
        AtmosphereConfig(model="response_surface", meteorology=met, local_share=0.5, response_surface={"coefficients": "x.csv"})


def test_bundled_scenario_through_the_command_line(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), str(ROOT / "scenarios" / "demo_city_response_surface.yaml"), "--out", str(out), "--no-report"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    pm = pd.read_csv(out / "pm25.csv")
    met = pd.read_csv(ROOT / "scenarios" / "data" / "demo_episode_2023-12.csv")
    obs = met.set_index("time").pm25_baseline_ug_m3.reindex(pm.time).to_numpy()
    np.testing.assert_array_equal(pm.baseline.to_numpy(), obs)  # hour by hour, as in the file
    np.testing.assert_allclose(pm.background + pm.local_baseline, pm.baseline, rtol=1e-8)
    np.testing.assert_allclose(pm.background + pm.local_scenario, pm.scenario, rtol=1e-8, atol=1e-6)
    parts = pm[["primary", "sulfate", "nitrate", "ammonium", "soa"]].sum(axis=1)
    np.testing.assert_allclose(parts, pm.local_scenario, rtol=1e-7, atol=1e-6)
    assert (pm.scenario <= pm.baseline + 1e-9).all()
    warned = pm.warning_level != "none"
    assert (pm.baseline - pm.scenario)[warned].mean() > 5.0


def test_projection_scales_the_change_where_the_observation_is_below_the_whole_contribution(tmp_path):
    """scenario = obs + f·ΔPM with f = min(1, obs/L), L = −S(all cuts 1); baseline = obs."""
    from sim.inputs.meteorology import load_meteorology
    from sim.physics.projection import project_pm25

    surface = tmp_path / "s.csv"
    surface.write_text("# source: test\ncoefficient_ug_m3,pm25,nox\n-100,1,0\n-20,0,1\n", encoding="utf-8")  # L = 120
    met_file = ROOT / "scenarios" / "data" / "demo_episode_2023-12.csv"
    cfg = AtmosphereConfig(model="response_surface", meteorology=met_file, response_surface={"coefficients": surface, "time_constant_h": 1e-9})
    times = pd.date_range("2023-12-01", periods=216, freq="h")
    base = {p: np.full(216, 1000.0) for p in ("so2", "nox", "pm25", "voc", "nh3")}
    scen = {**base, "pm25": np.full(216, 500.0)}  # x_pm25 = 0.5: ΔPM = −50
    pm = project_pm25(cfg, times, base, scen, np.zeros(216, dtype=int), meteorology=load_meteorology(met_file)).frame
    obs = load_meteorology(met_file).slice(times[0], times[-1] + pd.Timedelta(hours=1)).pm25_baseline_ug_m3
    np.testing.assert_array_equal(pm.baseline, obs)
    f = np.minimum(1.0, obs / 120.0)
    np.testing.assert_allclose(pm.scenario, obs - 50.0 * f, rtol=1e-9)
    np.testing.assert_allclose(pm.local_baseline, np.minimum(obs, 120.0), rtol=1e-12)
    np.testing.assert_allclose(pm.primary, f * (100.0 - 50.0), rtol=1e-9)
    assert (pm.scenario >= 0).all() and (obs < 120).any() and (obs > 120).any()
