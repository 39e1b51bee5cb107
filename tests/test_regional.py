"""Regional model of coupled city boxes (sim/physics/regional.py): checks of the physics.

Each test can fail: the figures it asserts come from the equations (exact cases) or from
the published behaviour the model has to reproduce (Li et al. 2021 for winter NOx cuts,
low summer nitrate, NH3 limitation). docs/validation.md, "Regional model: physics checks",
lists the cases with their inputs and the figures they give.
"""

from __future__ import annotations

import importlib.resources

import numpy as np
import pytest
import yaml

from sim.errors import InputError
from sim.physics.regional import (
    DEPOSITION_SPECIES,
    EMISSION_KEYS,
    OUTPUT_KEYS,
    PARAMETER_KEYS,
    inflow_weights,
    kp_nh4no3,
    load_regional_parameters,
    own_share,
    regional_model,
    season_of_month,
)

#: Winter emissions of the demo city [t/d]: the baseline of scenarios/demo_city_orange.yaml
#: (enterprises/demo_city.csv plus enterprises/demo_city_other_sources.yaml), mean over
#: 1-9 Dec 2023. The demo city is a Yangtze-delta city of about 3 million people.
DEMO_T_D = {"so2": 40.4, "nox": 104.7, "pm25": 24.2, "voc": 256.5, "nh3": 33.8}
#: A large North-China prefecture city: 2.5 × the demo city (NOx 262 t/d, about 96 kt/a),
#: an estimate of the size of the heavy-industry cities of Hebei, not an inventory figure.
NORTH_CHINA_SCALE = 2.5
AREA_KM2 = 4000.0
NOX_CUTS = np.round(np.arange(0.0, 0.81, 0.1), 2)

# Parameters that switch processes off, for the exact cases.
NO_CHEMISTRY = {"k_so2_per_h": 0.0, "k_nox_per_h": 0.0, "k_voc_per_h": 0.0}
NO_DEPOSITION = {"deposition_cm_s": {s: 0.0 for s in DEPOSITION_SPECIES}}
ZERO_FAR = {
    "pm25_ug_m3": 0.0,
    "gases_ug_m3": {"so2": 0.0, "nox": 0.0, "voc": 0.0, "nh3": 0.0, "hno3": 0.0},
}
CLOSED = {"far_field": {"winter": ZERO_FAR}, "residual_layer": {"exchange_per_h": 0.0}}


@pytest.fixture(scope="module")
def params():
    return load_regional_parameters()


def params_with(*changes: dict):
    merged: dict = {}
    for change in changes:
        merged.update(change)
    return load_regional_parameters(overrides=merged)


def diurnal(T: int, low: float, high: float) -> np.ndarray:
    """A daily cycle: ``low`` from 18 to 08 h, a half sine up to ``high`` at 13 h."""
    hour = np.arange(T) % 24
    return low + (high - low) * np.clip(np.sin(np.pi * (hour - 8) / 10), 0.0, None)


def city_inputs(season: str, T: int, cities: int = 1):
    """Meteorology (cities, T) of a winter episode or a summer period (hours 0 = midnight).

    Winter episode: T −2..3 °C, RH 80 % at night to 50 % in the afternoon, mixing height
    300-600 m, wind 1.5 m/s from the south-west. Summer: T 27-32 °C, RH 70-50 %, mixing
    height 1,200-1,800 m, wind 1.5 m/s.
    """
    rise = diurnal(T, 0.0, 1.0)
    if season == "winter":
        height, temp, rh = 300 + 300 * rise, -2 + 5 * rise, 80 - 30 * rise
    else:
        height, temp, rh = 1200 + 600 * rise, 27 + 5 * rise, 70 - 20 * rise
    tile = lambda x: np.tile(x, (cities, 1))  # noqa: E731
    return tile(height), tile(np.full(T, 1.5)), tile(np.full(T, 225.0)), tile(rh), tile(temp)


def emissions(factors: np.ndarray | None = None, *, cities: int = 1, T: int = 240, scale: float = NORTH_CHINA_SCALE, nh3_scale: float = 1.0, pollutant: str = "nox"):
    """Constant emissions [kg/h] (cities, variants, T); variant v multiplies ``pollutant`` by factors[v]."""
    factors = np.ones(1) if factors is None else np.asarray(factors, dtype=float)
    out = {}
    for p in EMISSION_KEYS:
        rate = DEMO_T_D[p] * 1000.0 / 24.0 * scale * (nh3_scale if p == "nh3" else 1.0)
        f = factors if p == pollutant else np.ones_like(factors)
        out[p] = np.broadcast_to(rate * f[None, :, None], (cities, len(factors), T)).copy()
    return out


