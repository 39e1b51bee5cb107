"""What really happened in an episode, for the after-action evaluation (效果评估): the file
formats of the scenario's ``evaluation`` block, their readers and the evaluation rules.

Every file is UTF-8 CSV with a header row; rows are numbered as a spreadsheet shows them (the
header is row 1); each error names the file, the row and the column and says how to fix it.
Times are local, year first (``2023-12-04T06:00`` or ``2023/12/04 06:00``); dates ``YYYY-MM-DD``.

| file (key) | columns | rules |
|---|---|---|
| ``observed_pm25`` | ``time``, ``pm25_ug_m3`` [μg/m³] [, ``city``] | on the hour, each hour at most once; 0-2000; an empty value or a missing row is a gap (named in a note) |
| ``warnings_issued`` | ``level``, ``issued_at``, ``start``, ``end`` [, ``city``] | level yellow/orange/red (黄色/橙色/红色); start and end on the hour, end after start (exclusive) |
| ``forecasts`` | ``issue_date``, ``target_date``, ``pm25_ug_m3`` [μg/m³] or ``aqi`` [, ``city``] | target on or after issue; one row per pair |
| ``power_use`` | ``time``, ``enterprise_id`` [, ``line_id``], ``meter``, ``kwh`` [kWh] | ``meter`` production (生产) or treatment (治污); ``kwh`` the meter's cumulative reading at ``time``, read hourly or daily (00:00); a blank line_id meters the whole enterprise |
| ``cems`` (optional) | ``time``, ``enterprise_id``, ``line_id``, ``so2_kg_h``, ``nox_kg_h``, ``pm_kg_h`` [kg/h] | hourly stack emissions (CEMS); empty values are gaps |

Meter readings: the consumption of an interval is the next reading less this one. A reading
below the one before is a meter reset (a replaced or rolled-over meter): the interval across
it is unknown, and it is named in a note. A missing reading (a step longer than the meter's
interval) is a gap: the hours it spans are unknown, named in a note too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.dates import date_problem, parse_time_column
from sim.config.labels import text
from sim.config.vocabulary import LEVELS, vocabulary
from sim.config.yamlio import read_yaml
from sim.errors import InputError
from sim.inputs.tables import read_text_csv

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
TIME_FIX = "write times as YYYY-MM-DDTHH:MM in local time (e.g. 2023-12-04T06:00)."
DATE_FIX = "write dates as YYYY-MM-DD, e.g. 2023-12-04."
#: The words of the ``meter`` column.
METER_WORDS = {"production": "production", "生产": "production", "生产用电": "production",
               "treatment": "treatment", "治污": "treatment", "治理": "treatment", "治污用电": "treatment", "环保": "treatment"}
PM25_MAX_UG_M3 = 2000.0  # as the meteorology reader: above any hourly PM2.5 observed
RULES_FILE = Path(__file__).resolve().parents[1] / "data" / "evaluation.yaml"


def _row(i: int) -> str:
    return f"row {int(i) + 2}"


def _read(path: Path, columns: tuple[str, ...], what: str, optional: tuple[str, ...] = ()) -> pd.DataFrame:
    if not Path(path).is_file():
        raise InputError(path, None, f"the {what} file does not exist.", "check the path (relative paths start at the scenario file's folder).")
    table = read_text_csv(Path(path), f"write the header {','.join(columns)} and one row per {what} value.")
    for column in columns:
        if column not in table.columns:
            close = [c for c in table.columns if c.lower().replace(" ", "_") == column]
            hint = f" (found '{close[0]}')" if close else ""
            raise InputError(path, f"column {column}", f"this required column is missing{hint}.", f"the header needs {', '.join(columns)}" + (f" (optional: {', '.join(optional)})" if optional else "") + ".")
    if len(table) == 0:
        raise InputError(path, None, "the file has no data rows.", f"add one row per {what} value.")
    for column in table.columns:
        table[column] = table[column].str.strip()
    return table


def _times(table: pd.DataFrame, column: str, path: Path, *, on_hour: bool = True, dates: bool = False) -> pd.Series:
    text = table[column]
    parsed = parse_time_column(text)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(path, f"{_row(text.index[i])}, column {column}", f"{date_problem(text.iloc[i], 'date' if dates else 'time')}.", DATE_FIX if dates else TIME_FIX)
    if dates:
        off = np.flatnonzero((parsed != parsed.dt.normalize()).to_numpy())
        if len(off):
            i = int(off[0])
            raise InputError(path, f"{_row(text.index[i])}, column {column}", f"'{text.iloc[i]}' has a time of day; a forecast is for a calendar day.", DATE_FIX)
    elif on_hour:
        off = np.flatnonzero((parsed != parsed.dt.floor("h")).to_numpy())
        if len(off):
            i = int(off[0])
            raise InputError(path, f"{_row(text.index[i])}, column {column}", f"'{text.iloc[i]}' is not on the hour.", TIME_FIX)
    return parsed


def _numbers(table: pd.DataFrame, column: str, path: Path, *, blank_ok: bool, high: float | None = None, unit: str = "", high_fix: str = "") -> np.ndarray:
    text = table[column]
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    blank = (text == "").to_numpy()
    bad = ~np.isfinite(values) & ~(blank & blank_ok)
    for i in np.flatnonzero(bad)[:1]:
        problem = "the value is empty." if text.iloc[i] == "" else f"'{text.iloc[i]}' is not a number."
        fix = "write a plain number, or leave the cell empty for a missing value." if blank_ok else "write a plain number."
        if "," in text.iloc[i]:
            fix = "write the decimal with a point (26.99), not a comma."
        raise InputError(path, f"{_row(text.index[int(i)])}, column {column}", problem, fix)
    for i in np.flatnonzero(values < 0)[:1]:
        raise InputError(path, f"{_row(text.index[int(i)])}, column {column}", f"'{text.iloc[i]}' is negative.", f"{column} must be ≥ 0{' ' + unit if unit else ''}.")
    if high is not None:
        for i in np.flatnonzero(values > high)[:1]:
            raise InputError(path, f"{_row(text.index[int(i)])}, column {column}", f"'{text.iloc[i]}' is above {high:g}{' ' + unit if unit else ''}.", high_fix)
    return values


def _duplicates(keys: pd.DataFrame, path: Path, column: str, what: str, rows: pd.Index | None = None) -> None:
    """``rows``: the file row index of each key (default: its position, for a table not filtered)."""
    dup = np.flatnonzero(keys.duplicated(keep="first").to_numpy())
    if len(dup):
        i = int(dup[0])
        first = int(np.flatnonzero((keys == keys.iloc[i]).all(axis=1).to_numpy())[0])
        at = (lambda j: j) if rows is None else (lambda j: int(rows[j]))
        raise InputError(path, f"{_row(at(i))}, column {column}", f"{what} appears twice (also {_row(at(first))}).", "keep one row for it.")


def _city(table: pd.DataFrame, path: Path, city: str, cities: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of ``city`` when the file has a ``city`` column (every row needs one).

    ``cities``: the list's cities when it has several; the file then needs the ``city`` column
    and every row must name one of them (a row for another city is an error, not ignored)."""
    if "city" not in table.columns:
        if len(cities) > 1:
            raise InputError(path, "column city", f"the list spans {len(cities)} cities ({', '.join(cities[:5])}{', ...' if len(cities) > 5 else ''}), but this file has no city column.",
                             "add a city column naming each row's city as the list does.")
        return table
    blank = np.flatnonzero((table.city == "").to_numpy())
    if len(blank):
        raise InputError(path, f"{_row(int(blank[0]))}, column city", "the city is empty.", "give the city on every row, or drop the column.")
    if len(cities) > 1:
        unknown = np.flatnonzero(~table.city.isin(cities).to_numpy())
        if len(unknown):
            i = int(unknown[0])
            raise InputError(path, f"{_row(i)}, column city", f"city '{table.city.iloc[i]}' is not a city of the list ({', '.join(cities)}).",
                             "write the city as the list does, or drop the row.")
    keep = table.city == city
    if not keep.any():
        raise InputError(path, "column city", f"no row is for city '{city}' (the file names {', '.join(sorted(table.city.unique())[:5])}).", f"write the city as the list does: '{city}'.")
    return table[keep]


