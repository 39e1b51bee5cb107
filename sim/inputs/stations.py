"""Hourly observations of several monitoring stations -> one city series.

Station files are CSV (optionally gzip-compressed, ``.csv.gz``), one row per station and hour,
in either of two forms:

- the form of the Beijing multi-site data set (UCI "Beijing Multi-Site Air-Quality Data"):
  ``year, month, day, hour, PM2.5, TEMP, DEWP, wd, WSPM, station`` (other columns ignored);
- a plain form: ``time`` (``YYYY-MM-DDTHH:MM`` or ``YYYY/MM/DD HH:MM``, local time),
  ``station``, ``pm25_ug_m3``, ``temp_c``, ``dewpoint_c``, ``wind_dir`` and ``wind_speed_m_s``.

Missing values are empty or ``NA``. The wind direction is the direction the wind blows from,
in degrees (0-360) or as a 16-point compass name (``N``, ``NNE``, ... ``NNW``); calm is ``C``,
``CALM`` or ``静风``, or a speed of 0. Units: PM2.5 [μg/m³], temperatures [°C], wind [m/s].

The national network's hourly exports (CNEMC data as commonly downloaded, one file a day,
``china_sites_YYYYMMDD.csv``) are wide: ``date`` (``YYYYMMDD``), ``hour`` (0-23), ``type``
(``AQI``, ``PM2.5``, ``PM2.5_24h``, ``PM10``, ...) and one column per station code (``1001A``,
...). They carry no meteorology; :func:`observed_pm25_series` turns the ``PM2.5`` rows of the
city's stations into its hourly ``observed_pm25``. Their hour is the hour's end (CNEMC: the
value of 16:00 is the mean of 15:00-16:00), so it is moved one hour back to the hour's start,
as the simulator's hours are labelled.

The city series (:func:`city_series`) takes, for each hour, the mean over the stations that
report it, and needs at least ``min_stations`` of them; an hour with fewer is a gap. Gaps of
up to ``max_fill_h`` hours are filled by linear interpolation between the hours around them
(named in the notes); a longer gap, or one at the start or end, is an error naming it. Relative
humidity comes from temperature and dew point (Magnus form, :func:`relative_humidity`); a dew
point above the temperature by more than the rounding of the data is an error naming the
station and the hour. The wind: speed is the mean of the stations' speeds; direction is the
direction of the mean wind vector (calm stations count as zero vectors; a station whose
direction is missing but whose speed is not 0 does not count for the direction); an hour in
which the mean vector vanishes keeps the direction of the hour before; a mean speed below
0.1 m/s is written as 0.1 m/s (the meteorology format needs a wind above 0).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.dates import parse_times
from sim.errors import InputError

#: 16-point compass names -> the direction the wind blows from [degrees].
COMPASS = {name: 22.5 * i for i, name in enumerate(
    ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"))}
CALM = frozenset({"C", "CALM", "静风"})
#: Columns of the plain form, and the names the Beijing multi-site files give them.
ALIASES = {"PM2.5": "pm25_ug_m3", "TEMP": "temp_c", "DEWP": "dewpoint_c", "wd": "wind_dir", "WSPM": "wind_speed_m_s"}
VALUES = ("pm25_ug_m3", "temp_c", "dewpoint_c", "wind_speed_m_s")
#: A dew point above the temperature by more than this [°C] is an error: temperature and dew
#: point are reported to 0.1 °C, so saturated air may show a dew point 0.1 above.
DEW_POINT_SLACK_C = 0.15
#: The city's wind speed is at least this [m/s]: the anemometers' starting threshold is about
#: 0.1-0.3 m/s, and the meteorology format needs a wind above 0.
MIN_SPEED_M_S = 0.1
#: Magnus coefficients over water (Alduchov & Eskridge 1996, J. Appl. Meteor. 35:601): a [-], b [°C].
MAGNUS_A, MAGNUS_B = 17.625, 243.04


@dataclass(frozen=True)
class CitySeries:
    """One city's hourly series [columns: time, pm25_ug_m3, temp_c, rh_pct, wind_speed_m_s,
    wind_dir_deg, stations] and what was done to make it (``notes``)."""

    frame: pd.DataFrame
    stations: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())


def relative_humidity(temp_c: np.ndarray, dewpoint_c: np.ndarray) -> np.ndarray:
    """Relative humidity [%] from temperature and dew point [°C] by the Magnus form,
    100 · exp(a Td/(b + Td)) / exp(a T/(b + T)) (Alduchov & Eskridge 1996), capped at 100."""
    t, td = np.asarray(temp_c, dtype=float), np.asarray(dewpoint_c, dtype=float)
    return np.minimum(100.0, 100.0 * np.exp(MAGNUS_A * td / (MAGNUS_B + td) - MAGNUS_A * t / (MAGNUS_B + t)))


def wind_direction_deg(text: pd.Series, path: Path | str, rows: np.ndarray) -> np.ndarray:
    """Directions [degrees from north, where the wind blows from] of compass names or numbers;
    NaN for calm and for missing cells. ``rows``: the file rows of the cells, for errors."""
    cleaned = text.fillna("").astype(str).str.strip()
    upper = cleaned.str.upper()
    out = upper.map(COMPASS).astype(float)
    numeric = pd.to_numeric(cleaned.where(out.isna() & ~upper.isin(CALM) & ~upper.isin({"", "NA", "NAN"})), errors="coerce")
    out = out.fillna(numeric)
    unknown = out.isna() & ~upper.isin(CALM) & ~upper.isin({"", "NA", "NAN"})
    bad = unknown | (out < 0) | (out > 360)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(path, f"row {rows[i]}, column wind direction", f"'{cleaned.iloc[i]}' is not a wind direction.",
                         "write degrees 0-360 (the direction the wind blows from), a 16-point compass name (N, NNE, ... NNW) or C for calm.")
    return out.to_numpy(dtype=float)


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(path, None, "the station file does not exist.", "check the path.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, None, "the file is not UTF-8 text.", "save it as UTF-8 CSV.") from None


def read_station_file(path: str | Path) -> pd.DataFrame:
    """One station file -> rows ``time, station, pm25_ug_m3, temp_c, dewpoint_c,
    wind_speed_m_s, wind_dir_deg`` (NaN where missing; ``wind_dir_deg`` NaN for calm too) and
    ``row`` (the file row, for messages).

    Raises InputError naming the file, row and column for a missing column, a bad time, a
    non-numeric value, a negative speed or PM2.5, a dew point above the temperature, or a
    station reporting the same hour twice.
    """
    path = Path(path)
    table = pd.read_csv(io.StringIO(_read_text(path)), dtype=str, keep_default_na=False)
    table = table.rename(columns={k: v for k, v in ALIASES.items() if k in table.columns})
    rows = np.arange(len(table)) + 2  # the header is row 1
    if "time" in table.columns:
        times = pd.Series(parse_times(table["time"].str.strip()), index=table.index)
        time_columns = "time"
    else:
        parts = ("year", "month", "day", "hour")
        missing = [c for c in parts if c not in table.columns]
        if missing:
            raise InputError(path, f"column {missing[0]}", "the file has neither a time column nor year, month, day and hour.",
                             "give a time column (YYYY-MM-DDTHH:MM) or year, month, day, hour columns.")
        numbers = table[list(parts)].apply(pd.to_numeric, errors="coerce")
        times = pd.to_datetime(numbers.rename(columns=str), errors="coerce")
        time_columns = "year, month, day, hour"
    bad = np.flatnonzero(times.isna().to_numpy())
    if len(bad):
        raise InputError(path, f"row {rows[bad[0]]}, column {time_columns}", "the time cannot be read.", "write times as YYYY-MM-DDTHH:MM, on the hour.")
    for column in (*VALUES, "wind_dir", "station"):
        if column not in table.columns:
            raise InputError(path, f"column {column}", "this column is missing.",
                             f"the header needs time (or year, month, day, hour), station, {', '.join(VALUES)} and wind_dir.")
    out = pd.DataFrame({"time": pd.DatetimeIndex(times), "station": table["station"].str.strip(), "row": rows})
    for column in VALUES:
        text = table[column].str.strip()
        values = pd.to_numeric(text.where(~text.isin({"", "NA", "NaN", "nan"})), errors="coerce")
        unreadable = values.isna() & ~text.isin({"", "NA", "NaN", "nan"})
        if unreadable.any():
            i = int(np.flatnonzero(unreadable.to_numpy())[0])
            raise InputError(path, f"row {rows[i]}, column {column}", f"'{text.iloc[i]}' is not a number.", "write a plain number, or leave the cell empty (NA) when missing.")
        out[column] = values.to_numpy(dtype=float)
    for column in ("pm25_ug_m3", "wind_speed_m_s"):
        negative = np.flatnonzero(out[column].to_numpy() < 0)
        if len(negative):
            raise InputError(path, f"row {rows[negative[0]]}, column {column}", f"'{out[column].iloc[negative[0]]:g}' is negative.", "a concentration or a speed is ≥ 0.")
    above = np.flatnonzero((out.dewpoint_c - out.temp_c).to_numpy() > DEW_POINT_SLACK_C)
    if len(above):
        i = above[0]
        raise InputError(path, f"row {rows[i]}, column dewpoint_c",
                         f"the dew point {out.dewpoint_c.iloc[i]:g} °C is above the temperature {out.temp_c.iloc[i]:g} °C at station {out.station.iloc[i]}, {out.time.iloc[i]:%Y-%m-%d %H:%M}.",
                         "the dew point cannot exceed the temperature: check for swapped columns or a typo.")
    out["wind_dir_deg"] = wind_direction_deg(table["wind_dir"], path, rows)
    # calm: written as calm, or no wind at all; a direction merely missing is not calm
    out["calm"] = table["wind_dir"].fillna("").astype(str).str.strip().str.upper().isin(CALM).to_numpy() | (out.wind_speed_m_s.to_numpy() == 0)
    twice = np.flatnonzero(out.duplicated(["station", "time"]).to_numpy())
    if len(twice):
        i = twice[0]
        raise InputError(path, f"row {rows[i]}, column {time_columns}", f"station {out.station.iloc[i]} reports {out.time.iloc[i]:%Y-%m-%d %H:%M} twice.", "keep one row per station and hour.")
    return out


#: The ``type`` of the hourly PM2.5 rows of a national export (the 24-h running mean is ``PM2.5_24h``).
NATIONAL_PM25_TYPE = "PM2.5"


def read_national_export(path: str | Path, stations: Sequence[str]) -> pd.DataFrame:
    """One national-network export (wide, one column per station code) -> rows ``time,
    station, pm25_ug_m3`` of the ``stations`` asked for (NaN where a cell is empty), ``time``
    the start of the hour [local time].

    Raises InputError naming the file, row and column for a missing column (``date``, ``hour``,
    ``type`` or a station asked for), a date or hour that cannot be read, a non-numeric or
    negative PM2.5, or an hour given twice.
    """
    path = Path(path)
    table = pd.read_csv(io.StringIO(_read_text(path)), dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    for column in ("date", "hour", "type", *stations):
        if column not in table.columns:
            what = "the station" if column in stations else "this column"
            raise InputError(path, f"column {column}", f"{what} is missing.",
                             "a national export has date, hour, type and one column per station code; check the station codes of the city.")
    rows = np.arange(len(table)) + 2  # the header is row 1
    pm = table[table["type"].str.strip() == NATIONAL_PM25_TYPE]
    if pm.empty:
        raise InputError(path, "column type", f"no row has type {NATIONAL_PM25_TYPE}.", "export the PM2.5 rows (type PM2.5) of the stations.")
    day = pd.to_datetime(pm["date"].str.strip().str.replace("-", "", regex=False), format="%Y%m%d", errors="coerce")
    hour = pd.to_numeric(pm["hour"].str.strip(), errors="coerce")
    bad = np.flatnonzero((day.isna() | hour.isna() | ~hour.between(0, 23)).to_numpy())
    if len(bad):
        i = pm.index[bad[0]]
        raise InputError(path, f"row {rows[i]}, column date, hour", f"'{table.date[i]}', '{table.hour[i]}' is not a date and an hour 0-23.",
                         "write the date as YYYYMMDD and the hour as 0-23.")
    # the export's hour is the hour's end (16 = 15:00-16:00): the simulator labels the start
    start = (day + pd.to_timedelta(hour, unit="h") - pd.Timedelta(hours=1)).to_numpy()
    twice = np.flatnonzero(pd.Series(start).duplicated().to_numpy())
    if len(twice):
        i = pm.index[twice[0]]
        raise InputError(path, f"row {rows[i]}, column date, hour", f"the hour {table.date[i]} {table.hour[i]} has two {NATIONAL_PM25_TYPE} rows.", "keep one row per hour and type.")
    parts = []
    for station in stations:
        text = pm[station].str.strip()
        empty = text.isin({"", "NA", "NaN", "nan", "-"})
        values = pd.to_numeric(text.where(~empty), errors="coerce")
        wrong = np.flatnonzero(((values.isna() & ~empty) | (values < 0)).to_numpy())
        if len(wrong):
            i = pm.index[wrong[0]]
            raise InputError(path, f"row {rows[i]}, column {station}", f"'{table.loc[i, station]}' is not a PM2.5 concentration.",
                             "write a number ≥ 0 [μg/m³], or leave the cell empty when missing.")
        parts.append(pd.DataFrame({"time": start, "station": station, "pm25_ug_m3": values.to_numpy(dtype=float)}))
    return pd.concat(parts, ignore_index=True)


def observed_pm25_series(paths: Sequence[str | Path], stations: Sequence[str], start: str | pd.Timestamp, end: str | pd.Timestamp, *,
                         min_stations: int | None = None, max_fill_h: int = 3) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The city's hourly observed PM2.5 over [start, end) from national-network exports
    (:func:`read_national_export`) of its ``stations``: ``time``, ``pm25_ug_m3`` [μg/m³] (the
    mean of the stations reporting the hour) and ``stations`` (how many did), with the same
    coverage rules as :func:`city_series`; and the notes of how it was made. Write it as the
    evaluation's ``observed_pm25`` file."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        raise InputError(None, "key period", "the period is empty.", "give an end after the start.")
    if not stations:
        raise InputError(None, "stations", "no station code was given.", "name the city's station codes, e.g. ['1001A', '1002A'].")
    rows = pd.concat([read_national_export(p, stations) for p in paths], ignore_index=True)
    twice = rows.duplicated(["time", "station"]).to_numpy()
    if twice.any():
        i = int(np.flatnonzero(twice)[0])
        raise InputError(None, "files", f"station {rows.station[i]} reports {rows.time[i]:%Y-%m-%d %H:%M} in two of the files.", "give each day's export once.")
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    wide = rows.pivot(index="time", columns="station", values="pm25_ug_m3").reindex(hours)
    count = wide.notna().sum(axis=1).to_numpy()
    need = min_stations if min_stations is not None else int(np.ceil(0.75 * len(stations)))
    notes: list[str] = []
    values = _filled(pd.Series(np.where(count >= need, wide.mean(axis=1).to_numpy(), np.nan)), "pm25_ug_m3", hours, count, need, max_fill_h, notes, paths)
    notes.append(f"{len(stations)} stations: {', '.join(stations)}; the exports' hour-ending times moved to the hour's start")
    return pd.DataFrame({"time": hours, "pm25_ug_m3": values.to_numpy(), "stations": count}), tuple(notes)


def city_series(paths: Sequence[str | Path], start: str | pd.Timestamp, end: str | pd.Timestamp, *,
                min_stations: int | None = None, max_fill_h: int = 3) -> CitySeries:
    """The city's hourly series over [start, end) from the station files ``paths``.

    ``min_stations``: stations an hour needs for each value; None takes three quarters of the
    stations found (rounded up), an estimate that lets one or two of a dozen stations be down.
    ``max_fill_h`` [h]: longest gap filled by linear interpolation. Each value column is judged
    on its own (a station may report PM2.5 but not wind).

    Raises InputError for a longer gap (naming its hours and how many stations reported), or
    a gap at the start or end of the period.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        raise InputError(None, "key period", "the period is empty.", "give an end after the start.")
    rows = pd.concat([read_station_file(p) for p in paths], ignore_index=True)
    rows = rows[(rows.time >= start) & (rows.time < end)]
    stations = tuple(sorted(rows.station.unique()))
    if not stations:
        raise InputError(paths[0] if paths else None, None, f"no station reports any hour from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}.",
                         "check the period and the files.")
    need = min_stations if min_stations is not None else int(np.ceil(0.75 * len(stations)))
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    grid = rows.set_index(["time", "station"])
    notes: list[str] = []
    frame = pd.DataFrame({"time": hours})

    def mean_of(column: str) -> tuple[np.ndarray, np.ndarray]:
        wide = grid[column].unstack("station").reindex(hours)
        return wide.mean(axis=1).to_numpy(), wide.notna().sum(axis=1).to_numpy()

    rh = relative_humidity(rows.temp_c.to_numpy(), rows.dewpoint_c.to_numpy())
    grid = grid.assign(rh_pct=rh)
    speed = rows.wind_speed_m_s.to_numpy()
    direction = np.radians(rows.wind_dir_deg.to_numpy())
    calm = rows.calm.to_numpy()
    u = np.where(calm, 0.0, -speed * np.sin(direction))  # wind vector (towards), so the mean is the mean flow; NaN if unknown
    v = np.where(calm, 0.0, -speed * np.cos(direction))
    grid = grid.assign(u=u, v=v)
    counts = {}
    for column in ("pm25_ug_m3", "temp_c", "rh_pct", "wind_speed_m_s", "u", "v"):
        values, count = mean_of(column)
        counts[column] = count
        frame[column] = _filled(pd.Series(np.where(count >= need, values, np.nan)), column if column not in "uv" else "wind_dir",
                                hours, count, need, max_fill_h, notes if column != "v" else [], paths)  # u and v share their gaps: one note
    # direction of the mean wind vector (interpolated as a vector, so 350° and 10° meet at 0°)
    frame["wind_dir_deg"] = np.degrees(np.arctan2(-frame.u, -frame.v)) % 360.0
    still = np.hypot(frame.u, frame.v).to_numpy() < 1e-9
    if still.any():
        frame.loc[still, "wind_dir_deg"] = np.nan
        frame["wind_dir_deg"] = frame["wind_dir_deg"].ffill().fillna(0.0)  # a calm hour keeps the direction before it
        notes.append(f"{int(still.sum())} hours with every reporting station calm keep the wind direction of the hour before (0° at the start)")
    frame = frame.drop(columns=["u", "v"])
    slow = frame.wind_speed_m_s.to_numpy() < MIN_SPEED_M_S
    if slow.any():  # the meteorology format needs a wind above 0 (the box must ventilate)
        frame.loc[slow, "wind_speed_m_s"] = MIN_SPEED_M_S
        notes.append(f"{int(slow.sum())} hours with a mean wind below {MIN_SPEED_M_S:g} m/s are written as {MIN_SPEED_M_S:g} m/s")
    frame["stations"] = counts["pm25_ug_m3"]
    return CitySeries(frame, stations, tuple(notes))


