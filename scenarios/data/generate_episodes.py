"""Write the demo meteorology files of ``scenarios/data/``: SYNTHETIC data, not observations.

The files are made by :func:`sim.inputs.meteorology.generate_episode` (seeded, so every run writes
byte-identical files) and have the meteorology-file columns ``time, pm25_baseline_ug_m3,
mixing_height_m, wind_speed_m_s, rh_pct, temp_c``:

- ``demo_episode_2023-12.csv``: 2023-12-01T00:00 to 2023-12-11T00:00 (end exclusive, 240
  hours); a heavy spell building up from 12-02, daily AQI > 200 on 12-04 to 12-07, hourly peak
  280 μg/m³, cleared by a cold front at midday on 12-07.
- ``demo_episode_2024-01.csv``: 2024-01-08 to 2024-01-18; a shorter spell, about two heavy days,
  hourly peak 230 μg/m³.
- ``demo_winter_2023-24.csv``: 2023-11-15 to 2024-03-16, one heating season with seven
  episodes of different strength (hourly peaks 150-340 μg/m³) between clean spells.

Run: ``python scenarios/data/generate_episodes.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.inputs.meteorology import format_csv, generate_episode  # noqa: E402

HERE = Path(__file__).resolve().parent

# Winter season: (start, days, onset_day, front_day, hourly peak [μg/m³]); the segments tile
# 2023-11-15 .. 2024-03-16 without gaps, each beginning and ending in clean air.
SEASON_SEGMENTS: tuple[tuple[str, int, float, float, float], ...] = (
    ("2023-11-15", 14, 5.0, 8.0, 165.0),
    ("2023-11-29", 14, 3.5, 8.5, 290.0),
    ("2023-12-13", 18, 6.0, 9.0, 210.0),
    ("2023-12-31", 16, 5.0, 10.5, 340.0),
    ("2024-01-16", 21, 8.0, 10.5, 185.0),
    ("2024-02-06", 19, 5.0, 9.0, 260.0),
    ("2024-02-25", 20, 7.0, 9.5, 150.0),
)
SEASON_SEED = 20231115


def december() -> pd.DataFrame:
    """Ten days with a four-day heavy spell (12-04 to 12-07), peak 280 μg/m³."""
    return generate_episode("2023-12-01", 10, seed=20231201, peak_ug_m3=280.0, onset_day=1.0, front_day=6.5)


def january() -> pd.DataFrame:
    """Ten days with a short spell of about two heavy days, peak 230 μg/m³."""
    return generate_episode("2024-01-08", 10, seed=20240108, peak_ug_m3=230.0, onset_day=3.0, front_day=5.75)


def winter() -> pd.DataFrame:
    """2023-11-15 to 2024-03-16 hourly, seven episodes (see SEASON_SEGMENTS)."""
    parts = [
        generate_episode(start, days, seed=SEASON_SEED + i, peak_ug_m3=peak, onset_day=onset, front_day=front)
        for i, (start, days, onset, front, peak) in enumerate(SEASON_SEGMENTS)
    ]
    return pd.concat(parts, ignore_index=True)


FILES: dict[str, Callable[[], pd.DataFrame]] = {
    "demo_episode_2023-12.csv": december,
    "demo_episode_2024-01.csv": january,
    "demo_winter_2023-24.csv": winter,
}


def main(out_dir: Path = HERE) -> None:
    """Write every file of :data:`FILES` into ``out_dir``."""
    for name, build in FILES.items():
        (out_dir / name).write_text(format_csv(build()), encoding="utf-8", newline="\n")
        print(f"wrote {out_dir / name}")


if __name__ == "__main__":
    main()
