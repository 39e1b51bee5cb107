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

from sim.config.labels import text
from sim.physics.aqi import daily_aqi, heavy_hours, heavy_pollution_days, iaqi_pm25, running_mean_24h, severe_days
from sim.physics.atmosphere import (
    background, box_model, calibration_scale, draw_box_parameters, emission_cuts, lagged_response, linear_model, load_box_parameter_sets,
    response_surface,
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
    notes: tuple[str, ...] = ()  # what a reader of the figures must know (hours capped, odd calibration, a surface extrapolating)


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


def regional_cut_fraction(config: AtmosphereConfig, level_h: np.ndarray) -> np.ndarray | None:
    """The cut of the regional background [-] hour by hour: the level's
    ``regional_background_cut`` followed with the lag ``regional_response_h`` (transport across
    the region); ``level_h`` the warning level per hour (0 none, 1-3 yellow-red). None
    without ``regional_background_cut``."""
    if config.regional_background_cut is None:
        return None
    table = np.array([0.0, *config.regional_background_cut.as_tuple()])
    return first_order_lag(table[np.asarray(level_h, dtype=int)], config.regional_response_h)


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
    (README.md, How the model works): the baseline is the observation obs; background =
    obs − c·local_baseline, where c·local_baseline is capped at obs hour by hour
    (:func:`local_capped_at_observation`, hours named in ``notes``); scenario = background (cut
    when the region warns too) + c·local_scenario, capped by the same factor. With members, ``scenario`` and the
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
    cities: Sequence[str] | None = None,
    seed: int | None = None,
    surface: ResponseSurface | None = None,
) -> list[Pm25Projection]:
    """:func:`project_pm25` of several boxes (cities) at once, one projection per box.

    ``configs``: each box's settings (:meth:`AtmosphereConfig.for_city`); ``baseline_kg_h``:
    [kg/h] by pollutant, shape (boxes, hours); ``scenario_kg_h``: shape (boxes, hours) or
    (boxes, members, hours); ``level_in_force``: shaped like the scenario; ``meteorology``: each
    box's weather as read (:func:`sim.inputs.meteorology.load_meteorology`), covering the period.
    ``surface``: with ``model: response_surface``, the coefficient file as read (else read here).
    The box model advances all boxes and variants together; calibration, background and figures
    are per box as in :func:`project_pm25`. ``cities``: the boxes' names, for the notes;
    ``seed``: the scenario seed, for members that draw their parameters (``draw_parameters``).
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
    drawn = ensemble and any(c.draw_parameters for c in configs)
    if drawn:
        if seed is None:
            raise ValueError("members that draw their parameters need the scenario seed.")
        local = drawn_local_components(configs, emissions, mets, seed, file)
    else:
        local = local_components(configs, emissions, mets, file, surface)
    baselines = levels.shape[1] if drawn else 1
    return [_calibrated(configs[k], times, mets[k].pm25_baseline_ug_m3, {key: v[k] for key, v in local.items()}, levels[k], ensemble, file,
                        None if cities is None else cities[k], baselines, notes)
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


def parameter_generator(seed: int, member: int) -> np.random.Generator:
    """The generator of member ``member``'s atmosphere parameters: a child of the member's own
    seed sequence (``SeedSequence(seed, spawn_key=(member, 1))``), apart from its warning and
    compliance draws, so drawing parameters changes no other figure."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(member, 1)))


