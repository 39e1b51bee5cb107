"""Mixing-layer height from routine surface observations (an estimate where none is measured).

Stations of the national monitoring network report temperature, humidity and wind but no
mixing-layer height, which the box and regional models need. This module estimates it hourly by
the method of Nozaki (1973), as used in Chinese environmental-impact practice with surface
observations: a thermal term that grows with the dew-point depression in unstable air and a
mechanical term that grows with the wind::

    h = (121/6) (6 − P) (T − Td) + 0.169 P (U + 0.257) / (12 f ln(Z/z0))        [m]

with P the Pasquill stability class as a number (A = 1 … F = 6), T − Td the dew-point
depression [K], U the wind speed [m/s] measured at height Z [m] over roughness length z0 [m],
and f = 2 Ω sin(latitude) the Coriolis parameter [1/s]. (Nozaki, K.Y., 1973: Mixing depth model
using hourly surface observations. USAF Environmental Technical Applications Center, Report
7053.)

The stability class comes from the wind speed and the insolation (Pasquill 1961, Meteorol.
Mag. 90:33; Turner 1964, J. Appl. Meteor. 3:83): by day the insolation class follows the
solar elevation (strong above 60°, moderate 35-60°, slight 15-35° and below; Turner 1964); by
night, without cloud observations, the sky is taken as clear (≤ 3/8 cloud), the stabler of
Pasquill's two night columns: an estimate that favours the shallow night layers of winter
haze. Intermediate classes (A-B, B-C, C-D) count as half steps. The solar elevation uses the
declination and equation of time of Spencer (1971, Search 2(5):172).

Limits: no cloud or radiation data, so an overcast day is taken as sunny and an overcast night
as clear; no advection or subsidence; the formula's coefficients are empirical. On a stable
night only the mechanical term counts, 300-450 m at 0.5-1 m/s over a city's roughness: deeper
than the shallowest night layers of winter haze, so night-time accumulation comes out weaker
than observed rather than stronger. Use a measured
mixing height (ceilometer, lidar, sounding) where one exists, and look at how results move
when this estimate is scaled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

OMEGA_PER_S = 7.2921e-5  # Earth's rotation rate [rad/s]
#: Height of the wind measurement [m] (standard 10 m anemometers).
WIND_HEIGHT_M = 10.0
#: Roughness length [m] of a city: 0.5-2 m for built-up areas (Wieringa 1993, Boundary-Layer
#: Meteorol. 63:323); 1 m is taken.
URBAN_ROUGHNESS_M = 1.0
#: Pasquill classes by wind-speed band (upper bounds [m/s], the last open) and insolation
#: (strong, moderate, slight by day; clear night), A = 1 … F = 6; a half step for A-B etc.
WIND_BANDS_M_S = (2.0, 3.0, 5.0, 6.0, np.inf)
DAY_CLASSES = np.array([  # strong, moderate, slight
    [1.0, 1.5, 2.0],
    [1.5, 2.0, 3.0],
    [2.0, 2.5, 3.0],
    [3.0, 3.5, 4.0],
    [3.0, 4.0, 4.0],
])
CLEAR_NIGHT_CLASSES = np.array([6.0, 6.0, 5.0, 4.0, 4.0])
#: The formula's bounds [m]: the meteorology format accepts 10-5000 m; below 50 m the estimate
#: means nothing more than "very shallow".
MIN_HEIGHT_M, MAX_HEIGHT_M = 50.0, 4000.0


def solar_elevation_deg(times: pd.DatetimeIndex, lat_deg: float, lon_deg: float, utc_offset_h: float = 8.0) -> np.ndarray:
    """Solar elevation [degrees] at the middle of each hour starting at ``times`` (local time,
    ``utc_offset_h`` ahead of UTC; China Standard Time is +8) at ``lat_deg``, ``lon_deg`` [°],
    from Spencer's (1971) declination and equation of time."""
    t = pd.DatetimeIndex(times) + pd.Timedelta(minutes=30)
    gamma = 2.0 * np.pi * (t.day_of_year.to_numpy() - 1 + (t.hour.to_numpy() - 12) / 24.0) / 365.0
    declination = (0.006918 - 0.399912 * np.cos(gamma) + 0.070257 * np.sin(gamma) - 0.006758 * np.cos(2 * gamma)
                   + 0.000907 * np.sin(2 * gamma) - 0.002697 * np.cos(3 * gamma) + 0.00148 * np.sin(3 * gamma))
    equation_of_time_min = 229.18 * (0.000075 + 0.001868 * np.cos(gamma) - 0.032077 * np.sin(gamma)
                                     - 0.014615 * np.cos(2 * gamma) - 0.040849 * np.sin(2 * gamma))
    minutes = t.hour.to_numpy() * 60 + t.minute.to_numpy()
    solar_time_min = minutes + equation_of_time_min + 4.0 * lon_deg - 60.0 * utc_offset_h
    hour_angle = np.radians(solar_time_min / 4.0 - 180.0)
    lat = np.radians(lat_deg)
    sin_elevation = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(hour_angle)
    return np.degrees(np.arcsin(np.clip(sin_elevation, -1.0, 1.0)))


