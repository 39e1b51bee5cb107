"""Write the demo region of ``scenarios/demo_region.yaml``: SYNTHETIC data, not observations.

Five cities of a synthetic region around Demo City (whose enterprise list is bundled):
``northwest_city``, ``north_city``, ``east_city`` and ``south_city`` have no listed lines and
carry all their emissions as other-sources categories. Written into ``scenarios/data/demo_region/``:

- ``<city>.csv``: a ten-day winter episode (2023-12-01T00:00 to 2023-12-11T00:00, 240 h) per
  city, the meteorology-file columns plus ``wind_dir_deg``. The weather is regional: every
  city's build-up starts on 12-02 and a cold front from the north clears the air at midday on
  12-08. The wind blows from the north-west during the build-up (carrying the air of
  ``northwest_city`` and ``north_city`` over Demo City), turns easterly for a day and a half
  (12-05 12:00 to 12-07 00:00) and back, and comes from the north with the front. Each
  city's PM2.5, mixing height, wind speed, humidity and temperature come from
  :func:`sim.inputs.meteorology.generate_episode` with its own seed and peak.
- ``<city>_other_sources.yaml`` for the four neighbours: Demo City's non-industrial categories
  (``enterprises/demo_city_other_sources.yaml``) scaled by the city's size factor, plus one
  ``listed_industry`` category holding an industry like Demo City's listed one (its totals
  × the size factor), cut per level by the list ratios the guideline policy reaches on Demo
  City's list.

Every number here is an estimate for a demonstration. Run: ``python scenarios/data/generate_region.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.inputs.meteorology import format_csv, generate_episode  # noqa: E402

OUT = Path(__file__).resolve().parent / "demo_region"
START, DAYS, ONSET_DAY, FRONT_DAY = "2023-12-01", 10, 1.0, 7.5

# city: (lat [°N], lon [°E], area [km²], size factor [-], hourly PM2.5 peak [μg/m³], seed).
# Demo City's centre is the middle of its listed enterprises; the neighbours sit 85-105 km
# away. Size factors scale Demo City's emissions (an estimate of each city's weight).
CITIES = {
    "demo_city": (32.16, 119.47, 4000.0, 1.0, 260.0, 1),
    "northwest_city": (32.75, 118.75, 5000.0, 1.6, 300.0, 2),
    "north_city": (33.10, 119.55, 4500.0, 1.0, 250.0, 3),
    "east_city": (32.10, 120.45, 4000.0, 1.2, 220.0, 4),
    "south_city": (31.40, 119.40, 3500.0, 0.8, 200.0, 5),
}

# Demo City's listed emissions [t/d] (enterprises/demo_city.csv: Σ rate × hours per day) and
# the list ratios the guideline policy reaches on it per level (run_scenario.py
# scenarios/demo_city_orange.yaml), used for the neighbours' listed industry.
LISTED_T_D = {"so2": 7.25, "nox": 15.12, "pm10": 1.98, "pm25": 1.17, "voc": 2.14, "nh3": 0.42}
LIST_RATIOS = {
    "yellow": {"so2": 0.190, "nox": 0.130, "pm10": 0.231, "pm25": 0.231, "voc": 0.282},
    "orange": {"so2": 0.310, "nox": 0.195, "pm10": 0.367, "pm25": 0.367, "voc": 0.393},
    "red": {"so2": 0.420, "nox": 0.273, "pm10": 0.492, "pm25": 0.492, "voc": 0.523},
}


def wind_direction(times: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Direction the wind blows from [degrees], regional pattern plus ±15° city noise."""
    days = (times - times[0]) / pd.Timedelta(days=1)
    direction = np.where(days < ONSET_DAY, 340.0, 315.0)
    direction = np.where((days >= 4.5) & (days < 6.0), 80.0, direction)
    direction = np.where(days >= FRONT_DAY, 5.0, direction)
    return np.mod(direction + rng.normal(0.0, 15.0, len(times)).clip(-30.0, 30.0), 360.0)


def meteorology(city: str) -> pd.DataFrame:
    lat, lon, area, size, peak, seed = CITIES[city]
    frame = generate_episode(START, DAYS, seed=20231200 + seed, peak_ug_m3=peak, onset_day=ONSET_DAY, front_day=FRONT_DAY)
    frame["wind_dir_deg"] = np.round(wind_direction(pd.DatetimeIndex(frame.time), np.random.default_rng(seed)), 0) + 0.0
    return frame


def other_sources(city: str) -> dict:
    size = CITIES[city][3]
    demo = yaml.safe_load((ROOT / "enterprises" / "demo_city_other_sources.yaml").read_text(encoding="utf-8"))
    categories = []
    for cat in demo["categories"]:
        scaled = dict(cat)
        scaled["emissions_t_d"] = {p: round(v * size, 3) for p, v in cat["emissions_t_d"].items()}
        scaled["source"] = f"Demo City's category scaled by {size:g} (estimate); {cat.get('source', '')}".rstrip("; ")
        categories.append(scaled)
    categories.append({
        "name": "listed_industry",
        "name_zh": "工业源（清单企业）",
        "emissions_t_d": {p: round(v * size, 3) for p, v in LISTED_T_D.items()},
        "profile": {"hourly": "flat", "weekly": "flat"},
        "reduction": LIST_RATIOS,
        "measure": {"yellow": "按清单黄色预警措施 (list measures, yellow)", "orange": "按清单橙色预警措施 (list measures, orange)",
                    "red": "按清单红色预警措施 (list measures, red)"},
        "source": f"estimate: Demo City's listed totals × {size:g}, cut by the list ratios the guideline policy reaches on Demo City's list",
    })
    return {
        "city": city,
        "description": f"Synthetic sources of {city} (winter), all as categories: the city has no enterprise list in this scenario.",
        "source": "synthetic; scaled from Demo City (estimate)",
        "categories": categories,
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for city in CITIES:
        (OUT / f"{city}.csv").write_text(format_csv(meteorology(city)), encoding="utf-8")
        if city != "demo_city":
            text = yaml.safe_dump(other_sources(city), allow_unicode=True, sort_keys=False, width=120)
            (OUT / f"{city}_other_sources.yaml").write_text("# SYNTHETIC, written by scenarios/data/generate_region.py\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