def drawn_local_components(configs: Sequence[AtmosphereConfig], emissions_kg_h: Mapping[str, np.ndarray], meteorology: Sequence[Meteorology],
                           seed: int, file=None) -> dict[str, np.ndarray]:
    """:func:`local_components` of the box model with the parameters drawn per member.

    ``emissions_kg_h``: (boxes, 1 + members, hours), the baseline first. Each member m draws
    its uncertain parameters once (:func:`~sim.physics.atmosphere.draw_box_parameters` with
    :func:`parameter_generator`), the same factors for every box; the baseline runs again under
    each member's parameters, so each member has its own calibrated local baseline. Returns
    arrays of shape (boxes, 2 × members, hours): the members' baselines, then the members.
    """
    config = configs[0]
    if any(c.model != "box" for c in configs):
        raise ValueError("parameters are drawn for the box model only.")
    spin = 24 * config.spin_up_days
    params = load_box_parameter_sets([c.parameters for c in configs], overrides_file=file)
    boxes, variants, hours = next(iter(emissions_kg_h.values())).shape
    members = variants - 1
    draws = [[draw_box_parameters(params[b], parameter_generator(seed, m)) for m in range(members)] for b in range(boxes)]
    flat = [draws[b][m] for b in range(boxes) for m in range(members)]  # one box-model "box" per (box, member)
    emis = {}
    for p, v in emissions_kg_h.items():
        v = np.asarray(v, dtype=float)
        pair = np.stack([np.broadcast_to(v[:, :1], (boxes, members, hours)), v[:, 1:]], axis=2)  # (boxes, members, 2, hours)
        emis[p] = _with_spin_up(pair.reshape(boxes * members, 2, hours), spin)
    met = [_with_spin_up(np.repeat(np.stack([getattr(m, name) for m in meteorology]), members, axis=0)[:, None, :], spin)
           for name in ("mixing_height_m", "wind_speed_m_s", "rh_pct")]
    keys = (*COMPONENTS, "local")
    parts = [box_model({p: v[part] for p, v in emis.items()}, *(m[part] for m in met), flat[part])
             for part in box_batches(boxes * members, 2, hours + spin)]
    out = {}
    for k in keys:
        joined = parts[0][k] if len(parts) == 1 else np.concatenate([part[k] for part in parts])
        paired = joined[..., spin:].reshape(boxes, members, 2, hours)
        out[k] = np.concatenate([paired[:, :, 0], paired[:, :, 1]], axis=1)
    return out


def local_capped_at_observation(obs: np.ndarray, local_baseline: np.ndarray) -> np.ndarray:
    """Factor s(t) ≤ 1 [-] that caps the modelled local PM2.5 of the baseline at the observation.

    ``obs`` and ``local_baseline`` [μg/m³] (calibrated, c · local), hourly. Where the model's
    local part exceeds the observed PM2.5 the whole observation is taken as local (background
    0) and every local figure of that hour, baseline and scenario, is multiplied by
    s = obs / local: the scenario keeps the model's relative change of the local part (the
    relative use of model results, as in US EPA 2018, Modeling Guidance for Demonstrating Air
    Quality Goals for Ozone, PM2.5, and Regional Haze, §4.1). Elsewhere s = 1.
    """
    over = local_baseline > obs
    return np.where(over, obs / np.where(over, local_baseline, 1.0), 1.0)


def _over_observation_note(city: str | None, times: pd.DatetimeIndex, obs: np.ndarray, local_baseline: np.ndarray, model: str = "box") -> tuple[str, ...]:
    """The note naming the hours where the modelled local PM2.5 exceeds the observation."""
    key = {"regional": "note.over_observation.regional", "response_surface": "note.over_observation.response_surface"}.get(model, "note.over_observation.box")
    over = np.flatnonzero(local_baseline > obs)
    if len(over) == 0:
        return ()
    worst = over[np.argmax(local_baseline[over] - obs[over])]
    where = f"{city}: " if city else ""
    return (where + text(key, "en", n=len(over), hours=len(obs), time=f"{times[worst]:%Y-%m-%d %H:%M}", modelled=f"{local_baseline[worst]:.1f}",
                         observed=f"{obs[worst]:.1f}"),)


# Calibration scales outside this range [-] get a note: the model's local PM2.5 is then more
# than twice too high or too low for the given local share, a sign that the box does not fit.
CALIBRATION_SCALE_RANGE = (0.5, 2.0)


def _calibration_note(city: str | None, c: float, local_share: float | None) -> tuple[str, ...]:
    low, high = CALIBRATION_SCALE_RANGE
    if local_share is None or low <= c <= high:
        return ()
    where = f"{city}: " if city else ""
    return (where + text("note.calibration_scale", "en", c=f"{c:.2f}", share=f"{local_share:g}", low=f"{low:g}", high=f"{high:g}"),)


