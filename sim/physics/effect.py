"""The effect of the measures really carried out on PM2.5 (after-action evaluation).

Published effect estimates compare the observed PM2.5 with a counterfactual without the
measures. Here the counterfactual is the observation plus the modelled effect of the realised
cuts: the PM2.5 model of the scenario (box or linear, :func:`sim.physics.projection.local_components`)
runs on the scenario's weather with the emissions as they really were and with the emissions
without the emergency measures; effect = c · s · (local without − local realised) [μg/m³];
counterfactual = observation + effect. ``local_share`` is the share of the *counterfactual*
(no emergency measures), as in a planning run, so the scale c solves mean(c · local without) =
local_share × mean(counterfactual) (:func:`counterfactual_calibration_scale`); the local part
is capped at the observation hour by hour as in the projection. With ``regional_background_cut``
the warnings issued also cut the regional background (after its lag), and the counterfactual
undoes that cut too: effect += background without the cut × the cut. A planning run with the
counterfactual as its baseline then projects the same effect. The band: members that draw the box model's uncertain parameters within
the ranges of ``sim/data/atmosphere.yaml`` (as ``atmosphere.draw_parameters`` does), each
calibrated on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.meteorology import Meteorology
from sim.config.scenario import AtmosphereConfig
from sim.physics.aqi import daily_aqi, heavy_pollution_days
from sim.physics.atmosphere import calibration_scale
from sim.physics.projection import drawn_local_components, local_capped_at_observation, local_components


def counterfactual_calibration_scale(obs: np.ndarray, local_realised: np.ndarray, local_without: np.ndarray, local_share: float | None,
                                     background_cut: np.ndarray | None = None) -> float:
    """Scale c [-] on the modelled local PM2.5 such that the local part makes up ``local_share``
    of the counterfactual PM2.5 (no emergency measures), given only the observation with them.

    ``obs`` [μg/m³] hourly (NaN skipped), ``local_realised`` R and ``local_without`` W [μg/m³]
    the uncalibrated local PM2.5 with the emissions as they really were and without the
    measures, ``background_cut`` f [-] the cut of the regional background hour by hour (none:
    0). A planning run from the counterfactual CF has obs = (CF − c W)(1 − f) + c R, so
    CF = c W + (obs − c R) / (1 − f), and c · mean W = s · mean CF gives
    c = s · mean(obs / (1 − f)) / ((1 − s) · mean W + s · mean(R / (1 − f))), s = local_share
    (with f = 0: s · mean obs / ((1 − s) mean W + s mean R)), means over the hours with an
    observation. Where c R exceeds the observation, the local part is capped at it (as the
    planning run caps c W at the counterfactual: the same hours), and c is the fixed point of
    c = s · mean CF(c) / mean W, started from the formula above. It is the scale
    :func:`sim.physics.atmosphere.calibration_scale` gives a planning run whose baseline is that
    counterfactual. 1.0 when ``local_share`` is None.
    """
    if local_share is None:
        return 1.0
    calibration_scale(obs, local_realised, local_share)  # the share's and the emissions' checks
    obs = np.asarray(obs, dtype=float)
    seen = np.isfinite(obs)  # the means run over the hours with an observation
    f = np.zeros(obs.shape) if background_cut is None else np.asarray(background_cut, dtype=float)
    o, w, r, f = obs[seen], np.asarray(local_without, dtype=float)[seen], np.asarray(local_realised, dtype=float)[seen], f[seen]
    c = float(local_share * (o / (1.0 - f)).mean() / ((1.0 - local_share) * w.mean() + local_share * (r / (1.0 - f)).mean()))
    for _ in range(200):  # the hours where c R reaches the observation are capped: c = s mean CF(c) / mean W, a contraction
        cap = local_capped_at_observation(o, c * r)
        counterfactual = o + c * cap * (w - r) + np.maximum(o - c * r, 0.0) * f / (1.0 - f)
        new = float(local_share * counterfactual.mean() / w.mean())
        if abs(new - c) <= 1e-14 * c:
            break
        c = new
    return new


def counterfactual_background(obs: np.ndarray, local_realised: np.ndarray, background_cut: np.ndarray) -> np.ndarray:
    """The regional background of the counterfactual [μg/m³]: the observed background
    obs − local (0 where the local part reaches the observation, and where there is no
    observation) undone of its cut f [-]: (obs − local) / (1 − f). ``local_realised`` [μg/m³]
    calibrated and capped."""
    seen = np.isfinite(obs)
    return np.where(seen, np.maximum(np.where(seen, obs, 0.0) - local_realised, 0.0), 0.0) / (1.0 - background_cut)


def _scale(config: AtmosphereConfig, obs: np.ndarray, local_realised: np.ndarray, local_without: np.ndarray, file,
           background_cut: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """c · s [-] per variant row of ``local_realised`` and ``local_without`` (rows, hours): the
    calibration (:func:`counterfactual_calibration_scale`) and the cap at the observation (NaN
    observations: no cap); and c of each row, (rows, 1)."""
    try:
        c = np.array([[counterfactual_calibration_scale(obs, r, w, config.local_share, background_cut)] for r, w in zip(local_realised, local_without)])
    except InputError as exc:
        raise InputError(file, exc.where, exc.problem, exc.fix) from None
    safe = np.where(np.isfinite(obs), obs, np.inf)
    return c * local_capped_at_observation(safe, c * local_realised), c


def modelled_effect(config: AtmosphereConfig, met: Meteorology, obs: np.ndarray, realised_kg_h: Mapping[str, np.ndarray],
                    without_kg_h: Mapping[str, np.ndarray], file=None, background_cut: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Effect [μg/m³] of the cuts, one row per variant of ``realised_kg_h`` (variants, hours)
    [kg/h by pollutant], against ``without_kg_h`` (hours,); all variants share the calibration of
    the first (the emissions as they really were). ``background_cut`` (variants, hours) [-]: the
    cut of the regional background of each variant (``regional_background_cut`` after its lag,
    :func:`sim.physics.projection.regional_cut_fraction`); its part of the effect is the
    counterfactual background (:func:`counterfactual_background`, from the first variant) times
    the cut. Returns (effect, calibration scale c)."""
    variants = np.shape(next(iter(realised_kg_h.values())))[0]
    emissions = {p: np.concatenate([np.asarray(realised_kg_h[p], float), np.asarray(without_kg_h[p], float)[None]])[None] for p in realised_kg_h}
    local = local_components([config], emissions, [met], file)["local"][0]  # (variants + 1, hours)
    f0 = None if background_cut is None else np.asarray(background_cut, float)[0]
    scales, c = _scale(config, obs, local[:1], local[variants:], file, f0)
    scale = scales[0]
    effect = scale[None, :] * (local[variants][None, :] - local[:variants])
    if background_cut is not None:
        effect = effect + counterfactual_background(obs, scale * local[0], f0)[None, :] * np.asarray(background_cut, float)
    return effect, float(c[0, 0])


