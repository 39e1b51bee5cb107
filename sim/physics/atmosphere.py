"""Local PM2.5 from hourly emissions: the one-box model and the linear-response model.

Box model. One well-mixed box per city: area A [m²], length L = √A [m],
mixing height H(t) [m], wind u(t) [m/s], relative humidity RH(t) [%]. Species [μg/m³]:
primary PM2.5 P; gases SO2 G_s, NOx as NO2 G_n, VOC G_v; secondary sulfate S, nitrate N,
SOA O; ammonium from neutralisation::

    q_x   = E_x / (H A)                E in μg/h (= kg/h × 1e9)        [μg m-3 h-1]
    k_v   = 3600 u / L                 ventilation                     [1/h]
    k_dx  = 3600 v_dx / H              dry deposition, v_d in m/s      [1/h]
    dP/dt   = q_pm25 − (k_v + k_dp) P
    dG_s/dt = q_so2 − (k_v + k_ds + k_s(RH)) G_s    dS/dt = (96/64) k_s G_s − (k_v + k_dp) S
    dG_n/dt = q_nox − (k_v + k_dn + k_n(RH)) G_n    dN/dt = (62/46) k_n G_n − (k_v + k_dp) N
    dG_v/dt = q_voc − (k_v + k_o) G_v               dO/dt = y_soa k_o G_v  − (k_v + k_dp) O
    NH4 = (36/96) S + (18/62) N      (full neutralisation; optional NH3 cap)
    local = P + S + N + O + NH4

Coefficients are constant within an hour, so every hour is advanced with the exact solution
of this linear system (no time-stepping error), and the model reports the exact **mean over
each hour**, comparable with hourly observations. For a gas with loss rate a, source q and a
product with loss rate b fed at c·G (c = yield × conversion rate), over one hour [h]::

    G(1) = G0 e^{-a} + q φ1(a)                  mean G = G0 φ1(a) + q φ2(a)
    X(1) = X0 e^{-b} + c (G0 e[a,b] + q φ1[a,b])
    mean X = X0 φ1(b) + c (G0 φ1[a,b] + q φ2[a,b])

with φ1(z) = (1 − e^{-z})/z, φ2(z) = (z − 1 + e^{-z})/z² and the divided differences
e[a,b] = (e^{-a} − e^{-b})/(b − a), φk[a,b] = (φk(a) − φk(b))/(b − a). They are evaluated in
forms that stay accurate when a rate tends to zero or when a = b (the gas and its product
decay at the same rate): series for small arguments and a Gauss-Legendre integral of the
derivative for close rates.

Limits: the box has no entrainment term, so a rising mixing height dilutes only through q and
k_d; the regional background is added outside the model (see :func:`background`).

Linear model: ΔPM2.5 = Σ_p s_p ΔE_p, first-order lagged with a time constant τ.

Response surface (pf-RSM style): ΔPM2.5 = Σ_k a_k Π_p x_p^{n_kp} in the fractional emission cuts
x_p = 1 − E_p,scenario/E_p,baseline, first-order lagged with the same τ as the linear model
(:func:`response_surface`, :func:`emission_cuts`, :func:`lagged_response`).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.errors import InputError
from sim.config.yamlio import parse_yaml, read_yaml

# Stoichiometric mass ratios [g/g].
SULFATE_PER_SO2 = 96.0 / 64.0
NITRATE_PER_NO2 = 62.0 / 46.0
AMMONIUM_PER_SULFATE = 36.0 / 96.0  # (NH4)2SO4: 2 × 18 per 96
AMMONIUM_PER_NITRATE = 18.0 / 62.0  # NH4NO3
AMMONIUM_PER_NH3 = 18.0 / 17.0
UG_PER_KG = 1e9
S_PER_H = 3600.0

GASES = ("so2", "nox", "voc")
REQUIRED_EMISSIONS = ("so2", "nox", "pm25", "voc")
OPTIONAL_EMISSIONS = ("nh3", "pm10")  # pm10 is accepted and ignored: its fine part is pm25
STATE_KEYS = ("primary", "so2_gas", "nox_gas", "voc_gas", "sulfate", "nitrate", "soa")
OUTPUT_KEYS = (*STATE_KEYS, "ammonium", "local")
DEPOSITION_SPECIES = ("pm25", "so2", "nox", "nh3")
PARAMETER_KEYS = ("area_km2", "deposition_cm_s", "k_so2_per_h", "k_nox_per_h", "k_voc_per_h", "soa_yield", "nh3_limit")
_META_KEYS = frozenset({"source", "estimate", "reasoning", "note", "range"})
# Parameters that may carry a `range: [low, high]` of plausible values, drawn per ensemble member
# with `atmosphere.draw_parameters`; for a rate table the range multiplies every rate.
RANGED = ("deposition_cm_s.pm25", "deposition_cm_s.so2", "deposition_cm_s.nox", "deposition_cm_s.nh3",
          "k_so2_per_h", "k_nox_per_h", "k_voc_per_h", "soa_yield")
RATE_TABLES = ("k_so2_per_h", "k_nox_per_h")
_DEFAULT_FILE = "sim/data/atmosphere.yaml"


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class RateTable:
    """A first-order rate [1/h] as a function of relative humidity [%], linear between points."""

    rh_pct: tuple[float, ...]
    k_per_h: tuple[float, ...]

    def at(self, rh_pct: ArrayLike) -> np.ndarray:
        """Rate [1/h] at relative humidity ``rh_pct`` [%]; flat beyond the first and last point."""
        return np.interp(np.asarray(rh_pct, dtype=float), self.rh_pct, self.k_per_h)

    @classmethod
    def constant(cls, k_per_h: float) -> "RateTable":
        """A rate [1/h] that does not depend on humidity."""
        return cls((0.0, 100.0), (float(k_per_h), float(k_per_h)))


@dataclass(frozen=True)
class Deposition:
    """Dry deposition velocities [cm/s]."""

    pm25: float
    so2: float
    nox: float
    nh3: float


@dataclass(frozen=True)
class BoxParameters:
    """Parameters of the box model (defaults and sources in ``sim/data/atmosphere.yaml``).

    Attributes
    ----------
    area_km2: box area [km²].
    deposition_cm_s: dry deposition velocities [cm/s] of PM2.5 (all particle species), SO2,
        NO2 and NH3.
    k_so2_per_h, k_nox_per_h: SO2 → sulfate and NO2 → nitrate conversion [1/h] vs RH [%].
    k_voc_per_h: VOC oxidation rate [1/h].
    soa_yield: SOA mass formed per VOC mass oxidised [-].
    nh3_limit: cap ammonium by the locally emitted NH3 instead of full neutralisation.
    ranges: (parameter, low, high) of the uncertain parameters, drawn by
        :func:`draw_box_parameters`; for a rate table low and high multiply the table [-].
    """

    area_km2: float
    deposition_cm_s: Deposition
    k_so2_per_h: RateTable
    k_nox_per_h: RateTable
    k_voc_per_h: float
    soa_yield: float
    nh3_limit: bool
    ranges: tuple[tuple[str, float, float], ...] = ()

    @property
    def area_m2(self) -> float:
        """Box area [m²]."""
        return self.area_km2 * 1e6

    @property
    def length_m(self) -> float:
        """Box length L = √A [m], the distance the wind ventilates."""
        return float(np.sqrt(self.area_m2))


def load_box_parameters(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    overrides_file: str | Path | None = None,
    overrides_key: str = "atmosphere.parameters",
) -> BoxParameters:
    """Read box-model parameters and apply overrides.

    Parameters
    ----------
    path:
        A complete parameter file in the format of ``sim/data/atmosphere.yaml``; None reads that
        packaged default file.
    overrides:
        Nested mapping of changes, e.g. ``{"area_km2": 7500, "deposition_cm_s": {"pm25": 0.2},
        "k_nox_per_h": {"rh_pct": [0, 100], "k_per_h": [0.05, 0.15]}}``; a rate may also be a
        constant number [1/h]. Values may be plain or ``{value: ..., source: ...}``.
    overrides_file, overrides_key:
        Where the overrides were written (for error messages), e.g. the scenario file and
        ``atmosphere.parameters``.

    Raises
    ------
    InputError naming the file and key for a missing or unknown key or a bad value.
    """
    return load_box_parameter_sets([overrides], path, overrides_file=overrides_file, overrides_key=overrides_key)[0]


def load_box_parameter_sets(
    overrides: Sequence[Mapping[str, Any] | None],
    path: str | Path | None = None,
    *,
    overrides_file: str | Path | None = None,
    overrides_key: str = "atmosphere.parameters",
) -> list[BoxParameters]:
    """:func:`load_box_parameters` for several sets of overrides (e.g. one per city): the
    parameter file is read once and each distinct set of overrides parsed once.

    Returns one :class:`BoxParameters` per entry of ``overrides``, in order.
    """
    if path is None:
        resource = importlib.resources.files("sim").joinpath("data", "atmosphere.yaml")
        file_name: str | Path = _DEFAULT_FILE
        raw = parse_yaml(resource.read_text(encoding="utf-8"), file_name)
    else:
        file_name = Path(path)
        raw = read_yaml(file_name, "atmosphere parameter")
    values = _parse_parameters(raw, file_name, "", partial=False)
    values["ranges"] = parse_ranges(raw, RANGED, _box_value(values), RATE_TABLES, file_name, "")
    parsed: dict[tuple, BoxParameters] = {}
    out = []
    for changes in overrides:
        key = _frozen(changes or {})  # equal mappings (e.g. cities without own parameters): one parse
        if key not in parsed:
            parsed[key] = _with_overrides(values, changes, overrides_file or "atmosphere parameter overrides", f"{overrides_key}.")
        out.append(parsed[key])
    return out


def _frozen(value: Any) -> tuple:
    """A hashable key of a YAML value; type names keep 1, 1.0 and true apart (they validate differently)."""
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((repr(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_frozen(v) for v in value))
    return (type(value).__name__, repr(value))


def _with_overrides(values: dict[str, Any], overrides: Mapping[str, Any] | None, file: str | Path, prefix: str) -> BoxParameters:
    """The parsed complete ``values`` with the (unparsed) ``overrides`` applied."""
    if overrides:
        changes = _parse_parameters(overrides, file, prefix, partial=True)
        deposition = {**values["deposition_cm_s"], **changes.pop("deposition_cm_s", {})}
        merged = {**values, **changes, "deposition_cm_s": deposition}
        # a value the scenario sets is fixed, unless the scenario gives its own range with it
        given = {name for name in RANGED if dotted_entry(overrides, name) is not None}
        own = parse_ranges(overrides, RANGED, _box_value(merged), RATE_TABLES, file, prefix)
        values = {**merged, "ranges": tuple(r for r in values["ranges"] if r[0] not in given) + own}
    return BoxParameters(
        area_km2=values["area_km2"],
        deposition_cm_s=Deposition(**values["deposition_cm_s"]),
        k_so2_per_h=values["k_so2_per_h"],
        k_nox_per_h=values["k_nox_per_h"],
        k_voc_per_h=values["k_voc_per_h"],
        soa_yield=values["soa_yield"],
        nh3_limit=values["nh3_limit"],
        ranges=tuple(values["ranges"]),
    )


def dotted_entry(raw: Any, name: str) -> Any:
    """The entry of a dotted parameter ``name`` (``deposition_cm_s.pm25``) in a (possibly
    unparsed) parameter mapping, or None when it is not there."""
    for part in name.split("."):
        raw = raw.get(part) if isinstance(raw, Mapping) else None
    return raw


def parse_ranges(raw: Mapping[str, Any], names: Sequence[str], value_of: Callable[[str], float], tables: Sequence[str],
                 file: str | Path, prefix: str) -> tuple[tuple[str, float, float], ...]:
    """The ``range: [low, high]`` entries of a parameter mapping ``raw`` for the dotted
    parameter ``names`` (e.g. ``deposition_cm_s.pm25``), each checked to hold its value
    (``value_of(name)``; for the rate ``tables`` the multiplier 1). Shared by the box and the
    regional model's parameter files."""
    out = []
    for name in names:
        entry = dotted_entry(raw, name)
        if not isinstance(entry, Mapping) or "range" not in entry:
            continue
        where = f"key {prefix}{name}.range"
        bounds = entry["range"]
        if not (isinstance(bounds, list) and len(bounds) == 2):
            raise InputError(file, where, f"'{bounds}' is not a range.", "write [low, high], e.g. range: [0.05, 0.2].")
        low, high = (_number(b, file, where, positive=True) for b in bounds)
        table = name in tables
        value = 1.0 if table else value_of(name)
        if not low <= value <= high:
            what = "the rate table's multiplier 1" if table else f"the value {value:g}"
            raise InputError(file, where, f"the range [{low:g}, {high:g}] does not hold {what}.",
                             "give a range around the value" + (" (for a rate table, a multiplier range holding 1, e.g. [0.5, 2])." if table else "."))
        out.append((name, low, high))
    return tuple(out)


