"""HJ 633-2012 PM2.5 index, daily means and day counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.physics.aqi import (
    CATEGORY,
    aqi_category,
    daily_aqi,
    daily_mean,
    heavy_hours,
    heavy_pollution_days,
    iaqi_pm25,
    running_mean_24h,
    severe_days,
)


@pytest.mark.parametrize(
    ("conc", "expected"),
    [(0, 0), (35, 50), (75, 100), (115, 150), (150, 200), (250, 300), (350, 400), (500, 500), (600, 500), (36, 52)],
)
def test_breakpoints_and_rounding_up(conc: float, expected: int) -> None:
    assert iaqi_pm25(conc) == expected


def test_between_breakpoints_rounds_up() -> None:
    # 200 μg/m³: 200 + (300 - 200) × (200 - 150)/(250 - 150) = 250 exactly; 201 → 251.
    assert iaqi_pm25(200.0) == 250
    assert iaqi_pm25(201.0) == 251
    # 100 μg/m³: 100 + 50 × 25/40 = 131.25 → 132.
    assert iaqi_pm25(100.0) == 132


def test_floating_error_does_not_round_up() -> None:
    assert iaqi_pm25(0.1 + 0.2 + 149.7) == 200  # 150.00000000000003 in floating point
    assert iaqi_pm25(150.000001) == 201


def test_vector_input_and_nan() -> None:
    out = iaqi_pm25(np.array([[0.0, 35.0, np.nan], [150.0, 151.0, 1000.0]]))
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out, [[0, 50, np.nan], [200, 201, 500]])


def test_negative_concentration_rejected() -> None:
    with pytest.raises(ValueError):
        iaqi_pm25([-1.0])


def test_categories() -> None:
    assert [c.name_zh for c in CATEGORY] == ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"]
    assert [c.colour for c in CATEGORY] == ["#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023"]
    np.testing.assert_array_equal(aqi_category([0, 50, 51, 100, 150, 200, 201, 300, 301, 500, np.nan]), [1, 1, 2, 2, 3, 4, 5, 5, 6, 6, 0])


def _hours(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="h")


def test_daily_mean_calendar_days() -> None:
    times = _hours("2023-12-01", 48)
    values = np.r_[np.full(24, 10.0), np.arange(24.0)]
    mean = daily_mean(values, times)
    assert list(mean.index) == [pd.Timestamp("2023-12-01"), pd.Timestamp("2023-12-02")]
    np.testing.assert_allclose(mean.to_numpy(), [10.0, 11.5], rtol=1e-12)


def test_daily_mean_needs_20_valid_hours() -> None:
    times = _hours("2023-12-01", 72)
    values = np.full(72, 100.0)
    values[:4] = np.nan  # day 1: 20 valid hours, still valid
    values[24:29] = np.nan  # day 2: 19 valid hours, invalid
    mean = daily_mean(values, times)
    assert mean.iloc[0] == 100.0
    assert np.isnan(mean.iloc[1])
    assert mean.iloc[2] == 100.0


def test_partial_days_at_the_ends_are_invalid() -> None:
    times = _hours("2023-12-01T12:00", 48)  # 12 h, 24 h, 12 h
    mean = daily_mean(np.full(48, 80.0), times)
    assert np.isnan(mean.iloc[0]) and mean.iloc[1] == 80.0 and np.isnan(mean.iloc[2])


def test_daily_aqi_and_day_counts() -> None:
    times = _hours("2023-12-01", 24 * 5)
    daily = np.array([40.0, 151.0, 150.0, 251.0, np.nan])
    aqi = daily_aqi(np.repeat(daily, 24), times)
    np.testing.assert_array_equal(aqi.to_numpy(), [57, 201, 200, 301, np.nan])
    assert heavy_pollution_days(aqi) == 2  # > 200 only; exactly 200 is not heavy
    assert severe_days(aqi) == 1


def test_running_mean_uses_available_hours() -> None:
    values = np.arange(1.0, 31.0)
    run = running_mean_24h(values)
    assert run[0] == 1.0
    assert run[1] == 1.5
    assert run[23] == np.mean(values[:24])
    assert run[29] == np.mean(values[6:30])


def test_heavy_hours() -> None:
    values = np.r_[np.full(24, 100.0), np.full(48, 300.0)]
    # The trailing mean exceeds 150 μg/m³ (IAQI 200) once 7 of its 24 hours are at 300:
    # 100 + 200 × 7/24 = 158.3; with 6 it is exactly 150 (IAQI 200, not heavy). Hours 30-71.
    expected = 42
    assert heavy_hours(values) == expected
    batch = heavy_hours(np.stack([values, np.full(72, 20.0)]))
    np.testing.assert_array_equal(batch, [expected, 0])
