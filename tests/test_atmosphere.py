"""Box model (exact hourly solution), calibration and linear-response model."""

from __future__ import annotations

import importlib.resources
from dataclasses import replace

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import yaml

from sim.physics.atmosphere import (
    OUTPUT_KEYS,
    PARAMETER_KEYS,
    BoxParameters,
    RateTable,
    background,
    box_model,
    calibration_scale,
    linear_model,
    load_box_parameter_sets,
    load_box_parameters,
)
from sim.physics import atmosphere
from sim.errors import InputError

SPECIES = ("so2", "nox", "pm25", "voc")


@pytest.fixture(scope="module")
def params() -> BoxParameters:
    return load_box_parameters()


def constant_emissions(T: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """Emissions [kg/h] of a mid-sized industrial city."""
    rates = {"so2": 3000.0, "nox": 8000.0, "pm25": 4000.0, "voc": 10000.0}
    return {k: np.full(T, v * scale) for k, v in rates.items()}


def varying_inputs(T: int, seed: int = 1) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hour = np.arange(T) % 24
    emis = {k: rng.uniform(500, 9000, T) for k in SPECIES}
    height = 200 + 500 * np.clip(np.sin(np.pi * (hour - 8) / 10), 0, None) + rng.uniform(0, 50, T)
    wind = rng.uniform(0.5, 4.0, T)
    rh = rng.uniform(30, 98, T)
    return emis, height, wind, rh


def rates(params: BoxParameters, height: float, wind: float, rh: float) -> dict[str, float]:
    """Loss and conversion rates [1/h] of the box model (sim/physics/atmosphere.py) for constant meteorology."""
    k_v = 3600 * wind / np.sqrt(params.area_km2 * 1e6)
    dep = {s: 3600 * getattr(params.deposition_cm_s, s) / 100 / height for s in ("pm25", "so2", "nox")}
    return {
        "k_v": k_v,
        "k_dp": dep["pm25"],
        "k_ds": dep["so2"],
        "k_dn": dep["nox"],
        "k_s": float(params.k_so2_per_h.at(rh)),
        "k_n": float(params.k_nox_per_h.at(rh)),
        "k_o": params.k_voc_per_h,
    }


# --------------------------------------------------------------------------- parameters


def test_default_parameters_have_sources() -> None:
    text = importlib.resources.files("sim").joinpath("data", "atmosphere.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert set(raw) == set(PARAMETER_KEYS)
    leaves = [raw[k] for k in PARAMETER_KEYS if k != "deposition_cm_s"] + list(raw["deposition_cm_s"].values())
    for leaf in leaves:
        assert "source" in leaf or (leaf.get("estimate") is True and leaf.get("reasoning")), leaf


def test_default_values(params: BoxParameters) -> None:
    assert params.area_km2 == 4000
    assert (params.deposition_cm_s.pm25, params.deposition_cm_s.so2, params.deposition_cm_s.nox) == (0.1, 0.5, 0.3)
    assert params.k_so2_per_h.at(95) > params.k_so2_per_h.at(70) > params.k_so2_per_h.at(30)
    assert 0.05 <= params.k_nox_per_h.at(0) and params.k_nox_per_h.at(100) <= 0.15
    assert params.nh3_limit is False


def test_overrides(params: BoxParameters) -> None:
    p = load_box_parameters(
        overrides={
            "area_km2": 7500,
            "deposition_cm_s": {"pm25": 0.2},
            "k_nox_per_h": {"rh_pct": [0, 100], "k_per_h": [0.05, 0.15]},
            "k_so2_per_h": 0.02,
            "soa_yield": {"value": 0.1, "source": "chamber study"},
        }
    )
    assert p.area_km2 == 7500
    assert p.deposition_cm_s.pm25 == 0.2 and p.deposition_cm_s.so2 == params.deposition_cm_s.so2
    assert p.k_nox_per_h.at(50) == pytest.approx(0.10)
    assert p.k_so2_per_h.at(10) == p.k_so2_per_h.at(99) == 0.02
    assert p.soa_yield == 0.1
    assert p.k_voc_per_h == params.k_voc_per_h


def test_parameter_sets_read_the_file_once(params: BoxParameters, monkeypatch) -> None:
    """One set of overrides per city: the parameter file is parsed once, equal overrides once."""
    parsed, real = [], atmosphere._parse_parameters
    monkeypatch.setattr(atmosphere, "_parse_parameters", lambda raw, *a, **k: parsed.append(raw) or real(raw, *a, **k))
    sets = load_box_parameter_sets([{"area_km2": 3000}, None, {"area_km2": 3000}, {}, {"area_km2": 3000.0}])
    assert len(parsed) == 3, "the file, {area_km2: 3000} and {area_km2: 3000.0}"
    assert sets[0] is sets[2] and sets[1] is sets[3]
    assert [p.area_km2 for p in sets] == [3000.0, params.area_km2, 3000.0, params.area_km2, 3000.0]
    assert sets[1] == params and sets[4] == sets[0]


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"area": 7500}, "atmosphere.parameters.area"),
        ({"deposition_cm_s": {"pm10": 0.1}}, "atmosphere.parameters.deposition_cm_s.pm10"),
        ({"area_km2": -1}, "atmosphere.parameters.area_km2"),
        ({"area_km2": "big"}, "atmosphere.parameters.area_km2"),
        ({"soa_yield": 1.5}, "atmosphere.parameters.soa_yield"),
        ({"nh3_limit": "yes"}, "atmosphere.parameters.nh3_limit"),
        ({"k_so2_per_h": {"rh_pct": [50, 40], "k_per_h": [0.01, 0.02]}}, "atmosphere.parameters.k_so2_per_h.rh_pct"),
        ({"k_so2_per_h": {"rh_pct": [50], "k_per_h": [0.01, 0.02]}}, "atmosphere.parameters.k_so2_per_h"),
        ({"k_so2_per_h": {"rh_pct": [50], "k_per_h": [-0.01]}}, "atmosphere.parameters.k_so2_per_h.k_per_h[0]"),
    ],
)
def test_bad_overrides_name_the_key(overrides: dict, key: str) -> None:
    with pytest.raises(InputError) as err:
        load_box_parameters(overrides=overrides, overrides_file="scenario.yaml")
    assert err.value.file == "scenario.yaml"
    assert key in err.value.where
    assert err.value.fix


