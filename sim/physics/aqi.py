"""Air quality index for PM2.5 after HJ 633-2012 (环境空气质量指数(AQI)技术规定(试行)).

Only PM2.5 is modelled, so the AQI here is the PM2.5 individual index (IAQI). Breakpoints
(24 h mean) [μg/m³] 0/35/75/115/150/250/350/500 map to IAQI 0/50/100/150/200/300/400/500,
linearly between breakpoints, rounded **up** to an integer (进位取整).

Conventions:
- Results are float arrays holding whole numbers, so that a missing concentration (NaN) stays
  NaN instead of being forced to an integer.
- HJ 633 leaves concentrations above the top breakpoint (500 μg/m³) "beyond range"; they are
  capped at IAQI 500 here, which is also the red-warning criterion ("AQI reaches 500").
- A daily mean needs at least 20 valid hourly values in the calendar day (GB 3095-2012 §8.2,
  data validity for 24 h means); days with fewer are NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

#: PM2.5 24 h concentration breakpoints [μg/m³] (HJ 633-2012 Table 1).
BREAKPOINTS_UG_M3: np.ndarray = np.array([0.0, 35.0, 75.0, 115.0, 150.0, 250.0, 350.0, 500.0])
#: IAQI at the breakpoints [-].
BREAKPOINTS_IAQI: np.ndarray = np.array([0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0])
#: Minimum valid hours for a 24 h mean (GB 3095-2012 §8.2).
MIN_VALID_HOURS: int = 20
HEAVY_AQI: int = 200  # AQI > 200: 重度污染, a heavy-pollution day
SEVERE_AQI: int = 300  # AQI > 300: 严重污染


class AqiCategory(NamedTuple):
    """One AQI category of HJ 633-2012 Table 2 (colour as RGB hex)."""

    level: int
    name_en: str
    name_zh: str
    aqi_low: int
    aqi_high: int  # inclusive upper AQI; the top class is open-ended (500 = index cap)
    colour: str


#: The six AQI categories with their HJ 633 colours, for charts.
CATEGORY: tuple[AqiCategory, ...] = (
    AqiCategory(1, "Excellent", "优", 0, 50, "#00E400"),
    AqiCategory(2, "Good", "良", 51, 100, "#FFFF00"),
    AqiCategory(3, "Lightly polluted", "轻度污染", 101, 150, "#FF7E00"),
    AqiCategory(4, "Moderately polluted", "中度污染", 151, 200, "#FF0000"),
    AqiCategory(5, "Heavily polluted", "重度污染", 201, 300, "#99004C"),
    AqiCategory(6, "Severely polluted", "严重污染", 301, 500, "#7E0023"),
)


def iaqi_pm25(conc_ug_m3: ArrayLike) -> np.ndarray:
    """PM2.5 individual air quality index (HJ 633-2012).

    Parameters
    ----------
    conc_ug_m3:
        PM2.5 concentration [μg/m³], any shape; meant for 24 h means. NaN allowed.

    Returns
    -------
    IAQI [-] as a float array of whole numbers, same shape; NaN where the input is NaN;
    capped at 500 above 500 μg/m³.
    """
    conc = np.asarray(conc_ug_m3, dtype=float)
    if np.any(conc < -1e-9):
        raise ValueError("PM2.5 concentrations must not be negative [μg/m³].")
    raw = np.interp(np.maximum(conc, 0.0), BREAKPOINTS_UG_M3, BREAKPOINTS_IAQI)
    # Round to 1e-9 first so that floating error (e.g. 150.00000000000003) does not round up.
    index = np.ceil(np.round(raw, 9))
    return np.where(np.isnan(conc), np.nan, index)


def aqi_category(aqi: ArrayLike) -> np.ndarray:
    """Category level 1-6 of :data:`CATEGORY` for AQI values [-]; 0 where AQI is NaN."""
    aqi = np.asarray(aqi, dtype=float)
    upper = np.array([c.aqi_high for c in CATEGORY[:-1]], dtype=float)
    level = np.searchsorted(upper, np.ceil(np.nan_to_num(aqi, nan=0.0)), side="left") + 1
    return np.where(np.isnan(aqi), 0, level)


def daily_mean(hourly: ArrayLike, times: pd.DatetimeIndex) -> pd.Series:
    """Calendar-day means of hourly values.

    Parameters
    ----------
    hourly:
        Hourly concentrations [μg/m³], shape (T,); NaN marks a missing hour.
    times:
        Start time of each hour, length T (local time, e.g. Beijing time).

    Returns
    -------
    Series of daily means [μg/m³] indexed by day (midnight timestamps, name ``date``); NaN for
    a day with fewer than 20 valid hours (GB 3095-2012 §8.2), so partly covered days at the
    ends of a period are NaN too.
    """
    values = np.asarray(hourly, dtype=float)
    if values.ndim != 1 or len(values) != len(times):
        raise ValueError(f"hourly must have shape ({len(times)},), got {values.shape}.")
    day = pd.DatetimeIndex(times).normalize()
    frame = pd.Series(values, index=day)
    grouped = frame.groupby(level=0)
    mean = grouped.mean().where(grouped.count() >= MIN_VALID_HOURS)
    mean.index.name = "date"
    return mean.astype(float)


def daily_aqi(hourly: ArrayLike, times: pd.DatetimeIndex) -> pd.Series:
    """Daily PM2.5 AQI [-] from hourly concentrations [μg/m³]; NaN for invalid days.

    See :func:`daily_mean` for the day and validity rules.
    """
    mean = daily_mean(hourly, times)
    return pd.Series(iaqi_pm25(mean.to_numpy()), index=mean.index, name="aqi")


def heavy_pollution_days(daily_aqi: ArrayLike) -> int:
    """Number of heavy-pollution days (重污染天, daily AQI > 200) [days]; NaN days do not count."""
    return int(np.count_nonzero(np.asarray(daily_aqi, dtype=float) > HEAVY_AQI))


def severe_days(daily_aqi: ArrayLike) -> int:
    """Number of severely polluted days (严重污染, daily AQI > 300) [days]; NaN days do not count."""
    return int(np.count_nonzero(np.asarray(daily_aqi, dtype=float) > SEVERE_AQI))


def running_mean_24h(hourly_conc: ArrayLike) -> np.ndarray:
    """Trailing 24 h mean [μg/m³] over the available hours, shape (..., T).

    Hour t averages the valid (non-NaN) values of hours t-23 … t; the first 23 hours average
    what exists so far. NaN where the window holds no valid value.
    """
    values = np.asarray(hourly_conc, dtype=float)
    valid = ~np.isnan(values)
    # Cumulative sums give every trailing window at once.
    csum = np.cumsum(np.where(valid, values, 0.0), axis=-1)
    ccount = np.cumsum(valid, axis=-1)
    pad = [(0, 0)] * (values.ndim - 1) + [(24, 0)]
    csum0 = np.pad(csum, pad)[..., :-24]
    ccount0 = np.pad(ccount, pad)[..., :-24]
    total, count = csum - csum0, ccount - ccount0
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def heavy_hours(hourly_conc: ArrayLike) -> int | np.ndarray:
    """Hours whose trailing 24 h mean PM2.5 gives IAQI > 200 (重度污染 or worse) [h].

    Parameters
    ----------
    hourly_conc:
        Hourly PM2.5 [μg/m³], shape (..., T).

    Returns
    -------
    Count of such hours [h]: an int for 1-D input, else an integer array of shape (...).
    """
    count = np.count_nonzero(iaqi_pm25(running_mean_24h(hourly_conc)) > HEAVY_AQI, axis=-1)
    return int(count) if np.ndim(count) == 0 else np.asarray(count)
