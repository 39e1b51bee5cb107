"""Forecast and warning skill of an episode (pure functions, for the after-action evaluation).

- Forecast skill by lead day (0 = the issue day): error of the forecast daily AQI against the
  observed daily AQI (HJ 633-2012 from the observed hourly PM2.5, a day needing 20 valid hours),
  and the share of days whose forecast AQI category is the observed one (the level forecast that
  the ≥ 80 % accuracy target of 7-day forecasts counts: 004_2694ada7f9cfab13.txt item 28).
- Warning timeliness: per warning its lead time (from its issue and from its start) before the
  first heavy-pollution day (daily AQI > 200) it covers or, failing that, that follows its start; days covered (a warning in force for at least
  ``covered_hours`` of the day), heavy days covered, false-alarm days (covered, neither the
  observation nor the counterfactual without measures heavy) and missed heavy days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.physics.aqi import HEAVY_AQI, aqi_category, iaqi_pm25


def forecast_skill(forecasts: pd.DataFrame, observed_aqi: pd.Series, target: float = 0.8) -> pd.DataFrame:
    """One row per lead day [d]: ``days`` compared, ``mean_error_aqi`` (forecast − observed),
    ``mean_abs_error_aqi``, ``rmse_aqi``, ``level_hits``, ``level_hit_rate`` [-] and
    ``meets_target`` (hit rate ≥ ``target``).

    ``forecasts``: ``target_date``, ``lead_day`` and ``pm25_ug_m3`` [μg/m³] or ``aqi`` (NaN where
    not given); ``observed_aqi``: daily AQI indexed by day (NaN: invalid day, left out)."""
    aqi = forecasts.aqi.to_numpy(float)
    aqi = np.where(np.isnan(aqi), iaqi_pm25(np.nan_to_num(forecasts.pm25_ug_m3.to_numpy(float))), aqi)
    obs = pd.Series(observed_aqi.to_numpy(float), index=pd.DatetimeIndex(observed_aqi.index).normalize())
    seen = obs.reindex(pd.DatetimeIndex(forecasts.target_date)).to_numpy()
    ok = np.isfinite(seen)
    frame = pd.DataFrame({"lead_day": forecasts.lead_day.to_numpy()[ok], "error": aqi[ok] - seen[ok],
                          "hit": aqi_category(aqi[ok]) == aqi_category(seen[ok])})
    if frame.empty:
        return pd.DataFrame(columns=["lead_day", "days", "mean_error_aqi", "mean_abs_error_aqi", "rmse_aqi", "level_hits", "level_hit_rate", "meets_target"])
    out = frame.groupby("lead_day").agg(days=("error", "size"), mean_error_aqi=("error", "mean"),
                                        mean_abs_error_aqi=("error", lambda e: float(np.abs(e).mean())),
                                        rmse_aqi=("error", lambda e: float(np.sqrt((e ** 2).mean()))),
                                        level_hits=("hit", "sum")).reset_index()
    out["level_hit_rate"] = out.level_hits / out.days
    out["meets_target"] = out.level_hit_rate >= target - 1e-12
    return out


def days_warned(issued: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """Hours of each day [h] in which some issued warning was in force, shape (days,)."""
    hours = pd.date_range(days[0], days[-1] + pd.Timedelta(hours=23), freq="h").to_numpy()
    warned = np.zeros(len(hours), dtype=bool)
    for start, end in zip(issued.start, issued.end):  # one pass per warning
        warned |= (hours >= np.datetime64(start)) & (hours < np.datetime64(end))
    return warned.reshape(len(days), 24).sum(axis=1)


def warning_timeliness(issued: pd.DataFrame, observed_aqi: pd.Series, counterfactual_aqi: pd.Series | None = None, covered_hours: int = 12) -> dict:
    """Lead times, covered, false-alarm and missed days of the warnings issued (module docstring).

    ``issued``: ``level``, ``issued_at``, ``start``, ``end``; daily AQI series indexed by day."""
    days = pd.DatetimeIndex(observed_aqi.index).normalize()
    obs = observed_aqi.to_numpy(float)
    cf = obs if counterfactual_aqi is None else pd.Series(counterfactual_aqi.to_numpy(float), index=pd.DatetimeIndex(counterfactual_aqi.index).normalize()).reindex(days).to_numpy()
    heavy = obs > HEAVY_AQI
    heavy_without = np.nan_to_num(cf, nan=-1.0) > HEAVY_AQI
    covered = days_warned(issued, days) >= covered_hours if len(days) else np.zeros(0, dtype=bool)
    warnings = []
    for k, (level, issued_at, start, end) in enumerate(zip(issued.level, issued.issued_at, issued.start, issued.end), start=1):
        # the first heavy day the warning covers, else the first heavy day after its start
        later = np.flatnonzero(heavy & (days + pd.Timedelta(days=1) > pd.Timestamp(start)))
        inside = [d for d in later if days[d] < pd.Timestamp(end)]
        first = inside[0] if inside else (later[0] if len(later) else None)
        entry = {"warning": k, "level": level, "issued_at": pd.Timestamp(issued_at).isoformat(), "start": pd.Timestamp(start).isoformat(), "end": pd.Timestamp(end).isoformat(),
                 "first_heavy_day": None, "lead_h_issue": None, "lead_h_start": None}
        if first is not None:
            day = days[first]
            entry.update(first_heavy_day=day.date().isoformat(), lead_h_issue=float((day - pd.Timestamp(issued_at)) / pd.Timedelta(hours=1)),
                         lead_h_start=float((day - pd.Timestamp(start)) / pd.Timedelta(hours=1)))
        warnings.append(entry)

    def listed(mask: np.ndarray) -> list[str]:
        return [d.date().isoformat() for d in days[mask]]

    return {
        "covered_hours_per_day": covered_hours,
        "warnings": warnings,
        "heavy_days": listed(heavy),
        "heavy_days_covered": listed(heavy & covered),
        "missed_heavy_days": listed(heavy & ~covered),
        "warned_days": listed(covered),
        "false_alarm_days": listed(covered & ~heavy & ~heavy_without & np.isfinite(obs)),
        "warned_days_heavy_only_without_measures": listed(covered & ~heavy & heavy_without),
    }