def run_city(params, factors=None, *, season="winter", T=240, **kw):
    """One North-China city, far field of the season; returns the model output."""
    met = city_inputs(season, T)
    return regional_model(emissions(factors, T=T, **kw), *met, [38.0], [114.5], [AREA_KM2], params, season=season)


# --------------------------------------------------------------------------- parameters


def test_default_parameters_have_sources() -> None:
    raw = yaml.safe_load(importlib.resources.files("sim").joinpath("data", "regional.yaml").read_text(encoding="utf-8"))
    assert set(raw) == set(PARAMETER_KEYS)
    leaves = [raw[k] for k in PARAMETER_KEYS if k not in ("deposition_cm_s", "transport", "residual_layer", "far_field")]
    leaves += [*raw["deposition_cm_s"].values(), *raw["transport"].values(), *raw["residual_layer"].values()]
    leaves += [leaf for season in raw["far_field"].values() for leaf in season.values()]
    for leaf in leaves:
        assert "source" in leaf or (leaf.get("estimate") is True and leaf.get("reasoning")), leaf
    assert "design" not in str(raw).lower()


def test_parameter_file_missing_key(tmp_path) -> None:
    raw = yaml.safe_load(importlib.resources.files("sim").joinpath("data", "regional.yaml").read_text(encoding="utf-8"))
    del raw["transport"]["transport_time_h"]
    path = tmp_path / "regional.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_regional_parameters(path)
    assert err.value.file == str(path)
    assert "transport.transport_time_h" in err.value.where and err.value.fix


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"deposition_cm_s": {"hno3": -1.0}}, "regional.parameters.deposition_cm_s.hno3"),
        ({"oxidant_limit": "yes"}, "regional.parameters.oxidant_limit"),
        ({"nox_at_max_production_ug_m3": 0}, "regional.parameters.nox_at_max_production_ug_m3"),
        ({"residual": {}}, "regional.parameters.residual"),
        ({"far_field": {"winter": {"composition": {"nitrate": 0.9}}}}, "regional.parameters.far_field.winter.composition"),
        ({"far_field": {"winter": {"gases_ug_m3": {"o3": 30}}}}, "regional.parameters.far_field.winter.gases_ug_m3.o3"),
    ],
)
def test_bad_parameters_name_the_key(overrides, key) -> None:
    with pytest.raises(InputError) as err:
        load_regional_parameters(overrides=overrides, overrides_file="scenario.yaml")
    assert err.value.file == "scenario.yaml"
    assert key in err.value.where, err.value.where


def test_overrides_merge_into_the_file(params) -> None:
    p = load_regional_parameters(overrides={"deposition_cm_s": {"hno3": 4.0}, "oxidant_limit": False, "k_so2_per_h": 0.02, "far_field": {"summer": {"pm25_ug_m3": 5}}})
    assert p.deposition_cm_s["hno3"] == 4.0 and p.deposition_cm_s["nh3"] == params.deposition_cm_s["nh3"]
    assert p.oxidant_limit is False and params.oxidant_limit is True
    assert p.k_so2_per_h.at(95) == 0.02
    assert p.far_field["summer"].pm25_ug_m3 == 5 and p.far_field["winter"] == params.far_field["winter"]


# --------------------------------------------------------------------------- building blocks


def test_inflow_weights_are_convex_and_point_upwind(params) -> None:
    lat, lon = np.array([38.0, 38.0, 39.0]), np.array([114.0, 115.5, 114.0])  # west, east (130 km), north (111 km)
    wind = np.full((3, 4), 1.5)
    wdir = np.array([[270.0, 90.0, 0.0, 180.0]] * 3)  # from the west, east, north, south
    w, w_far = inflow_weights(lat, lon, wind, wdir, params)
    assert np.all(w >= 0) and np.all(w_far >= 0) and np.allclose(w.sum(-1) + w_far, 1.0, rtol=0, atol=1e-15)
    assert w[0, 1, 0] > 0.1 and w[0, 0, 1] == 0.0  # from the west: east sees west, not vice versa
    assert w[1, 0, 1] > 0.1 and w[1, 1, 0] == 0.0
    assert w[2, 0, 2] > 0.1 and w[2, 2, 0] == 0.0  # from the north: the southern city sees the northern one
    assert w[3, 2, 0] > 0.1 and w[3, 0, 2] == 0.0
    # cos⁺(Δ)^4 · exp(−d / (3.6 u τ)), by hand for east <- west under a west wind
    d = 2 * 6371.0 * np.arcsin(np.cos(np.radians(38.0)) * np.sin(np.radians(1.5) / 2))
    bearing = np.degrees(np.arctan2(np.sin(np.radians(-1.5)) * np.cos(np.radians(38.0)), -np.sin(np.radians(38.0)) * np.cos(np.radians(38.0)) * (np.cos(np.radians(-1.5)) - 1)))
    expected = np.cos(np.radians(bearing % 360 - 270.0)) ** 4 * np.exp(-d / (3.6 * 1.5 * 12.0))
    assert w[0, 1, 0] == pytest.approx(expected, rel=1e-12)
    calm, _ = inflow_weights(lat, lon, np.zeros((3, 1)), np.zeros((3, 1)), params)
    assert np.all(calm == 0.0)