def pasquill_class(wind_m_s: ArrayLike, solar_elevation: ArrayLike) -> np.ndarray:
    """Pasquill stability class as a number, A = 1 … F = 6 (half steps for A-B etc.), from the
    wind speed [m/s] and the solar elevation [°]; nights (elevation ≤ 0) are taken as clear."""
    wind = np.asarray(wind_m_s, dtype=float)
    elevation = np.asarray(solar_elevation, dtype=float)
    band = np.searchsorted(WIND_BANDS_M_S, wind, side="right").clip(0, len(WIND_BANDS_M_S) - 1)  # a bound belongs to the band above
    insolation = np.where(elevation > 60.0, 0, np.where(elevation > 35.0, 1, 2))  # strong, moderate, slight
    return np.where(elevation > 0.0, DAY_CLASSES[band, insolation], CLEAR_NIGHT_CLASSES[band])


def nozaki_mixing_height(temp_c: ArrayLike, dewpoint_c: ArrayLike, wind_m_s: ArrayLike, stability: ArrayLike, lat_deg: float,
                         roughness_m: float = URBAN_ROUGHNESS_M, wind_height_m: float = WIND_HEIGHT_M) -> np.ndarray:
    """Mixing-layer height [m] by Nozaki (1973) (module docstring) from temperature and dew
    point [°C], the wind speed [m/s] at ``wind_height_m`` [m], the Pasquill class ``stability``
    (1-6) and the latitude [°]; ``roughness_m`` z0 [m]. Clipped to 50-4000 m."""
    depression = np.maximum(np.asarray(temp_c, dtype=float) - np.asarray(dewpoint_c, dtype=float), 0.0)
    p = np.asarray(stability, dtype=float)
    coriolis = 2.0 * OMEGA_PER_S * np.sin(np.radians(lat_deg))
    thermal = 121.0 / 6.0 * (6.0 - p) * depression
    mechanical = 0.169 * p * (np.asarray(wind_m_s, dtype=float) + 0.257) / (12.0 * coriolis * np.log(wind_height_m / roughness_m))
    return np.clip(thermal + mechanical, MIN_HEIGHT_M, MAX_HEIGHT_M)


def dewpoint_c(temp_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Dew point [°C] from temperature [°C] and relative humidity [%] (the Magnus form of
    :func:`sim.inputs.stations.relative_humidity`, inverted; Alduchov & Eskridge 1996)."""
    a, b = 17.625, 243.04
    t = np.asarray(temp_c, dtype=float)
    gamma = np.log(np.clip(np.asarray(rh_pct, dtype=float), 1e-3, 100.0) / 100.0) + a * t / (b + t)
    return b * gamma / (a - gamma)


def estimated_mixing_height(times: pd.DatetimeIndex, temp_c: ArrayLike, rh_pct: ArrayLike, wind_m_s: ArrayLike, lat_deg: float, lon_deg: float,
                            utc_offset_h: float = 8.0, roughness_m: float = URBAN_ROUGHNESS_M) -> np.ndarray:
    """Hourly mixing-layer height [m] of a city from its hourly temperature [°C], relative
    humidity [%] and wind speed [m/s] (e.g. :func:`sim.inputs.stations.city_series`): the
    Pasquill class from the wind and the sun, then Nozaki's formula."""
    elevation = solar_elevation_deg(times, lat_deg, lon_deg, utc_offset_h)
    stability = pasquill_class(wind_m_s, elevation)
    return nozaki_mixing_height(temp_c, dewpoint_c(temp_c, rh_pct), wind_m_s, stability, lat_deg, roughness_m)