def test_unknown_override_lists_allowed_keys() -> None:
    with pytest.raises(InputError) as err:
        load_box_parameters(overrides={"mixing_height": 300})
    assert "mixing_height" in err.value.message
    assert all(k in err.value.message for k in PARAMETER_KEYS)


def test_parameter_file_missing_key(tmp_path) -> None:
    path = tmp_path / "atm.yaml"
    path.write_text("area_km2: 100\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_box_parameters(path)
    assert err.value.file == str(path) and "deposition_cm_s" in err.value.where
    with pytest.raises(InputError):
        load_box_parameters(tmp_path / "missing.yaml")


@pytest.mark.parametrize("raw, words", [
    ("area_km2: 100\narea_km2: 200\n".encode("utf-8"), "appears twice"),  # YAML alone would keep 200
    ("area_km2: 100 # 面积\n".encode("gbk"), "not UTF-8"),
    (("area_km2: " + "[" * 60 + "]" * 60 + "\n").encode("utf-8"), "levels deep"),
])
def test_parameter_file_goes_through_the_strict_reader(tmp_path, raw, words) -> None:
    path = tmp_path / "atm.yaml"
    path.write_bytes(raw)
    with pytest.raises(InputError, match=words):
        load_box_parameters(path)


# --------------------------------------------------------------------------- box model


def test_output_keys_and_shape(params: BoxParameters) -> None:
    out = box_model(constant_emissions(10), np.full(10, 300.0), np.full(10, 2.0), np.full(10, 60.0), params)
    assert tuple(out) == OUTPUT_KEYS
    assert all(v.shape == (10,) for v in out.values())
    parts = out["primary"] + out["sulfate"] + out["nitrate"] + out["soa"] + out["ammonium"]
    np.testing.assert_allclose(out["local"], parts, rtol=1e-14)
    np.testing.assert_allclose(out["ammonium"], 36 / 96 * out["sulfate"] + 18 / 62 * out["nitrate"], rtol=1e-14)


def test_steady_state_matches_closed_form(params: BoxParameters) -> None:
    T, H, u, rh = 2000, 300.0, 1.5, 75.0
    emis = constant_emissions(T)
    out = box_model(emis, np.full(T, H), np.full(T, u), np.full(T, rh), params)
    r = rates(params, H, u, rh)
    q = {k: emis[k][0] * 1e9 / (H * params.area_km2 * 1e6) for k in SPECIES}  # [μg m-3 h-1]
    b = r["k_v"] + r["k_dp"]
    g_s = q["so2"] / (r["k_v"] + r["k_ds"] + r["k_s"])
    g_n = q["nox"] / (r["k_v"] + r["k_dn"] + r["k_n"])
    g_v = q["voc"] / (r["k_v"] + r["k_o"])
    expected = {
        "primary": q["pm25"] / b,
        "so2_gas": g_s,
        "nox_gas": g_n,
        "voc_gas": g_v,
        "sulfate": 96 / 64 * r["k_s"] * g_s / b,
        "nitrate": 62 / 46 * r["k_n"] * g_n / b,
        "soa": params.soa_yield * r["k_o"] * g_v / b,
    }
    for key, value in expected.items():
        assert abs(out[key][-1] / value - 1) < 1e-6, key


def test_steady_initial_state_stays_put(params: BoxParameters) -> None:
    T = 3000
    emis = constant_emissions(T)
    met = (np.full(T, 400.0), np.full(T, 1.0), np.full(T, 85.0))
    spun = box_model(emis, *met, params)
    initial = {k: spun[k][-1] for k in ("primary", "so2_gas", "nox_gas", "voc_gas", "sulfate", "nitrate", "soa")}
    again = box_model({k: v[:5] for k, v in emis.items()}, *(m[:5] for m in met), params, initial=initial)
    for key in initial:
        np.testing.assert_allclose(again[key], initial[key], rtol=1e-9)


def test_primary_decays_exactly(params: BoxParameters) -> None:
    T, P0 = 72, 100.0
    zero = {k: np.zeros(T) for k in SPECIES}
    rng = np.random.default_rng(3)
    height, wind = rng.uniform(100, 900, T), rng.uniform(0.3, 5.0, T)
    out = box_model(zero, height, wind, np.full(T, 60.0), params, initial={"primary": P0})
    b = 3600 * wind / np.sqrt(params.area_m2) + 3600 * params.deposition_cm_s.pm25 / 100 / height
    start = P0 * np.exp(-np.r_[0.0, np.cumsum(b)[:-1]])  # P at the start of each hour
    np.testing.assert_allclose(out["primary"], start * (1 - np.exp(-b)) / b, rtol=1e-12)  # hourly means
    # Constant meteorology: hourly means fall by e^{-(k_v + k_dp)} per hour, i.e. P0 e^{-(k_v+k_dp) t}.
    out_c = box_model(zero, np.full(T, 300.0), np.full(T, 1.0), np.full(T, 60.0), params, initial={"primary": P0})
    b_c = 3600 / np.sqrt(params.area_m2) + 3600 * 0.001 / 300.0
    np.testing.assert_allclose(out_c["primary"][1:] / out_c["primary"][:-1], np.exp(-b_c), rtol=1e-12)
    assert out_c["sulfate"].max() == 0.0 and out_c["local"][0] == pytest.approx(P0 * (1 - np.exp(-b_c)) / b_c, rel=1e-12)


def test_one_hour_matches_matrix_exponential(params: BoxParameters) -> None:
    """Hourly mean and end state of SO2 → sulfate against expm of the augmented linear system."""
    H, u, rh, G0, S0, E = 250.0, 0.8, 88.0, 40.0, 25.0, 5000.0
    r = rates(params, H, u, rh)
    a, b = r["k_v"] + r["k_ds"] + r["k_s"], r["k_v"] + r["k_dp"]
    c = 96 / 64 * r["k_s"]
    q = E * 1e9 / (H * params.area_m2)
    # States: G, S, ∫G, ∫S, 1 (the source as a constant state).
    M = np.zeros((5, 5))
    M[0, 0], M[0, 4] = -a, q
    M[1, 0], M[1, 1] = c, -b
    M[2, 0] = M[3, 1] = 1.0
    G1, S1, G_mean, S_mean, _ = scipy.linalg.expm(M) @ np.array([G0, S0, 0.0, 0.0, 1.0])
    emis = {"so2": np.full(2, E), "nox": np.zeros(2), "pm25": np.zeros(2), "voc": np.zeros(2)}
    out = box_model(emis, np.full(2, H), np.full(2, u), np.full(2, rh), params, initial={"so2_gas": G0, "sulfate": S0})
    assert out["so2_gas"][0] == pytest.approx(G_mean, rel=1e-12)
    assert out["sulfate"][0] == pytest.approx(S_mean, rel=1e-12)
    # The second hour starts from the exact end state.
    out2 = box_model({k: v[:1] for k, v in emis.items()}, [H], [u], [rh], params, initial={"so2_gas": G1, "sulfate": S1})
    assert out2["sulfate"][0] == pytest.approx(out["sulfate"][1], rel=1e-12)


def test_linear_in_emissions(params: BoxParameters) -> None:
    emis, height, wind, rh = varying_inputs(200)
    one = box_model(emis, height, wind, rh, params)
    two = box_model({k: 2 * v for k, v in emis.items()}, height, wind, rh, params)
    for key in OUTPUT_KEYS:
        np.testing.assert_allclose(two[key], 2 * one[key], rtol=1e-12, err_msg=key)


def test_batch_dimensions(params: BoxParameters) -> None:
    emis, height, wind, rh = varying_inputs(120)
    cut = {k: v * np.where(np.arange(120) >= 48, 0.6, 1.0) for k, v in emis.items()}
    stacked = box_model({k: np.stack([emis[k], cut[k]]) for k in SPECIES}, height, wind, rh, params)
    alone = [box_model(e, height, wind, rh, params) for e in (emis, cut)]
    for key in OUTPUT_KEYS:
        assert stacked[key].shape == (2, 120)
        for i in range(2):
            np.testing.assert_allclose(stacked[key][i], alone[i][key], rtol=1e-14, atol=0, err_msg=key)
    # Two batch dims and a scalar-in-time emission broadcast too.
    grid = box_model({k: np.ones((3, 2, 1)) * emis[k] for k in SPECIES}, height, wind, rh, params)
    np.testing.assert_allclose(grid["local"][2, 1], alone[0]["local"], rtol=1e-14)


def test_boxes_with_their_own_weather_and_parameters(params: BoxParameters) -> None:
    """Cities on a first batch axis, each with its own meteorology and parameters (area, a rate
    table, deposition, SOA yield, the NH3 cap), give what each city's own call gives."""
    T = 150
    inputs = [varying_inputs(T, seed) for seed in (1, 2, 3)]
    own = [
        params,
        replace(params, area_km2=2500.0, k_nox_per_h=RateTable((0.0, 50.0, 100.0), (0.01, 0.05, 0.3))),
        replace(params, area_km2=9000.0, nh3_limit=True, soa_yield=0.05, deposition_cm_s=replace(params.deposition_cm_s, pm25=0.3)),
    ]
    cut = np.where(np.arange(T) >= 48, 0.6, 1.0)
    # (variants, T) per city; NH3 scarce enough that the third city's cap binds
    emis = [{**{k: np.stack([v, v * cut]) for k, v in e.items()}, "nh3": np.stack([np.full(T, 40.0), np.full(T, 30.0)])} for e, *_ in inputs]
    met = [np.stack([m[i] for m in inputs])[:, None, :] for i in (1, 2, 3)]  # (cities, 1, T)
    batched = box_model({k: np.stack([e[k] for e in emis]) for k in emis[0]}, *met, own)
    capped = False
    for i, (e, height, wind, rh) in enumerate(inputs):
        alone = box_model(emis[i], height, wind, rh, own[i])
        for key in OUTPUT_KEYS:
            assert batched[key].shape == (3, 2, T)
            np.testing.assert_allclose(batched[key][i], alone[key], rtol=1e-12, atol=0, err_msg=f"city {i}, {key}")
        capped |= own[i].nh3_limit and bool(np.any(alone["ammonium"] < 36 / 96 * alone["sulfate"] + 18 / 62 * alone["nitrate"] - 1e-9))
    assert capped, "the NH3 cap binds in the one city that has it"
    assert not np.allclose(batched["local"][0], batched["local"][1]), "the cities differ"
    with pytest.raises(ValueError, match="parameter sets"):
        box_model({k: np.stack([e[k] for e in emis]) for k in emis[0]}, *met, own[:2])


def test_equal_rates_are_finite_and_continuous(params: BoxParameters) -> None:
    """Gas and product with the same loss rate (k_gas == k_particle): no 0/0."""
    T, H = 96, 360.0
    k_dp = 3600 * params.deposition_cm_s.pm25 / 100 / H  # 0.01 /h
    # VOC: k_v + k_o == k_v + k_dp. SO2: no deposition and k_s == k_dp.
    base = replace(params, k_voc_per_h=k_dp, k_so2_per_h=RateTable.constant(k_dp), deposition_cm_s=replace(params.deposition_cm_s, so2=0.0))
    near = replace(base, k_voc_per_h=k_dp * (1 + 1e-7), k_so2_per_h=RateTable.constant(k_dp * (1 + 1e-7)))
    emis, met = constant_emissions(T), (np.full(T, H), np.full(T, 1.0), np.full(T, 80.0))
    exact, perturbed = box_model(emis, *met, base), box_model(emis, *met, near)
    for key in ("soa", "sulfate"):
        assert np.all(np.isfinite(exact[key])) and exact[key][-1] > 0
        np.testing.assert_allclose(exact[key], perturbed[key], rtol=1e-6, err_msg=key)
    # Against the equal-rate analytic solution from zero: X(t) = c q (1 − e^{−kt} − k t e^{−kt})/k².
    k = 3600 * 1.0 / np.sqrt(params.area_m2) + k_dp
    q = emis["voc"][0] * 1e9 / (H * params.area_m2)
    c = params.soa_yield * k_dp
    # Hourly means of that X over each hour by Simpson's rule on a fine grid.
    fine = np.linspace(0, T, T * 200 + 1)
    x_fine = c * q * (1 - np.exp(-k * fine) - k * fine * np.exp(-k * fine)) / k**2
    means = np.array([scipy.integrate.simpson(x_fine[i * 200 : (i + 1) * 200 + 1], x=fine[i * 200 : (i + 1) * 200 + 1]) for i in range(T)])
    np.testing.assert_allclose(exact["soa"], means, rtol=1e-9)


def test_timing_of_a_step_cut_under_stagnation() -> None:
    """A 40 % cut of every local source acts over tens of hours (published peak: 48-72 h)."""
    params = load_box_parameters(overrides={"area_km2": 7500})
    T, cut_at = 24 * 14, 72
    hour = np.arange(T) % 24
    height = 150 + 250 * np.clip(np.sin(np.pi * (hour - 8) / 10), 0, None)  # 150 m at night, 400 m at 13:00
    wind, rh = np.full(T, 0.5), np.full(T, 80.0)
    base = constant_emissions(T)
    factor = np.where(np.arange(T) >= cut_at, 0.6, 1.0)
    out = box_model({k: np.stack([v, v * factor]) for k, v in base.items()}, height, wind, rh, params)
    reduction = out["local"][0] - out["local"][1]
    final = reduction[-24:].mean()  # diurnally averaged, ten days after the cut
    assert final > 0
    after = reduction[cut_at:]
    assert after[6] < 0.35 * after[48]
    first_95 = int(np.argmax(after >= 0.95 * final))
    assert first_95 > 24
    assert after[24] < 0.8 * final


def test_nh3_limit(params: BoxParameters) -> None:
    T = 500
    limited = replace(params, nh3_limit=True)
    emis, met = constant_emissions(T), (np.full(T, 300.0), np.full(T, 1.0), np.full(T, 80.0))
    full = box_model(emis, *met, params)
    with pytest.raises(InputError) as err:
        box_model(emis, *met, limited)
    assert "nh3_limit" in err.value.where
    plenty = box_model({**emis, "nh3": np.full(T, 1e6)}, *met, limited)
    np.testing.assert_allclose(plenty["ammonium"], full["ammonium"], rtol=1e-12)
    scarce = box_model({**emis, "nh3": np.full(T, 50.0)}, *met, limited)
    k_nh3 = 3600 / np.sqrt(params.area_m2) + 3600 * params.deposition_cm_s.nh3 / 100 / 300.0
    nh3_steady = 50.0 * 1e9 / (300.0 * params.area_m2) / k_nh3
    assert scarce["ammonium"][-1] == pytest.approx(18 / 17 * nh3_steady, rel=1e-6)
    assert np.all(scarce["ammonium"] <= full["ammonium"])


def test_bad_emission_keys(params: BoxParameters) -> None:
    with pytest.raises(ValueError):
        box_model({"so2": np.ones(3)}, np.ones(3), np.ones(3), np.ones(3), params)
    with pytest.raises(ValueError):
        box_model({**constant_emissions(3), "co": np.ones(3)}, np.ones(3), np.ones(3), np.ones(3), params)


# --------------------------------------------------------------------------- calibration


def test_calibration_hits_local_share() -> None:
    rng = np.random.default_rng(5)
    obs, local = rng.uniform(50, 300, 240), rng.uniform(10, 90, 240)
    c = calibration_scale(obs, local, 0.45)
    assert np.mean(c * local) == pytest.approx(0.45 * np.mean(obs), rel=1e-12)
    assert calibration_scale(obs, local, None) == 1.0
    bg = background(obs, local, c)
    assert np.all(bg >= 0)
    np.testing.assert_allclose(bg, np.maximum(0, obs - c * local), rtol=1e-15)
    with pytest.raises(InputError):
        calibration_scale(obs, local, 1.5)
    with pytest.raises(InputError):
        calibration_scale(obs, np.zeros(240), 0.5)


# --------------------------------------------------------------------------- linear model


def test_linear_model_steady_state_and_lag() -> None:
    T, tau = 1200, 30.0
    base = {"so2": np.full(T, 2000.0), "pm25": np.full(T, 3000.0), "voc": np.full(T, 5000.0)}
    step = (np.arange(T) >= 100).astype(float)
    scen = {"so2": base["so2"] - 1000.0 * step, "pm25": base["pm25"] - 500.0 * step, "voc": base["voc"]}
    sens = {"so2": 2.0, "pm25": 10.0}  # [μg/m³ per t/h]
    change = linear_model(scen, base, sens, tau)
    target = -(2.0 * 1.0 + 10.0 * 0.5)  # Σ s ΔE with ΔE in t/h
    assert change.shape == (T,)
    np.testing.assert_array_equal(change[:100], 0.0)
    assert change[-1] == pytest.approx(target, rel=1e-5)
    # Hour k after the step averages target (1 − e^{-t/τ}) over t in [k, k+1].
    k = np.arange(T - 100)
    expected = target * (1 - np.exp(-k / tau) * tau * (1 - np.exp(-1 / tau)))
    np.testing.assert_allclose(change[100:], expected, rtol=1e-12)
    # Batch dims broadcast.
    both = linear_model({p: np.stack([base[p], scen[p]]) for p in base}, base, sens, tau)
    np.testing.assert_allclose(both[1], change, rtol=1e-14)
    np.testing.assert_array_equal(both[0], 0.0)


def test_linear_model_errors() -> None:
    e = {"so2": np.ones(5)}
    with pytest.raises(InputError):
        linear_model(e, e, {"so2": 1.0}, 0.0)
    with pytest.raises(InputError):
        linear_model(e, e, {"co": 1.0}, 10.0)
    with pytest.raises(InputError):
        linear_model(e, e, {"nox": 1.0}, 10.0)
    with pytest.raises(InputError):
        linear_model(e, e, {}, 10.0)


def test_parameter_ranges_are_read_and_draws_stay_inside_them():
    from sim.physics.atmosphere import RANGED, draw_box_parameters

    params = load_box_parameters()
    assert {name for name, _, _ in params.ranges} == set(RANGED)
    bounds = {name: (low, high) for name, low, high in params.ranges}
    for seed in range(20):
        drawn = draw_box_parameters(params, np.random.default_rng(seed))
        for species in ("pm25", "so2", "nox", "nh3"):
            low, high = bounds[f"deposition_cm_s.{species}"]
            assert low <= getattr(drawn.deposition_cm_s, species) <= high
        for table in ("k_so2_per_h", "k_nox_per_h"):
            factor = np.array(getattr(drawn, table).k_per_h) / np.array(getattr(params, table).k_per_h)
            assert np.ptp(factor) < 1e-12 and bounds[table][0] <= factor[0] <= bounds[table][1]
        assert bounds["soa_yield"][0] <= drawn.soa_yield <= bounds["soa_yield"][1]
        assert drawn.area_km2 == params.area_km2 and drawn.nh3_limit == params.nh3_limit
    # the same generator state gives the same draw
    one = draw_box_parameters(params, np.random.default_rng(5))
    assert one == draw_box_parameters(params, np.random.default_rng(5))


def test_a_parameter_the_scenario_sets_is_fixed_unless_it_brings_a_range():
    params = load_box_parameters(overrides={"deposition_cm_s": {"pm25": 0.2}, "soa_yield": {"value": 0.08, "range": [0.05, 0.12]}})
    names = {name: (low, high) for name, low, high in params.ranges}
    assert "deposition_cm_s.pm25" not in names
    assert names["soa_yield"] == (0.05, 0.12)
    with pytest.raises(InputError, match="does not hold the value 0.08"):
        load_box_parameters(overrides={"soa_yield": {"value": 0.08, "range": [0.1, 0.2]}}, overrides_file="s.yaml")