def test_kp_of_mozurkewich() -> None:
    """ln Kp = 118.87 − 24084/T − 6.025 ln T below the DRH (62 % at 298 K)."""
    assert kp_nh4no3(298.15, 30.0) == pytest.approx(np.exp(118.87 - 24084 / 298.15 - 6.025 * np.log(298.15)), rel=1e-12)
    assert 40 < kp_nh4no3(298.15, 30.0) < 45  # about 43 ppb² at 25 °C
    assert kp_nh4no3(273.15, 30.0) < 0.05  # three orders of magnitude lower at 0 °C
    assert np.exp(723.7 / 298.15 + 1.6954) == pytest.approx(62.0, abs=0.5)
    assert kp_nh4no3(298.15, 61.0) == kp_nh4no3(298.15, 30.0)  # below the DRH: dry
    assert kp_nh4no3(298.15, 90.0) < 0.5 * kp_nh4no3(298.15, 30.0)  # aqueous uptake above it


# --------------------------------------------------------------------------- exact cases


def test_morning_rise_entrains_the_residual_layer_exactly() -> None:
    """H 200 → 1,000 m over a residual layer at R: the mixed layer becomes (C·200 + R·800)/1000."""
    p = params_with(NO_CHEMISTRY, NO_DEPOSITION, CLOSED)
    C, R = 80.0, 15.0
    height = np.array([[200.0, 1000.0, 1000.0, 200.0, 1000.0]])
    T = height.shape[1]
    zero = {k: np.zeros((1, 1, T)) for k in EMISSION_KEYS}
    out = regional_model(
        zero, height, np.zeros((1, T)), np.zeros((1, T)), np.full((1, T), 60.0), np.zeros((1, T)), [38.0], [114.5], [AREA_KM2], p,
        spin_up_h=0, initial={"mixed": {"primary": C, "sulfate": 2 * C}, "residual": {"primary": R, "sulfate": 2 * R}},
    )
    mixed = (C * 200 + R * 800) / 1000
    np.testing.assert_allclose(out["primary"][0, 0], [C, mixed, mixed, mixed, mixed], rtol=1e-9, atol=0)
    np.testing.assert_allclose(out["sulfate"][0, 0], 2 * np.array([C, mixed, mixed, mixed, mixed]), rtol=1e-9, atol=0)


def test_closed_region_conserves_mass() -> None:
    """No wind, deposition, far field or residual exchange: every element stays in the region.
    With chemistry on: S in SO2 + sulfate, N in NOx + total nitrate, NH3 in total ammonia,
    carbon mass in VOC + SOA / yield, and primary PM2.5, each equal to the emitted mass."""
    p = params_with(NO_DEPOSITION, CLOSED)
    rng = np.random.default_rng(3)
    C, V, T = 3, 2, 96
    emis = {k: rng.uniform(0, 5000, (C, V, T)) for k in EMISSION_KEYS}
    height = rng.uniform(150, 1500, (C, T))
    area = np.array([3000.0, 5000.0, 8000.0])
    out = regional_model(
        emis, height, np.zeros((C, T)), rng.uniform(0, 360, (C, T)), rng.uniform(30, 95, (C, T)), rng.uniform(-5, 30, (C, T)),
        [38.0, 38.5, 39.0], [114.0, 115.0, 116.0], area, p, spin_up_h=0, return_state=True,
    )
    state = out["state"]
    h, top = state["mixing_height_m"][:, None], state["residual_top_m"][:, None]

    def mass(key: str) -> np.ndarray:  # [μg] per city and variant
        return area[:, None] * 1e6 * (h * state["mixed"][key] + (top - h) * state["residual"][key])

    emitted = {k: emis[k].sum(axis=-1) * 1e9 for k in EMISSION_KEYS}  # [μg]
    np.testing.assert_allclose(mass("primary"), emitted["pm25"], rtol=1e-9)
    np.testing.assert_allclose(mass("so2") + mass("sulfate") * 64 / 96, emitted["so2"], rtol=1e-9)
    np.testing.assert_allclose(mass("nox") + mass("tno3") * 46 / 62, emitted["nox"], rtol=1e-9)
    np.testing.assert_allclose(mass("voc") + mass("soa") / p.soa_yield, emitted["voc"], rtol=1e-9)
    np.testing.assert_allclose(mass("tnh"), emitted["nh3"], rtol=1e-9)
    assert np.all(mass("sulfate") > 0) and np.all(mass("tno3") > 0)  # the chemistry did run