def draw_log_uniform(ranges: Sequence[tuple[str, float, float]], rng: np.random.Generator) -> dict[str, float]:
    """One value per (name, low, high), log-uniform between low and high: the ranges span
    factors, so every factor within them is equally likely."""
    return {name: float(np.exp(rng.uniform(np.log(low), np.log(high)))) for name, low, high in ranges}


def _box_value(values: Mapping[str, Any]) -> Callable[[str], float]:
    def value_of(name: str) -> float:
        head, _, tail = name.partition(".")
        return values["deposition_cm_s"][tail] if tail else values[head]
    return value_of


def draw_box_parameters(params: BoxParameters, rng: np.random.Generator) -> BoxParameters:
    """One draw of the uncertain parameters of ``params`` (those with a range), each
    log-uniform between its low and high: the ranges span factors, so every factor within them
    is equally likely [-]. A rate table is multiplied by one drawn factor. ``rng``: the
    generator of the draw (one per ensemble member, from the scenario seed)."""
    if not params.ranges:
        return params
    drawn = draw_log_uniform(params.ranges, rng)
    deposition = {s: drawn.get(f"deposition_cm_s.{s}", getattr(params.deposition_cm_s, s)) for s in DEPOSITION_SPECIES}
    table = {k: RateTable(getattr(params, k).rh_pct, tuple(x * drawn[k] for x in getattr(params, k).k_per_h)) if k in drawn else getattr(params, k)
             for k in ("k_so2_per_h", "k_nox_per_h")}
    return BoxParameters(
        area_km2=params.area_km2,
        deposition_cm_s=Deposition(**deposition),
        k_so2_per_h=table["k_so2_per_h"],
        k_nox_per_h=table["k_nox_per_h"],
        k_voc_per_h=drawn.get("k_voc_per_h", params.k_voc_per_h),
        soa_yield=min(1.0, drawn.get("soa_yield", params.soa_yield)),
        nh3_limit=params.nh3_limit,
        ranges=params.ranges,
    )


