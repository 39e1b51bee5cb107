"""Meteorology files: loader errors, slicing, the synthetic episode generator and demo files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.physics.aqi import daily_aqi, running_mean_24h
from sim.errors import InputError
from sim.inputs.meteorology import COLUMNS, Meteorology, format_csv, generate_episode, load_meteorology

DATA = Path(__file__).resolve().parents[1] / "scenarios" / "data"
HEADER = ",".join(COLUMNS)


def write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "met.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good_rows(n: int = 4) -> list[str]:
    return [f"2023-12-01T{h:02d}:00,120.5,180,1.2,85.0,-1.5" for h in range(n)]


def assert_error(path: Path, row: int | None, column: str) -> InputError:
    with pytest.raises(InputError) as err:
        load_meteorology(path)
    assert err.value.file == str(path)
    if row is not None:
        assert f"row {row}" in err.value.where
    assert f"column {column}" in err.value.where
    assert err.value.fix
    return err.value


# --------------------------------------------------------------------------- loader


def test_load_good_file(tmp_path: Path) -> None:
    met = load_meteorology(write(tmp_path, good_rows()))
    assert len(met) == 4
    assert met.times[0] == pd.Timestamp("2023-12-01T00:00") and met.end == pd.Timestamp("2023-12-01T04:00")
    np.testing.assert_array_equal(met.mixing_height_m, 180.0)
    assert met.temp_c[0] == -1.5
    with pytest.raises(ValueError):
        met.rh_pct[0] = 50.0  # read-only


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_meteorology(tmp_path / "nope.csv")
    assert "nope.csv" in err.value.file and "does not exist" in err.value.problem


def test_missing_column(tmp_path: Path) -> None:
    header = HEADER.replace(",rh_pct", "")
    rows = [r.rsplit(",", 2)[0] + "," + r.rsplit(",", 1)[1] for r in good_rows()]
    assert_error(write(tmp_path, rows, header), None, "rh_pct")


@pytest.mark.parametrize(
    ("field", "value", "column", "words"),
    [
        (1, "abc", "pm25_baseline_ug_m3", "not a number"),
        (1, "", "pm25_baseline_ug_m3", "empty"),
        (1, "-3", "pm25_baseline_ug_m3", "negative"),
        (2, "0", "mixing_height_m", "not above zero"),
        (2, "-50", "mixing_height_m", "not above zero"),
        (3, "0", "wind_speed_m_s", "not above zero"),
        (4, "101", "rh_pct", "outside 0-100"),
        (4, "-1", "rh_pct", "outside 0-100"),
        (5, "warm", "temp_c", "not a number"),
    ],
)
def test_bad_values_name_row_and_column(tmp_path: Path, field: int, value: str, column: str, words: str) -> None:
    rows = good_rows()
    cells = rows[2].split(",")
    cells[field] = value
    rows[2] = ",".join(cells)
    err = assert_error(write(tmp_path, rows), 4, column)  # third data row = row 4
    assert words in err.problem


def test_negative_temperature_is_fine(tmp_path: Path) -> None:
    rows = [r.replace("-1.5", "-20.0") for r in good_rows()]
    assert load_meteorology(write(tmp_path, rows)).temp_c.min() == -20.0


@pytest.mark.parametrize(
    ("times", "row", "words"),
    [
        (["2023-12-01T00:00", "2023-12-01T01:00", "2023-12-01T03:00"], 4, "exactly one hour"),
        (["2023-12-01T00:00", "2023-12-01T01:00", "2023-12-01T00:00"], 4, "appears twice"),
        (["2023-12-01T01:00", "2023-12-01T00:00", "2023-12-01T02:00"], 3, "exactly one hour"),
        (["2023-12-01T00:00", "2023-12-01T01:30", "2023-12-01T02:00"], 3, "not on the hour"),
        (["2023-12-01T00:00", "yesterday", "2023-12-01T02:00"], 3, "not a time"),
    ],
)
def test_bad_times_name_the_row(tmp_path: Path, times: list[str], row: int, words: str) -> None:
    rows = [f"{t},50,300,2,60,0" for t in times]
    err = assert_error(write(tmp_path, rows), row, "time")
    assert words in err.problem


# --------------------------------------------------------------------------- slicing


def test_slice_end_exclusive(tmp_path: Path) -> None:
    met = load_meteorology(write(tmp_path, good_rows(24)))
    part = met.slice("2023-12-01T05:00", "2023-12-01T08:00")
    assert list(part.times.hour) == [5, 6, 7]
    assert part.file == met.file and len(part.rh_pct) == 3
    assert len(met.slice("2023-12-01T00:00", "2023-12-02T00:00")) == 24


def test_slice_not_covered(tmp_path: Path) -> None:
    met = load_meteorology(write(tmp_path, good_rows(24)))
    with pytest.raises(InputError) as err:
        met.slice("2023-11-30T12:00", "2023-12-01T06:00")
    text = err.value.message
    assert str(tmp_path / "met.csv") in text
    assert "2023-11-30T12:00 to 2023-12-01T06:00" in text  # the period asked
    assert "2023-12-01T00:00 to 2023-12-02T00:00" in text  # the period available
    with pytest.raises(InputError):
        met.slice("2023-12-01T20:00", "2023-12-02T01:00")
    with pytest.raises(InputError):
        met.slice("2023-12-01T05:00", "2023-12-01T05:00")


# --------------------------------------------------------------------------- generator


def test_generator_is_deterministic() -> None:
    a = generate_episode("2023-12-01", 8, seed=7, peak_ug_m3=300.0)
    b = generate_episode("2023-12-01", 8, seed=7, peak_ug_m3=300.0)
    c = generate_episode("2023-12-01", 8, seed=8, peak_ug_m3=300.0)
    pd.testing.assert_frame_equal(a, b)
    assert format_csv(a) == format_csv(b)
    assert not a["wind_speed_m_s"].equals(c["wind_speed_m_s"])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("peak", [200.0, 280.0, 350.0])
def test_generator_ranges(seed: int, peak: float) -> None:
    onset, front, days = 2.0, 6.5, 10
    frame = generate_episode("2023-12-01", days, seed=seed, peak_ug_m3=peak, onset_day=onset, front_day=front)
    assert len(frame) == 24 * days and list(frame.columns) == list(COLUMNS)
    assert (frame["time"].diff().dropna() == pd.Timedelta(hours=1)).all()
    t = np.arange(len(frame))
    hour = frame["time"].dt.hour.to_numpy()
    pm, height, wind, rh, temp = (frame[c].to_numpy() for c in COLUMNS[1:])
    # Build-up: stagnant from 12 h after the onset until the front.
    stag = (t >= onset * 24 + 12) & (t < front * 24)
    night = stag & ((hour >= 20) | (hour <= 6))
    assert height[night].min() >= 100 and height[night].max() <= 250
    days_stag = frame.loc[stag].groupby(frame["time"].dt.date)["mixing_height_m"].max()
    assert days_stag.min() >= 400 and days_stag.max() <= 900
    assert wind[stag].min() >= 0.5 and wind[stag].max() <= 2.5
    assert rh[night].min() >= 70 and rh[night].max() <= 95
    assert pm.max() == pytest.approx(peak, abs=0.05)
    assert pm[(t >= onset * 24) & (t < front * 24)].argmax() + onset * 24 == pm.argmax()
    # Night higher than afternoon during the build-up.
    assert pm[night].mean() > pm[stag & (hour >= 12) & (hour <= 16)].mean()
    # Cold front: strong wind for 12 h, PM2.5 down to 20-50 within 12 h, clean after.
    front_hours = (t >= front * 24) & (t < front * 24 + 12)
    assert wind[front_hours].min() >= 4 and wind[front_hours].max() <= 8
    assert height[front_hours].min() >= 1000 and rh[front_hours].max() <= 40
    after = t >= front * 24 + 12
    assert pm[after].min() >= 20 and pm[after].max() <= 50
    assert pm[t < onset * 24].max() <= 50
    assert temp.min() >= -3 and temp.max() <= 8
    assert temp[hour == 14].mean() - temp[hour == 2].mean() > 6


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_episode("2023-12-01", 5, seed=1, onset_day=4.0, front_day=3.0)
    with pytest.raises(ValueError):
        generate_episode("2023-12-01", 5, seed=1, peak_ug_m3=20.0)


# --------------------------------------------------------------------------- demo files


def _consecutive(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:  # a few days only
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def test_december_demo_file() -> None:
    met = load_meteorology(DATA / "demo_episode_2023-12.csv")
    assert len(met) == 240
    assert met.times[0] == pd.Timestamp("2023-12-01T00:00") and met.end == pd.Timestamp("2023-12-11T00:00")
    aqi = daily_aqi(met.pm25_baseline_ug_m3, met.times)
    assert _consecutive(aqi.to_numpy() > 200) >= 3
    assert (aqi.loc["2023-12-04":"2023-12-06"] > 200).all()
    assert met.pm25_baseline_ug_m3.max() == pytest.approx(280, abs=0.05)


def test_january_and_winter_demo_files() -> None:
    jan = load_meteorology(DATA / "demo_episode_2024-01.csv")
    assert len(jan) == 240 and jan.times[0] == pd.Timestamp("2024-01-08")
    aqi = daily_aqi(jan.pm25_baseline_ug_m3, jan.times)
    assert _consecutive(aqi.to_numpy() > 200) == 2
    assert jan.pm25_baseline_ug_m3.max() == pytest.approx(230, abs=0.05)
    winter = load_meteorology(DATA / "demo_winter_2023-24.csv")
    assert winter.times[0] == pd.Timestamp("2023-11-15") and winter.end == pd.Timestamp("2024-03-16")
    assert len(winter) == 2928
    polluted = (running_mean_24h(winter.pm25_baseline_ug_m3) > 75).astype(int)  # 24 h AQI > 100
    episodes = int(np.count_nonzero(np.diff(np.r_[0, polluted]) == 1))
    assert 5 <= episodes <= 7


def test_generator_script_reproduces_files() -> None:
    spec = importlib.util.spec_from_file_location("generate_episodes", DATA / "generate_episodes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, build in module.FILES.items():
        assert format_csv(build()) == (DATA / name).read_text(encoding="utf-8"), name


def test_meteorology_checks_shapes() -> None:
    times = pd.date_range("2023-12-01", periods=3, freq="h")
    with pytest.raises(ValueError):
        Meteorology(times, np.ones(3), np.ones(2), np.ones(3), np.ones(3), np.ones(3))


def _with_wind_direction(tmp_path: Path, directions: list[str]) -> Path:
    frame = generate_episode("2024-01-01", 4, seed=1).iloc[: len(directions)]
    text = format_csv(frame).splitlines()
    rows = [text[0] + ",wind_dir_deg"] + [f"{row},{d}" for row, d in zip(text[1:], directions)]
    path = tmp_path / "met.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_wind_direction_is_read_when_present_and_kept_by_slices(tmp_path: Path) -> None:
    met = load_meteorology(_with_wind_direction(tmp_path, ["270", "0", "360", "45.5"]))
    np.testing.assert_array_equal(met.wind_dir_deg, [270.0, 0.0, 360.0, 45.5])
    part = met.slice(met.times[1], met.times[3])
    np.testing.assert_array_equal(part.wind_dir_deg, [0.0, 360.0])
    assert list(part.to_frame().columns)[-1] == "wind_dir_deg"


def test_wind_direction_is_optional_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text(format_csv(generate_episode("2024-01-01", 4, seed=1)), encoding="utf-8")
    assert load_meteorology(path).wind_dir_deg is None
    with pytest.raises(InputError) as err:
        load_meteorology(_with_wind_direction(tmp_path, ["270", "400"]))
    assert "row 3, column wind_dir_deg" in str(err.value) and "blows from" in str(err.value)