def _calibrated(config: AtmosphereConfig, times: pd.DatetimeIndex, obs: np.ndarray, local: dict[str, np.ndarray], levels: np.ndarray,
                ensemble: bool, file, city: str | None = None, baselines: int = 1, notes: tuple[str, ...] = ()) -> Pm25Projection:
    """One box's projection from its observed baseline PM2.5 ``obs`` [μg/m³] and its modelled
    local components [μg/m³], shape (variants, hours): the first ``baselines`` rows are the
    baseline (one, or one per member when members draw their parameters, each calibrated on its
    own), then the members; ``levels`` (members, hours). The baseline column is ``obs`` itself,
    hour by hour. ``notes``: notes of the projection as a whole, kept with this box's.

    Response surface (no calibration, c = 1): the local part of the baseline is the surface's
    whole local contribution L (:func:`local_components`), capped at the observation like any
    model's local part: background = obs − min(obs, L) and scenario = background +
    f·(L + ΔPM2.5) with f = min(1, obs/L), i.e. obs + ΔPM2.5 in hours with obs ≥ L."""
    base = {k: v[:baselines] for k, v in local.items()}  # (1 or members, hours)
    runs = {k: v[baselines:] for k, v in local.items()}  # (members, hours)
    try:
        c = np.array([[calibration_scale(obs, row, config.local_share)] for row in base["local"]])  # (1 or members, 1)
    except InputError as exc:
        raise InputError(file, exc.where, exc.problem, exc.fix) from None
    capped = local_capped_at_observation(obs, c * base["local"])
    scale = c * capped
    over = capped < 1.0
    local_baseline = np.where(over, obs, scale * base["local"])
    bg = np.where(over, 0.0, background(obs, local_baseline, 1.0))
    bg_members = np.broadcast_to(bg, levels.shape)
    if config.regional_background_cut is not None:
        bg_members = bg * (1.0 - np.stack([regional_cut_fraction(config, lv) for lv in levels]))
    baseline = np.asarray(obs, dtype=float)
    members = bg_members + scale * runs["local"]  # (members, hours)
    scenario = members.mean(axis=0)
    median_level = np.median(levels, axis=0).astype(int)

    def mean_of(x: np.ndarray) -> np.ndarray:
        """Member mean of a calibrated local figure (one scale: scaled after the mean, as always)."""
        return scale[0] * x.mean(axis=0) if baselines == 1 else (scale * x).mean(axis=0)

    frame = pd.DataFrame(
        {
            "time": times,
            "baseline": baseline,
            "scenario": scenario,
            "background": bg_members.mean(axis=0),
            "local_baseline": local_baseline.mean(axis=0),
            "local_scenario": mean_of(runs["local"]),
            **{k: mean_of(runs[k]) for k in COMPONENTS},
            "aqi_baseline": iaqi_pm25(running_mean_24h(baseline)),
            "aqi_scenario": iaqi_pm25(running_mean_24h(scenario)),
            "warning_level": np.array(["none", *LEVELS], dtype=object)[median_level],
        }
    )
    if ensemble:
        for q, band in zip((5, 50, 95), np.percentile(members, [5, 50, 95], axis=0)):  # one partition (each as alone)
            frame[f"scenario_p{q:02d}"] = band
    metrics = pm25_metrics(times, baseline, scenario, median_level)
    scale_mean = float(c.mean())
    metrics["calibration_scale"] = scale_mean
    metrics["hours_local_above_observation"] = int(np.count_nonzero(over.any(axis=0)))
    if baselines > 1:
        metrics["calibration_scale_p05_p95"] = [float(np.percentile(c, 5)), float(np.percentile(c, 95))]
    notes = notes + _calibration_note(city, scale_mean, config.local_share) + _over_observation_note(city, times, obs, (c * base["local"]).mean(axis=0), config.model)
    return Pm25Projection(frame, scale_mean, metrics, members, notes)


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
                "mean_reduction_during_warnings_pct": float(100.0 * reduction[warned].mean() / base_w.mean()) if base_w.mean() > 0 else None,
                "peak_reduction_during_warnings_ug_m3": float(reduction[warned].max()),
                # hours with an observation of 0 have no relative reduction
                "peak_reduction_during_warnings_pct": float(100.0 * (reduction[warned][base_w > 0] / base_w[base_w > 0]).max()) if (base_w > 0).any() else None,
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
    if all("calibration_scale" in p.metrics for p in projections):  # not for the regional model
        metrics["calibration_scale"] = scale
    notes = tuple(note for p in projections for note in p.notes)
    return Pm25Projection(frame, scale, metrics, members, notes)


# --------------------------------------------------------------------------- regional model

# A city whose modelled local share differs from the scenario's local_share by more than this
# [-] gets a note: the model and the user disagree on where the city's PM2.5 comes from.
LOCAL_SHARE_TOLERANCE = 0.15
# Below this share [-] of the observed mean PM2.5 made by the region's modelled sources, a note
# says that most of the observation is left as air from beyond the region.
EXPLAINED_LOW = 0.5