def _parse_parameters(raw: Any, file: str | Path, prefix: str, *, partial: bool) -> dict[str, Any]:
    """Validate a (possibly partial) parameter mapping into plain values."""
    if not isinstance(raw, Mapping):
        raise InputError(file, f"key {prefix.rstrip('.') or '(top level)'}", "the atmosphere parameters must be a mapping of keys.", f"use the keys {', '.join(PARAMETER_KEYS)}.")
    unknown = [k for k in raw if k not in PARAMETER_KEYS]
    if unknown:
        raise InputError(file, f"key {prefix}{unknown[0]}", f"unknown atmosphere parameter '{unknown[0]}'.", f"use one of {', '.join(PARAMETER_KEYS)}.")
    if not partial:
        missing = [k for k in PARAMETER_KEYS if k not in raw]
        if missing:
            raise InputError(file, f"key {prefix}{missing[0]}", "this required parameter is missing.", f"add it (see {_DEFAULT_FILE}).")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"key {prefix}{key}"
        if key == "deposition_cm_s":
            out[key] = _parse_deposition(value, file, where, partial=partial)
        elif key in ("k_so2_per_h", "k_nox_per_h"):
            out[key] = _parse_rate_table(value, file, where)
        elif key == "nh3_limit":
            flag = _unwrap(value, file, where)
            if not isinstance(flag, bool):
                raise InputError(file, where, f"'{flag}' is not true or false.", "write true or false.")
            out[key] = flag
        elif key == "area_km2":
            out[key] = _number(_unwrap(value, file, where), file, where, positive=True)
        elif key == "soa_yield":
            out[key] = _number(_unwrap(value, file, where), file, where, high=1.0)
        else:
            out[key] = _number(_unwrap(value, file, where), file, where)
    return out


