"""Observed stations -> a meteorology table the models read (the observed-data cases).

Joins :func:`sim.inputs.stations.city_series` (the city's hourly PM2.5, temperature,
humidity and wind from its monitoring stations) with the mixing-layer height estimated from
them (:func:`sim.physics.mixing_height.estimated_mixing_height`), into the columns of a
meteorology file (:mod:`sim.inputs.meteorology`), with the observed PM2.5 as
``pm25_baseline_ug_m3``. Write it with :func:`sim.inputs.meteorology.format_csv`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.inputs.meteorology import TIME_COLUMN, rounded
from sim.inputs.stations import city_series
from sim.physics.mixing_height import estimated_mixing_height


def meteorology_from_stations(paths: Sequence[str | Path], start: str | pd.Timestamp, end: str | pd.Timestamp, lat_deg: float, lon_deg: float, *,
                              min_stations: int | None = None, max_fill_h: int = 3, mixing_height_scale: float = 1.0,
                              utc_offset_h: float = 8.0) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The city's hourly meteorology over [start, end) from its station files, and the notes
    of how it was made.

    ``lat_deg``, ``lon_deg`` [°]: the city's centre (for the sun and the Coriolis parameter).
    ``mixing_height_scale`` [-]: multiplies the estimated mixing height, to see how much results
    move with it (it is not observed). Columns: ``time``, ``pm25_baseline_ug_m3`` (the observed
    station mean [μg/m³]), ``mixing_height_m``, ``wind_speed_m_s``, ``rh_pct``, ``temp_c``,
    ``wind_dir_deg``, rounded as meteorology files are written.
    """
    series = city_series(paths, start, end, min_stations=min_stations, max_fill_h=max_fill_h)
    f = series.frame
    height = mixing_height_scale * estimated_mixing_height(pd.DatetimeIndex(f.time), f.temp_c, f.rh_pct, f.wind_speed_m_s, lat_deg, lon_deg,
                                                           utc_offset_h)
    frame = pd.DataFrame({
        TIME_COLUMN: f.time,
        "pm25_baseline_ug_m3": f.pm25_ug_m3,
        "mixing_height_m": np.clip(height, 10.0, 5000.0),  # the meteorology format's range
        "wind_speed_m_s": f.wind_speed_m_s,
        "rh_pct": f.rh_pct,
        "temp_c": f.temp_c,
        "wind_dir_deg": f.wind_dir_deg,
    })
    rounded(frame)
    notes = (*series.notes, f"mixing height estimated from surface observations (Nozaki 1973){'' if mixing_height_scale == 1 else f', scaled by {mixing_height_scale:g}'}",
             f"{len(series.stations)} stations: {', '.join(series.stations)}")
    return frame, notes
