"""Hourly meteorology and baseline PM2.5: the file format, its loader and a synthetic generator.

A meteorology file is an hourly CSV (UTF-8) with the columns

| column | unit | rule |
|---|---|---|
| ``time`` | local time ``YYYY-MM-DDTHH:MM`` (or ``YYYY/MM/DD HH:MM``) | on the hour, every hour once, increasing |
| ``pm25_baseline_ug_m3`` | μg/m³ | observed or forecast PM2.5 without emergency measures, 0-2000 |
| ``mixing_height_m`` | m | 10-5000 |
| ``wind_speed_m_s`` | m/s | > 0, ≤ 60 |
| ``rh_pct`` | % | 0-100 |
| ``temp_c`` | °C | -60 to 60 |
| ``wind_dir_deg`` (optional; needed by the regional model) | degrees from north, the direction the wind blows FROM | 0-360 |

Each value describes the hour that starts at ``time``. Extra columns are ignored. Errors name
the file, the row (spreadsheet numbering: the header is row 1) and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim.config.dates import date_problem, parse_time_column
from sim.errors import InputError
from sim.inputs.tables import read_text_csv

TIME_COLUMN = "time"
VALUE_COLUMNS = ("pm25_baseline_ug_m3", "mixing_height_m", "wind_speed_m_s", "rh_pct", "temp_c")
COLUMNS = (TIME_COLUMN, *VALUE_COLUMNS)
#: Read when present: the wind direction (the direction the wind blows from, meteorological
#: convention), which only the regional model needs.
OPTIONAL_COLUMNS = ("wind_dir_deg",)
TIME_FORMAT = "%Y-%m-%dT%H:%M"
HOUR = pd.Timedelta(hours=1)
#: Plausible range of each value column (inclusive; wind must be above its lower bound).
#: Estimates, chosen wide enough for any real hour and narrow enough to catch a wrong unit:
#: - PM2.5 0-2000 μg/m³: hourly maxima reported in the worst Chinese haze are about 900-1000
#:   μg/m³ (Beijing, January 2013) and dust storms reach 1000-2000; more is a typo or a unit
#:   slip.
#: - mixing height 10-5000 m: winter night layers over the North China Plain fall to 50-100 m,
#:   and ceilometers/lidars do not report below a few tens of metres; convective summer
#:   layers over deserts reach 4-5 km. Below 10 m is almost surely km (0.643 for 643 m),
#:   which moved the PM2.5 cut by 14 %, or a slip that collapses the box-model calibration.
#: - wind 0-60 m/s: the strongest typhoons' sustained surface winds are 60-70 m/s; an hourly
#:   mean above 60 m/s in a city is km/h or a typo. 0 is refused (the box would not ventilate).
#: - relative humidity 0-100 %: by definition.
#: - temperature -60 to 60 °C: China's records are about -53 °C (Mohe) and just above 50 °C
#:   (Turpan basin); 60 °C is beyond any weather station's record.
PLAUSIBLE = {
    "pm25_baseline_ug_m3": (0.0, 2000.0),
    "mixing_height_m": (10.0, 5000.0),
    "wind_speed_m_s": (0.0, 60.0),
    "rh_pct": (0.0, 100.0),
    "temp_c": (-60.0, 60.0),
    "wind_dir_deg": (0.0, 360.0),
}
#: Decimals kept when writing generated files.
ROUNDING = {"pm25_baseline_ug_m3": 1, "mixing_height_m": 0, "wind_speed_m_s": 2, "rh_pct": 1, "temp_c": 1, "wind_dir_deg": 0}


@dataclass(frozen=True, eq=False)
class Meteorology:
    """Hourly meteorology and baseline PM2.5; arrays are read-only, one value per hour.

    Attributes
    ----------
    times: start of each hour (local time, hourly, increasing).
    pm25_baseline_ug_m3: baseline PM2.5 [μg/m³].
    mixing_height_m: mixing-layer height [m].
    wind_speed_m_s: wind speed [m/s].
    rh_pct: relative humidity [%].
    temp_c: air temperature [°C].
    wind_dir_deg: direction the wind blows from [degrees clockwise from north], or None when
        the file has no such column.
    file: the file it was read from (for error messages), if any.
    """

    times: pd.DatetimeIndex
    pm25_baseline_ug_m3: np.ndarray
    mixing_height_m: np.ndarray
    wind_speed_m_s: np.ndarray
    rh_pct: np.ndarray
    temp_c: np.ndarray
    wind_dir_deg: np.ndarray | None = field(default=None)
    file: str | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "times", pd.DatetimeIndex(self.times))
        for name in self._columns():
            values = np.array(getattr(self, name), dtype=float)
            if values.shape != (len(self.times),):
                raise ValueError(f"{name} has shape {values.shape}; expected ({len(self.times)},).")
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return len(self.times)

    def _columns(self) -> tuple[str, ...]:
        """The value columns this meteorology holds (the optional ones when given)."""
        return (*VALUE_COLUMNS, *(n for n in OPTIONAL_COLUMNS if getattr(self, n) is not None))

    @property
    def end(self) -> pd.Timestamp:
        """End of the last hour (exclusive end of the period covered)."""
        return self.times[-1] + HOUR

    def slice(self, start: str | pd.Timestamp, end: str | pd.Timestamp) -> "Meteorology":
        """The hours that start in [start, end) (end exclusive).

        Raises
        ------
        InputError naming the file, the period asked and the period available when the file
        does not cover the period, or when the period is empty or not on whole hours.
        """
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        asked = f"{start.strftime(TIME_FORMAT)} to {end.strftime(TIME_FORMAT)}"
        if end <= start:
            raise InputError(self.file, "key period", f"the period {asked} is empty (the end is exclusive).", "give an end after the start.")
        if start != start.floor("h") or end != end.floor("h"):
            raise InputError(self.file, "key period", f"the period {asked} does not start and end on whole hours.", "give times such as 2023-12-01T00:00.")
        if len(self) == 0 or start < self.times[0] or end > self.end:
            available = f"{self.times[0].strftime(TIME_FORMAT)} to {self.end.strftime(TIME_FORMAT)}" if len(self) else "nothing"
            raise InputError(
                self.file,
                "key period",
                f"the period asked, {asked}, is not covered by the meteorology, which covers {available} (end exclusive).",
                "extend the meteorology file or shorten the scenario period.",
            )
        keep = (self.times >= start) & (self.times < end)
        return Meteorology(self.times[keep], **{n: getattr(self, n)[keep] for n in self._columns()}, file=self.file)

    def to_frame(self) -> pd.DataFrame:
        """The data as a DataFrame with the file's columns (``time`` as datetime64)."""
        return pd.DataFrame({TIME_COLUMN: self.times, **{n: getattr(self, n) for n in self._columns()}})