# --------------------------------------------------------------------------- observed PM2.5


@dataclass(frozen=True)
class Observed:
    """Observed hourly PM2.5 [μg/m³] over the hours asked (NaN: no observation) and the gaps."""

    times: pd.DatetimeIndex
    pm25_ug_m3: np.ndarray
    notes: tuple[str, ...] = ()


def load_observed_pm25(path: Path, times: pd.DatetimeIndex, city: str, cities: tuple[str, ...] = ()) -> Observed:
    """Observed PM2.5 over ``times`` (the scenario period) of ``city`` (``cities``: the list's
    cities when several, see ``_city``). A missing row or an empty value is a gap, named in a
    note; an hour outside ``times`` is ignored."""
    table = _city(_read(path, ("time", "pm25_ug_m3"), "observed PM2.5", ("city",)), path, city, cities)
    t = _times(table, "time", path)
    values = _numbers(table, "pm25_ug_m3", path, blank_ok=True, high=PM25_MAX_UG_M3, unit="μg/m³",
                      high_fix="PM2.5 is in μg/m³: check for a typo or a unit (1 mg/m³ = 1000 μg/m³).")
    _duplicates(pd.DataFrame({"t": t.to_numpy()}), path, "time", "this time", table.index)
    series = pd.Series(values, index=pd.DatetimeIndex(t)).reindex(times)
    if series.isna().all():
        raise InputError(path, "column time", f"no observation falls in the period {times[0]:%Y-%m-%dT%H:%M} to {times[-1] + HOUR:%Y-%m-%dT%H:%M}.",
                         "give the hourly observations of the scenario's period.")
    gaps = np.flatnonzero(series.isna().to_numpy())
    notes = ()
    if len(gaps):
        notes = (text("note.observed_gaps", "en", file=path.name, n=len(gaps), hours=len(times), first=f"{times[gaps[0]]:%Y-%m-%d %H:%M}"),)
    return Observed(times, series.to_numpy(float), notes)