def _unwrap(value: Any, file: str | Path, where: str) -> Any:
    """Accept ``x`` or ``{value: x, source: ..., estimate: ...}``."""
    if isinstance(value, Mapping) and "value" in value:
        extra = [k for k in value if k != "value" and k not in _META_KEYS]
        if extra:
            raise InputError(file, f"{where}.{extra[0]}", f"unknown key '{extra[0]}'.", f"use value and optionally {', '.join(sorted(_META_KEYS))}.")
        return value["value"]
    return value


def _number(value: Any, file: str | Path, where: str, *, positive: bool = False, high: float | None = None) -> float:
    """A finite number ≥ 0 (> 0 if ``positive``, ≤ ``high`` if given)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    if ok and (value < 0 or (positive and value == 0) or (high is not None and value > high)):
        ok = False
    if not ok:
        bound = "a number > 0" if positive else f"a number between 0 and {high:g}" if high is not None else "a number ≥ 0"
        raise InputError(file, where, f"'{value}' is not {bound}.", f"write {bound}.")
    return float(value)


def _parse_deposition(value: Any, file: str | Path, where: str, *, partial: bool) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise InputError(file, where, "dry deposition velocities must be a mapping by species.", f"write e.g. {{pm25: 0.1, so2: 0.5}} with species among {', '.join(DEPOSITION_SPECIES)}.")
    unknown = [k for k in value if k not in DEPOSITION_SPECIES]
    if unknown:
        raise InputError(file, f"{where}.{unknown[0]}", f"unknown species '{unknown[0]}'.", f"use one of {', '.join(DEPOSITION_SPECIES)}.")
    if not partial:
        missing = [k for k in DEPOSITION_SPECIES if k not in value]
        if missing:
            raise InputError(file, f"{where}.{missing[0]}", "this deposition velocity is missing.", "add it [cm/s].")
    return {k: _number(_unwrap(v, file, f"{where}.{k}"), file, f"{where}.{k}") for k, v in value.items()}


def _parse_rate_table(value: Any, file: str | Path, where: str) -> RateTable:
    """A constant rate [1/h] or a table {rh_pct: [...], k_per_h: [...]}."""
    value = _unwrap(value, file, where)
    if not isinstance(value, Mapping):
        return RateTable.constant(_number(value, file, where))
    extra = [k for k in value if k not in ("rh_pct", "k_per_h") and k not in _META_KEYS]
    if extra or "rh_pct" not in value or "k_per_h" not in value:
        bad = f"unknown key '{extra[0]}'" if extra else "a rate table needs both rh_pct and k_per_h"
        raise InputError(file, f"{where}.{extra[0]}" if extra else where, f"{bad}.", "write a number [1/h] or {rh_pct: [...], k_per_h: [...]}.")
    rh, k = value["rh_pct"], value["k_per_h"]
    if not isinstance(rh, list) or not isinstance(k, list) or len(rh) != len(k) or not rh:
        raise InputError(file, where, "rh_pct and k_per_h must be lists of the same, non-zero length.", "give one rate per humidity point.")
    rh_values = tuple(_number(x, file, f"{where}.rh_pct[{i}]", high=100.0) for i, x in enumerate(rh))
    k_values = tuple(_number(x, file, f"{where}.k_per_h[{i}]") for i, x in enumerate(k))
    if any(b <= a for a, b in zip(rh_values, rh_values[1:])):
        raise InputError(file, f"{where}.rh_pct", "humidity points must increase strictly.", "sort the points by rh_pct and drop duplicates.")
    return RateTable(rh_values, k_values)


# --------------------------------------------------------------------------- exact hourly kernels
#
# All functions take rates z ≥ 0 [1/h] for a step of one hour. Series are used below z = 1,
# where the closed forms lose digits to cancellation; 17 terms reach double precision there.

_N_SERIES = 17
_FACT = np.cumprod(np.r_[1.0, np.arange(1.0, _N_SERIES + 4)])  # 0! … (N+3)!
_K = np.arange(_N_SERIES, dtype=float)
# Coefficients c_k of Σ c_k (−z)^k.
_C_PHI1 = 1.0 / _FACT[_K.astype(int) + 1]  # φ1 = Σ (−z)^k/(k+1)!
_C_PHI2 = 1.0 / _FACT[_K.astype(int) + 2]  # φ2 = Σ (−z)^k/(k+2)!
_C_M1 = 1.0 / (_FACT[_K.astype(int)] * (_K + 2))  # ∫ t e^{−zt} dt = −φ1'
_C_M2 = 1.0 / (_FACT[_K.astype(int)] * (_K + 2) * (_K + 3))  # ∫ t(1−t) e^{−zt} dt = −φ2'
_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)
_GL_S, _GL_W = (_GL_X + 1.0) / 2.0, _GL_W / 2.0  # nodes and weights on [0, 1]


def _series(z: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Σ_k coeffs[k] (−z)^k for rates z [1/h] (dimensionless z × 1 h)."""
    out = np.zeros_like(z)
    for c in coeffs[::-1]:  # Horner over the fixed coefficients, not over data
        out = out * (-z) + c
    return out


def _phi1(z: np.ndarray) -> np.ndarray:
    """φ1(z) = (1 − e^{−z})/z = mean of e^{−zt} over the hour [-]."""
    zs = np.where(z < 1.0, 1.0, z)
    return np.where(z < 1.0, _series(z, _C_PHI1), -np.expm1(-zs) / zs)


def _phi2(z: np.ndarray) -> np.ndarray:
    """φ2(z) = (z − 1 + e^{−z})/z² = mean of (1 − e^{−zt})/z over the hour [h]."""
    zs = np.where(z < 1.0, 1.0, z)
    return np.where(z < 1.0, _series(z, _C_PHI2), (zs + np.expm1(-zs)) / zs**2)


