"""PM2.5 projection of a run: emissions + meteorology -> calibrated PM2.5 and its figures.

Pure functions over arrays; the physics lives in :mod:`sim.physics.atmosphere`, the AQI in
:mod:`sim.physics.aqi`. Baseline, scenario (or its members) and all cities advance together
in one batch of the box model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.physics.aqi import daily_aqi, heavy_hours, heavy_pollution_days, iaqi_pm25, running_mean_24h, severe_days
from sim.physics.atmosphere import (
    background, box_model, calibration_scale, emission_cuts, lagged_response, linear_model, load_box_parameter_sets, response_surface,
)
from sim.errors import InputError
from sim.inputs.meteorology import Meteorology, load_meteorology
from sim.inputs.response_surface import ResponseSurface, load_response_surface
from sim.config.scenario import AtmosphereConfig
from sim.config.vocabulary import LEVELS

COMPONENTS = ("primary", "sulfate", "nitrate", "ammonium", "soa")
# the component each linear-model sensitivity feeds
LINEAR_COMPONENT = {"pm25": "primary", "pm10": "primary", "so2": "sulfate", "nox": "nitrate", "voc": "soa", "nh3": "ammonium"}


@dataclass(frozen=True)
class Pm25Projection:
    """Hourly PM2.5 [μg/m³] in the contract's columns, the calibration scale c [-], figures."""

    frame: pd.DataFrame
    calibration_scale: float
    metrics: dict
    members_ug_m3: np.ndarray  # scenario PM2.5 of every member [μg/m³], (members, hours)
    notes: tuple[str, ...] = ()  # e.g. a response surface used beyond the cuts it was fitted over


def _with_spin_up(values: np.ndarray, hours: int) -> np.ndarray:
    """Prefix ``hours`` hours that repeat the first day, so the model starts near equilibrium."""
    if hours == 0:
        return values
    first_day = values[..., : min(24, values.shape[-1])]
    reps = int(np.ceil(hours / first_day.shape[-1]))
    prefix = np.concatenate([first_day] * reps, axis=-1)[..., -hours:]
    return np.concatenate([prefix, values], axis=-1)


def first_order_lag(x: np.ndarray, time_constant_h: float) -> np.ndarray:
    """Hourly series x [any unit] followed with a first-order lag τ [h], starting at x[0]."""
    decay = float(np.exp(-1.0 / time_constant_h))
    from scipy.signal import lfilter  # imported here: scipy.signal alone takes ~1 s to import

    y, _ = lfilter([1.0 - decay], [1.0, -decay], x, zi=[decay * x[0]])
    return y


# Box-model calls take at most this many (boxes × variants × hours) elements: all cities of a
# run in one call, yet a large ensemble over many cities needs no more memory at once than one
# city of it did when cities ran one by one (box_model keeps ~45 arrays of this size, ~360
# bytes per element; the emission stacks another ~100).
BOX_MODEL_ELEMENTS = 1_000_000