# --------------------------------------------------------------------------- warnings issued


def load_issued_warnings(path: Path, city: str, cities: tuple[str, ...] = ()) -> pd.DataFrame:
    """The warnings really issued in ``city`` (``cities``: the list's cities when several):
    ``level`` (yellow/orange/red), ``issued_at``, ``start``, ``end`` (exclusive),
    ``source_row``; sorted by start."""
    table = _city(_read(path, ("level", "issued_at", "start", "end"), "issued warning", ("city",)), path, city, cities)
    levels = table.level.map(lambda v: vocabulary().canonical_level(v))
    for i in np.flatnonzero(levels.isna().to_numpy())[:1]:
        raise InputError(path, f"{_row(table.index[int(i)])}, column level", f"'{table.level.iloc[i]}' is not a warning level.", f"use one of {', '.join(LEVELS)} (黄色/橙色/红色).")
    issued = _times(table, "issued_at", path, on_hour=False)
    start, end = _times(table, "start", path), _times(table, "end", path)
    for i in np.flatnonzero((end <= start).to_numpy())[:1]:
        raise InputError(path, f"{_row(table.index[int(i)])}, column end", f"the end ({table.end.iloc[i]}) is not after the start ({table.start.iloc[i]}).", "give an end after the start (the end is exclusive).")
    for i in np.flatnonzero((issued > end).to_numpy())[:1]:
        raise InputError(path, f"{_row(table.index[int(i)])}, column issued_at", f"issued at {table.issued_at.iloc[i]}, after the warning ended ({table.end.iloc[i]}).", "give the time the warning was announced.")
    out = pd.DataFrame({"level": levels.to_numpy(), "issued_at": issued.to_numpy(), "start": start.to_numpy(), "end": end.to_numpy(),
                        "source_row": table.index.to_numpy() + 2})
    return out.sort_values(["start", "source_row"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- forecasts


def load_forecasts(path: Path, city: str, cities: tuple[str, ...] = ()) -> pd.DataFrame:
    """The forecasts issued for ``city`` (``cities``: the list's cities when several):
    ``issue_date``, ``target_date``, ``lead_day`` [d], and ``pm25_ug_m3`` or ``aqi`` (the other
    column NaN)."""
    table = _read(path, ("issue_date", "target_date"), "forecast", ("pm25_ug_m3", "aqi", "city"))
    table = _city(table, path, city, cities)
    value = "pm25_ug_m3" if "pm25_ug_m3" in table.columns else "aqi" if "aqi" in table.columns else None
    if value is None:
        raise InputError(path, "column pm25_ug_m3", "the forecast value column is missing.", "add pm25_ug_m3 (daily mean [μg/m³]) or aqi.")
    issue = _times(table, "issue_date", path, dates=True)
    target = _times(table, "target_date", path, dates=True)
    for i in np.flatnonzero((target < issue).to_numpy())[:1]:
        raise InputError(path, f"{_row(table.index[int(i)])}, column target_date", f"the target date {table.target_date.iloc[i]} is before the issue date {table.issue_date.iloc[i]}.", "a forecast is for the issue day or a later day.")
    values = _numbers(table, value, path, blank_ok=False, high=PM25_MAX_UG_M3 if value == "pm25_ug_m3" else 500.0, unit="μg/m³" if value == "pm25_ug_m3" else "",
                      high_fix="PM2.5 is in μg/m³ (1 mg/m³ = 1000 μg/m³)." if value == "pm25_ug_m3" else "the AQI runs from 0 to 500.")
    _duplicates(pd.DataFrame({"i": issue.to_numpy(), "t": target.to_numpy()}), path, "target_date", "this issue date and target date", table.index)
    lead = ((target - issue) / DAY).to_numpy().astype(int)
    return pd.DataFrame({"issue_date": issue.to_numpy(), "target_date": target.to_numpy(), "lead_day": lead,
                         "pm25_ug_m3": values if value == "pm25_ug_m3" else np.nan, "aqi": values if value == "aqi" else np.nan})


# --------------------------------------------------------------------------- power use


@dataclass(frozen=True)
class MeterData:
    """Metered electricity as hourly use [kWh/h] per meter over ``times``.

    ``meters``: one row per meter (``enterprise_id``, ``line_id`` ('' for an enterprise meter),
    ``meter`` production/treatment, ``interval_h`` 1 or 24, ``resets``, ``gap_hours``,
    ``first_row``); ``kwh_h``: (meters, hours) [kWh/h], NaN where unknown (before the first or
    after the last reading, across a gap or a reset); a daily meter's day is spread evenly over
    its 24 hours. ``notes``: resets and gaps, named.
    """

    times: pd.DatetimeIndex
    meters: pd.DataFrame
    kwh_h: np.ndarray
    notes: tuple[str, ...] = ()


def no_meters(times: pd.DatetimeIndex) -> MeterData:
    """No meter data over ``times``: an evaluation without ``power_use`` takes every line as planned."""
    meters = pd.DataFrame({"enterprise_id": pd.Series([], dtype=object), "line_id": pd.Series([], dtype=object), "meter": pd.Series([], dtype=object),
                           "interval_h": np.zeros(0, int), "resets": np.zeros(0, int), "gap_hours": np.zeros(0, int), "first_row": np.zeros(0, int)})
    return MeterData(times, meters, np.zeros((0, len(times))))


def no_forecasts() -> pd.DataFrame:
    """No forecasts (an evaluation without ``forecasts``): the frame :func:`load_forecasts` returns, empty."""
    return pd.DataFrame({"issue_date": pd.Series([], dtype="datetime64[ns]"), "target_date": pd.Series([], dtype="datetime64[ns]"),
                         "lead_day": np.zeros(0, int), "pm25_ug_m3": np.zeros(0), "aqi": np.zeros(0)})


def load_power_use(path: Path, times: pd.DatetimeIndex, lines: pd.DataFrame) -> MeterData:
    """Cumulative meter readings -> hourly use over ``times`` (the baseline days and the period).

    ``lines``: the enterprise list (``enterprise_id``, ``line_id``), to check the ids. Raises an
    InputError for an unknown enterprise or line, a meter word other than production/treatment,
    a reading twice at one time, or a meter whose readings are neither hourly nor daily.
    """
    table = _read(path, ("time", "enterprise_id", "meter", "kwh"), "meter reading", ("line_id",))
    if "line_id" not in table.columns:
        table["line_id"] = ""
    t = _times(table, "time", path)
    for i in np.flatnonzero((table.enterprise_id == "").to_numpy())[:1]:
        raise InputError(path, f"{_row(int(i))}, column enterprise_id", "the enterprise id is empty.", "give the enterprise_id of the list on every row.")
    meter = table.meter.str.lower().map(METER_WORDS)
    for i in np.flatnonzero(meter.isna().to_numpy())[:1]:
        raise InputError(path, f"{_row(int(i))}, column meter", f"'{table.meter.iloc[i]}' is not a meter kind.", "write production (生产) for production equipment or treatment (治污) for pollution-control equipment.")
    kwh = _numbers(table, "kwh", path, blank_ok=True, unit="kWh")
    known_e = set(lines.enterprise_id.astype(str))
    for i in np.flatnonzero(~table.enterprise_id.isin(known_e).to_numpy())[:1]:
        raise InputError(path, f"{_row(int(i))}, column enterprise_id", f"enterprise '{table.enterprise_id.iloc[i]}' is not in the enterprise list.", "use the enterprise_id of the list (a typo, or a meter of an enterprise not listed).")
    pairs = set(zip(lines.enterprise_id.astype(str), lines.line_id.astype(str)))
    named = table.line_id != ""
    known_l = np.array([(e, ln) in pairs for e, ln in zip(table.enterprise_id[named], table.line_id[named])], dtype=bool)
    for i in np.flatnonzero(named.to_numpy())[~known_l][:1]:
        raise InputError(path, f"{_row(int(i))}, column line_id", f"enterprise '{table.enterprise_id.iloc[i]}' has no line '{table.line_id.iloc[i]}' in the list.",
                         "use the line_id of the list, or leave it empty for a meter of the whole enterprise.")
    frame = pd.DataFrame({"enterprise_id": table.enterprise_id.to_numpy(), "line_id": table.line_id.to_numpy(), "meter": meter.to_numpy(),
                          "time": t.to_numpy(), "kwh": kwh, "row": np.arange(len(table))})
    _duplicates(frame[["enterprise_id", "line_id", "meter", "time"]], path, "time", "this meter's reading at this time")
    frame = frame.sort_values(["enterprise_id", "line_id", "meter", "time"], kind="stable").reset_index(drop=True)
    key = frame.enterprise_id + "\x00" + frame.line_id + "\x00" + frame.meter
    meter_id, _ = pd.factorize(key)
    new = np.r_[True, meter_id[1:] != meter_id[:-1]]
    step_h = np.r_[np.nan, np.diff(frame.time.to_numpy()) / np.timedelta64(1, "h")]
    step_h[new] = np.nan
    # each meter's interval: its most common step, which must be an hour or a day
    steps = pd.DataFrame({"m": meter_id, "s": step_h}).dropna()
    interval = steps.groupby("m").s.agg(lambda s: s.mode().iloc[0]) if len(steps) else pd.Series(dtype=float)
    interval = interval.reindex(range(meter_id.max() + 1)).fillna(1.0)
    odd = ~interval.isin([1.0, 24.0])
    if odd.any():
        m = int(np.flatnonzero(odd.to_numpy())[0])
        i = int(frame.row[meter_id == m].iloc[0])
        raise InputError(path, f"{_row(i)}, column time", f"the {frame.meter[meter_id == m].iloc[0]} meter of {frame.enterprise_id[meter_id == m].iloc[0]} is read every {interval[m]:g} h.",
                         "give readings every hour or once a day at 00:00.")
    own = interval.to_numpy()[meter_id]
    daily_off = (own == 24.0) & (frame.time.dt.hour.to_numpy() != 0)
    for r in np.flatnonzero(daily_off)[:1]:
        raise InputError(path, f"{_row(int(frame.row[r]))}, column time", "a daily meter's reading is not at 00:00.", "read daily meters at midnight (the reading closes the day before).")
    used = np.r_[np.nan, np.diff(frame.kwh.to_numpy())]
    used[new] = np.nan
    reset = used < 0
    gap = step_h > own
    used[reset | gap | np.isnan(step_h)] = np.nan
    used[step_h < own] = np.nan  # an extra reading between regular ones: its interval is not the meter's
    # the use of the interval that ends at each reading, spread over its hours
    per_hour = used / own
    n, hours = int(meter_id.max()) + 1, len(times)
    kwh_h = np.full((n, hours), np.nan)
    end_h = ((frame.time - times[0]) / HOUR).to_numpy()
    ok = np.isfinite(per_hour)
    for span in (1, 24):  # at most two spans: fill every hour of each interval at once
        pick = ok & (own == span)
        if not pick.any():
            continue
        start = end_h[pick][:, None] - span + np.arange(span)[None, :]
        rows = np.repeat(meter_id[pick], span)
        cols = start.ravel().astype(int)
        inside = (cols >= 0) & (cols < hours)
        kwh_h[rows[inside], cols[inside]] = np.repeat(per_hour[pick], span)[inside]
    first = frame[new].reset_index(drop=True)
    meters = pd.DataFrame({
        "enterprise_id": first.enterprise_id, "line_id": first.line_id, "meter": first.meter,
        "interval_h": interval.to_numpy().astype(int),
        "resets": np.bincount(meter_id[reset], minlength=n),
        "gap_hours": np.bincount(meter_id[gap], weights=(step_h[gap] - own[gap]), minlength=n).astype(int),
        "first_row": first.row + 2,
    })
    notes = []
    if reset.any():
        r = int(np.flatnonzero(reset)[0])
        notes.append(f"{path.name}: {int(reset.sum())} meter reset(s), a cumulative reading below the one before (first {_row(int(frame.row[r]))}: "
                     f"{frame.meter[r]} meter of {frame.enterprise_id[r]}{' ' + frame.line_id[r] if frame.line_id[r] else ''} at {frame.time[r]:%Y-%m-%d %H:%M}); "
                     "the use across each reset is unknown")
    if gap.any():
        r = int(np.flatnonzero(gap)[0])
        notes.append(f"{path.name}: {int(gap.sum())} gap(s) in the readings, {int(meters.gap_hours.sum())} hours without a reading in all "
                     f"(first before {_row(int(frame.row[r]))}: {frame.meter[r]} meter of {frame.enterprise_id[r]}{' ' + frame.line_id[r] if frame.line_id[r] else ''} at {frame.time[r]:%Y-%m-%d %H:%M}); "
                     "the use over each gap is unknown")
    return MeterData(times, meters, kwh_h, tuple(notes))


# --------------------------------------------------------------------------- CEMS


CEMS_COLUMNS = ("so2_kg_h", "nox_kg_h", "pm_kg_h")


def load_cems(path: Path, times: pd.DatetimeIndex, lines: pd.DataFrame) -> pd.DataFrame:
    """Hourly stack emissions [kg/h] as a long table (``enterprise_id``, ``line_id``, ``hour``
    index into ``times``, the three rates, NaN where empty); hours outside ``times`` dropped."""
    table = _read(path, ("time", "enterprise_id", "line_id", *CEMS_COLUMNS), "CEMS")
    t = _times(table, "time", path)
    pairs = set(zip(lines.enterprise_id.astype(str), lines.line_id.astype(str)))
    known = np.array([(e, ln) in pairs for e, ln in zip(table.enterprise_id, table.line_id)], dtype=bool)
    for i in np.flatnonzero(~known)[:1]:
        raise InputError(path, f"{_row(int(i))}, column line_id", f"line '{table.line_id.iloc[i]}' of enterprise '{table.enterprise_id.iloc[i]}' is not in the enterprise list.", "use the enterprise_id and line_id of the list.")
    values = {c: _numbers(table, c, path, blank_ok=True, unit="kg/h") for c in CEMS_COLUMNS}
    out = pd.DataFrame({"enterprise_id": table.enterprise_id.to_numpy(), "line_id": table.line_id.to_numpy(), "time": t.to_numpy(), **values})
    _duplicates(out[["enterprise_id", "line_id", "time"]], path, "time", "this line's CEMS value at this time")
    out["hour"] = ((out.time - times[0]) / HOUR).astype(int)
    return out[(out.hour >= 0) & (out.hour < len(times))].reset_index(drop=True)


# --------------------------------------------------------------------------- rules


def load_evaluation_rules(path: Path | None = None) -> dict[str, object]:
    """The evaluation's thresholds (``sim/data/evaluation.yaml``) as plain values by key:
    ``complied_tolerance``, ``partly_share``, ..., ``accuracy_target``, ``band_members``,
    ``shifts_h``."""
    path = Path(path) if path is not None else RULES_FILE
    raw = read_yaml(path, "evaluation rules")
    out: dict[str, object] = {}
    for block in raw.values():
        for key, entry in block.items():
            if isinstance(entry, dict) and "value" in entry:
                out[key] = entry["value"]
    return out
