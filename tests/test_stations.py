"""Station observations -> a city series (sim/inputs/stations.py): hand-made files."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.inputs.stations import city_series, read_station_file, relative_humidity

HEADER = '"No","year","month","day","hour","PM2.5","PM10","SO2","NO2","CO","O3","TEMP","PRES","DEWP","RAIN","wd","WSPM","station"'


def _prsa(tmp_path, station, rows, compress=False):
    """A file in the Beijing multi-site form; rows: (hour, pm25, temp, dewp, wd, wspm) on 2014-11-03."""
    lines = [HEADER] + [f'{i},2014,11,3,{h},{pm},NA,NA,NA,NA,NA,{t},1020,{d},0,"{wd}",{ws},"{station}"'
                        for i, (h, pm, t, d, wd, ws) in enumerate(rows, 1)]
    text = "\n".join(lines) + "\n"
    path = tmp_path / (f"{station}.csv.gz" if compress else f"{station}.csv")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


def test_magnus_relative_humidity():
    assert relative_humidity(np.array([10.0]), np.array([10.0]))[0] == pytest.approx(100.0)
    # 20 °C over a 10 °C dew point: 52.5 % by the Magnus form (12.28 / 23.37 hPa)
    assert relative_humidity(np.array([20.0]), np.array([10.0]))[0] == pytest.approx(52.5, abs=0.1)


def test_mean_of_stations_vector_wind_and_calm(tmp_path):
    a = _prsa(tmp_path, "A", [(0, 100, 2.0, -8.0, "N", 2.0), (1, 120, 2.0, -8.0, "NNW", 2.0), (2, 90, 1.0, -9.0, "C", 0.0)], compress=True)
    b = _prsa(tmp_path, "B", [(0, 50, 4.0, -6.0, "E", 2.0), (1, 80, 4.0, -6.0, "NNE", 2.0), (2, 70, 3.0, -7.0, "C", 0.0)])
    c = city_series([a, b], "2014-11-03T00:00", "2014-11-03T03:00", min_stations=2)
    f = c.frame
    np.testing.assert_allclose(f.pm25_ug_m3, [75.0, 100.0, 80.0])
    np.testing.assert_allclose(f.temp_c, [3.0, 3.0, 2.0])
    np.testing.assert_allclose(f.wind_speed_m_s, [2.0, 2.0, 0.1])  # every station calm: the minimum speed
    # from the north and from the east: the mean wind comes from the north-east; NNW and NNE: from the north
    np.testing.assert_allclose(f.wind_dir_deg[:2], [45.0, 0.0], atol=1e-9)
    assert f.wind_dir_deg[2] == f.wind_dir_deg[1]  # every station calm: the direction before
    assert any("calm" in n for n in c.notes)
    rh_a = relative_humidity(np.array([2.0]), np.array([-8.0]))[0]
    rh_b = relative_humidity(np.array([4.0]), np.array([-6.0]))[0]
    assert f.rh_pct[0] == pytest.approx((rh_a + rh_b) / 2)


def test_one_station_down_and_a_short_gap_filled(tmp_path):
    rows = [(h, 10.0 * (h + 1), 0.0, -5.0, "S", 1.0) for h in range(6)]
    a = _prsa(tmp_path, "A", rows)
    b = _prsa(tmp_path, "B", [r for r in rows if r[0] not in (2, 3)])  # B down for two hours
    c = city_series([a, b], "2014-11-03T00:00", "2014-11-03T06:00", min_stations=1)
    np.testing.assert_allclose(c.frame.pm25_ug_m3, [10, 20, 30, 40, 50, 60])
    assert list(c.frame.stations) == [2, 2, 1, 1, 2, 2]
    # needing both stations, hours 2-3 are a gap of 2 h: filled linearly from 20 and 50
    both = city_series([a, b], "2014-11-03T00:00", "2014-11-03T06:00", min_stations=2, max_fill_h=3)
    np.testing.assert_allclose(both.frame.pm25_ug_m3, [10, 20, 30, 40, 50, 60])
    assert any("2 hours in 1 gaps" in n for n in both.notes)
    with pytest.raises(InputError, match="2 hours without 2 reporting stations .* longer than 1 h"):
        city_series([a, b], "2014-11-03T00:00", "2014-11-03T06:00", min_stations=2, max_fill_h=1)


def test_missing_hour_at_the_edge_is_an_error(tmp_path):
    a = _prsa(tmp_path, "A", [(h, 50, 0.0, -5.0, "S", 1.0) for h in range(1, 4)])
    with pytest.raises(InputError, match="edge of the period"):
        city_series([a], "2014-11-03T00:00", "2014-11-03T04:00")


def test_dew_point_above_temperature_is_bad_input(tmp_path):
    a = _prsa(tmp_path, "A", [(0, 50, 0.0, -5.0, "S", 1.0), (1, 50, 1.0, 3.0, "S", 1.0)])
    with pytest.raises(InputError) as err:
        read_station_file(a)
    assert "row 3, column dewpoint_c" in str(err.value) and "above the temperature" in str(err.value)


def test_unknown_direction_and_plain_form(tmp_path):
    a = _prsa(tmp_path, "A", [(0, 50, 0.0, -5.0, "XYZ", 1.0)])
    with pytest.raises(InputError, match="row 2, column wind direction.*'XYZ'"):
        read_station_file(a)
    plain = tmp_path / "plain.csv"
    plain.write_text("time,station,pm25_ug_m3,temp_c,dewpoint_c,wind_dir,wind_speed_m_s\n"
                     "2014-11-03T00:00,X,40,1.0,-4.0,270,2.5\n2014-11-03T01:00,X,NA,1.0,-4.0,静风,0\n", encoding="utf-8")
    rows = read_station_file(plain)
    assert rows.time.tolist() == list(pd.date_range("2014-11-03", periods=2, freq="h"))
    assert rows.wind_dir_deg[0] == 270.0 and np.isnan(rows.wind_dir_deg[1]) and np.isnan(rows.pm25_ug_m3[1])


def test_missing_direction_is_not_calm_and_notes_once(tmp_path):
    # A: direction missing at hour 1 with 3 m/s (unknown, not calm); B: calm at hour 2
    a = _prsa(tmp_path, "A", [(0, 10, 0.0, -5.0, "W", 2.0), (1, 10, 0.0, -5.0, "NA", 3.0), (2, 10, 0.0, -5.0, "W", 2.0), (3, 10, 0.0, -5.0, "W", 2.0)])
    b = _prsa(tmp_path, "B", [(0, 10, 0.0, -5.0, "W", 2.0), (1, 10, 0.0, -5.0, "W", 2.0), (2, 10, 0.0, -5.0, "C", 0.0), (3, 10, 0.0, -5.0, "W", 2.0)])
    c = city_series([a, b], "2014-11-03T00:00", "2014-11-03T04:00", min_stations=1)
    np.testing.assert_allclose(c.frame.wind_dir_deg, [270.0, 270.0, 270.0, 270.0], atol=1e-9)
    np.testing.assert_allclose(c.frame.wind_speed_m_s, [2.0, 2.5, 1.0, 2.0])
    assert not any("calm" in n for n in c.notes)
    # needing both stations, the direction has a one-hour gap at hour 1: one note for the wind, not two
    both = city_series([a, b], "2014-11-03T00:00", "2014-11-03T04:00", min_stations=2)
    assert sum("wind_dir" in n for n in both.notes) == 1


def test_calm_everywhere_gives_the_minimum_speed(tmp_path):
    a = _prsa(tmp_path, "A", [(0, 10, 0.0, -5.0, "N", 1.0), (1, 10, 0.0, -5.0, "C", 0.0), (2, 10, 0.0, -5.0, "N", 1.0)])
    c = city_series([a], "2014-11-03T00:00", "2014-11-03T03:00")
    assert c.frame.wind_speed_m_s[1] == 0.1 and c.frame.wind_dir_deg[1] == c.frame.wind_dir_deg[0]
    assert any("written as 0.1 m/s" in n for n in c.notes)


# --------------------------------------------------------------------------- national exports


def _national(tmp_path, day, rows, stations=("1001A", "1002A", "1003A"), name=None):
    """A national-network export: rows (hour, type, values per station as text)."""
    lines = [",".join(["date", "hour", "type", *stations])] + [",".join([day, str(h), kind, *values]) for h, kind, values in rows]
    path = tmp_path / (name or f"china_sites_{day}.csv")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_national_export_to_observed_pm25(tmp_path):
    """Hour-ending times move one hour back; other types are ignored; an hour with too few
    stations is a gap filled between its neighbours; a station down counts as missing."""
    from sim.inputs.stations import observed_pm25_series

    first = _national(tmp_path, "20151208", [
        (1, "AQI", ["300", "310", "320"]),
        (1, "PM2.5", ["100", "120", "110"]),
        (1, "PM2.5_24h", ["90", "90", "90"]),
        (2, "PM2.5", ["130", "", "140"]),      # one station down: the mean of two
        (3, "PM2.5", ["", "", "150"]),         # one of three: below 3/4 of them, a gap
        (4, "PM2.5", ["170", "180", "190"]),
    ])
    frame, notes = observed_pm25_series([first], ["1001A", "1002A", "1003A"], "2015-12-08T00:00", "2015-12-08T04:00", min_stations=2)
    assert list(frame.time) == list(pd.date_range("2015-12-08T00:00", periods=4, freq="h"))  # 1:00 -> the hour 00:00-01:00
    np.testing.assert_allclose(frame.pm25_ug_m3, [110.0, 135.0, 157.5, 180.0])  # the gap at 02:00 between 135 and 180
    assert list(frame.stations) == [3, 2, 1, 3]
    assert any("1 hours in 1 gaps" in n for n in notes) and any("hour-ending" in n for n in notes)


@pytest.mark.parametrize("rows, stations, where", [
    ([(1, "PM2.5", ["100", "x1", "110"])], ("1001A", "1002A", "1003A"), "row 2, column 1002A"),
    ([(1, "PM2.5", ["100", "-5", "110"])], ("1001A", "1002A", "1003A"), "row 2, column 1002A"),
    ([(24, "PM2.5", ["100", "120", "110"])], ("1001A", "1002A", "1003A"), "row 2, column date, hour"),
    ([(1, "PM2.5", ["100", "120", "110"]), (1, "PM2.5", ["100", "120", "110"])], ("1001A", "1002A", "1003A"), "row 3, column date, hour"),
    ([(1, "PM2.5", ["100", "120", "110"])], ("1001A", "1002A", "9999A"), "column 9999A"),
    ([(1, "PM10", ["100", "120", "110"])], ("1001A", "1002A", "1003A"), "column type"),
])
def test_national_export_errors_name_the_cell(tmp_path, rows, stations, where):
    from sim.inputs.stations import read_national_export

    path = _national(tmp_path, "20151208", rows)
    with pytest.raises(InputError) as caught:
        read_national_export(path, stations)
    assert caught.value.where == where and path.name in str(caught.value)
