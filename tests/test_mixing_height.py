"""Mixing-layer height from surface observations (sim/physics/mixing_height.py): hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.inputs.stations import relative_humidity
from sim.physics.observed import meteorology_from_stations
from sim.physics.mixing_height import (
    OMEGA_PER_S,
    dewpoint_c,
    estimated_mixing_height,
    nozaki_mixing_height,
    pasquill_class,
    solar_elevation_deg,
)


def test_nozaki_by_hand():
    # neutral D (4), T - Td = 5 K, 2 m/s at 10 m over z0 = 1 m, latitude 40°
    f = 2 * OMEGA_PER_S * np.sin(np.radians(40.0))
    expected = 121 / 6 * 2 * 5 + 0.169 * 4 * 2.257 / (12 * f * np.log(10.0))
    assert nozaki_mixing_height(10.0, 5.0, 2.0, 4.0, 40.0)[()] == pytest.approx(expected, rel=1e-12)
    # stable F: the thermal term vanishes; very stable and calm: clipped at 50 m
    assert nozaki_mixing_height(0.0, -5.0, 1.0, 6.0, 40.0)[()] == pytest.approx(0.169 * 6 * 1.257 / (12 * f * np.log(10.0)), rel=1e-12)
    assert nozaki_mixing_height(0.0, 0.0, 0.0, 6.0, 40.0, roughness_m=0.001)[()] == 50.0


def test_pasquill_table():
    # by day (sun at 65°, 45°, 25°): strong, moderate, slight insolation
    assert list(pasquill_class([1.0, 1.0, 1.0], [65.0, 45.0, 25.0])) == [1.0, 1.5, 2.0]
    assert list(pasquill_class([4.0, 4.0, 4.0], [65.0, 45.0, 25.0])) == [2.0, 2.5, 3.0]
    assert list(pasquill_class([7.0, 7.0, 7.0], [65.0, 45.0, 25.0])) == [3.0, 4.0, 4.0]
    # clear nights: F in light wind, E at 3-5 m/s, D in strong wind; a band's lower bound belongs to it
    assert list(pasquill_class([1.0, 2.0, 4.0, 8.0], [-10.0] * 4)) == [6.0, 6.0, 5.0, 4.0]


def test_solar_elevation():
    # equinox, local solar noon on the 120° E meridian of China Standard Time: 90° − latitude (± the
    # equation of time and the declination of that day, about a degree)
    noon = pd.DatetimeIndex(["2014-03-20T11:00"])  # the middle of the hour is 11:30
    assert solar_elevation_deg(noon, 40.0, 120.0)[0] == pytest.approx(50.0, abs=1.5)
    midnight = pd.DatetimeIndex(["2014-12-21T00:00"])
    assert solar_elevation_deg(midnight, 40.0, 116.0)[0] < -60.0
    june = pd.DatetimeIndex(["2014-06-21T12:00"])
    assert solar_elevation_deg(june, 39.9, 116.4)[0] == pytest.approx(90 - 39.9 + 23.44, abs=1.0)


def test_dewpoint_inverts_the_magnus_humidity():
    t = np.array([-10.0, 0.0, 12.5, 30.0])
    td = np.array([-15.0, -2.0, 5.0, 29.0])
    np.testing.assert_allclose(dewpoint_c(t, relative_humidity(t, td)), td, atol=1e-9)


def test_estimate_is_shallow_on_calm_humid_nights_and_deep_on_windy_dry_days():
    times = pd.date_range("2014-11-04T00:00", periods=24, freq="h")
    calm_humid = estimated_mixing_height(times, np.full(24, 2.0), np.full(24, 85.0), np.full(24, 0.8), 39.9, 116.4)
    windy_dry = estimated_mixing_height(times, np.full(24, 8.0), np.full(24, 25.0), np.full(24, 4.5), 39.9, 116.4)
    assert calm_humid[2] < 450 and calm_humid[13] < windy_dry[13]  # a stable night: the mechanical term alone, 414 m
    assert windy_dry[13] > 1000 and (windy_dry >= calm_humid).all()
    assert calm_humid.max() < 1500 and (calm_humid >= 50).all()


def test_meteorology_from_stations_reads_back_as_a_meteorology_file(tmp_path):
    from sim.inputs.meteorology import format_csv, load_meteorology
    from sim.physics.observed import meteorology_from_stations

    header = '"No","year","month","day","hour","PM2.5","TEMP","DEWP","wd","WSPM","station"'
    rows = [header] + [f'{h + 1},2014,11,3,{h},{50 + h},{1.0 + 0.3 * h},-6.0,"NW",{1.0 + 0.1 * h},"A"' for h in range(24)]
    path = tmp_path / "a.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    frame, notes = meteorology_from_stations([path], "2014-11-03", "2014-11-04", 39.9, 116.4)
    out = tmp_path / "met.csv"
    out.write_text(format_csv(frame), encoding="utf-8")
    met = load_meteorology(out)
    np.testing.assert_allclose(met.pm25_baseline_ug_m3, 50 + np.arange(24))
    np.testing.assert_allclose(met.wind_dir_deg, 315.0)
    assert (met.mixing_height_m >= 50).all() and met.mixing_height_m[13] > met.mixing_height_m[2]
    doubled, _ = meteorology_from_stations([path], "2014-11-03", "2014-11-04", 39.9, 116.4, mixing_height_scale=2.0)
    np.testing.assert_allclose(doubled.mixing_height_m, np.round(2 * estimated_mixing_height(
        pd.DatetimeIndex(frame.time), 1.0 + 0.3 * np.arange(24), relative_humidity(1.0 + 0.3 * np.arange(24), np.full(24, -6.0)),
        1.0 + 0.1 * np.arange(24), 39.9, 116.4)), atol=0.5 + 1e-9)
    assert any("Nozaki" in n for n in notes)


def test_observed_episode_meteorology_is_what_the_script_makes_from_the_slices():
    """The shipped meteorology of the real episodes is made from the shipped station slices by
    the documented script (observed data, CC BY 4.0, with its README)."""
    import importlib.util

    from conftest import ROOT
    from sim.inputs.meteorology import format_csv, load_meteorology

    folder = ROOT / "scenarios" / "validation" / "observed"
    spec = importlib.util.spec_from_file_location("make_observed", folder / "make_observed.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert "CC BY 4.0" in (folder / "README.md").read_text(encoding="utf-8")
    for episode, (start, end) in script.EPISODES.items():
        frame, _ = meteorology_from_stations([folder / f"stations_{episode}.csv.gz"], start, end, *script.BEIJING)
        assert format_csv(frame) == (folder / f"beijing_{episode}.csv").read_text(encoding="utf-8"), episode
        met = load_meteorology(folder / f"beijing_{episode}.csv")
        assert met.wind_dir_deg is not None and len(met) == (pd.Timestamp(end) - pd.Timestamp(start)) / pd.Timedelta(hours=1)