def test_uniform_cut_with_linear_chemistry_scales_everything() -> None:
    """Far field zero, oxidant limit and NH4NO3 equilibrium off: the model is linear and
    homogeneous, so cutting every source of every city by f cuts every output by f."""
    p = params_with({"oxidant_limit": False, "nh4no3_equilibrium": False, "far_field": {"winter": ZERO_FAR}})
    rng = np.random.default_rng(5)
    C, T, f = 3, 120, 0.37
    base = {k: rng.uniform(100, 8000, (C, 1, T)) for k in EMISSION_KEYS}
    emis = {k: np.concatenate([v, (1 - f) * v], axis=1) for k, v in base.items()}
    met = (rng.uniform(200, 1200, (C, T)), rng.uniform(0.5, 4, (C, T)), rng.uniform(0, 360, (C, T)), rng.uniform(30, 95, (C, T)), rng.uniform(-5, 25, (C, T)))
    out = regional_model(emis, *met, [38.0, 38.6, 39.2], [114.0, 114.8, 115.6], [4000.0, 6000.0, 3000.0], p, spin_up_h=24)
    for key in OUTPUT_KEYS:
        if key == "oxidant_factor":
            np.testing.assert_array_equal(out[key], 1.0)
            continue
        assert out[key][:, 0].max() > 0 or key in ("far_field", "hno3_gas"), key
        # atol: rounding of N − min(A, N) where the gas is all taken up (HNO3 about 1e-16)
        np.testing.assert_allclose(out[key][:, 1], (1 - f) * out[key][:, 0], rtol=1e-9, atol=1e-12 * out["pm25"].max(), err_msg=key)


def test_upwind_cuts_reach_a_city_only_downwind(params) -> None:
    """Two cities 130 km apart east-west; variant 1 halves the western city's emissions."""
    T = 120
    emis = emissions(cities=2, T=T)
    for k in EMISSION_KEYS:
        emis[k] = np.concatenate([emis[k], emis[k]], axis=1)
        emis[k][0, 1] *= 0.5
    height, wind, _, rh, temp = city_inputs("winter", T, cities=2)
    lat, lon, area = [38.0, 38.0], [114.0, 115.5], [AREA_KM2, AREA_KM2]
    from_west = regional_model(emis, height, wind, np.full((2, T), 270.0), rh, temp, lat, lon, area, params)["pm25"]
    from_east = regional_model(emis, height, wind, np.full((2, T), 90.0), rh, temp, lat, lon, area, params)["pm25"]
    drop_west_wind = from_west[1, 0].mean() - from_west[1, 1].mean()
    assert drop_west_wind > 0.5, drop_west_wind  # [μg/m³] in the eastern city
    np.testing.assert_array_equal(from_east[1, 1], from_east[1, 0])  # exactly no effect upwind
    assert from_east[0, 0].mean() - from_east[0, 1].mean() > 5.0  # the western city itself