def regional_variants(baseline: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The emission variants [kg/h] one regional run needs, shape (cities, variants, hours):
    the baseline, every member, the region with no emission at all (what the far field makes
    alone, its gases' chemistry included), then for each city k the baseline with city k's
    emissions set to zero (its own share), then the baseline with only city k's measures (the
    member mean of city k, the baseline elsewhere: the effect of its own measures).

    ``baseline``: (cities, hours); ``members``: (cities, members, hours).
    """
    n = baseline.shape[0]
    zero_out = np.repeat(baseline[:, None, :], n, axis=1)
    zero_out[np.arange(n), np.arange(n)] = 0.0
    own = np.repeat(baseline[:, None, :], n, axis=1)
    own[np.arange(n), np.arange(n)] = members.mean(axis=1)
    return np.concatenate([baseline[:, None, :], members, np.zeros_like(baseline)[:, None, :], zero_out, own], axis=1)


def _share(part: np.ndarray, whole: np.ndarray) -> float | None:
    """mean(part) / mean(whole) [-], or None when the whole is 0."""
    whole_mean = float(np.mean(whole))
    return float(np.mean(part)) / whole_mean if whole_mean > 0 else None


# Regional-model calls take at most this many (cities × variants × hours) elements; more
# variants (a large ensemble) run a chunk at a time, which gives the same numbers (variants are
# independent) in bounded memory (the model keeps some 40 arrays of this size).
REGIONAL_ELEMENTS = 2_000_000


def _regional_in_chunks(model, variants: Mapping[str, np.ndarray], where: tuple, params, options: dict) -> dict[str, np.ndarray]:
    """``model(variants, *where, params, **options)`` over chunks of the variants axis, joined."""
    cities, count, hours = next(iter(variants.values())).shape
    step = max(1, REGIONAL_ELEMENTS // max(cities * (hours + options.get("spin_up_h", 0)), 1))
    parts = [model({p: v[:, lo:lo + step] for p, v in variants.items()}, *where, params, **options) for lo in range(0, count, step)]
    return parts[0] if len(parts) == 1 else {k: np.concatenate([part[k] for part in parts], axis=1) for k in parts[0]}


def project_region(
    atmosphere: AtmosphereConfig,
    cities: Sequence[str],
    times: pd.DatetimeIndex,
    baseline_kg_h: Mapping[str, np.ndarray],
    scenario_kg_h: Mapping[str, np.ndarray],
    level_in_force: np.ndarray,
    meteorology: Sequence[Meteorology],
    file=None,
    seed: int | None = None,
) -> list[Pm25Projection]:
    """PM2.5 of every city of a region from the coupled regional model, one projection per city.

    Shapes as in :func:`project_boxes`: ``baseline_kg_h`` (cities, hours), ``scenario_kg_h``
    (cities, hours) or (cities, members, hours) [kg/h] by pollutant. The model runs the
    baseline, the members, the region without any emission, each city's zero-out and each
    city's own measures in one batch (:func:`regional_variants`). Per city: the baseline column
    is the observation; the PM2.5 the region's sources make (each run minus the run without
    them, so the chemistry of the far field's own gases stays with the far field) plays the part
    the box model's calibrated local PM2.5 plays (no calibration scale), capped at the
    observation by the same rule; the rest of the observation is the background. Figures added
    to each city's metrics, as shares [-] of the observed mean PM2.5 (the denominator of
    ``local_share``): ``local_share_modelled`` (made by the city's own sources, by zero-out),
    ``regional_share_modelled`` (by the rest of the region: the region's part minus the city's
    own, so non-linear interactions count here) and ``modelled_share_of_observation`` (by the
    whole region); and the mean reduction [μg/m³] during the city's warnings (hours when the
    median member warns; None without any) from its own measures and from all the region's.
    With ``draw_parameters`` (and members), each member also runs its baseline, its scenario and
    the region without emissions under its own draw of the uncertain parameters
    (:func:`~sim.physics.regional.draw_regional_parameters`, :func:`parameter_generator` of
    ``seed``): the PM2.5 columns and band come from those runs; the shares and the own/all
    measures figures stay those of the default parameters.
    """
    from sim.physics.regional import draw_regional_parameters, load_regional_parameters, regional_model, season_of_month  # only when asked for

    mets = [m.slice(times[0], times[-1] + pd.Timedelta(hours=1)) for m in meteorology]
    for city, met in zip(cities, mets):
        if met.wind_dir_deg is None:
            raise InputError(met.file, "column wind_dir_deg", f"the regional model needs the wind direction of city '{city}', but its meteorology has no wind_dir_deg column.",
                             "add wind_dir_deg [degrees, the direction the wind blows from] to the file, or use model: box.")
    ensemble = np.ndim(next(iter(scenario_kg_h.values()))) == 3
    levels = np.asarray(level_in_force)
    levels = levels if ensemble else levels[:, None, :]
    n, hours = len(cities), len(times)
    own = [atmosphere.cities[c] for c in cities]
    params = load_regional_parameters(overrides=atmosphere.parameters, overrides_file=file, overrides_key="atmosphere.parameters")
    area = np.array([c.area_km2 for c in own], dtype=float)
    members = levels.shape[1]
    variants = {p: regional_variants(np.reshape(baseline_kg_h[p], (n, hours)), np.reshape(scenario_kg_h[p], (n, -1, hours)))
                for p in baseline_kg_h}
    met = {name: np.stack([getattr(m, name) for m in mets]) for name in ("mixing_height_m", "wind_speed_m_s", "wind_dir_deg", "rh_pct", "temp_c")}
    where = (met["mixing_height_m"], met["wind_speed_m_s"], met["wind_dir_deg"], met["rh_pct"], met["temp_c"],
             np.array([c.lat for c in own], dtype=float), np.array([c.lon for c in own], dtype=float), area)
    options = {"spin_up_h": 24 * atmosphere.spin_up_days, "season": season_of_month(times[len(times) // 2].month)}
    out = _regional_in_chunks(regional_model, variants, where, params, options)
    total = out["pm25"]  # (cities, variants, hours), far field included
    none = 1 + members  # the variant without any emission of the region

    def made_by_region(result: Mapping[str, np.ndarray], rows: slice | list, empty: int) -> dict[str, np.ndarray]:
        """Components [μg/m³] the region's sources make: each run minus the run without them."""
        parts = {k: result[k][:, rows] - result[k][:, empty:empty + 1] for k in COMPONENTS}
        parts["local"] = sum(parts[k] for k in COMPONENTS)
        return parts

    region = made_by_region(out, slice(0, 1 + members), none)  # baseline, then the members
    baselines = 1
    if atmosphere.draw_parameters and ensemble:
        if seed is None:
            raise ValueError("members that draw their parameters need the scenario seed.")
        runs = [made_by_region(regional_model({p: v[:, [0, 1 + m, none]] for p, v in variants.items()}, *where,
                                              draw_regional_parameters(params, parameter_generator(seed, m)), **options), slice(0, 2), 2)
                for m in range(members)]
        region = {k: np.concatenate([np.stack([r[k][:, 0] for r in runs], axis=1), np.stack([r[k][:, 1] for r in runs], axis=1)], axis=1)
                  for k in (*COMPONENTS, "local")}
        baselines = members
    zero_out = total[:, none + 1: none + 1 + n]
    own_only = total[:, none + 1 + n:]
    k = np.arange(n)
    own_part = total[:, 0] - zero_out[k, k]  # (cities, hours) [μg/m³]
    region_part = total[:, 0] - total[:, none]  # made by all the region's sources
    projections = []
    for i, city in enumerate(cities):
        obs = mets[i].pm25_baseline_ug_m3
        config = atmosphere.for_city(city).model_copy(update={"local_share": None})
        projection = _calibrated(config, times, obs, {key: v[i] for key, v in region.items()}, levels[i], ensemble, file, city, baselines)
        # the hours the city's other figures call "during warnings": the median member's
        warned = np.median(levels[i], axis=0) > 0
        capped = local_capped_at_observation(obs, region_part[i])
        share = _share(capped * own_part[i], obs)
        explained = _share(capped * region_part[i], obs)

        def during_warnings(reduction: np.ndarray) -> float | None:
            return float((capped * reduction)[warned].mean()) if warned.any() else None

        metrics = {
            **projection.metrics,
            "local_share_modelled": share,
            "regional_share_modelled": None if share is None else explained - share,
            "modelled_share_of_observation": explained,
            "modelled_baseline_mean_ug_m3": float(total[i, 0].mean()),
            "reduction_own_measures_ug_m3": during_warnings(total[i, 0] - own_only[i, i]),
            "reduction_all_measures_ug_m3": during_warnings(total[i, 0] - total[i, 1:1 + members].mean(axis=0)),
        }
        metrics.pop("calibration_scale", None)
        metrics.pop("calibration_scale_p05_p95", None)
        given = own[i].local_share if own[i].local_share is not None else atmosphere.local_share
        notes = projection.notes
        if explained is not None and explained < EXPLAINED_LOW:
            notes += (f"{city}: " + text("note.region_share", "en", share=f"{explained:.0%}"),)
        if given is not None and share is not None and abs(share - given) > LOCAL_SHARE_TOLERANCE:
            notes += (f"{city}: " + text("note.own_share", "en", share=f"{share:.0%}", given=f"{given:.0%}"),)
        projections.append(Pm25Projection(projection.frame, 1.0, metrics, projection.members_ug_m3, notes))
    return projections
