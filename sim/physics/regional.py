"""PM2.5 of a region of cities: coupled city boxes with a residual layer and winter chemistry.

Boxes. City i is a mixed layer of height H_i(t) [m] over its area A_i [m²] (length
L_i = √A_i [m]) under a residual layer from H_i(t) to a fixed top Z_i [m]. Species of the
mixed layer [μg/m³]: gases SO2 G_s, NOx as NO2 G_n, VOC G_v; total ammonia TNH (NH3 + NH4+,
as NH3 mass); primary PM2.5 P; far-field particles F (an inert tracer); sulfate S, total
nitrate TNO3 (HNO3 + NO3-, as NO3 mass) and SOA O. Within hour t everything is constant and::

    q_x   = E_x / (H A)               E in μg/h (= kg/h × 1e9)             [μg m-3 h-1]
    k_v   = 3600 u / L                ventilation                          [1/h]
    k_dx  = 3600 v_dx / H             dry deposition, v_d in m/s           [1/h]
    In_x  = Σ_j w_ij C_x,j + w_far C_x,far      inflow air                [μg/m³]
    dC/dt = q + k_v In − (k_v + k_d + k_chem) C
    dS/dt    = (96/64) k_s(RH) G_s                      + k_v In_S − (k_v + k_dp) S
    dTNO3/dt = (62/46) k_n(RH) ox G_n                   + k_v In_N − (k_v + k_dN) TNO3
    dO/dt    = y_soa k_o G_v                            + k_v In_O − (k_v + k_dp) O
    ox    = exp(−G_n / G*)            oxidant limit (1 when switched off)  [-]
    k_dN  = f_HNO3 k_d,hno3 + (1 − f_HNO3) k_dp          k_dTNH likewise with f_NH3

Inflow weights (wind from direction θ_i [° from north, where it blows FROM], speed u_i [m/s];
neighbour j at distance d_ij [km] and bearing β_ij [°] seen from i)::

    r_ij = cos⁺(β_ij − θ_i)^p · exp(−d_ij / (3.6 u_i τ))     (0 beyond d_max or when u_i = 0)
    w_ij = r_ij / max(1, Σ_j r_ij),     w_far = 1 − Σ_j w_ij

so the weights lie in [0, 1] and sum to 1: the inflow is a convex mix of the upwind
neighbours' mixed layers (their state at the start of the hour: an explicit coupling, stable
because a convex mix cannot amplify) and the far field. cos⁺ = max(cos, 0) makes the weight zero
when the wind does not come from j's side; the exponential makes a neighbour count less the
longer the air takes to come (τ [h]: dilution on the way).

Residual layer. At the start of hour t the mixed layer jumps from H_old to H_new (mass kept)::

    H rises:  C ← (C H_old + R (H_new − H_old)) / H_new     (entrainment; R unchanged)
    H falls:  R ← (R (Z − H_old) + C (H_old − H_new)) / (Z − H_new)    (C unchanged)

and during the hour R relaxes to the far-field gas values: R(1) = R_far + (R(0) − R_far) e^{−k_r}
(no emissions, chemistry or deposition aloft). Z_i = max(top_min_m, max_t H_i).

Chemistry and splitting. Each hour: (1) the mixed-layer jump; (2) inflow from the start-of-hour
states; (3) the linear system above, advanced exactly over the hour with the closed forms of
:mod:`sim.physics.atmosphere` (each gas feeds at most one product, so φ1, φ2 and their divided
differences give the end-of-hour state and the hourly mean exactly; :func:`hour_kernels`
evaluates them all in one stacked pass), with ox, f_HNO3 and f_NH3 frozen at their values from
the end of the previous hour; (4) NH4NO3 partitioning of the end-of-hour totals, which gives
the gas fractions of the next hour. Every step is exact or a convex combination, so the scheme
is unconditionally stable; the splitting error is that of freezing ox and the gas fractions
for one hour.
Reported species are hourly means; the partitioning is applied to the hourly-mean totals at
the hour's temperature and RH.

Partitioning (molar, μmol/m³, then ppb at T [K] and 1 atm: 1 μmol/m³ = R T / p × 1e3 ppb):
sulfate takes ammonia first, n_s = min(2 S/96, TNH/17); the free ammonia A = TNH/17 − n_s and
the total nitrate N = TNO3/62 give particulate NH4NO3 x from (A − x)(N − x) = Kp(T, RH)::

    x = 2 (A N − Kp) / ((A + N) + √((A − N)² + 4 Kp)),   clipped to [0, min(A, N)]
    ln Kp [ppb²] = 118.87 − 24084/T − 6.025 ln T           (Mozurkewich 1993)
    RH ≥ DRH(T) = exp(723.7/T + 1.6954) %:  Kp × min(1, [P1 − P2 (1−a) + P3 (1−a)²] (1−a)^1.75)

(the quotient form of the smaller root avoids cancellation when Kp ≪ A N). Without
equilibrium (``nh4no3_equilibrium: false``) Kp = 0: x = min(A, N). Outputs: nitrate 62 x,
ammonium 18 (n_s + x), nh3_gas 17 (A − x), hno3_gas 63 (N − x).

Outputs and limits. pm25 = primary + sulfate + nitrate + ammonium + soa + far_field, where
far_field is the far-field particle mass that reached the mixed layer (by inflow and
entrainment; it deposits like PM2.5 and takes no part in the chemistry). The far-field gases
do react. Not modelled: chemistry in the residual layer, travel time between cities beyond
the one-hour coupling lag, sulfate's oxidant limit, organic nitrate, the coarse-mode nitrate
on dust, bidirectional NH3 exchange. The model's own share of a city's PM2.5 comes from
:func:`own_share` (brute-force zero-out).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.errors import InputError
from sim.config.yamlio import parse_yaml, read_yaml
from sim.physics.atmosphere import (
    NITRATE_PER_NO2,
    S_PER_H,
    SULFATE_PER_SO2,
    UG_PER_KG,
    RATE_TABLES,
    RateTable,
    _number,
    _parse_rate_table,
    dotted_entry,
    draw_log_uniform,
    parse_ranges,
    _unwrap,
)

EMISSION_KEYS = ("so2", "nox", "pm25", "voc", "nh3")
OUTPUT_KEYS = (
    "primary", "sulfate", "nitrate", "ammonium", "soa", "far_field", "pm25",
    "so2_gas", "nox_gas", "voc_gas", "nh3_gas", "hno3_gas", "oxidant_factor",
)
#: State species: parents (gases and particles without a precursor) then products.
PARENTS = ("so2", "nox", "voc", "tnh", "primary", "far")
PRODUCTS = ("sulfate", "tno3", "soa")  # fed by so2, nox, voc
STATE_KEYS = (*PARENTS, *PRODUCTS)
DEPOSITION_SPECIES = ("pm25", "so2", "nox", "hno3", "nh3")
SEASONS = ("winter", "summer", "transition")
FAR_GASES = ("so2", "nox", "voc", "nh3", "hno3")
FAR_COMPOSITION = ("sulfate", "nitrate", "ammonium", "organic", "other")
PARAMETER_KEYS = (
    "deposition_cm_s", "k_so2_per_h", "k_nox_per_h", "oxidant_limit", "nox_at_max_production_ug_m3",
    "k_voc_per_h", "soa_yield", "nh4no3_equilibrium", "transport", "residual_layer", "far_field",
)
TRANSPORT_KEYS = ("sector_exponent", "transport_time_h", "max_distance_km")
RESIDUAL_KEYS = ("exchange_per_h", "top_min_m")
FAR_KEYS = ("pm25_ug_m3", "composition", "gases_ug_m3")
_META_KEYS = frozenset({"source", "estimate", "reasoning", "note"})
_DEFAULT_FILE = "sim/data/regional.yaml"
M_NH3, M_NH4, M_NO3, M_HNO3, M_SO4 = 17.0, 18.0, 62.0, 63.0, 96.0
R_GAS, P_ATM = 8.314462618, 101325.0
EARTH_RADIUS_KM = 6371.0


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class FarField:
    """Far-field air of one season: particles [μg/m³] and their composition shares [-], gases [μg/m³]."""

    pm25_ug_m3: float
    composition: Mapping[str, float]
    gases_ug_m3: Mapping[str, float]


@dataclass(frozen=True)
class RegionalParameters:
    """Parameters of the regional model (defaults and sources in ``sim/data/regional.yaml``).

    Attributes
    ----------
    deposition_cm_s: dry deposition velocities [cm/s] by species (pm25, so2, nox, hno3, nh3).
    k_so2_per_h, k_nox_per_h: SO2 → sulfate and NO2 → HNO3 (oxidant-rich) rates [1/h] vs RH [%].
    oxidant_limit: apply ox = exp(−G_n/G*) to the NO2 → HNO3 rate.
    nox_at_max_production_ug_m3: G* [μg/m³ NOx as NO2].
    k_voc_per_h: VOC oxidation rate [1/h]; soa_yield: SOA per VOC oxidised [-].
    nh4no3_equilibrium: NH4NO3 equilibrium (Mozurkewich 1993) or complete reaction.
    sector_exponent [-], transport_time_h [h], max_distance_km [km]: inflow weights.
    residual_exchange_per_h [1/h], residual_top_min_m [m]: the residual layer.
    far_field: season → :class:`FarField`.
    """

    deposition_cm_s: Mapping[str, float]
    k_so2_per_h: RateTable
    k_nox_per_h: RateTable
    oxidant_limit: bool
    nox_at_max_production_ug_m3: float
    k_voc_per_h: float
    soa_yield: float
    nh4no3_equilibrium: bool
    sector_exponent: float
    transport_time_h: float
    max_distance_km: float
    residual_exchange_per_h: float
    residual_top_min_m: float
    far_field: Mapping[str, FarField]
    ranges: tuple[tuple[str, float, float], ...] = ()


#: Parameters that may carry ``range: [low, high]`` (dotted paths in the file; for a rate
#: table the range multiplies the table), drawn by :func:`draw_regional_parameters`.
RANGED = (
    "deposition_cm_s.pm25", "deposition_cm_s.so2", "deposition_cm_s.nox", "deposition_cm_s.hno3", "deposition_cm_s.nh3",
    "k_so2_per_h", "k_nox_per_h", "nox_at_max_production_ug_m3", "k_voc_per_h", "soa_yield",
    "transport.transport_time_h", "residual_layer.exchange_per_h",
)
_FIELD = {"transport.transport_time_h": "transport_time_h", "residual_layer.exchange_per_h": "residual_exchange_per_h"}
_TABLES = RATE_TABLES


def _value_of(params: "RegionalParameters", name: str) -> float:
    head, _, tail = name.partition(".")
    if head == "deposition_cm_s":
        return params.deposition_cm_s[tail]
    return getattr(params, _FIELD.get(name, name))


def draw_regional_parameters(params: "RegionalParameters", rng: np.random.Generator) -> "RegionalParameters":
    """One draw of the uncertain parameters of ``params`` (those with a range), each
    log-uniform between its low and high [-]; a rate table is multiplied by one drawn factor.
    ``rng``: the generator of the draw (one per ensemble member, from the scenario seed)."""
    if not params.ranges:
        return params
    drawn = draw_log_uniform(params.ranges, rng)
    changes: dict[str, Any] = {}
    deposition = dict(params.deposition_cm_s)
    for name, value in drawn.items():
        head, _, tail = name.partition(".")
        if head == "deposition_cm_s":
            deposition[tail] = value
        elif name in _TABLES:
            table = getattr(params, name)
            changes[name] = RateTable(table.rh_pct, tuple(k * value for k in table.k_per_h))
        else:
            changes[_FIELD.get(name, name)] = min(1.0, value) if name == "soa_yield" else value
    return replace(params, deposition_cm_s=deposition, **changes)


def load_regional_parameters(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    overrides_file: str | Path | None = None,
    overrides_key: str = "regional.parameters",
) -> RegionalParameters:
    """Read the regional-model parameters and apply overrides.

    Parameters
    ----------
    path:
        A complete parameter file in the format of ``sim/data/regional.yaml``; None reads that
        packaged default file.
    overrides:
        Nested mapping of changes, merged key by key into the file, e.g.
        ``{"deposition_cm_s": {"hno3": 4.0}, "oxidant_limit": False, "k_so2_per_h": 0.0,
        "far_field": {"winter": {"pm25_ug_m3": 0}}}``; values plain or ``{value: ..., source: ...}``.
    overrides_file, overrides_key:
        Where the overrides were written, for error messages.

    Raises
    ------
    InputError naming the file and key for a missing or unknown key or a bad value.
    """
    if path is None:
        text = importlib.resources.files("sim").joinpath("data", "regional.yaml").read_text(encoding="utf-8")
        file_name: str | Path = _DEFAULT_FILE
        raw = parse_yaml(text, file_name)
    else:
        file_name = Path(path)
        raw = read_yaml(file_name, "regional parameter")
    values = _parse(raw, file_name, "")  # the file on its own first, so its errors name it
    if not overrides:
        return replace(values, ranges=parse_ranges(raw, RANGED, lambda name: _value_of(values, name), _TABLES, file_name, ""))
    # Check the overrides on their own (so errors name the overrides' file), then merge.
    file = overrides_file or "regional parameter overrides"
    _check_keys(overrides, file, f"{overrides_key}.")
    merged = _drop_fixed_ranges(_merge(raw, overrides), overrides)
    values = _parse(merged, file, f"{overrides_key}.")
    # a value the scenario sets is fixed, unless the scenario gives its own range with it
    return replace(values, ranges=parse_ranges(merged, RANGED, lambda name: _value_of(values, name), _TABLES, file, f"{overrides_key}."))


def _drop_fixed_ranges(merged: Mapping[str, Any], overrides: Mapping[str, Any]) -> Mapping[str, Any]:
    """``merged`` without the file's ``range`` of every ranged parameter the overrides set
    without a range of their own: a value the scenario sets is fixed (not drawn)."""
    for name in RANGED:
        change = dotted_entry(overrides, name)
        if change is None or (isinstance(change, Mapping) and "range" in change):
            continue
        entry = dotted_entry(merged, name)
        if isinstance(entry, dict):
            entry.pop("range", None)
    return merged


def _merge(base: Any, change: Any) -> Any:
    """``change`` merged into ``base`` key by key (mappings recursively; a ``{value: ...}``
    wrapper of ``base`` takes a plain ``change`` as its new value)."""
    if isinstance(base, Mapping) and isinstance(change, Mapping):
        if "value" in base and "value" not in change and not isinstance(base["value"], Mapping):
            return change
        if "value" in base and isinstance(base["value"], Mapping) and "value" not in change:
            return {**base, "value": _merge(base["value"], change)}
        out = dict(base)
        for k, v in change.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if isinstance(base, Mapping) and "value" in base and not isinstance(change, Mapping):
        return change
    return change


def _check_keys(raw: Any, file: str | Path, prefix: str) -> None:
    """Unknown top-level keys of the overrides, named before merging."""
    if not isinstance(raw, Mapping):
        raise InputError(file, f"key {prefix.rstrip('.')}", "the regional parameters must be a mapping of keys.", f"use the keys {', '.join(PARAMETER_KEYS)}.")
    unknown = [k for k in raw if k not in PARAMETER_KEYS]
    if unknown:
        raise InputError(file, f"key {prefix}{unknown[0]}", f"unknown regional parameter '{unknown[0]}'.", f"use one of {', '.join(PARAMETER_KEYS)}.")


def _group(raw: Any, keys: Sequence[str], file: str | Path, where: str, what: str) -> Mapping[str, Any]:
    """A mapping with exactly ``keys`` (metadata keys allowed)."""
    if isinstance(raw, Mapping) and "value" in raw:
        raw = _unwrap(raw, file, where)
    if not isinstance(raw, Mapping):
        raise InputError(file, where, f"{what} must be a mapping.", f"use the keys {', '.join(keys)}.")
    unknown = [k for k in raw if k not in keys and k not in _META_KEYS]
    if unknown:
        raise InputError(file, f"{where}.{unknown[0]}", f"unknown key '{unknown[0]}'.", f"use one of {', '.join(keys)}.")
    missing = [k for k in keys if k not in raw]
    if missing:
        raise InputError(file, f"{where}.{missing[0]}", "this required parameter is missing.", f"add it (see {_DEFAULT_FILE}).")
    return raw


def _flag(value: Any, file: str | Path, where: str) -> bool:
    flag = _unwrap(value, file, where)
    if not isinstance(flag, bool):
        raise InputError(file, where, f"'{flag}' is not true or false.", "write true or false.")
    return flag


def _parse(raw: Any, file: str | Path, prefix: str) -> RegionalParameters:
    """Validate a complete parameter mapping."""
    _check_keys(raw, file, prefix)
    missing = [k for k in PARAMETER_KEYS if k not in raw]
    if missing:
        raise InputError(file, f"key {prefix}{missing[0]}", "this required parameter is missing.", f"add it (see {_DEFAULT_FILE}).")

    def where(*keys: str) -> str:
        return f"key {prefix}{'.'.join(keys)}"

    def num(value: Any, w: str, **kw: Any) -> float:
        return _number(_unwrap(value, file, w), file, w, **kw)

    dep_raw = _group(raw["deposition_cm_s"], DEPOSITION_SPECIES, file, where("deposition_cm_s"), "dry deposition velocities")
    deposition = {k: num(dep_raw[k], where("deposition_cm_s", k)) for k in DEPOSITION_SPECIES}
    tr = _group(raw["transport"], TRANSPORT_KEYS, file, where("transport"), "transport")
    rl = _group(raw["residual_layer"], RESIDUAL_KEYS, file, where("residual_layer"), "residual_layer")
    ff_raw = _group(raw["far_field"], SEASONS, file, where("far_field"), "far_field")
    far: dict[str, FarField] = {}
    for season in SEASONS:
        s = _group(ff_raw[season], FAR_KEYS, file, where("far_field", season), f"far_field.{season}")
        comp_w = where("far_field", season, "composition")
        comp = _group(s["composition"], FAR_COMPOSITION, file, comp_w, "the far-field composition")
        shares = {k: num(comp[k], f"{comp_w}.{k}", high=1.0) for k in FAR_COMPOSITION}
        if abs(sum(shares.values()) - 1.0) > 1e-6:
            raise InputError(file, comp_w, f"the composition shares add up to {sum(shares.values()):g}, not 1.", "make the shares sum to 1.")
        gas_w = where("far_field", season, "gases_ug_m3")
        gases = _group(s["gases_ug_m3"], FAR_GASES, file, gas_w, "the far-field gases")
        far[season] = FarField(
            pm25_ug_m3=num(s["pm25_ug_m3"], where("far_field", season, "pm25_ug_m3")),
            composition=shares,
            gases_ug_m3={k: num(gases[k], f"{gas_w}.{k}") for k in FAR_GASES},
        )
    return RegionalParameters(
        deposition_cm_s=deposition,
        k_so2_per_h=_parse_rate_table(raw["k_so2_per_h"], file, where("k_so2_per_h")),
        k_nox_per_h=_parse_rate_table(raw["k_nox_per_h"], file, where("k_nox_per_h")),
        oxidant_limit=_flag(raw["oxidant_limit"], file, where("oxidant_limit")),
        nox_at_max_production_ug_m3=num(raw["nox_at_max_production_ug_m3"], where("nox_at_max_production_ug_m3"), positive=True),
        k_voc_per_h=num(raw["k_voc_per_h"], where("k_voc_per_h")),
        soa_yield=num(raw["soa_yield"], where("soa_yield"), high=1.0),
        nh4no3_equilibrium=_flag(raw["nh4no3_equilibrium"], file, where("nh4no3_equilibrium")),
        sector_exponent=num(tr["sector_exponent"], where("transport", "sector_exponent"), positive=True),
        transport_time_h=num(tr["transport_time_h"], where("transport", "transport_time_h"), positive=True),
        max_distance_km=num(tr["max_distance_km"], where("transport", "max_distance_km")),
        residual_exchange_per_h=num(rl["exchange_per_h"], where("residual_layer", "exchange_per_h")),
        residual_top_min_m=num(rl["top_min_m"], where("residual_layer", "top_min_m"), positive=True),
        far_field=far,
    )


def season_of_month(month: int) -> str:
    """Far-field season of a calendar month: ``winter`` for November-March (the North China
    heating season runs 15 Nov-15 Mar), ``summer`` for June-August, ``transition`` otherwise."""
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month {month} is not 1-12.")
    return "winter" if month in (11, 12, 1, 2, 3) else "summer" if month in (6, 7, 8) else "transition"


# --------------------------------------------------------------------------- building blocks


def distances_bearings(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle distance d_ij [km] and initial bearing β_ij [° clockwise from north] of
    city j seen from city i, each (cities, cities); the diagonal is 0."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    la1, la2 = lat[:, None], lat[None, :]
    dlon = lon[None, :] - lon[:, None]
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlon / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    bearing = np.degrees(np.arctan2(np.sin(dlon) * np.cos(la2), np.cos(la1) * np.sin(la2) - np.sin(la1) * np.cos(la2) * np.cos(dlon)))
    return d, np.mod(bearing, 360.0)


def inflow_weights(
    lat_deg: ArrayLike, lon_deg: ArrayLike, wind_speed_m_s: ArrayLike, wind_dir_deg: ArrayLike, params: RegionalParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Inflow weights (module docstring): w (T, cities i, cities j) and w_far (T, cities), with
    Σ_j w_ij + w_far = 1; wind (cities, T), direction the wind blows FROM [°]."""
    d, bearing = distances_bearings(lat_deg, lon_deg)
    u = np.asarray(wind_speed_m_s, dtype=float).T[:, :, None]  # (T, i, 1)
    theta = np.asarray(wind_dir_deg, dtype=float).T[:, :, None]
    cos_plus = np.maximum(np.cos(np.radians(bearing[None] - theta)), 0.0)
    reach = 3.6 * u * params.transport_time_h  # km travelled in τ
    decay = np.exp(-d[None] / np.where(reach > 0, reach, 1.0))
    n = d.shape[0]
    near = (d <= params.max_distance_km) & ~np.eye(n, dtype=bool)
    r = np.where(near[None] & (reach > 0), cos_plus ** params.sector_exponent * decay, 0.0)
    w = r / np.maximum(1.0, r.sum(axis=-1, keepdims=True))
    return w, 1.0 - w.sum(axis=-1)