def test_shapes_and_a_city_alone_equals_it_batched_with_an_unconnected_one(params) -> None:
    T = 72
    emis1 = emissions(np.array([1.0, 0.6, 0.2]), T=T)
    met1 = city_inputs("winter", T)
    alone = regional_model(emis1, *met1, [38.0], [114.5], [AREA_KM2], params)
    assert set(alone) == set(OUTPUT_KEYS)
    assert all(v.shape == (1, 3, T) for v in alone.values())
    emis2 = {k: np.concatenate([v, 3.0 * v[:, ::-1]], axis=0) for k, v in emis1.items()}
    met2 = [np.concatenate([m, m[:, ::-1] + (10.0 if i == 2 else 0.0)], axis=0) for i, m in enumerate(met1)]
    both = regional_model(emis2, *met2, [38.0, 45.0], [114.5, 125.0], [AREA_KM2, 9000.0], params)  # > 1,000 km apart
    for key in OUTPUT_KEYS:
        np.testing.assert_array_equal(both[key][:1], alone[key], err_msg=key)
    with pytest.raises(ValueError, match="cities, T"):
        regional_model(emis1, met1[0][:, :10], *met1[1:], [38.0], [114.5], [AREA_KM2], params)


# --------------------------------------------------------------------------- winter and summer chemistry


def test_winter_nox_cuts_follow_li_et_al_2021(params) -> None:
    """Winter episode, North-China city: nitrate rises for the first NOx cuts, peaks at a
    30-50 % cut and falls after (Li et al. 2021, ACP 21:15135: +4-5 % per 10 % cut up to an
    inflexion at 30-50 %, then about −10 % per further 10 %)."""
    nitrate = run_city(params, 1.0 - NOX_CUTS)["nitrate"][0].mean(axis=-1)
    change = nitrate / nitrate[0] - 1.0
    assert 0.02 < change[1] < 0.08, change  # first 10 % cut: nitrate up 2-8 %
    peak = int(np.argmax(nitrate))
    assert 0.3 <= NOX_CUTS[peak] <= 0.5, (NOX_CUTS[peak], change)
    assert np.all(np.diff(nitrate[: peak + 1]) > 0) and np.all(np.diff(nitrate[peak:]) < 0), change
    assert change[-1] < -0.1, change  # an 80 % cut lowers nitrate clearly
    steps = -np.diff(nitrate[-3:]) / nitrate[0]
    assert np.all(steps > 0.05), steps  # the last steps fall by more than 5 % of the baseline each


def test_low_nox_city_is_nox_limited(params) -> None:
    """The demo city itself (box NOx about 25 μg/m³ < G* = 40): every NOx cut lowers nitrate."""
    nitrate = run_city(params, 1.0 - NOX_CUTS, scale=1.0)["nitrate"][0].mean(axis=-1)
    assert np.all(np.diff(nitrate) < 0), nitrate / nitrate[0]


def test_summer_nitrate_is_a_small_share(params) -> None:
    """Summer (27-32 °C, H 1,200-1,800 m, RH 50-70 %), the same city with its winter emissions
    (an upper bound): HNO3 stays in the gas phase and deposits, nitrate < 15 % of PM2.5."""
    out = run_city(params, season="summer")
    far_nitrate = params.far_field["summer"].composition["nitrate"] * out["far_field"]
    share = (out["nitrate"] + far_nitrate).mean() / out["pm25"].mean()
    assert share < 0.15, share
    assert out["hno3_gas"].mean() > out["nitrate"].mean()  # most total nitrate is gas
    winter = run_city(params)
    assert winter["nitrate"].mean() / winter["pm25"].mean() > 1.5 * share  # and it is a winter problem


def test_nh3_cut_lowers_nitrate_where_nh3_is_short(params) -> None:
    """30 % NH3 cut: an NH3-poor city (a tenth of the demo NH3) loses nitrate; an NH3-rich one hardly."""
    poor = run_city(params, [1.0, 0.7], pollutant="nh3", nh3_scale=0.1)["nitrate"][0].mean(axis=-1)
    rich = run_city(params, [1.0, 0.7], pollutant="nh3")["nitrate"][0].mean(axis=-1)
    poor_change, rich_change = poor[1] / poor[0] - 1, rich[1] / rich[0] - 1
    assert poor_change < -0.10, poor_change
    assert abs(rich_change) < 0.1 * abs(poor_change), (rich_change, poor_change)