def box_batches(boxes: int, variants: int, hours: int) -> list[slice]:
    """The boxes to project together: all ``boxes`` in one slice unless boxes × ``variants`` ×
    ``hours`` (spin-up included) exceeds :data:`BOX_MODEL_ELEMENTS`; never less than one box."""
    step = max(1, BOX_MODEL_ELEMENTS // max(variants * hours, 1))
    return [slice(lo, min(lo + step, boxes)) for lo in range(0, boxes, step)]


def local_components(
    configs: Sequence[AtmosphereConfig], emissions_kg_h: Mapping[str, np.ndarray], meteorology: Sequence[Meteorology], file=None,
    surface: ResponseSurface | None = None,
) -> dict[str, np.ndarray]:
    """Modelled local PM2.5 components [μg/m³] of several boxes, uncalibrated.

    ``configs``: each box's settings (:meth:`AtmosphereConfig.for_city`); they must share the
    model and spin-up. ``emissions_kg_h``: [kg/h] by pollutant, shape (boxes, variants, hours);
    ``meteorology``: each box's weather over exactly the hours of the emissions. Returns arrays
    of shape (boxes, variants, hours). The box model runs all boxes in one call (a few calls for
    very large ensembles, see :data:`BOX_MODEL_ELEMENTS`), with the parameter file read once.

    ``model: response_surface``: the baseline variant holds the surface's whole local
    contribution L_k = −ΔPM2.5_k(all cuts 1) [μg/m³] of each component, every other variant
    L_k + the lagged ΔPM2.5_k of its cuts against the baseline (``surface``: the coefficient file
    as read, else read from the settings).
    """
    config = configs[0]
    if any(c.model != config.model or c.spin_up_days != config.spin_up_days or c.linear != config.linear
           or c.response_surface != config.response_surface for c in configs):
        raise ValueError("the boxes of one call must share the model, its linear or response-surface settings and the spin-up days.")
    spin = 24 * config.spin_up_days
    emis = {p: _with_spin_up(np.asarray(v, dtype=float), spin) for p, v in emissions_kg_h.items()}
    if config.model == "box":
        params = load_box_parameter_sets([c.parameters for c in configs], overrides_file=file)
        # (boxes, 1, hours): every variant of a box sees the box's own weather
        met = [_with_spin_up(np.stack([getattr(m, name) for m in meteorology])[:, None, :], spin)
               for name in ("mixing_height_m", "wind_speed_m_s", "rh_pct")]
        _, variants, hours = next(iter(emis.values())).shape
        parts = [box_model({p: v[box] for p, v in emis.items()}, *(m[box] for m in met), params[box])
                 for box in box_batches(len(configs), variants, hours)]
        keys = (*COMPONENTS, "local")
        out = {k: parts[0][k] if len(parts) == 1 else np.concatenate([part[k] for part in parts]) for k in keys}
        return {k: out[k][..., spin:] for k in keys}
    if config.model == "response_surface":
        surface = surface if surface is not None else load_response_surface(config.response_surface.coefficients)
        cuts = emission_cuts(emis, {p: v[:, :1] for p, v in emis.items()}, surface.pollutants)
        change = response_surface(cuts, surface, by_component=True)
        full = response_surface({p: 1.0 for p in surface.pollutants}, surface, by_component=True)
        tau = config.response_surface.time_constant_h
        parts = {k: (lagged_response(change[k], tau) - full[k])[..., spin:] for k in COMPONENTS}
        parts["local"] = sum(parts[c] for c in COMPONENTS)
        return parts
    settings = config.linear
    zeros = {p: np.zeros_like(v) for p, v in emis.items()}
    parts = {c: np.zeros_like(emis["pm25"]) for c in COMPONENTS}
    for pollutant, s in settings.sensitivities_ug_m3_per_t_h.items():
        # lagged contribution of this pollutant's whole local emission: −Δ against zero emissions
        parts[LINEAR_COMPONENT[pollutant]] -= linear_model(zeros, emis, {pollutant: s}, settings.time_constant_h)
    parts = {k: v[..., spin:] for k, v in parts.items()}
    parts["local"] = sum(parts[c] for c in COMPONENTS)
    return parts


def project_pm25(
    config: AtmosphereConfig,
    times: pd.DatetimeIndex,
    baseline_kg_h: dict[str, np.ndarray],
    scenario_kg_h: dict[str, np.ndarray],
    level_in_force: np.ndarray,
    file=None,
    *,
    meteorology: Meteorology | None = None,
) -> Pm25Projection:
    """Baseline and scenario PM2.5 for the period.

    ``baseline_kg_h``: hourly emissions [kg/h] of all local sources by pollutant, shape
    (hours,); ``scenario_kg_h``: the same with shape (hours,) or (members, hours);
    ``level_in_force``: 0 none, 1-3 yellow-red, shape like the scenario. Calibration
    (README.md, How the model works): background = max(0, obs − c·local_baseline);
    scenario = background (cut when the region warns too) + c·local_scenario. With members, ``scenario`` and the
    components are member means, ``scenario_p05/p50/p95`` the bands and ``warning_level`` the
    median member's level. ``meteorology``: the file's data when already read (else read from
    ``config.meteorology``). Several cities: :func:`project_boxes`, which batches them.
    """
    met = load_meteorology(config.meteorology) if meteorology is None else meteorology
    return project_boxes(
        [config], times, {p: np.asarray(v)[None] for p, v in baseline_kg_h.items()},
        {p: np.asarray(v)[None] for p, v in scenario_kg_h.items()}, np.asarray(level_in_force)[None], [met], file,
    )[0]


def project_boxes(
    configs: Sequence[AtmosphereConfig],
    times: pd.DatetimeIndex,
    baseline_kg_h: Mapping[str, np.ndarray],
    scenario_kg_h: Mapping[str, np.ndarray],
    level_in_force: np.ndarray,
    meteorology: Sequence[Meteorology],
    file=None,
    surface: ResponseSurface | None = None,
) -> list[Pm25Projection]:
    """:func:`project_pm25` of several boxes (cities) at once, one projection per box.

    ``configs``: each box's settings (:meth:`AtmosphereConfig.for_city`); ``baseline_kg_h``:
    [kg/h] by pollutant, shape (boxes, hours); ``scenario_kg_h``: shape (boxes, hours) or
    (boxes, members, hours); ``level_in_force``: shaped like the scenario; ``meteorology``: each
    box's weather as read (:func:`sim.inputs.meteorology.load_meteorology`), covering the period.
    ``surface``: with ``model: response_surface``, the coefficient file as read (else read here).
    The box model advances all boxes and variants together; calibration, background and figures
    are per box as in :func:`project_pm25`.
    """
    mets = [m.slice(times[0], times[-1] + pd.Timedelta(hours=1)) for m in meteorology]
    ensemble = np.ndim(next(iter(scenario_kg_h.values()))) == 3
    levels = np.asarray(level_in_force)
    levels = levels if ensemble else levels[:, None, :]  # (boxes, members, hours)
    n, hours = len(configs), len(times)
    emissions = {p: np.concatenate([np.reshape(baseline_kg_h[p], (n, 1, hours)), np.reshape(scenario_kg_h[p], (n, -1, hours))], axis=1)
                 for p in baseline_kg_h}
    notes: tuple[str, ...] = ()
    if configs[0].model == "response_surface":
        surface = surface if surface is not None else load_response_surface(configs[0].response_surface.coefficients)
        notes = surface_notes(emissions, surface)
    local = local_components(configs, emissions, mets, file, surface)
    return [_calibrated(configs[k], times, mets[k].pm25_baseline_ug_m3, {key: v[k] for key, v in local.items()}, levels[k], ensemble, file, notes)
            for k in range(n)]


def surface_notes(emissions_kg_h: Mapping[str, np.ndarray], surface: ResponseSurface) -> tuple[str, ...]:
    """Notes where the scenario's cuts of some pollutant go beyond the surface's
    ``valid_max_cut`` (the surface extrapolates there). ``emissions_kg_h`` [kg/h]: shape
    (boxes, variants, hours), the baseline first."""
    if not surface.valid_max_cut:
        return ()
    cuts = emission_cuts({p: v[:, 1:] for p, v in emissions_kg_h.items()}, {p: v[:, :1] for p, v in emissions_kg_h.items()}, tuple(surface.valid_max_cut))
    beyond = [f"{p} {float(np.max(cuts[p])):.0%} > {limit:.0%}" for p, limit in surface.valid_max_cut.items() if np.max(cuts[p]) > limit]
    if not beyond:
        return ()
    return (f"the response surface {Path(surface.file).name if surface.file else ''} extrapolates: the largest cuts go beyond those it was fitted over "
            f"(valid_max_cut) for {', '.join(beyond)}; its PM2.5 change there is less certain",)


def _calibrated(config: AtmosphereConfig, times: pd.DatetimeIndex, obs: np.ndarray, local: dict[str, np.ndarray], levels: np.ndarray,
                ensemble: bool, file, notes: tuple[str, ...] = ()) -> Pm25Projection:
    """One box's projection from its observed baseline PM2.5 ``obs`` [μg/m³] and its modelled
    local components [μg/m³], shape (variants, hours) with the baseline first; ``levels``
    (members, hours).

    Response surface (no calibration, c = 1): baseline = obs; the local part of the baseline is
    the surface's whole local contribution L (:func:`local_components`), scaled in an hour by
    f = min(1, obs/L) so that it never exceeds the observation; background = obs − f·L ≥ 0 and
    scenario = background + f·(L + ΔPM2.5) = obs + f·ΔPM2.5 (= obs + ΔPM2.5 in hours with
    obs ≥ L)."""
    if config.model == "response_surface":
        c = 1.0
        whole = local["local"][0]
        f = np.where(whole > obs, obs / np.where(whole > 0.0, whole, 1.0), 1.0)
        local = {k: v * f for k, v in local.items()}
        bg = obs - local["local"][0]
    else:
        try:
            c = calibration_scale(obs, local["local"][0], config.local_share)
        except InputError as exc:
            raise InputError(file, exc.where, exc.problem, exc.fix) from None
        bg = background(obs, local["local"][0], c)
    bg_members = np.broadcast_to(bg, levels.shape)
    if config.regional_background_cut is not None:
        table = np.array([0.0, *config.regional_background_cut.as_tuple()])
        bg_members = bg * (1.0 - np.stack([first_order_lag(table[lv], config.regional_response_h) for lv in levels]))
    baseline = np.array(obs, dtype=float) if config.model == "response_surface" else bg + c * local["local"][0]
    members = bg_members + c * local["local"][1:]  # (members, hours)
    scenario = members.mean(axis=0)
    median_level = np.median(levels, axis=0).astype(int)
    frame = pd.DataFrame(
        {
            "time": times,
            "baseline": baseline,
            "scenario": scenario,
            "background": bg_members.mean(axis=0),
            "local_baseline": c * local["local"][0],
            "local_scenario": c * local["local"][1:].mean(axis=0),
            **{k: c * local[k][1:].mean(axis=0) for k in COMPONENTS},
            "aqi_baseline": iaqi_pm25(running_mean_24h(baseline)),
            "aqi_scenario": iaqi_pm25(running_mean_24h(scenario)),
            "warning_level": np.array(["none", *LEVELS], dtype=object)[median_level],
        }
    )
    if ensemble:
        for q in (5, 50, 95):
            frame[f"scenario_p{q:02d}"] = np.percentile(members, q, axis=0)
    metrics = pm25_metrics(times, baseline, scenario, median_level)
    metrics["calibration_scale"] = c
    return Pm25Projection(frame, c, metrics, members, notes)


def pm25_metrics(times: pd.DatetimeIndex, baseline: np.ndarray, scenario: np.ndarray, level_in_force: np.ndarray) -> dict:
    """Peak and mean PM2.5, reduction during warnings, heavy-pollution hours and days.

    Heavy hours: hours whose trailing 24-h mean has IAQI > 200. Heavy days: calendar days
    with ≥ 20 valid hours and daily AQI > 200 (HJ 633-2012, GB 3095-2012).
    """
    reduction = baseline - scenario
    warned = level_in_force > 0
    days_base, days_scen = daily_aqi(baseline, times), daily_aqi(scenario, times)
    out = {
        "peak_baseline_ug_m3": float(baseline.max()),
        "peak_scenario_ug_m3": float(scenario.max()),
        "mean_baseline_ug_m3": float(baseline.mean()),
        "mean_scenario_ug_m3": float(scenario.mean()),
        "warning_hours": int(warned.sum()),
        "heavy_hours_baseline": int(heavy_hours(baseline)),
        "heavy_hours_scenario": int(heavy_hours(scenario)),
        "heavy_days_baseline": int(heavy_pollution_days(days_base)),
        "heavy_days_scenario": int(heavy_pollution_days(days_scen)),
        "severe_days_baseline": int(severe_days(days_base)),
        "severe_days_scenario": int(severe_days(days_scen)),
    }
    out["heavy_days_avoided"] = out["heavy_days_baseline"] - out["heavy_days_scenario"]
    if warned.any():
        base_w = baseline[warned]
        out.update(
            {
                "mean_reduction_during_warnings_ug_m3": float(reduction[warned].mean()),
                "mean_reduction_during_warnings_pct": float(100.0 * reduction[warned].mean() / base_w.mean()),
                "peak_reduction_during_warnings_ug_m3": float(reduction[warned].max()),
                "peak_reduction_during_warnings_pct": float(100.0 * (reduction[warned] / base_w).max()),
                # hours from the first warning's start to the largest reduction of the period
                "hours_to_peak_reduction": int(np.argmax(reduction) - np.argmax(warned)),
            }
        )
    return out


def combine_projections(projections: list[Pm25Projection], times: pd.DatetimeIndex) -> Pm25Projection:
    """Province view of several city boxes: the mean over cities of every concentration
    column [μg/m³], the highest level in force in any city, figures on the mean series, and the
    mean calibration scale (each city's own is in its block)."""
    frames = [p.frame for p in projections]
    numeric = [c for c in frames[0].columns if c not in ("time", "warning_level", "aqi_baseline", "aqi_scenario")]
    frame = frames[0][["time"]].copy()
    for column in numeric:
        frame[column] = np.mean([f[column].to_numpy() for f in frames], axis=0)
    order = {name: i for i, name in enumerate(["none", *LEVELS])}
    level = np.max([f.warning_level.map(order).to_numpy() for f in frames], axis=0)
    frame.insert(frame.columns.get_loc("soa") + 1, "aqi_baseline", iaqi_pm25(running_mean_24h(frame.baseline.to_numpy())))
    frame.insert(frame.columns.get_loc("aqi_baseline") + 1, "aqi_scenario", iaqi_pm25(running_mean_24h(frame.scenario.to_numpy())))
    frame.insert(frame.columns.get_loc("aqi_scenario") + 1, "warning_level", np.array(["none", *LEVELS], dtype=object)[level])
    members = np.mean([p.members_ug_m3 for p in projections], axis=0)
    metrics = pm25_metrics(times, frame.baseline.to_numpy(), frame.scenario.to_numpy(), level)
    scale = float(np.mean([p.calibration_scale for p in projections]))
    metrics["calibration_scale"] = scale
    return Pm25Projection(frame, scale, metrics, members, tuple(dict.fromkeys(n for p in projections for n in p.notes)))