def kp_nh4no3(temp_k: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Dissociation constant Kp [ppb²] of NH4NO3 (Mozurkewich 1993), reduced above the
    deliquescence RH by the aqueous factor (capped at 1)."""
    t = np.asarray(temp_k, dtype=float)
    a = np.clip(np.asarray(rh_pct, dtype=float) / 100.0, 0.0, 1.0)
    kp = np.exp(118.87 - 24084.0 / t - 6.025 * np.log(t))
    drh = np.exp(723.7 / t + 1.6954)  # [%]
    p1 = np.exp(-135.94 + 8763.0 / t + 19.12 * np.log(t))
    p2 = np.exp(-122.65 + 9969.0 / t + 16.22 * np.log(t))
    p3 = np.exp(-182.61 + 13875.0 / t + 24.46 * np.log(t))
    wet = 1.0 - a
    factor = np.clip((p1 - p2 * wet + p3 * wet**2) * wet**1.75, 0.0, 1.0)
    return np.where(100.0 * a >= drh, kp * factor, kp)


def partition(sulfate: np.ndarray, tnh: np.ndarray, tno3: np.ndarray, temp_k: np.ndarray, kp_ppb2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ammonium, particulate nitrate, NH3 gas and HNO3 gas [μg/m³, own masses] from sulfate,
    total ammonia (as NH3) and total nitrate (as NO3) [μg/m³] (module docstring)."""
    s = sulfate / M_SO4
    a_tot = tnh / M_NH3
    n = tno3 / M_NO3
    n_s = np.minimum(2.0 * s, a_tot)
    a = a_tot - n_s
    ppb_per_umol = R_GAS * temp_k / P_ATM * 1e3
    k = kp_ppb2 / ppb_per_umol**2  # [(μmol/m³)²]
    root = (a + n) + np.sqrt((a - n) ** 2 + 4.0 * k)
    x = np.where(root > 0, 2.0 * (a * n - k) / np.where(root > 0, root, 1.0), 0.0)
    x = np.clip(x, 0.0, np.minimum(a, n))
    return M_NH4 * (n_s + x), M_NO3 * x, M_NH3 * (a - x), M_HNO3 * (n - x)


# Kernels of the exact hourly solution, as in sim.physics.atmosphere (same functions), but all
# evaluated together in one Horner pass per hour: the loop over hours pays per numpy call, so
# the per-hour kernels are one stacked evaluation instead of one per function. Series below
# z = 0.25 (10 terms: truncation < 3e-14), closed forms above (cancellation < 2e-13).
_SMALL = 0.25
_N_TERMS = 10
_FACTORIAL = np.cumprod(np.r_[1.0, np.arange(1.0, _N_TERMS + 4)])
_KK = np.arange(_N_TERMS)
#: Σ c_k (−z)^k coefficients of φ1, φ2, m1 = −φ1', m2 = −φ2' (rows).
_COEFFS = np.stack([
    1.0 / _FACTORIAL[_KK + 1],
    1.0 / _FACTORIAL[_KK + 2],
    1.0 / (_FACTORIAL[_KK] * (_KK + 2)),
    1.0 / (_FACTORIAL[_KK] * (_KK + 2) * (_KK + 3)),
])[:, :, None]
_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)
_GL_S, _GL_W = (_GL_X + 1.0) / 2.0, _GL_W / 2.0