def test_own_share_by_zero_out(params) -> None:
    """Zero-out: one call for all cities; unconnected cities contribute nothing to each other,
    and the own contribution equals an explicit run without the city."""
    T = 96
    emis = emissions(cities=3, T=T)
    height, wind, wdir, rh, temp = city_inputs("winter", T, cities=3)
    lat, lon, area = [38.0, 38.0, 20.0], [114.0, 115.5, 100.0], [AREA_KM2] * 3
    args = (height, wind, np.full((3, T), 270.0), rh, temp, lat, lon, area)
    got = own_share(emis, *args, params=params, hours=slice(24, None))
    assert got["own_share"].shape == (3, 1) and got["contribution"].shape == (3, 3, 1)
    assert np.all((got["own_share"] > 0) & (got["own_share"] < 1))
    assert got["contribution"][0, 1, 0] == 0.0 and got["contribution"][2, 0, 0] == 0.0 and got["contribution"][2, 1, 0] == 0.0
    assert got["contribution"][1, 0, 0] > 0  # the west city feeds the east one
    without = {k: v.copy() for k, v in emis.items()}
    for v in without.values():
        v[1] = 0.0
    base = regional_model(emis, *args, params)["pm25"][1, 0, 24:].mean()
    zero = regional_model(without, *args, params)["pm25"][1, 0, 24:].mean()
    assert got["own_share"][1, 0] == pytest.approx((base - zero) / base, rel=1e-12)


def test_stacked_kernels_match_the_box_model_kernels() -> None:
    """The one-pass kernels of the hour loop equal those of sim.physics.atmosphere (1e-12),
    across the series/closed-form switch and for equal or close parent/product rates."""
    from sim.physics import atmosphere
    from sim.physics.regional import hour_kernels, kernels

    z = np.concatenate([[0.0, 1e-12, 1e-6, 1e-3, 0.2499, 0.25, 0.2501, 0.999, 1.0, 1.001, 30.0, 300.0], np.random.default_rng(0).uniform(0, 5, 500)])
    for row, f in zip(kernels(z), (atmosphere._phi1, atmosphere._phi2, atmosphere._m1, atmosphere._m2)):
        np.testing.assert_allclose(row, f(z), rtol=1e-12, atol=0)
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 3, (6, 60)), rng.uniform(0, 3, (3, 60))
    b[0, :20] = a[0, :20]
    b[1, 20:40] = a[1, 20:40] + 1e-9
    _, _, _, e_ab, p1_ab, p2_ab = hour_kernels(a, b)
    np.testing.assert_allclose(e_ab, atmosphere._exp_divided(a[:3], b), rtol=1e-12)
    np.testing.assert_allclose(p1_ab, atmosphere._divided(atmosphere._phi1, atmosphere._m1, a[:3], b), rtol=1e-12)
    np.testing.assert_allclose(p2_ab, atmosphere._divided(atmosphere._phi2, atmosphere._m2, a[:3], b), rtol=1e-12)


def test_season_of_month() -> None:
    assert [season_of_month(m) for m in (1, 3, 4, 6, 8, 9, 11, 12)] == ["winter", "winter", "transition", "summer", "summer", "transition", "winter", "winter"]


def test_regional_parameter_ranges_and_draws():
    from sim.physics.regional import RANGED, draw_regional_parameters

    params = load_regional_parameters()
    bounds = {name: (low, high) for name, low, high in params.ranges}
    assert set(bounds) == set(RANGED)
    for seed in range(10):
        drawn = draw_regional_parameters(params, np.random.default_rng(seed))
        for species in ("pm25", "so2", "nox", "hno3", "nh3"):
            low, high = bounds[f"deposition_cm_s.{species}"]
            assert low <= drawn.deposition_cm_s[species] <= high
        low, high = bounds["nox_at_max_production_ug_m3"]
        assert low <= drawn.nox_at_max_production_ug_m3 <= high
        factor = np.array(drawn.k_nox_per_h.k_per_h) / np.array(params.k_nox_per_h.k_per_h)
        assert np.ptp(factor) < 1e-12 and bounds["k_nox_per_h"][0] <= factor[0] <= bounds["k_nox_per_h"][1]
        assert drawn.far_field == params.far_field and drawn.oxidant_limit == params.oxidant_limit
    fixed = load_regional_parameters(overrides={"nox_at_max_production_ug_m3": 50.0})
    assert "nox_at_max_production_ug_m3" not in {name for name, _, _ in fixed.ranges}
    with pytest.raises(InputError, match="does not hold the value 50"):
        load_regional_parameters(overrides={"nox_at_max_production_ug_m3": {"value": 50.0, "range": [10.0, 30.0]}}, overrides_file="s.yaml")


def test_a_value_the_scenario_sets_is_fixed_even_when_wrapped():
    params = load_regional_parameters(overrides={"k_voc_per_h": {"value": 0.2, "source": "a city's own estimate"}},
                                      overrides_file="s.yaml", overrides_key="atmosphere.parameters")
    assert params.k_voc_per_h == 0.2 and "k_voc_per_h" not in {name for name, _, _ in params.ranges}