def _filled(values: pd.Series, column: str, hours: pd.DatetimeIndex, count: np.ndarray, need: int, max_fill_h: int,
            notes: list[str], paths: Sequence[str | Path]) -> pd.Series:
    """``values`` with gaps of at most ``max_fill_h`` hours interpolated linearly."""
    gap = values.isna().to_numpy()
    if not gap.any():
        return values
    edges = np.flatnonzero(np.diff(np.r_[0, gap.astype(int), 0]))
    spans = list(zip(edges[::2], edges[1::2]))  # [first, end) of each gap
    for first, stop in spans:
        where = f"{hours[first]:%Y-%m-%d %H:%M} to {hours[stop - 1]:%Y-%m-%d %H:%M}"
        if first == 0 or stop == len(hours) or stop - first > max_fill_h:
            reason = "at the edge of the period, where nothing lies on both sides" if first == 0 or stop == len(hours) else f"longer than {max_fill_h} h"
            raise InputError(paths[0] if len(paths) == 1 else None, f"column {column}",
                             f"{stop - first} hours without {need} reporting stations ({where}; at most {int(count[first:stop].max())} reported), {reason}.",
                             f"lower min_stations, raise max_fill_h, or choose a period the stations cover.")
    notes.append(f"{column}: {int(gap.sum())} hours in {len(spans)} gaps of at most {max_fill_h} h filled by linear interpolation")
    return values.interpolate(limit_area="inside")