def effect_band(config: AtmosphereConfig, met: Meteorology, obs: np.ndarray, realised_kg_h: Mapping[str, np.ndarray],
                without_kg_h: Mapping[str, np.ndarray], members: int, seed: int, file=None, background_cut: np.ndarray | None = None) -> np.ndarray:
    """Effect [μg/m³] of the realised emissions ``realised_kg_h`` (hours,) against ``without_kg_h``
    (hours,) [kg/h by pollutant] for ``members`` members that draw the box model's uncertain parameters
    (:func:`sim.physics.projection.drawn_local_components`, from ``seed``), shape (members, hours);
    ``background_cut`` (hours,) [-] as in :func:`modelled_effect`."""
    emissions = {p: np.concatenate([np.asarray(realised_kg_h[p], float)[None], np.repeat(np.asarray(without_kg_h[p], float)[None], members, axis=0)])[None]
                 for p in realised_kg_h}
    local = drawn_local_components([config], emissions, [met], seed, file)["local"][0]  # (2 members, hours)
    realised, without = local[:members], local[members:]
    scale = _scale(config, obs, realised, without, file, background_cut)[0]
    effect = scale * (without - realised)
    if background_cut is not None:
        effect = effect + counterfactual_background(obs, scale * realised, background_cut) * background_cut
    return effect


