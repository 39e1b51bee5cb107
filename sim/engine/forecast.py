"""Forecasts for the warning centre: daily PM2.5 per issue day and target day -> daily AQI.

The error model draws from the member's generator only; the same seed gives the same
forecasts on every executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.physics.aqi import BREAKPOINTS_IAQI, BREAKPOINTS_UG_M3, daily_mean, iaqi_pm25
from sim.config.dates import date_problem, parse_times
from sim.engine.simulation import WarningCentre
from sim.errors import InputError
from sim.config.scenario import WarningsConfig
from sim.inputs.tables import read_text_csv
from sim.rules.warnings import SpellMemo


@dataclass(frozen=True)
class ForecastTemplate:
    """What every member's forecast is built from.

    ``issue_hours`` [h since period start] and ``day0_hours`` (midnight of the issue day);
    ``truth_ug_m3`` [μg/m³] (issues, horizon): the daily baseline PM2.5 of the target days
    (NaN where unknown), or the forecast read from a file; ``sigma`` [-] per lead day;
    ``bias`` [-] of the log error; ``from_file``: forecasts are given, no error is drawn.
    """

    issue_hours: np.ndarray
    day0_hours: np.ndarray
    truth_ug_m3: np.ndarray
    sigma: np.ndarray
    bias: float
    from_file: bool
    #: the spells of forecasts already seen, per rule set (members share most of them)
    spell_memos: dict = field(default_factory=dict, compare=False, repr=False)

    def spell_memo(self, rule_set) -> SpellMemo:
        memo = self.spell_memos.get(id(rule_set))
        if memo is None or memo.rule_set is not rule_set:
            memo = self.spell_memos[id(rule_set)] = SpellMemo(rule_set)
        return memo

    def member_centres(self, config: WarningsConfig, rule_set, rngs: list[np.random.Generator]) -> list[WarningCentre]:
        """The warning centres of members, one generator each: each member's forecast error
        is drawn with its own generator and applied on its own, then the AQI and the spells of
        every member's forecasts are worked out together (elementwise: the same numbers as
        one member at a time)."""
        if self.from_file:
            forecasts = [self.truth_ug_m3] * len(rngs)
        else:
            forecasts = [self.truth_ug_m3 * np.exp(self.bias + self.sigma[None, :] * rng.standard_normal(self.truth_ug_m3.shape)) for rng in rngs]
        forecast = np.array(forecasts).reshape(len(rngs), *self.truth_ug_m3.shape)
        aqi = np.where(np.isnan(forecast), np.nan, iaqi_pm25(np.nan_to_num(forecast)))
        issues = self.truth_ug_m3.shape[0]
        rows = self.spell_memo(rule_set).rows(aqi.reshape(len(rngs) * issues, -1))
        return [WarningCentre(self.issue_hours, self.day0_hours, aqi[m], rule_set, config.lead_hours, config.lift_after_hours, tuple(rows[m * issues:(m + 1) * issues]))
                for m in range(len(rngs))]


def _issue_times(config: WarningsConfig, times: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    issue = times[times.hour == config.issue_hour]
    hours = ((issue - times[0]) / pd.Timedelta(hours=1)).to_numpy().astype(int)
    return hours, issue.normalize()


def forecast_template(config: WarningsConfig, times: pd.DatetimeIndex, baseline_times: pd.DatetimeIndex | None, baseline_ug_m3: np.ndarray | None, scenario_file: object) -> ForecastTemplate:
    """Build the forecast template from the baseline PM2.5 (error model) or a forecast file."""
    issue_hours, issue_days = _issue_times(config, times)
    horizon = config.horizon_days
    targets = issue_days.to_numpy()[:, None] + np.arange(horizon)[None, :] * np.timedelta64(1, "D")
    day0 = ((issue_days - times[0]) / pd.Timedelta(hours=1)).to_numpy().astype(int)
    sigmas = list(config.forecast.error_sigma_by_lead_day) or [0.0]
    sigma = np.array([sigmas[min(k, len(sigmas) - 1)] for k in range(horizon)])
    if config.forecast.file is None:
        daily = daily_mean(baseline_ug_m3, baseline_times)
        lookup = pd.Series(daily.to_numpy(), index=pd.DatetimeIndex(daily.index).normalize())
        truth = lookup.reindex(pd.DatetimeIndex(targets.ravel())).to_numpy().reshape(targets.shape)
        return ForecastTemplate(issue_hours, day0, truth, sigma, config.forecast.bias, False)
    path = Path(config.forecast.file)
    if not path.is_file():
        raise InputError(path, "key warnings.forecast.file", "the forecast file does not exist.", "check the path (relative to the scenario file).")
    table = read_text_csv(path, "write the header issue_date,target_date,pm25_ug_m3 (or aqi) and one row per forecast.")
    value = "pm25_ug_m3" if "pm25_ug_m3" in table.columns else "aqi" if "aqi" in table.columns else None
    missing = [c for c in ("issue_date", "target_date") if c not in table.columns]
    if missing or value is None:
        raise InputError(path, "header", f"missing column(s) {', '.join(missing + ([] if value else ['pm25_ug_m3 or aqi']))}.", "the header must be issue_date,target_date,pm25_ug_m3 (or aqi).")
    dates = {}
    for column in ("issue_date", "target_date"):
        parsed = parse_times(table[column])  # ISO or YYYY/MM/DD only: 08/12/2024 would be read month first
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            row = int(bad[0])
            raise InputError(path, f"row {row + 2}, column {column}", f"{date_problem(table[column].iloc[row], 'date')}.", "write dates as YYYY-MM-DD, e.g. 2024-12-08.")
        dates[column] = parsed.dt.normalize()
    issue, target = dates["issue_date"], dates["target_date"]
    numbers = pd.to_numeric(table[value], errors="coerce")
    bad = numbers.isna() | (numbers < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(path, f"row {row + 2}, column {value}", f"'{table[value].iloc[row]}' is not a non-negative number.", "write a plain number.")
    if value == "aqi":  # invert the PM2.5 IAQI so both forms share one path (AQI is monotone in PM2.5)
        numbers = pd.Series(np.interp(numbers.to_numpy(float), BREAKPOINTS_IAQI, BREAKPOINTS_UG_M3))
    frame = pd.Series(numbers.to_numpy(float), index=pd.MultiIndex.from_arrays([issue, target]))
    if frame.index.duplicated().any():
        row = int(np.flatnonzero(frame.index.duplicated())[0])
        raise InputError(path, f"row {row + 2}", "this issue date and target date appear twice.", "keep one forecast per pair.")
    keys = pd.MultiIndex.from_arrays([np.repeat(issue_days.to_numpy(), horizon), pd.DatetimeIndex(targets.ravel())])
    given = frame.reindex(keys).to_numpy().reshape(targets.shape)
    return ForecastTemplate(issue_hours, day0, given, sigma, 0.0, True)