def kernels(z: np.ndarray) -> np.ndarray:
    """φ1, φ2, m1 = −φ1', m2 = −φ2' of rates z ≥ 0 [1/h] over one hour, stacked: (4, *z.shape).

    φ1(z) = (1 − e^{−z})/z, φ2(z) = (z − 1 + e^{−z})/z², m1 = ∫₀¹ t e^{−zt} dt,
    m2 = ∫₀¹ t(1 − t) e^{−zt} dt (module docstring of :mod:`sim.physics.atmosphere`).
    """
    flat = z.reshape(1, -1)
    series = np.zeros((4, flat.shape[1]))
    for k in range(_N_TERMS - 1, -1, -1):
        series = series * (-flat) + _COEFFS[:, k]
    zs = np.where(flat < _SMALL, 1.0, flat)
    em1 = np.expm1(-zs)
    e = em1 + 1.0
    closed = np.concatenate([-em1 / zs, (zs + em1) / zs**2, (-em1 - zs * e) / zs**2, (zs - 2.0 + (zs + 2.0) * e) / zs**3])
    return np.where(flat < _SMALL, series, closed).reshape(4, *z.shape)


def hour_kernels(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """For parent rates a (P, ...) and product rates b (Q, ...), Q ≤ P, product q fed by parent q:
    e^{−z}, φ1(z), φ2(z) of z = (a, b) stacked, and e[a,b], φ1[a,b], φ2[a,b] of the first Q
    parents with their products (divided differences, exact also for a = b: as
    :func:`sim.physics.atmosphere._divided`)."""
    q = b.shape[0]
    a_q = a[:q]
    z = np.concatenate([a, b])
    gap = np.abs(a_q - b)
    nodes = a_q[..., None] + _GL_S * (b - a_q)[..., None]
    n_z, n_gap = z.size, gap.size
    k = kernels(np.concatenate([z.ravel(), gap.ravel(), nodes.ravel()]))
    phi1, phi2 = k[0, :n_z].reshape(z.shape), k[1, :n_z].reshape(z.shape)
    phi1_gap = k[0, n_z:n_z + n_gap].reshape(gap.shape)
    slopes = k[2:, n_z + n_gap:].reshape(2, *nodes.shape)
    ez = np.exp(-z)
    far = gap >= 1.0
    step = np.where(far, b - a_q, 1.0)
    p = len(a)
    p1_ab = np.where(far, (phi1[:q] - phi1[p:]) / step, np.sum(_GL_W * slopes[0], axis=-1))
    p2_ab = np.where(far, (phi2[:q] - phi2[p:]) / step, np.sum(_GL_W * slopes[1], axis=-1))
    e_ab = np.exp(-np.minimum(a_q, b)) * phi1_gap
    return ez, phi1, phi2, e_ab, p1_ab, p2_ab


def _spin_up(x: np.ndarray, hours: int) -> np.ndarray:
    """``x`` (..., T) preceded by ``hours`` hours repeating its first day in clock order."""
    if hours <= 0:
        return x
    day = min(24, x.shape[-1])
    index = np.mod(np.arange(-hours, 0), day)
    return np.concatenate([x[..., index], x], axis=-1)


# --------------------------------------------------------------------------- the model


def regional_model(
    emissions_kg_h: Mapping[str, ArrayLike],
    mixing_height_m: ArrayLike,
    wind_speed_m_s: ArrayLike,
    wind_dir_deg: ArrayLike,
    rh_pct: ArrayLike,
    temp_c: ArrayLike,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    area_km2: ArrayLike,
    params: RegionalParameters,
    *,
    spin_up_h: int = 72,
    season: str = "winter",
    initial: Mapping[str, Mapping[str, ArrayLike]] | None = None,
    return_state: bool = False,
) -> dict[str, Any]:
    """Hourly PM2.5 and its components in every city of a region (model: module docstring).

    Parameters
    ----------
    emissions_kg_h:
        Emission rates [kg/h] by pollutant ``so2``, ``nox`` (as NO2), ``pm25``, ``voc``,
        ``nh3`` (all required; give zeros for a pollutant without inventory), each
        (cities, variants, T).
    mixing_height_m, wind_speed_m_s, wind_dir_deg, rh_pct, temp_c:
        Hourly mixing height [m] (> 0), wind speed [m/s] (≥ 0), direction the wind blows FROM
        [°, meteorological], relative humidity [%] and temperature [°C], each (cities, T).
        The mixing height is constant within an hour and jumps at the start of the hour.
    lat_deg, lon_deg, area_km2:
        City centres [°] and box areas [km²], each (cities,).
    params:
        :func:`load_regional_parameters`.
    spin_up_h:
        Hours run before the first hour, repeating the first day of every input, so that a
        period starting mid-episode starts near its equilibrium (the state starts at the
        far-field values). 0 starts at the first hour.
    season:
        Far-field set of the parameters (``winter``, ``summer``, ``transition``), constant over
        the run; :func:`season_of_month` maps a month to one.
    initial:
        Optional ``{"mixed": {key: array}, "residual": {key: array}}`` start state [μg/m³] by
        state key (so2, nox, voc, tnh as NH3, primary, far, sulfate, tno3 as NO3, soa), each
        broadcastable to (cities, variants); missing keys start at the far-field value. Applied
        before the spin-up.
    return_state:
        Also return ``"state"``: end-of-run ``{"mixed": ..., "residual": ..., "residual_top_m":
        Z (cities,)}`` (for mass budgets).

    Returns
    -------
    Dict of (cities, variants, T) hourly means [μg/m³]: ``primary``, ``sulfate``, ``nitrate``,
    ``ammonium``, ``soa``, ``far_field``, ``pm25`` (the sum of those six), ``so2_gas``,
    ``nox_gas``, ``voc_gas``, ``nh3_gas``, ``hno3_gas``; ``oxidant_factor`` [-] (ox applied in
    the hour).
    """
    missing = [p for p in EMISSION_KEYS if p not in emissions_kg_h]
    unknown = sorted(set(emissions_kg_h) - set(EMISSION_KEYS))
    if missing or unknown:
        raise ValueError(f"emissions need keys {EMISSION_KEYS}; missing {missing}, unknown {unknown}.")
    if season not in params.far_field:
        raise ValueError(f"unknown season '{season}'; use one of {sorted(params.far_field)}.")
    emis = np.stack([np.asarray(emissions_kg_h[p], dtype=float) for p in EMISSION_KEYS])  # (5, C, V, T)
    if emis.ndim != 4:
        raise ValueError(f"emissions must be (cities, variants, T); got {emis.shape[1:]}.")
    _, n_c, n_v, n_t = emis.shape
    met = [np.asarray(x, dtype=float) for x in (mixing_height_m, wind_speed_m_s, wind_dir_deg, rh_pct, temp_c)]
    for name, m in zip(("mixing_height_m", "wind_speed_m_s", "wind_dir_deg", "rh_pct", "temp_c"), met):
        if m.shape != (n_c, n_t):
            raise ValueError(f"{name} must be (cities, T) = {(n_c, n_t)}; got {m.shape}.")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{name} must be finite.")
    geo = [np.asarray(x, dtype=float) for x in (lat_deg, lon_deg, area_km2)]
    if any(g.shape != (n_c,) for g in geo):
        raise ValueError(f"lat_deg, lon_deg and area_km2 must be (cities,) = ({n_c},).")
    if not np.all(met[0] > 0) or not np.all(met[1] >= 0) or not np.all(geo[2] > 0):
        raise ValueError("mixing height and area must be > 0, wind speed >= 0.")
    if not np.all(np.isfinite(emis)) or np.any(emis < 0):
        raise ValueError("emissions must be finite and >= 0 [kg/h].")

    spin = max(0, int(spin_up_h))
    emis = _spin_up(emis, spin)
    height, wind, wdir, rh, temp = (_spin_up(m, spin) for m in met)
    temp_k = temp + 273.15
    T = n_t + spin
    area_m2 = geo[2] * 1e6
    length = np.sqrt(area_m2)

    # Rates [1/h] (cities, T) that depend on meteorology only.
    k_v = S_PER_H * wind / length[:, None]
    k_d = {s: S_PER_H * params.deposition_cm_s[s] / 100.0 / height for s in DEPOSITION_SPECIES}
    k_s = params.k_so2_per_h.at(rh)
    k_n = params.k_nox_per_h.at(rh)
    k_o = np.full_like(rh, params.k_voc_per_h)
    kp = kp_nh4no3(temp_k, rh) if params.nh4no3_equilibrium else np.zeros_like(rh)
    w, w_far = inflow_weights(geo[0], geo[1], wind, wdir, params)  # (T, C, C), (T, C)
    top = np.maximum(params.residual_top_min_m, height.max(axis=1))  # Z (cities,)

    # Emission sources [μg m-3 h-1] per parent species, (T, 6, C, V).
    per_kg_h = UG_PER_KG / (height * area_m2[:, None])  # (C, T)
    q_emis = np.zeros((T, len(PARENTS), n_c, n_v))
    for k, p in enumerate(("so2", "nox", "voc", "nh3", "pm25")):
        q_emis[:, k] = np.moveaxis(emis[EMISSION_KEYS.index(p)] * per_kg_h[:, None, :], -1, 0)

    # Far-field concentrations of the state species [μg/m³]: inflow (and residual target).
    ff = params.far_field[season]
    gases = ff.gases_ug_m3
    far = np.array([gases["so2"], gases["nox"], gases["voc"], gases["nh3"], 0.0, ff.pm25_ug_m3, 0.0, gases["hno3"] * M_NO3 / M_HNO3, 0.0])
    far_col = far[:, None, None]

    mixed = np.broadcast_to(far_col, (len(STATE_KEYS), n_c, n_v)).copy()
    resid = mixed.copy()
    for layer, arr in (("mixed", mixed), ("residual", resid)):
        for key, value in (initial or {}).get(layer, {}).items():
            if key not in STATE_KEYS:
                raise ValueError(f"unknown initial state key '{key}'; use {STATE_KEYS}.")
            arr[STATE_KEYS.index(key)] = np.broadcast_to(np.asarray(value, dtype=float), (n_c, n_v))
    unknown_layers = set(initial or {}) - {"mixed", "residual"}
    if unknown_layers:
        raise ValueError(f"initial state layers are 'mixed' and 'residual', not {sorted(unknown_layers)}.")

    # Rates [1/h] with every state-independent term precomputed, (T, species, C, 1): parents
    # so2, nox, voc, tnh, primary, far; products sulfate, tno3, soa. The loop adds the
    # state-dependent terms: k_n·ox (nox), the NH3 and HNO3 deposition by gas fraction.
    col = lambda x: np.moveaxis(x, -1, 0)[:, :, None]  # noqa: E731  (C, T) -> (T, C, 1)
    kv_t, kdp_t = col(k_v), col(k_d["pm25"])
    a_const = np.stack([kv_t + col(k_d["so2"] + k_s), kv_t + col(k_d["nox"]), kv_t + col(k_o), kv_t + kdp_t, kv_t + kdp_t, kv_t + kdp_t], axis=1)
    b_const = np.stack([kv_t + kdp_t, kv_t + kdp_t, kv_t + kdp_t], axis=1)
    kn_t = col(k_n)
    dnh3_t, dhno3_t = col(k_d["nh3"]) - kdp_t, col(k_d["hno3"]) - kdp_t  # extra loss of the gas
    yields = np.array([SULFATE_PER_SO2, NITRATE_PER_NO2, params.soa_yield])
    c_const = np.stack([yields[0] * col(k_s), yields[1] * kn_t, yields[2] * col(k_o)], axis=1)
    w_far_t = w_far[:, None, :, None]
    kp_t, tk_t = col(kp), col(temp_k)
    g_star = params.nox_at_max_production_ug_m3
    e_r = np.exp(-params.residual_exchange_per_h)
    n_p = len(PARENTS)
    f_hno3 = np.ones((n_c, n_v))  # gas fractions of TNO3 and TNH from the last partitioning
    f_nh3 = np.ones((n_c, n_v))
    means = np.empty((T, len(STATE_KEYS), n_c, n_v))
    ox_all = np.ones((T, n_c, n_v))
    h_prev = height[:, 0][:, None]
    top_col = top[:, None]
    extra_a = np.zeros((n_p, n_c, n_v))
    extra_b = np.zeros((len(PRODUCTS), n_c, n_v))
    ox_mult = np.ones((len(PRODUCTS), n_c, n_v))

    for t in range(T):
        # (1) mixed-layer jump at the start of the hour, mass-conserving (up or down is 0).
        h_new = height[:, t][:, None]
        up = np.maximum(h_new - h_prev, 0.0)
        down = np.maximum(h_prev - h_new, 0.0)
        thick = top_col - h_prev  # residual thickness before the jump
        mixed = (mixed * h_prev + resid * up) / (h_prev + up)
        den = thick + down
        resid = np.where(den > 0, (resid * thick + mixed * down) / np.where(den > 0, den, 1.0), mixed)
        h_prev = h_new
        # (2) inflow: a convex mix of the neighbours' start-of-hour states and the far field.
        inflow = np.einsum("ij,sjv->siv", w[t], mixed) + w_far_t[t] * far_col
        kv = kv_t[t]
        # (3) linear hour with ox, f_HNO3, f_NH3 frozen at their end-of-last-hour values.
        if params.oxidant_limit:
            ox = np.exp(-mixed[1] / g_star)
            ox_all[t] = ox
            ox_mult[1] = ox
            extra_a[1] = kn_t[t] * ox
        else:
            extra_a[1] = kn_t[t]
        extra_a[3] = f_nh3 * dnh3_t[t]
        extra_b[1] = f_hno3 * dhno3_t[t]
        a = a_const[t] + extra_a
        b = b_const[t] + extra_b
        c = c_const[t] * ox_mult
        q = kv * inflow
        q_par = q_emis[t] + q[:n_p]
        q_prod = q[n_p:]
        ez, p1, p2, e_ab, p1_ab, p2_ab = hour_kernels(a, b)
        g0, x0 = mixed[:n_p], mixed[n_p:]
        mean_g = g0 * p1[:n_p] + q_par * p2[:n_p]
        mean_x = x0 * p1[n_p:] + q_prod * p2[n_p:] + c * (g0[:3] * p1_ab + q_par[:3] * p2_ab)
        end_g = g0 * ez[:n_p] + q_par * p1[:n_p]
        end_x = x0 * ez[n_p:] + q_prod * p1[n_p:] + c * (g0[:3] * e_ab + q_par[:3] * p1_ab)
        means[t, :n_p], means[t, n_p:] = mean_g, mean_x
        mixed = np.concatenate([end_g, end_x])
        # Residual layer relaxes to the far field.
        resid = far_col + (resid - far_col) * e_r
        # (4) partitioning of the end-of-hour totals: gas fractions for the next hour.
        _, _, nh3_g, hno3_g = partition(mixed[6], mixed[3], mixed[7], tk_t[t], kp_t[t])
        f_nh3 = np.where(mixed[3] > 0, nh3_g / np.where(mixed[3] > 0, mixed[3], 1.0), 1.0)
        f_hno3 = np.where(mixed[7] > 0, hno3_g * (M_NO3 / M_HNO3) / np.where(mixed[7] > 0, mixed[7], 1.0), 1.0)

    m = np.moveaxis(means[spin:], 0, -1)  # (9, C, V, n_t)
    tk = temp_k[:, spin:][:, None, :]
    ammonium, nitrate, nh3_gas, hno3_gas = partition(m[6], m[3], m[7], tk, kp[:, spin:][:, None, :])
    out = {
        "primary": m[4],
        "sulfate": m[6],
        "nitrate": nitrate,
        "ammonium": ammonium,
        "soa": m[8],
        "far_field": m[5],
    }
    out["pm25"] = out["primary"] + out["sulfate"] + out["nitrate"] + out["ammonium"] + out["soa"] + out["far_field"]
    out.update(so2_gas=m[0], nox_gas=m[1], voc_gas=m[2], nh3_gas=nh3_gas, hno3_gas=hno3_gas, oxidant_factor=np.moveaxis(ox_all[spin:], 0, -1))
    if return_state:
        out["state"] = {
            "mixed": dict(zip(STATE_KEYS, mixed)),
            "residual": dict(zip(STATE_KEYS, resid)),
            "residual_top_m": top,
            "mixing_height_m": height[:, -1],
        }
    return out


def own_share(
    emissions_kg_h: Mapping[str, ArrayLike],
    *met_and_geo: ArrayLike,
    params: RegionalParameters,
    hours: ArrayLike | slice | None = None,
    **options: Any,
) -> dict[str, np.ndarray]:
    """Each city's modelled local share by the brute-force (zero-out) method.

    Runs :func:`regional_model` once with the variants axis widened to variants × (1 + cities):
    the emissions as given, then with city k's emissions (all pollutants) set to zero, for
    each k. With non-linear chemistry (oxidant limit, NH4NO3 equilibrium) the contributions of
    the cities need not add up to the modelled PM2.5 minus the far field: this is the zero-out
    answer to "how much lower would PM2.5 be without the city's own sources", not an
    apportionment.

    Parameters
    ----------
    emissions_kg_h, *met_and_geo, **options:
        As :func:`regional_model` (mixing height, wind speed, wind direction, RH, temperature,
        lat, lon, area in that order), with ``params`` by keyword.
    hours:
        The episode: hours (index, slice or boolean mask over T) over which means are taken;
        None for all.

    Returns
    -------
    ``own_share`` (cities, variants) [-]: episode-mean (PM2.5 − PM2.5 without the city's own
    emissions) ÷ episode-mean PM2.5; ``contribution`` (receptor cities, source cities,
    variants) [μg/m³]: episode-mean PM2.5 − PM2.5 without the source city; ``pm25``
    (cities, variants) [μg/m³]: the episode-mean modelled PM2.5.
    """
    emis = {p: np.asarray(e, dtype=float) for p, e in emissions_kg_h.items()}
    n_c, n_v, n_t = next(iter(emis.values())).shape
    keep = np.ones((n_c, 1 + n_c))  # (city, run): run 0 all, run k+1 without city k
    keep[np.arange(n_c), np.arange(1, n_c + 1)] = 0.0
    wide = {p: (e[:, :, None, :] * keep[:, None, :, None]).reshape(n_c, n_v * (1 + n_c), n_t) for p, e in emis.items()}
    pm = regional_model(wide, *met_and_geo, params=params, **options)["pm25"].reshape(n_c, n_v, 1 + n_c, n_t)
    sel = slice(None) if hours is None else hours
    mean = pm[..., sel].mean(axis=-1)  # (C, V, 1 + C)
    contribution = np.moveaxis(mean[:, :, :1] - mean[:, :, 1:], 2, 1)  # (receptor, source, V)
    base = mean[:, :, 0]
    own = contribution[np.arange(n_c), np.arange(n_c)]  # (C, V)
    return {"own_share": own / base, "contribution": contribution, "pm25": base}