def effect_figures(times: pd.DatetimeIndex, obs: np.ndarray, effect: np.ndarray, level: np.ndarray, band: np.ndarray | None = None) -> dict:
    """Observed vs counterfactual: means, heavy days, the mean and peak reduction during the
    warnings (``level`` > 0) and when the peak came (hours after the first warning started), with
    the 5-95 % band of the members' mean and peak reduction when ``band`` (members, hours) is given."""
    counterfactual = obs + effect
    warned = (level > 0) & np.isfinite(obs)
    out = {
        "mean_observed_ug_m3": float(np.nanmean(obs)),
        "mean_counterfactual_ug_m3": float(np.nanmean(counterfactual)),
        "peak_observed_ug_m3": float(np.nanmax(obs)),
        "peak_counterfactual_ug_m3": float(np.nanmax(counterfactual)),
        "heavy_days_observed": heavy_pollution_days(daily_aqi(obs, times)),
        "heavy_days_counterfactual": heavy_pollution_days(daily_aqi(counterfactual, times)),
    }
    out["heavy_days_avoided"] = out["heavy_days_counterfactual"] - out["heavy_days_observed"]
    if warned.any():
        e = np.where(warned, effect, -np.inf)
        peak = int(np.argmax(e))
        first = int(np.argmax(level > 0))
        out.update({
            "mean_reduction_during_warnings_ug_m3": float(effect[warned].mean()),
            "mean_reduction_during_warnings_pct": float(100.0 * effect[warned].mean() / counterfactual[warned].mean()),
            "peak_reduction_during_warnings_ug_m3": float(effect[peak]),
            "peak_reduction_time": times[peak].isoformat(),
            "hours_from_first_warning_to_peak_reduction": peak - first,
        })
        if band is not None:
            means = band[:, warned].mean(axis=1)
            peaks = band[:, warned].max(axis=1)
            out["band_members"] = int(band.shape[0])
            out["mean_reduction_during_warnings_p05_p95_ug_m3"] = [float(np.percentile(means, 5)), float(np.percentile(means, 95))]
            out["peak_reduction_during_warnings_p05_p95_ug_m3"] = [float(np.percentile(peaks, 5)), float(np.percentile(peaks, 95))]
    return out


def shifted_series(x: np.ndarray, shift_h: int) -> np.ndarray:
    """Hourly series ``x`` [any unit] ``shift_h`` hours later (negative: earlier); hours shifted in
    from outside the period are 0."""
    hours = len(x)
    out = np.zeros(hours)
    if shift_h >= 0:
        out[shift_h:] = x[: hours - shift_h] if shift_h < hours else []
    else:
        out[: hours + shift_h] = x[-shift_h:] if -shift_h < hours else []
    return out


def shifted_cuts(without: np.ndarray, realised: np.ndarray, shifts_h: Sequence[int]) -> np.ndarray:
    """Emissions [kg/h] (shifts, hours) had the realised cut come ``shift`` hours later
    (negative: earlier). A measure cuts a fraction of the activity, so each hour keeps its own
    emissions without measures and takes the cut fraction 1 − realised ÷ without of the hour
    ``shift`` before it (a weekday's cut moved onto a quieter Sunday cuts less, never below
    zero); hours shifted in from outside the period are uncut."""
    without = np.asarray(without, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(without > 0, 1.0 - np.asarray(realised, dtype=float) / np.where(without > 0, without, 1.0), 0.0)
    return np.stack([without * (1.0 - shifted_series(fraction, s)) for s in shifts_h])