def _m1(z: np.ndarray) -> np.ndarray:
    """∫₀¹ t e^{−zt} dt = −φ1'(z)."""
    zs = np.where(z < 1.0, 1.0, z)
    return np.where(z < 1.0, _series(z, _C_M1), (-np.expm1(-zs) - zs * np.exp(-zs)) / zs**2)


def _m2(z: np.ndarray) -> np.ndarray:
    """∫₀¹ t(1 − t) e^{−zt} dt = −φ2'(z)."""
    zs = np.where(z < 1.0, 1.0, z)
    return np.where(z < 1.0, _series(z, _C_M2), (zs - 2.0 + (zs + 2.0) * np.exp(-zs)) / zs**3)


_Kernel = Callable[[np.ndarray], np.ndarray]


def _divided(f: _Kernel, f_slope: _Kernel, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(f(a) − f(b))/(b − a), with f_slope = −f'; exact also for a = b.

    Far-apart rates use the quotient directly. Close rates (|a − b| < 1, where the quotient
    would cancel) use ∫₀¹ −f'(a + s(b − a)) ds by 6-point Gauss-Legendre, exact to rounding
    because −f' varies little over an interval shorter than 1.
    """
    far = np.abs(b - a) >= 1.0
    quotient = (f(a) - f(b)) / np.where(far, b - a, 1.0)
    r = a[..., None] + _GL_S * (b - a)[..., None]
    integral = np.sum(_GL_W * f_slope(r), axis=-1)
    return np.where(far, quotient, integral)


def _exp_divided(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(e^{−a} − e^{−b})/(b − a), written as e^{−min} φ1(|a − b|) to stay finite and exact."""
    return np.exp(-np.minimum(a, b)) * _phi1(np.abs(a - b))


# --------------------------------------------------------------------------- box model


def box_model(
    emissions_kg_h: Mapping[str, ArrayLike],
    mixing_height_m: ArrayLike,
    wind_speed_m_s: ArrayLike,
    rh_pct: ArrayLike,
    params: BoxParameters | Sequence[BoxParameters],
    initial: Mapping[str, ArrayLike] | None = None,
) -> dict[str, np.ndarray]:
    """Local PM2.5 and its components from hourly emissions (box model: module docstring).

    Parameters
    ----------
    emissions_kg_h:
        Emission rates [kg/h] by pollutant: ``so2``, ``nox`` (as NO2), ``pm25``, ``voc``
        required; ``nh3`` needed with ``params.nh3_limit``; ``pm10`` accepted and ignored.
        Each of shape (..., T); leading dims are boxes (cities), ensemble members or policy
        variants.
    mixing_height_m, wind_speed_m_s, rh_pct:
        Hourly mixing height [m] (> 0), wind speed [m/s] (≥ 0) and relative humidity [%],
        shape (T,) or broadcastable with the emissions, e.g. (boxes, 1, T) for boxes with
        their own weather and variants sharing it.
    params:
        Box parameters, see :func:`load_box_parameters`; or one per box along the first axis of
        the broadcast shape, so boxes with their own area, rates or NH3 cap run in one call.
    initial:
        Concentrations [μg/m³] at the start of the first hour by state key (``primary``,
        ``so2_gas``, ``nox_gas``, ``voc_gas``, ``sulfate``, ``nitrate``, ``soa``, and
        ``nh3_gas`` with the NH3 cap); missing keys start at zero. The model forgets its start
        within a few multiples of 1/(k_v + k_dp) (about 1-2 days in stagnant weather), so run
        it over the whole period, from a day or two before the hours that matter.

    Returns
    -------
    Dict of arrays of shape (..., T), each the exact mean over hour t [μg/m³]: ``primary``,
    ``so2_gas``, ``nox_gas``, ``voc_gas``, ``sulfate``, ``nitrate``, ``soa``, ``ammonium``
    and ``local`` = primary + sulfate + nitrate + soa + ammonium.

    Ammonium is (36/96) sulfate + (18/62) nitrate (full neutralisation). With
    ``params.nh3_limit`` it is capped at (18/17) × the hourly-mean box concentration of the
    emitted NH3, run as a passive gas with ventilation and NH3 dry deposition (its steady box
    concentration under steady conditions).
    """
    unknown = set(emissions_kg_h) - set(REQUIRED_EMISSIONS) - set(OPTIONAL_EMISSIONS)
    missing = [p for p in REQUIRED_EMISSIONS if p not in emissions_kg_h]
    if unknown or missing:
        raise ValueError(f"emissions need keys {REQUIRED_EMISSIONS} (optional {OPTIONAL_EMISSIONS}); missing {missing}, unknown {sorted(unknown)}.")
    boxes = None if isinstance(params, BoxParameters) else tuple(params)
    use_nh3 = params.nh3_limit if boxes is None else any(p.nh3_limit for p in boxes)
    if use_nh3 and "nh3" not in emissions_kg_h:
        raise InputError(None, "key atmosphere.parameters.nh3_limit", "the NH3 cap on ammonium needs NH3 emissions, but none are given.", "add nh3 emissions (nh3_kg_h or other sources) or set nh3_limit: false.")
    pollutants = (*GASES, "pm25", *(("nh3",) if use_nh3 else ()))
    emis = {p: np.asarray(emissions_kg_h[p], dtype=float) for p in pollutants}
    met = [np.asarray(x, dtype=float) for x in (mixing_height_m, wind_speed_m_s, rh_pct)]
    shape = np.broadcast_shapes(*(e.shape for e in emis.values()), *(m.shape for m in met))
    if len(shape) == 0:
        raise ValueError("emissions and meteorology need a time axis (shape (..., T)).")
    height, wind, rh = np.broadcast_arrays(*(m.reshape((1,) * (len(shape) - m.ndim) + m.shape) for m in met))
    if not (np.all(np.isfinite(height)) and np.all(height > 0)):
        raise ValueError("mixing height must be finite and > 0 [m].")
    if not (np.all(np.isfinite(wind)) and np.all(wind >= 0)):
        raise ValueError("wind speed must be finite and >= 0 [m/s].")
    if not np.all(np.isfinite(rh)):
        raise ValueError("relative humidity must be finite [%].")
    if boxes is not None and (len(shape) < 2 or len(boxes) != shape[0]):
        raise ValueError(f"{len(boxes)} parameter sets need a first batch axis of that length; the emissions and meteorology broadcast to {shape}.")
    # Parameters as scalars, or per box as arrays of shape (boxes, 1, ..., 1): the arithmetic
    # below is the same elementwise either way, so a box gives the same numbers alone or batched.
    per_box = (lambda get: get(params)) if boxes is None else (lambda get: np.array([get(p) for p in boxes], dtype=float).reshape((-1,) + (1,) * (len(shape) - 1)))

    # Rates depend on meteorology only, so they keep its (small) shape; sources carry the batch.
    k_v = S_PER_H * wind / per_box(lambda p: p.length_m)
    k_dep = {s: S_PER_H * per_box(lambda p: getattr(p.deposition_cm_s, s) / 100.0) / height for s in DEPOSITION_SPECIES}
    if boxes is None:
        k_chem = np.stack([params.k_so2_per_h.at(rh), params.k_nox_per_h.at(rh), np.full_like(rh, params.k_voc_per_h)])
    else:
        rh_box = np.broadcast_to(rh, (len(boxes), *rh.shape[1:]))
        k_chem = np.stack([
            np.stack([p.k_so2_per_h.at(r) for p, r in zip(boxes, rh_box)]),
            np.stack([p.k_nox_per_h.at(r) for p, r in zip(boxes, rh_box)]),
            np.broadcast_to(per_box(lambda p: p.k_voc_per_h), rh_box.shape),
        ])
    # Gas loss [1/h]: ventilation + deposition + conversion (VOC has no dry deposition here).
    gas_loss = np.broadcast_arrays(k_v + k_dep["so2"], k_v + k_dep["nox"], k_v + 0.0 * height)
    a = np.stack(gas_loss) + k_chem
    if boxes is None:
        c = k_chem * np.array([SULFATE_PER_SO2, NITRATE_PER_NO2, params.soa_yield]).reshape((3,) + (1,) * len(shape))
    else:
        c = k_chem * np.stack([per_box(lambda p: SULFATE_PER_SO2), per_box(lambda p: NITRATE_PER_NO2), per_box(lambda p: p.soa_yield)])
    b = k_v + k_dep["pm25"]  # loss of every particle species [1/h]
    if use_nh3:
        a = np.concatenate([a, np.broadcast_to(k_v + k_dep["nh3"], a.shape[1:])[None]])
    per_kg_h = UG_PER_KG / (height * per_box(lambda p: p.area_m2))  # [μg m-3 h-1 per kg/h]
    q_gas = np.stack([np.broadcast_to(emis[p] * per_kg_h, shape) for p in (*GASES, *(("nh3",) if use_nh3 else ()))])
    q_pm = np.broadcast_to(emis["pm25"] * per_kg_h, shape)

    a_b = np.broadcast_arrays(a[:3], b[None])
    e_a, phi1_a, phi2_a = np.exp(-a), _phi1(a), _phi2(a)
    e_b, phi1_b, phi2_b = np.exp(-b), _phi1(b), _phi2(b)
    e_ab = _exp_divided(*a_b)
    phi1_ab = _divided(_phi1, _m1, *a_b)
    phi2_ab = _divided(_phi2, _m2, *a_b)

    # End-of-hour recursion: only these multiply-adds run in the loop over hours.
    gas_src = phi1_a * q_gas
    prod_src = c * phi1_ab * q_gas[:3]
    prod_from_gas = c * e_ab
    pm_src = phi1_b * q_pm
    batch = shape[:-1]
    n_gas, T = q_gas.shape[0], shape[-1]
    init = _initial_state(initial, batch, use_nh3)
    g = np.stack([init[k] for k in ("so2_gas", "nox_gas", "voc_gas", *(("nh3_gas",) if use_nh3 else ()))])
    x = np.stack([init[k] for k in ("sulfate", "nitrate", "soa")])
    p = init["primary"].copy()
    g_start = np.empty((T, n_gas, *batch))
    x_start = np.empty((T, 3, *batch))
    p_start = np.empty((T, *batch))
    # hour-first copies, so that each hour's slice is contiguous: sliced along the last axis,
    # a large ensemble's sources were read with a stride of T values (the same arithmetic)
    e_a_t, e_b_t, prod_from_gas_t, prod_src_t, gas_src_t, pm_src_t = (
        np.ascontiguousarray(np.moveaxis(v, -1, 0)) for v in (e_a, e_b, prod_from_gas, prod_src, gas_src, pm_src))
    for t in range(T):
        g_start[t], x_start[t], p_start[t] = g, x, p
        x = e_b_t[t] * x + prod_from_gas_t[t] * g[:3] + prod_src_t[t]
        g = e_a_t[t] * g + gas_src_t[t]
        p = e_b_t[t] * p + pm_src_t[t]
    g0 = np.moveaxis(g_start, 0, -1)
    x0 = np.moveaxis(x_start, 0, -1)
    p0 = np.moveaxis(p_start, 0, -1)

    gas_mean = g0 * phi1_a + q_gas * phi2_a
    prod_mean = x0 * phi1_b + c * (g0[:3] * phi1_ab + q_gas[:3] * phi2_ab)
    primary = p0 * phi1_b + q_pm * phi2_b
    sulfate, nitrate, soa = prod_mean
    ammonium = AMMONIUM_PER_SULFATE * sulfate + AMMONIUM_PER_NITRATE * nitrate
    if use_nh3:
        capped = np.minimum(ammonium, AMMONIUM_PER_NH3 * gas_mean[3])
        ammonium = capped if boxes is None else np.where(per_box(lambda p: p.nh3_limit) > 0, capped, ammonium)
    return {
        "primary": primary,
        "so2_gas": gas_mean[0],
        "nox_gas": gas_mean[1],
        "voc_gas": gas_mean[2],
        "sulfate": sulfate,
        "nitrate": nitrate,
        "soa": soa,
        "ammonium": ammonium,
        "local": primary + sulfate + nitrate + soa + ammonium,
    }


def _initial_state(initial: Mapping[str, ArrayLike] | None, batch: tuple[int, ...], use_nh3: bool) -> dict[str, np.ndarray]:
    keys = (*STATE_KEYS, *(("nh3_gas",) if use_nh3 else ()))
    initial = initial or {}
    unknown = set(initial) - set(keys)
    if unknown:
        raise ValueError(f"unknown initial state keys {sorted(unknown)}; use {keys}.")
    return {k: np.broadcast_to(np.asarray(initial.get(k, 0.0), dtype=float), batch).astype(float) for k in keys}


# --------------------------------------------------------------------------- calibration


def calibration_scale(baseline_obs: ArrayLike, local_baseline: ArrayLike, local_share: float | None) -> float:
    """Scale c on the modelled local PM2.5 so that it makes up ``local_share`` of the baseline.

    Parameters
    ----------
    baseline_obs:
        Observed (or forecast) baseline PM2.5 over the calibration hours [μg/m³].
    local_baseline:
        Modelled local PM2.5 of the baseline emissions over the same hours [μg/m³].
    local_share:
        Share of the mean baseline PM2.5 that is local [-], 0-1; None means no calibration.

    Returns
    -------
    c [-] with mean(c · local_baseline) = local_share × mean(baseline_obs) (NaN hours skipped);
    1.0 when ``local_share`` is None.
    """
    if local_share is None:
        return 1.0
    if isinstance(local_share, bool) or not np.isfinite(local_share) or not 0.0 <= local_share <= 1.0:
        raise InputError(None, "key atmosphere.local_share", f"'{local_share}' is not a share between 0 and 1.", "write e.g. 0.5 for half of the PM2.5 being local.")
    local_mean = float(np.nanmean(np.asarray(local_baseline, dtype=float)))
    if not local_mean > 0.0:
        raise InputError(None, "key atmosphere.local_share", "the modelled local PM2.5 of the baseline is zero, so it cannot be scaled to a local share.", "check that the inventory has emissions in the period, or remove local_share.")
    return float(local_share * np.nanmean(np.asarray(baseline_obs, dtype=float)) / local_mean)


def background(baseline_obs: ArrayLike, local_baseline: ArrayLike, c: float) -> np.ndarray:
    """Regional background PM2.5 [μg/m³]: max(0, baseline_obs − c · local_baseline).

    ``baseline_obs`` and ``local_baseline`` [μg/m³] broadcast; ``c`` from :func:`calibration_scale`.
    """
    return np.maximum(0.0, np.asarray(baseline_obs, dtype=float) - c * np.asarray(local_baseline, dtype=float))


# --------------------------------------------------------------------------- linear model


def linear_model(
    emissions_kg_h: Mapping[str, ArrayLike],
    baseline_emissions_kg_h: Mapping[str, ArrayLike],
    sensitivities_ug_m3_per_t_h: Mapping[str, float],
    time_constant_h: float,
) -> np.ndarray:
    """Change of local PM2.5 from emission changes by user-given sensitivities.

    The equilibrium change is x(t) = Σ_p s_p (E_p − E_base_p) with s_p [μg/m³ per t/h] and
    emissions in t/h; the response R follows it with first-order lag, dR/dt = (x − R)/τ,
    advanced exactly with x constant within each hour and R = 0 at the start. At steady
    emissions R reaches x; after a step it follows x (1 − e^{−t/τ}).

    Parameters
    ----------
    emissions_kg_h, baseline_emissions_kg_h:
        Scenario and baseline emission rates [kg/h] by pollutant, shape (..., T), broadcastable.
    sensitivities_ug_m3_per_t_h:
        s_p [μg/m³ per t/h] by pollutant (so2, nox, pm25, pm10, voc, nh3); pollutants without a
        sensitivity do not count.
    time_constant_h:
        τ [h] (> 0).

    Returns
    -------
    Hourly mean change of PM2.5 relative to the baseline [μg/m³], shape (..., T); negative
    for cuts.
    """
    where = "key atmosphere.sensitivities_ug_m3_per_t_h"
    allowed = (*REQUIRED_EMISSIONS, *OPTIONAL_EMISSIONS)
    for p, s in sensitivities_ug_m3_per_t_h.items():
        if p not in allowed:
            raise InputError(None, f"{where}.{p}", f"unknown pollutant '{p}'.", f"use one of {', '.join(allowed)}.")
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not np.isfinite(s):
            raise InputError(None, f"{where}.{p}", f"'{s}' is not a number.", "give the sensitivity in μg/m³ per t/h.")
        if p not in emissions_kg_h or p not in baseline_emissions_kg_h:
            raise InputError(None, f"{where}.{p}", f"there are no {p} emissions to apply this sensitivity to.", "remove it or add the pollutant to the inventory.")
    if isinstance(time_constant_h, bool) or not np.isfinite(time_constant_h) or not time_constant_h > 0:
        raise InputError(None, "key atmosphere.time_constant_h", f"'{time_constant_h}' is not a time constant > 0 [h].", "write e.g. 24.")
    if not sensitivities_ug_m3_per_t_h:
        raise InputError(None, where, "the linear model needs at least one sensitivity.", "give e.g. {pm25: 2.0, so2: 0.3} [μg/m³ per t/h].")
    terms = [
        s * (np.asarray(emissions_kg_h[p], dtype=float) - np.asarray(baseline_emissions_kg_h[p], dtype=float)) / 1000.0
        for p, s in sensitivities_ug_m3_per_t_h.items()
    ]
    x = np.sum(np.broadcast_arrays(*terms), axis=0)  # equilibrium change [μg/m³]
    return lagged_response(x, time_constant_h)


def lagged_response(x: ArrayLike, time_constant_h: float) -> np.ndarray:
    """Hourly means of R with dR/dt = (x − R)/τ, x [any unit] constant within each hour, R = 0
    at the start of the first hour; τ = ``time_constant_h`` [h] (> 0). Exact: after a step to x
    at t = 0, R(t) = x (1 − e^{−t/τ}) and the mean over hour k is
    x (1 − τ e^{−k/τ} (1 − e^{−1/τ})). ``x`` has shape (..., T)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError("emissions need a time axis (shape (..., T)).")
    rate = np.array(1.0 / time_constant_h)
    decay = float(np.exp(-rate))
    from scipy.signal import lfilter  # imported here: scipy.signal alone takes ~1 s to import

    end = lfilter([1.0 - decay], [1.0, -decay], x, axis=-1)  # R at the end of each hour
    start = np.concatenate([np.zeros_like(end[..., :1]), end[..., :-1]], axis=-1)
    phi = float(_phi1(rate))
    return start * phi + x * (1.0 - phi)


# --------------------------------------------------------------------------- response surface


def emission_cuts(emissions_kg_h: Mapping[str, ArrayLike], baseline_emissions_kg_h: Mapping[str, ArrayLike], pollutants: Sequence[str]) -> dict[str, np.ndarray]:
    """Fractional emission cuts x_p = 1 − E_p/E_base_p [-] of ``pollutants``.

    ``emissions_kg_h`` and ``baseline_emissions_kg_h`` [kg/h] by pollutant, shape (..., T),
    broadcastable. An hour without baseline emissions of p has x_p = 0 (nothing to cut); a
    pollutant missing from either mapping has x_p = 0. x_p < 0 where the scenario emits more.
    """
    out = {}
    for p in pollutants:
        if p not in emissions_kg_h or p not in baseline_emissions_kg_h:
            out[p] = np.zeros(np.shape(next(iter(emissions_kg_h.values()))))
            continue
        scen, base = np.broadcast_arrays(np.asarray(emissions_kg_h[p], dtype=float), np.asarray(baseline_emissions_kg_h[p], dtype=float))
        has = base > 0.0
        out[p] = np.where(has, 1.0 - scen / np.where(has, base, 1.0), 0.0)
    return out


def response_surface(cuts: Mapping[str, ArrayLike], surface: Any, *, by_component: bool = False) -> np.ndarray | dict[str, np.ndarray]:
    """Equilibrium change of local PM2.5 [μg/m³] from a polynomial response surface.

    ΔPM2.5 = Σ_k a_k Π_p x_p^{n_kp}, negative where cuts lower PM2.5 (ΔPM2.5 = scenario −
    baseline).

    Parameters
    ----------
    cuts:
        Fractional cuts x_p [-] by pollutant (``nox``, ``so2``, ``nh3``, ``voc``, ``pm25``), any
        broadcastable shapes; a pollutant the surface uses but ``cuts`` lacks counts as 0.
    surface:
        A :class:`sim.inputs.response_surface.ResponseSurface` (coefficients a_k [μg/m³],
        integer exponents n_kp ≥ 0, a component per term).
    by_component:
        False: the total change. True: a dict by component (``primary``, ``sulfate``,
        ``nitrate``, ``ammonium``, ``soa``; components without terms are zero) plus ``local``,
        the total.

    Returns
    -------
    ΔPM2.5 [μg/m³] in the broadcast shape of the cuts (0 where every cut is 0).
    """
    values = {p: np.asarray(cuts.get(p, 0.0), dtype=float) for p in surface.pollutants}
    shape = np.broadcast_shapes(*(v.shape for v in values.values()))
    # powers x_p^n by integer multiplication (x**0 = 1 exactly, and no pow rounding)
    powers: dict[tuple[str, int], np.ndarray] = {}

    def power(p: str, n: int) -> np.ndarray:
        if (p, n) not in powers:
            powers[(p, n)] = values[p] if n == 1 else power(p, n - 1) * values[p]
        return powers[(p, n)]

    parts: dict[str, np.ndarray] = {}
    for a, exps, component in zip(surface.coefficients_ug_m3, surface.exponents, surface.components):
        term = np.full(shape, float(a))
        for p, n in zip(surface.pollutants, exps):
            if n:
                term = term * power(p, int(n))
        parts[component] = parts[component] + term if component in parts else term
    total = np.zeros(shape)
    for v in parts.values():
        total = total + v
    if not by_component:
        return total
    out = {c: parts.get(c, np.zeros(shape)) for c in ("primary", "sulfate", "nitrate", "ammonium", "soa")}
    out["local"] = total
    return out