def load_meteorology(path: str | Path) -> Meteorology:
    """Read and validate an hourly meteorology CSV (format in the module docstring).

    Raises
    ------
    InputError naming the file, row and column for a missing file or column, an empty or
    non-numeric value, a value outside its plausible range (:data:`PLAUSIBLE`), a time that
    is not on the hour, a duplicated time, or times that do not step by exactly one hour.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "the meteorology file does not exist.", "check the path (relative paths start at the scenario file's folder).")
    table = read_text_csv(path, f"write a header row with {', '.join(COLUMNS)} and one row per hour.")
    for column in COLUMNS:
        if column not in table.columns:
            raise InputError(path, f"column {column}", "this required column is missing.", f"the header needs {', '.join(COLUMNS)}.")
    if len(table) == 0:
        raise InputError(path, None, "the file has no data rows.", "add one row per hour.")

    times = _parse_times(table[TIME_COLUMN].str.strip(), path)
    present = (*VALUE_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in table.columns))
    values = {column: _parse_values(table[column].str.strip(), path, column) for column in present}
    return Meteorology(times, **values, file=str(path))


def _row(index: int) -> str:
    return f"row {index + 2}"  # spreadsheet numbering: header is row 1


def _parse_times(text: pd.Series, path: Path) -> pd.DatetimeIndex:
    fix = "write times as YYYY-MM-DDTHH:MM in local time (e.g. 2024-12-08T06:00), one row per hour."
    parsed = parse_time_column(text)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(path, f"{_row(i)}, column {TIME_COLUMN}", f"{date_problem(text.iloc[i], 'time')}.", fix)
    times = pd.DatetimeIndex(parsed)
    off_hour = np.flatnonzero(times != times.floor("h"))
    if len(off_hour):
        i = int(off_hour[0])
        raise InputError(path, f"{_row(i)}, column {TIME_COLUMN}", f"'{text.iloc[i]}' is not on the hour.", fix)
    dupes = np.flatnonzero(times.duplicated(keep="first"))
    if len(dupes):
        i = int(dupes[0])
        first = int(np.flatnonzero(times == times[i])[0])
        raise InputError(path, f"{_row(i)}, column {TIME_COLUMN}", f"time {text.iloc[i]} appears twice (also {_row(first)}).", "keep one row per hour.")
    steps = np.flatnonzero(np.asarray((times[1:] - times[:-1]) != HOUR))
    if len(steps):
        i = int(steps[0]) + 1
        raise InputError(
            path,
            f"{_row(i)}, column {TIME_COLUMN}",
            f"time {text.iloc[i]} does not follow the previous row ({text.iloc[i - 1]}) by exactly one hour.",
            "list every hour once, in increasing order, without gaps.",
        )
    return times


def _parse_values(text: pd.Series, path: Path, column: str) -> np.ndarray:
    try:  # plain numbers, the usual case: Arrow's cast; anything else is judged cell by cell below
        values = pc.cast(pa.array(text.array), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError):  # a cell Arrow cannot read as a number
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(~np.isfinite(values))[:1]:
        problem = "the value is empty." if text.iloc[i] == "" else f"'{text.iloc[i]}' is not a number."
        raise InputError(path, f"{_row(int(i))}, column {column}", problem, "write a plain number (fill gaps, e.g. by interpolation).")
    lo, hi = PLAUSIBLE[column]
    checks = {  # (rows at fault, what is wrong, the fix), the first that holds is reported
        "pm25_baseline_ug_m3": [
            (values < lo, "is negative", "PM2.5 must be ≥ 0 μg/m³."),
            (values > hi, f"is above {hi:g} μg/m³, more than any hourly PM2.5 observed, dust storms included",
             "PM2.5 is in μg/m³: check the value for a typo or a unit (1 mg/m³ = 1000 μg/m³)."),
        ],
        "mixing_height_m": [
            (values <= 0, "is not above zero", f"the mixing height is in metres, between {lo:g} and {hi:g} m."),
            (values < lo, f"is below {lo:g} m, lower than any mixing layer",
             f"the mixing height is in metres: a value in km must be multiplied by 1000 (0.643 km = 643 m); plausible values lie between {lo:g} and {hi:g} m."),
            (values > hi, f"is above {hi:g} m, higher than any mixing layer",
             f"the mixing height is in metres (a value in feet must be multiplied by 0.3048); plausible values lie between {lo:g} and {hi:g} m."),
        ],
        "wind_speed_m_s": [
            (values <= lo, "is not above zero", "the wind speed must be > 0 m/s (use e.g. 0.1 for calm)."),
            (values > hi, f"is above {hi:g} m/s, about the sustained wind of the strongest typhoons",
             "the wind speed is in m/s (a value in km/h must be divided by 3.6)."),
        ],
        "rh_pct": [((values < lo) | (values > hi), "is outside 0-100", "relative humidity is a percentage, 0-100.")],
        "temp_c": [((values < lo) | (values > hi), f"is outside {lo:g} to {hi:g} °C, beyond the records of China",
                    "the temperature is in °C (a value in °F converts as (°F - 32) × 5/9).")],
        "wind_dir_deg": [((values < lo) | (values > hi), "is outside 0-360",
                          "the wind direction is in degrees clockwise from north, the direction the wind blows from (270 = from the west).")],
    }
    for bad, what, fix in checks[column]:
        for i in np.flatnonzero(bad)[:1]:
            raise InputError(path, f"{_row(int(i))}, column {column}", f"'{text.iloc[i]}' {what}.", fix)
    return values


# --------------------------------------------------------------------------- synthetic episodes


def _ar1(rng: np.random.Generator, n: int, sigma: float, memory_h: float) -> np.ndarray:
    """Stationary AR(1) noise with standard deviation sigma and e-folding memory [h]."""
    phi = np.exp(-1.0 / memory_h)
    shocks = rng.normal(0.0, sigma * np.sqrt(1.0 - phi**2), n)
    shocks[0] = rng.normal(0.0, sigma)
    from scipy.signal import lfilter  # imported here: scipy.signal alone takes ~1 s to import

    return lfilter([1.0], [1.0, -phi], shocks)  # y_t = phi y_{t-1} + shock_t


def generate_episode(
    start: str | pd.Timestamp,
    days: int,
    seed: int,
    peak_ug_m3: float = 280.0,
    *,
    onset_day: float = 1.0,
    front_day: float | None = None,
    clean_ug_m3: float = 35.0,
) -> pd.DataFrame:
    """A synthetic winter heavy-pollution episode, hourly (SYNTHETIC data, not observations).

    Shape of the episode:
    - clean air until ``onset_day``: mixing height 300-500 m at night and 900-1500 m by day,
      wind 2-4 m/s, RH 35-55 %, PM2.5 near ``clean_ug_m3`` (20-45 μg/m³);
    - build-up from ``onset_day`` to ``front_day`` under stagnation: mixing height 100-250 m
      at night and 400-900 m at the afternoon maximum, wind 0.5-2.5 m/s, humid nights
      (RH 70-95 %), PM2.5 rising fast then levelling off, higher at night, with its hourly
      maximum exactly ``peak_ug_m3``;
    - a cold front at ``front_day``: 12 h of wind 4-8 m/s, a high mixing layer (1000-1500 m),
      dry air (RH 15-40 %), 2 °C cooler; PM2.5 falls with a 2.5 h e-folding time to the clean
      level (20-50 μg/m³ within 12 h); clean air after.
    Temperature follows a diurnal cycle within -3…8 °C throughout.

    Parameters
    ----------
    start:
        First hour (local time, on the hour).
    days:
        Length [days]; the frame has 24 × days rows.
    seed:
        Seed of ``numpy.random.default_rng``, the only source of randomness.
    peak_ug_m3:
        Hourly PM2.5 maximum of the episode [μg/m³].
    onset_day, front_day:
        Start of the build-up and arrival of the front [days after ``start``]; front_day
        defaults to ``days - 1.5``.
    clean_ug_m3:
        Typical clean-air PM2.5 [μg/m³].

    Returns
    -------
    DataFrame with the meteorology-file columns (``time`` as datetime64), values rounded as
    written to files (PM2.5 0.1 μg/m³, height 1 m, wind 0.01 m/s, RH 0.1 %, temperature 0.1 °C).
    """
    start = pd.Timestamp(start)
    front_day = days - 1.5 if front_day is None else front_day
    if int(days) != days or days < 1:
        raise ValueError("days must be a whole number >= 1.")
    if not 0.0 <= onset_day < front_day < days:
        raise ValueError("need 0 <= onset_day < front_day < days.")
    if not peak_ug_m3 > clean_ug_m3 > 0:
        raise ValueError("need peak_ug_m3 > clean_ug_m3 > 0 [μg/m³].")
    if start != start.floor("h"):
        raise ValueError("start must be on the hour.")
    rng = np.random.default_rng(seed)
    n = int(days) * 24
    t = np.arange(n, dtype=float)  # [h] since start
    hour = (start.hour + t) % 24
    # Daytime convective growth: 0 from 18:00 to 08:00, 1 at 13:00.
    sun = np.where((hour > 8) & (hour < 18), np.sin(np.pi * (hour - 8) / 10), 0.0)
    warm = np.cos(2 * np.pi * (hour - 14) / 24)  # 1 at 14:00, -1 at 02:00

    onset_h, front_h = onset_day * 24, front_day * 24
    ramp_in = np.clip((t - onset_h) / 12.0, 0.0, 1.0)
    w_stag = np.where(t < front_h, ramp_in**2 * (3 - 2 * ramp_in), 0.0)
    after = t - front_h
    w_front = np.where(after < 0, 0.0, np.where(after < 12, 1.0, np.exp(-(after - 12) / 8.0)))
    w_clean = 1.0 - w_stag - w_front

    def blend(stagnant: np.ndarray, front: np.ndarray, clean: np.ndarray) -> np.ndarray:
        return w_stag * stagnant + w_front * front + w_clean * clean

    # Mixing height [m]: a night level plus daytime growth towards a day maximum.
    stag_night = np.clip(170 * np.exp(_ar1(rng, n, 0.15, 12)), 100, 250)
    stag_day = np.clip(620 * np.exp(_ar1(rng, n, 0.15, 24)), 400, 900)
    clean_night = np.clip(400 * np.exp(_ar1(rng, n, 0.12, 12)), 300, 500)
    clean_day = np.clip(1150 * np.exp(_ar1(rng, n, 0.12, 24)), 900, 1500)
    front_h_m = np.clip(1200 + 200 * sun + _ar1(rng, n, 80, 6), 1000, 1500)
    height = blend(stag_night + (stag_day - stag_night) * sun, front_h_m, clean_night + (clean_day - clean_night) * sun)

    # Wind [m/s]: weak under stagnation, strong behind the front.
    wind = blend(
        np.clip(1.2 + 0.6 * sun + _ar1(rng, n, 0.3, 6), 0.5, 2.5),
        np.clip(6.0 + _ar1(rng, n, 0.8, 4), 4.0, 8.0),
        np.clip(2.7 + 0.8 * sun + _ar1(rng, n, 0.4, 6), 2.0, 4.0),
    )

    # Relative humidity [%]: humid stagnant nights, drier afternoons, dry post-frontal air.
    rh = blend(
        np.clip(85 + _ar1(rng, n, 5, 12), 70, 95) - 22 * sun,
        np.clip(25 + _ar1(rng, n, 5, 6), 15, 40),
        np.clip(48 + _ar1(rng, n, 5, 12), 35, 55) - 12 * sun,
    )

    # Temperature [°C]: diurnal 2.5 ± 5.5, cooler behind the front.
    temp = np.clip(2.5 + 5.5 * warm - 2.0 * w_front + _ar1(rng, n, 0.6, 6), -3.0, 8.0)

    # PM2.5 [μg/m³].
    clean = np.clip(clean_ug_m3 * (1 + 0.12 * np.cos(2 * np.pi * (hour - 22) / 24)) * np.exp(_ar1(rng, n, 0.12, 8)), 20, 45)
    x = np.clip((t - onset_h) / (front_h - onset_h), 0.0, 1.0)
    rise = 1.0 - (1.0 - x) ** 2  # fast accumulation that levels off before the front
    night_high = 1.0 + 0.15 * np.cos(2 * np.pi * (hour - 1) / 24)  # maximum at 01:00
    episode = (clean_ug_m3 + (peak_ug_m3 - clean_ug_m3) * rise) * night_high * np.exp(_ar1(rng, n, 0.06, 6))
    build = (t >= onset_h) & (t < front_h)
    top = episode[build].max()
    episode = clean_ug_m3 + (episode - clean_ug_m3) * (peak_ug_m3 - clean_ug_m3) / (top - clean_ug_m3)
    pm25 = np.where(build, np.maximum(episode, clean), clean)
    if np.any(after >= 0):
        last = pm25[build][-1]
        fall = np.exp(-(after + 1) / 2.5)  # 2.5 h e-folding behind the front
        pm25 = np.where(after >= 0, clean + (last - clean) * fall, pm25)

    frame = pd.DataFrame(
        {
            TIME_COLUMN: pd.date_range(start, periods=n, freq="h"),
            "pm25_baseline_ug_m3": pm25,
            "mixing_height_m": height,
            "wind_speed_m_s": wind,
            "rh_pct": rh,
            "temp_c": temp,
        }
    )
    return rounded(frame)


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each meteorology column it holds rounded as files are written
    (:data:`ROUNDING`), in place; returned for chaining."""
    for column, decimals in ROUNDING.items():
        if column in frame.columns:
            frame[column] = frame[column].round(decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return frame


def format_csv(frame: pd.DataFrame) -> str:
    """A meteorology frame as CSV text with fixed formats, so rewrites are byte-identical."""
    out = pd.DataFrame({TIME_COLUMN: pd.DatetimeIndex(frame[TIME_COLUMN]).strftime(TIME_FORMAT)})
    for column, decimals in ROUNDING.items():
        if column in frame.columns or column not in OPTIONAL_COLUMNS:
            out[column] = [f"{v:.{decimals}f}" for v in frame[column].to_numpy(dtype=float)]
    return out.to_csv(index=False, lineterminator="\n")
