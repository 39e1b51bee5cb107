"""Write the data files of the APEC 2014 (Beijing) validation case, and optionally run it.

The case (docs/validation.md) replays the emission controls of the APEC summit, Beijing,
3-12 November 2014, against the published evaluation (Beijing EPB inventory + model):
emission cuts SO2 -39.2 %, NOx -49.6 %, PM2.5 -61.6 %, VOCs -33.6 %; PM2.5 43 vs 69.5 μg/m³
counterfactual, -26.5 μg/m³, of which 19.8 local and 6.8 regional.

Files written next to this script (``scenarios/validation/``):

- ``apec_2014_enterprises.csv``: Beijing's 2014 industrial emissions as eight sector
  aggregates (one row each, direct ``*_kg_h`` rates, grade ``general``, no flags);
- ``apec_2014_other_sources.yaml``: road traffic, non-road machinery, construction dust, road
  dust, residential and agriculture as category totals [t/d] with their cuts at red;
- ``apec_2014_policy.yaml``: one rule per industry with the APEC cut at red;
- ``apec_2014_meteorology.csv``: SYNTHETIC hourly meteorology and counterfactual (no-control)
  PM2.5 for 2014-11-01 to 2014-11-15, shaped to the published counterfactual mean of
  69.5 μg/m³ over 3-12 November. Not observations.

Annual totals are converted to mean daily rates (kt/a × 1000 / 365 = t/d). Every number is
listed below with its source or marked as an estimate. The script checks its own output: the
steady-state total cuts at red must equal the published ones within ±0.5 percentage point,
the counterfactual mean must be 69.5 μg/m³ within 0.05, and polluted days must have daily-mean
mixing heights of 450-600 m and winds near 1.6 m/s.

Run from the repository root::

    python scenarios/validation/make_apec_2014.py            # write the four data files
    python scenarios/validation/make_apec_2014.py --report   # also run the case, print the
        # comparison and the sensitivity table, and draw docs/figures/apec_2014.png

All randomness comes from ``numpy.random.default_rng(SEED)``; a rerun writes byte-identical
files (same numpy version and platform). Needs numpy and pandas; ``--report`` also the
simulator (``sim``) and matplotlib.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 20141103
START = pd.Timestamp("2014-11-01T00:00")
DAYS = 14  # 2014-11-01T00:00 to 2014-11-15T00:00 (end exclusive)
CONTROL_START = pd.Timestamp("2014-11-03T00:00")  # the red warning of the scenario
CONTROL_END = pd.Timestamp("2014-11-13T00:00")  # end exclusive: 3-12 November inclusive

SCENARIO = HERE / "apec_2014.yaml"
FIGURE = ROOT / "docs" / "figures" / "apec_2014.png"
POLLUTANTS = ("so2", "nox", "pm10", "pm25", "voc", "nh3")

# --------------------------------------------------------------------------- published case

#: Published case (docs/validation.md §1): APEC, Beijing, Nov 2014 (Beijing EPB inventory + model).
PUBLISHED = {
    "cuts": {"so2": 0.392, "nox": 0.496, "pm25": 0.616, "voc": 0.336},
    "baseline_ug_m3": 69.5,
    "scenario_ug_m3": 43.0,
    "total_ug_m3": 26.5,
    "local_ug_m3": 19.8,
    "regional_ug_m3": 6.8,
}

# --------------------------------------------------------------------------- inventory
#
# Beijing 2014 annual totals [kt/a]:
#   SO2 78.9 and NOx 151.0: Beijing EPB, 2014 Beijing environmental bulletin (2014年北京市环境
#     状况公报, environmental-statistics totals 7.89 and 15.10 万t; the year-on-year changes
#     -9.35 % and -9.24 % are confirmed by the press report of the bulletin, the absolute totals
#     were not re-checked against the bulletin itself). Check them before citing them.
#   PM2.5 60 and VOC 230: estimates in the range of published Beijing inventories for
#     2013-2015 (no official 2014 total was confirmed for this case).
# The split into sectors is an estimate shaped after Beijing's 2014 source structure
# (Beijing EPB source apportionment, April 2014: vehicles 31.1 %, coal 22.4 %, industry 18.1 %,
# dust 14.3 % of local PM2.5): vehicles dominate NOx and much of VOC, coal (residential and
# boilers) dominates SO2, dust and residential burning dominate primary PM2.5, solvent use and
# the petrochemical complex dominate industrial VOC.
#
# Red cuts [-]: the APEC measures as reported (odd-even plate restriction, official cars
# -70 %, heavy trucks and muck trucks off the roads, all construction earthwork stopped,
# polluting factories stopped or cut, more road washing), with the sector effect sizes as
# estimates; the road-traffic cuts of NOx and VOC, the road-dust PM cut and the residential SO2
# cut close each pollutant's total onto the published cut (see check_cuts).

#: Enterprise-list rows: id, name, industry, process, [kt/a] per pollutant, red cut, measure, note.
SECTORS: tuple[dict, ...] = (
    {"id": "BJ01", "name": "北京市燃煤电厂及热电厂(合计)", "industry": "power_coal", "process": "boiler",
     "kt": {"so2": 6.0, "nox": 5.0, "pm10": 1.3, "pm25": 0.8, "voc": 1.0, "nh3": 0.1}, "red": 0.30,
     "measure": "燃煤机组压减负荷 (coal units at reduced load)"},
    {"id": "BJ02", "name": "北京市燃煤锅炉(供热及工业合计)", "industry": "boiler_coal", "process": "boiler",
     "kt": {"so2": 20.0, "nox": 12.0, "pm10": 5.0, "pm25": 3.0, "voc": 1.5, "nh3": 0.0}, "red": 0.60,
     "measure": "工业燃煤锅炉停用, 供热锅炉压减 (industrial coal boilers off, heating boilers cut)"},
    {"id": "BJ03", "name": "北京市燃气电厂及锅炉(合计)", "industry": "boiler_gas", "process": "boiler",
     "kt": {"so2": 0.5, "nox": 12.0, "pm10": 0.6, "pm25": 0.5, "voc": 2.0, "nh3": 0.0}, "red": 0.30,
     "measure": "燃气机组及锅炉压减负荷 (gas units and boilers at reduced load)"},
    {"id": "BJ04", "name": "北京市水泥及建材(合计)", "industry": "cement", "process": "clinker_kiln",
     "kt": {"so2": 2.5, "nox": 4.0, "pm10": 4.0, "pm25": 2.5, "voc": 0.5, "nh3": 0.2}, "red": 1.00,
     "measure": "水泥及建材企业停产 (cement and building-material plants stop)"},
    {"id": "BJ05", "name": "北京市石油化工(合计)", "industry": "refining", "process": "crude_processing",
     "kt": {"so2": 4.0, "nox": 4.0, "pm10": 1.5, "pm25": 1.0, "voc": 28.0, "nh3": 0.1}, "red": 0.30,
     "measure": "石化装置压减负荷30% (petrochemical units -30 %)"},
    {"id": "BJ06", "name": "北京市其他工业(合计)", "industry": "general", "process": "production",
     "kt": {"so2": 7.4, "nox": 6.0, "pm10": 7.0, "pm25": 4.5, "voc": 18.0, "nh3": 0.5}, "red": 0.60,
     "measure": "重点排污企业停产或限产 (polluting factories stop or cut)"},
    {"id": "BJ07", "name": "北京市工业涂装(合计)", "industry": "industrial_coating", "process": "spray_coating",
     "kt": {"so2": 0.0, "nox": 0.0, "pm10": 0.8, "pm25": 0.5, "voc": 40.0, "nh3": 0.0}, "red": 0.45,
     "measure": "涂装工序停产或限产 (coating lines stop or cut)"},
    {"id": "BJ08", "name": "北京市包装印刷(合计)", "industry": "packaging_printing", "process": "printing",
     "kt": {"so2": 0.0, "nox": 0.0, "pm10": 0.0, "pm25": 0.0, "voc": 10.0, "nh3": 0.0}, "red": 0.45,
     "measure": "印刷工序停产或限产 (printing lines stop or cut)"},
)

#: Other sources: name, name_zh, [kt/a], red cuts per pollutant, profiles, measure, note.
CATEGORIES: tuple[dict, ...] = (
    {"name": "road_traffic", "name_zh": "道路移动源",
     "kt": {"so2": 1.5, "nox": 78.0, "pm10": 5.0, "pm25": 4.5, "voc": 70.0, "nh3": 2.0},
     "red": {"so2": 0.40, "nox": 0.47, "pm10": 0.45, "pm25": 0.45, "voc": 0.38, "nh3": 0.40},
     "profile": ("traffic", "traffic_week"),
     "measure": "单双号限行, 公务用车停驶70%, 重型货车及渣土车禁行 (odd-even plates, official cars -70 %, heavy and muck trucks off)",
     "note": "cars dominate VOC, heavy diesel NOx; odd-even halves private cars, trucks were banned"},
    {"name": "non_road_machinery", "name_zh": "非道路移动机械",
     "kt": {"so2": 1.0, "nox": 22.0, "pm10": 2.8, "pm25": 2.5, "voc": 6.0, "nh3": 0.0},
     "red": {"so2": 0.70, "nox": 0.70, "pm10": 0.70, "pm25": 0.70, "voc": 0.70, "nh3": 0.0},
     "profile": ("construction", "workweek"),
     "measure": "施工工地停工, 非道路机械停用 (construction machinery off with the sites)",
     "note": "construction machinery stops with the sites; airport, rail and agricultural machinery continue"},
    {"name": "construction_dust", "name_zh": "施工扬尘",
     "kt": {"so2": 0.0, "nox": 0.0, "pm10": 60.0, "pm25": 16.0, "voc": 0.0, "nh3": 0.0},
     "red": {"so2": 0.0, "nox": 0.0, "pm10": 0.95, "pm25": 0.95, "voc": 0.0, "nh3": 0.0},
     "profile": ("construction", "workweek"),
     "measure": "全市施工工地停止土石方和拆除作业 (all earthwork and demolition stopped)",
     "note": "wind erosion of idle sites remains"},
    {"name": "road_dust", "name_zh": "道路扬尘",
     "kt": {"so2": 0.0, "nox": 0.0, "pm10": 44.0, "pm25": 11.0, "voc": 0.0, "nh3": 0.0},
     "red": {"so2": 0.0, "nox": 0.0, "pm10": 0.72, "pm25": 0.72, "voc": 0.0, "nh3": 0.0},
     "profile": ("traffic", "flat"),
     "measure": "道路冲洗保洁加密, 交通量减半 (more road washing, half the traffic)",
     "note": "resuspension falls with traffic (trucks off, odd-even) and with washing"},
    {"name": "residential", "name_zh": "居民生活源",
     "kt": {"so2": 36.0, "nox": 8.0, "pm10": 15.0, "pm25": 11.0, "voc": 53.0, "nh3": 8.0},
     "red": {"so2": 0.21, "nox": 0.20, "pm10": 0.20, "pm25": 0.20, "voc": 0.05, "nh3": 0.0},
     "profile": ("residential", "flat"),
     "measure": "禁止露天烧烤和焚烧, 散煤管控 (no open grilling or burning, loose-coal checks)",
     "note": "loose coal, biomass, cooking, domestic solvents; few APEC measures reached households"},
    {"name": "agriculture", "name_zh": "农业源",
     "kt": {"so2": 0.0, "nox": 0.0, "pm10": 4.0, "pm25": 2.2, "voc": 0.0, "nh3": 35.0},
     "red": {"so2": 0.0, "nox": 0.0, "pm10": 0.0, "pm25": 0.0, "voc": 0.0, "nh3": 0.0},
     "profile": ("agriculture", "flat"),
     "measure": "无专项措施 (no specific measure)",
     "note": "no APEC measure on farming"},
)

T_D_PER_KT_A = 1000.0 / 365.0


def steady_cuts() -> dict[str, float]:
    """Total cut at red per pollutant [-] with every source at its mean rate (no profiles)."""
    base = {p: 0.0 for p in POLLUTANTS}
    cut = {p: 0.0 for p in POLLUTANTS}
    for s in SECTORS:
        for p in POLLUTANTS:
            base[p] += s["kt"][p]
            cut[p] += s["kt"][p] * s["red"]
    for c in CATEGORIES:
        for p in POLLUTANTS:
            base[p] += c["kt"][p]
            cut[p] += c["kt"][p] * c["red"][p]
    return {p: cut[p] / base[p] for p in POLLUTANTS if base[p] > 0}


def totals_kt() -> dict[str, float]:
    """Annual totals of the case inventory [kt/a]."""
    return {p: sum(s["kt"][p] for s in SECTORS) + sum(c["kt"][p] for c in CATEGORIES) for p in POLLUTANTS}


def check_cuts() -> None:
    """The steady-state red cuts reproduce the published ones within ±0.5 percentage point."""
    cuts = steady_cuts()
    for p, target in PUBLISHED["cuts"].items():
        if abs(cuts[p] - target) > 0.005:
            raise SystemExit(f"the {p} cut at red is {cuts[p]:.1%}, published {target:.1%}: edit SECTORS/CATEGORIES")


def enterprises_csv() -> str:
    """The enterprise list (sector aggregates) as CSV text."""
    header = ["enterprise_id", "enterprise_name", "city", "district", "industry", "grade", "line_id", "process",
              *[f"{p}_kg_h" for p in POLLUTANTS], "hours_per_day", "livelihood", "ultra_low", "whitelist",
              "restricted", "bulk_transport"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for s in SECTORS:
        rates = [f"{s['kt'][p] * T_D_PER_KT_A * 1000.0 / 24.0:.3f}" for p in POLLUTANTS]  # kt/a -> kg/h
        writer.writerow([s["id"], s["name"], "beijing", "全市", s["industry"], "general", "L1", s["process"],
                         *rates, "24", "0", "0", "0", "0", "0"])
    return buffer.getvalue()


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def other_sources_yaml() -> str:
    """The other-sources file as YAML text (comments carry the sources)."""
    out = [
        "# Non-industrial sources of Beijing, 2014, as category totals [t/d] (annual totals / 365) with",
        "# the APEC cuts at red, for the validation case scenarios/validation/apec_2014.yaml.",
        "# Written by make_apec_2014.py; edit the tables there, not this file.",
        "# Totals: SO2 and NOx sum with the enterprise list to the Beijing EPB 2014 bulletin totals",
        "# (78.9 and 151.0 kt); PM2.5 (60 kt) and VOC (230 kt) totals and the split into categories are",
        "# estimates (see docs/validation.md). Cuts are estimates of the APEC measures' effect, set so",
        "# that all sources together reproduce the published cuts (SO2 -39.2 %, NOx -49.6 %,",
        "# PM2.5 -61.6 %, VOCs -33.6 %). Yellow and orange equal red: the case uses only red.",
        "city: beijing",
        "description: Beijing non-industrial sources, 2014 annual mean, with the APEC 2014 cuts.",
        "source: Beijing EPB 2014 environmental bulletin (SO2, NOx totals); split and cuts are estimates",
        "categories:",
    ]
    for c in CATEGORIES:
        t_d = ", ".join(f"{p}: {_fmt(c['kt'][p] * T_D_PER_KT_A)}" for p in POLLUTANTS)
        red = ", ".join(f"{p}: {c['red'][p]:.2f}" for p in POLLUTANTS)
        out += [
            f"  - name: {c['name']}",
            f"    name_zh: {c['name_zh']}",
            f"    emissions_t_d: {{{t_d}}}",
            f"    profile: {{hourly: {c['profile'][0]}, weekly: {c['profile'][1]}}}",
            "    reduction:",
            f"      yellow: {{{red}}}",
            f"      orange: {{{red}}}",
            f"      red: {{{red}}}",
            f"    measure: {{red: \"{c['measure']}\"}}",
            f"    source: \"estimate: {c['note']}\"",
        ]
    return "\n".join(out) + "\n"


#: The policy keys of a case's file around its rules: the guideline's targets and base ratios
#: (not what the case tests) and no exemption (the case lists sectors, not graded enterprises).
POLICY_FRAME = (
    "targets:",
    "  list: {yellow: 0.30, orange: 0.40, red: 0.50}",
    "  society: {yellow: 0.10, orange: 0.20, red: 0.30}",
    "base_ratio: {yellow: 0.30, orange: 0.40, red: 0.50}",
    "exempt: {grades: [], flags: []}",
    "rules:",
)


def policy_yaml() -> str:
    """The APEC policy: one rule per industry, the same cut at every level (only red is used)."""
    out = [
        "# APEC 2014 (Beijing) emergency measures as a policy: one rule per industry of the case's",
        "# enterprise list (apec_2014_enterprises.csv), production cut [-] at red. Yellow and orange",
        "# equal red because the case uses only red (APEC measures were at or above red strength).",
        "# Written by make_apec_2014.py; edit the tables there, not this file.",
        "name: apec_2014",
        "description: Beijing APEC 2014 controls, 3-12 November, as per-industry production cuts.",
        "source: \"APEC measures as reported in 2014 (factory stops and cuts); effect sizes are estimates\"",
        *POLICY_FRAME,
    ]
    for s in SECTORS:
        r = f"{s['red']:.2f}"
        out += [
            f"  - name: apec_{s['industry']}",
            f"    industry: {s['industry']}",
            f"    reduction: {{yellow: {r}, orange: {r}, red: {r}}}",
            f"    measure: {{red: \"{s['measure']}\"}}",
            "    source: estimate of the APEC measure's effect on the sector (docs/validation.md)",
        ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- meteorology

#: Synthetic episodes: (onset hour, front hour or None, regional strength [-]); hours since START.
EPISODES: tuple[tuple[int, int | None, float], ...] = (
    (10, 58, 0.6),     # 1 Nov 10:00 build-up, front 3 Nov 10:00
    (90, 170, 1.0),    # 4 Nov 18:00 build-up, front 8 Nov 02:00
    (200, 270, 0.85),  # 9 Nov 08:00 build-up, front 12 Nov 06:00
    (292, None, 0.9),  # 13 Nov 04:00 build-up lasting past the period
)
BOX_LENGTH_M = 79_000.0  # √(6,300 km²), the case's box
FLOOR_UG_M3 = 8.0  # rescaling keeps this floor and stretches the excess above it


def _ar1(rng: np.random.Generator, n: int, sigma: float, memory_h: float) -> np.ndarray:
    """Stationary AR(1) noise with standard deviation sigma and e-folding memory [h]."""
    phi = np.exp(-1.0 / memory_h)
    shocks = rng.normal(0.0, sigma * np.sqrt(1.0 - phi**2), n)
    shocks[0] = rng.normal(0.0, sigma)
    return lfilter([1.0], [1.0, -phi], shocks)


def _weights(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stagnation and post-frontal weights [-] per hour, and the regional strength [-]."""
    t = np.arange(n, dtype=float)
    stag, front, strength = np.zeros(n), np.zeros(n), np.zeros(n)
    for onset, front_h, s in EPISODES:
        end = n if front_h is None else front_h
        ramp = np.clip((t - onset) / 12.0, 0.0, 1.0)
        inside = (t >= onset) & (t < end)
        stag = np.where(inside, ramp**2 * (3 - 2 * ramp), stag)
        strength = np.where(inside, s, strength)
        if front_h is not None:
            after = t - front_h
            w = np.where(after < 0, 0.0, np.where(after < 12, 1.0, np.exp(-(after - 12) / 8.0)))
            front = np.maximum(front, np.where(stag > 0, 0.0, w))
    front = np.minimum(front, 1.0 - stag)
    return stag, front, strength


def meteorology(seed: int = SEED) -> pd.DataFrame:
    """Hourly SYNTHETIC meteorology and counterfactual PM2.5, 2014-11-01 to 2014-11-15.

    Stagnant spells: mixing height ~330 m at night and ~980 m at the afternoon maximum (daily
    mean ~500 m), wind ~1.6 m/s, humid (RH ~80 % at night). Clean air: ~620 / 1500 m, 3-4 m/s,
    RH ~40 %. Behind a cold front: 12 h of 4-8 m/s wind, 1000-1700 m, RH ~25 %, then clean.
    PM2.5: a regional part that builds up with each spell (first-order lag 36 h, cleared with a
    3 h lag behind a front) plus a local part from a one-box tracer driven by the same mixing
    height and wind, with multiplicative noise; the excess above 8 μg/m³ is then stretched so
    that the mean over 3-12 November is exactly the published counterfactual 69.5 μg/m³.
    """
    rng = np.random.default_rng(seed)
    n = DAYS * 24
    t = np.arange(n, dtype=float)
    hour = t % 24
    sun = np.where((hour > 8) & (hour < 18), np.sin(np.pi * (hour - 8) / 10), 0.0)
    warm = np.cos(2 * np.pi * (hour - 14) / 24)
    stag, front, strength = _weights(n)
    clean = np.clip(1.0 - stag - front, 0.0, 1.0)

    def blend(s: np.ndarray, f: np.ndarray, c: np.ndarray) -> np.ndarray:
        return stag * s + front * f + clean * c

    stag_night = np.clip(330 * np.exp(_ar1(rng, n, 0.12, 12)), 240, 450)
    stag_day = np.clip(980 * np.exp(_ar1(rng, n, 0.12, 24)), 750, 1300)
    clean_night = np.clip(620 * np.exp(_ar1(rng, n, 0.12, 12)), 450, 800)
    clean_day = np.clip(1500 * np.exp(_ar1(rng, n, 0.10, 24)), 1200, 1900)
    front_m = np.clip(1300 + 200 * sun + _ar1(rng, n, 80, 6), 1000, 1700)
    height = blend(stag_night + (stag_day - stag_night) * sun, front_m, clean_night + (clean_day - clean_night) * sun)

    wind = blend(
        np.clip(1.45 + 0.6 * sun + _ar1(rng, n, 0.3, 6), 0.5, 2.8),
        np.clip(5.5 + _ar1(rng, n, 0.8, 4), 4.0, 8.0),
        np.clip(3.0 + 0.8 * sun + _ar1(rng, n, 0.5, 6), 1.8, 5.0),
    )
    rh = blend(
        np.clip(80 + _ar1(rng, n, 5, 12), 60, 95) - 18 * sun,
        np.clip(25 + _ar1(rng, n, 5, 6), 15, 40),
        np.clip(42 + _ar1(rng, n, 6, 12), 25, 60) - 10 * sun,
    )
    # Beijing early November: daily mean falling from ~9 to ~4 °C, diurnal range ~10 °C.
    temp = 9.0 - 5.0 * t / n + 5.0 * warm - 3.0 * front + _ar1(rng, n, 0.7, 6)

    # Regional part [μg/m³]: follows 15 + 90 × strength × stagnation, cleared fast by fronts.
    target = 15.0 + 90.0 * strength * stag
    tau = np.where(front > 0.5, 3.0, 36.0)
    regional = np.empty(n)
    level = target[0]
    for i in range(n):
        level += (target[i] - level) * (1.0 - np.exp(-1.0 / tau[i]))
        regional[i] = level
    # Local part: a one-box tracer dC/dt = S/H - (k_v + k_d) C with the same H and u.
    k = 3600.0 * wind / BOX_LENGTH_M + 3600.0 * 0.001 / height
    source = 1.0 / height
    local = np.empty(n)
    c = source[0] / k[0]
    for i in range(n):
        decay = np.exp(-k[i])
        c = c * decay + source[i] / k[i] * (1.0 - decay)
        local[i] = c
    local *= regional.mean() / local.mean()  # comparable parts; the total is rescaled below
    raw = (regional + local) * np.exp(_ar1(rng, n, 0.08, 6))

    times = pd.date_range(START, periods=n, freq="h")
    control = (times >= CONTROL_START) & (times < CONTROL_END)
    stretch = (PUBLISHED["baseline_ug_m3"] - FLOOR_UG_M3) / (raw[control].mean() - FLOOR_UG_M3)
    pm25 = FLOOR_UG_M3 + stretch * (raw - FLOOR_UG_M3)

    frame = pd.DataFrame({"time": times, "pm25_baseline_ug_m3": pm25, "mixing_height_m": height,
                          "wind_speed_m_s": wind, "rh_pct": rh, "temp_c": temp})
    from sim.inputs.meteorology import rounded

    return rounded(frame)


def check_meteorology(frame: pd.DataFrame) -> dict:
    """Counterfactual mean 69.5 ± 0.05 over 3-12 Nov; polluted days (daily mean PM2.5
    > 75 μg/m³) with daily-mean mixing height 450-600 m, daily-mean wind 1.2-2.2 m/s and a
    mean wind over all polluted days of 1.4-1.8 m/s (~1.6 m/s, typical of North China pollution
    days; docs/validation.md §2)."""
    times = pd.DatetimeIndex(frame.time)
    control = (times >= CONTROL_START) & (times < CONTROL_END)
    mean = float(frame.pm25_baseline_ug_m3[control].mean())
    if abs(mean - PUBLISHED["baseline_ug_m3"]) > 0.05:
        raise SystemExit(f"counterfactual mean over 3-12 Nov is {mean:.3f} μg/m³, not 69.5")
    daily = frame.groupby(times.normalize()).mean(numeric_only=True)
    polluted = daily[daily.pm25_baseline_ug_m3 > 75.0]
    wind_ok = polluted.wind_speed_m_s.between(1.2, 2.2).all() and 1.4 <= polluted.wind_speed_m_s.mean() <= 1.8
    if len(polluted) == 0 or not polluted.mixing_height_m.between(450, 600).all() or not wind_ok:
        raise SystemExit(f"polluted days outside 450-600 m / ~1.6 m/s:\n{polluted}")
    return {"control_mean_ug_m3": mean, "daily": daily, "polluted_days": list(polluted.index.strftime("%m-%d"))}


# --------------------------------------------------------------------------- writing

FILES = {
    "apec_2014_enterprises.csv": enterprises_csv,
    "apec_2014_other_sources.yaml": other_sources_yaml,
    "apec_2014_policy.yaml": policy_yaml,
}


def main(out_dir: Path = HERE, quiet: bool = False) -> list[Path]:
    """Check the tables and write the four data files into ``out_dir``; return their paths."""
    from sim.inputs.meteorology import format_csv

    check_cuts()
    met = meteorology()
    check_meteorology(met)
    out_dir = Path(out_dir)
    written = []
    texts = {name: build() for name, build in FILES.items()}
    texts["apec_2014_meteorology.csv"] = format_csv(met)
    for name, text in texts.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
        if not quiet:
            print(f"wrote {path}")
    return written


# --------------------------------------------------------------------------- running the case


def control_figures(result) -> dict:
    """Figures of a run over the control period 3-12 Nov (hours in [CONTROL_START, CONTROL_END)).

    Returns total emission cuts [-] for so2/nox/pm25/voc (1 − Σ scenario ÷ Σ baseline over the
    control hours, all sources), mean baseline and scenario PM2.5 [μg/m³], and the mean PM2.5
    reduction [μg/m³]: total, local (c × local_baseline − c × local_scenario) and regional
    (background cut), with percentages of the baseline mean.
    """
    times = pd.DatetimeIndex(result.times)
    mask = (times >= CONTROL_START) & (times < CONTROL_END)
    em = result.emissions
    base = em[em.variant == "baseline"].reset_index(drop=True)
    scen = em[em.variant == "scenario"].reset_index(drop=True)
    cuts = {p: float(1.0 - scen[p][mask].sum() / base[p][mask].sum()) for p in ("so2", "nox", "pm25", "voc")}
    pm = result.pm25[mask]
    baseline = float(pm.baseline.mean())
    scenario = float(pm.scenario.mean())
    local = float((pm.local_baseline - pm.local_scenario).mean())
    total = baseline - scenario
    return {
        "cuts": cuts,
        "baseline_ug_m3": baseline,
        "scenario_ug_m3": scenario,
        "total_ug_m3": total,
        "local_ug_m3": local,
        "regional_ug_m3": total - local,
        "total_pct": 100.0 * total / baseline,
        "local_pct": 100.0 * local / baseline,
        "regional_pct": 100.0 * (total - local) / baseline,
        "calibration_scale": float(result.projection.calibration_scale),
        "background_clipped_hours": int((result.pm25.baseline - result.pm25.local_baseline <= 1e-9).sum()),
    }


def _variants(scenario, tmp: Path):
    """(label, scenario) pairs of the sensitivity table."""
    from sim.config.scenario import LevelFractions, ResponseConfig

    atm = scenario.atmosphere
    area = float(atm.parameters["area_km2"])

    def with_atm(**update):
        return scenario.replace(atmosphere=atm.model_copy(update=update))

    def met_scaled(factor: float) -> Path:
        frame = pd.read_csv(atm.meteorology)
        frame["mixing_height_m"] = (frame.mixing_height_m * factor).round(0)
        path = tmp / f"met_h{factor:.2f}.csv"
        frame.to_csv(path, index=False)
        return path

    yield "case as built", scenario
    yield "local_share 0.50 (heavy-episode split)", with_atm(local_share=0.50)
    yield "local_share 0.60", with_atm(local_share=0.60)
    yield "local_share 0.70", with_atm(local_share=0.70)
    yield f"area_km2 {area * 0.5:,.0f} (-50 %)", with_atm(parameters={**atm.parameters, "area_km2": area * 0.5})
    yield f"area_km2 {area * 1.5:,.0f} (+50 %)", with_atm(parameters={**atm.parameters, "area_km2": area * 1.5})
    yield "k_nox 0.05 /h (constant)", with_atm(parameters={**atm.parameters, "k_nox_per_h": 0.05})
    yield "k_nox 0.15 /h (constant)", with_atm(parameters={**atm.parameters, "k_nox_per_h": 0.15})
    yield "mixing height x0.7", with_atm(meteorology=met_scaled(0.7))
    yield "mixing height x1.3", with_atm(meteorology=met_scaled(1.3))
    yield "regional cut 0.20 at red", with_atm(regional_background_cut=LevelFractions(yellow=0.20, orange=0.20, red=0.20))
    yield "regional cut 0.40 at red", with_atm(regional_background_cut=LevelFractions(yellow=0.40, orange=0.40, red=0.40))
    yield "regional response 48 h", with_atm(regional_response_h=48.0)
    yield "response delay 24 h (lines)", scenario.replace(response=ResponseConfig(delay_hours={"default": 24}, compliance=1.0))
    yield "compliance 0.8 (lines)", scenario.replace(response=ResponseConfig(delay_hours={"default": 0}, compliance=0.8))


def sensitivity(scenario) -> pd.DataFrame:
    """The sensitivity table: modelled reductions over 3-12 Nov [μg/m³] per variant."""
    import tempfile

    from sim import run

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, variant in _variants(scenario, Path(tmp)):
            f = control_figures(run(variant))
            rows.append({"variant": label, "total": f["total_ug_m3"], "local": f["local_ug_m3"],
                         "regional": f["regional_ug_m3"], "total_pct": f["total_pct"]})
    return pd.DataFrame(rows)


def draw_figure(result, figures: dict, path: Path = FIGURE) -> None:
    """Baseline vs scenario PM2.5 with the control period shaded; local/regional bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pm = result.pm25
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3.2, 1]}, dpi=110)
    ax.axvspan(CONTROL_START, CONTROL_END, color="#d9ecff", label="APEC controls (red, 3-12 Nov)")
    ax.plot(pm.time, pm.baseline, color="#444444", lw=1.2, label="counterfactual, no controls (synthetic)")
    ax.plot(pm.time, pm.scenario, color="#1f77b4", lw=1.4, label="modelled with controls")
    ax.plot(pm.time, pm.background, color="#ff7f0e", lw=1.0, ls="--", label="regional background (with controls)")
    ax.axhline(75, color="#999999", lw=0.7, ls=":")
    ax.text(CONTROL_END + pd.Timedelta(hours=3), 67, "75 μg/m³\n(24-h standard)", fontsize=8, color="#666666")
    ax.set_ylabel("PM2.5 [μg/m³], hourly")
    ax.set_title("Beijing, 1-14 Nov 2014: counterfactual vs modelled PM2.5")
    ax.set_xlim(pm.time.iloc[0], pm.time.iloc[-1] + pd.Timedelta(hours=1))
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b"))
    ax.xaxis.set_major_locator(matplotlib.dates.DayLocator(interval=2))
    ax.set_ylim(0, max(pm.baseline.max(), pm.scenario.max()) * 1.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=2)
    ax.grid(alpha=0.3)

    labels = ["published\n(EPB)", "modelled\n(box)"]
    local = [PUBLISHED["local_ug_m3"], figures["local_ug_m3"]]
    regional = [PUBLISHED["regional_ug_m3"], figures["regional_ug_m3"]]
    bx.bar(labels, local, color="#1f77b4", label="local cuts")
    bx.bar(labels, regional, bottom=local, color="#ff7f0e", label="regional cuts")
    for i in range(2):
        bx.text(i, local[i] / 2, f"{local[i]:.1f}", ha="center", va="center", color="white", fontsize=10)
        bx.text(i, local[i] + regional[i] / 2, f"{regional[i]:.1f}", ha="center", va="center", color="white", fontsize=10)
    totals = [PUBLISHED["total_ug_m3"], figures["total_ug_m3"]]  # published 26.5 (19.8 + 6.8 rounded)
    for i in range(2):
        bx.text(i, local[i] + regional[i] + 0.6, f"total {totals[i]:.1f}", ha="center", va="bottom", fontsize=10)
    bx.set_ylim(0, max(a + b for a, b in zip(local, regional)) * 1.2)
    bx.set_ylabel("mean PM2.5 reduction, 3-12 Nov [μg/m³]")
    bx.set_title("Reduction: local + regional")
    bx.legend(loc="upper center", fontsize=8, frameon=False, ncol=2, bbox_to_anchor=(0.5, -0.12))
    bx.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def report() -> None:
    """Run the case, print the comparison and the sensitivity table, draw the figure."""
    from sim import load_scenario, run

    started = time.perf_counter()
    scenario = load_scenario(SCENARIO)
    result = run(scenario)
    elapsed = time.perf_counter() - started
    f = control_figures(result)
    print(f"\ncase run (load + run, API): {elapsed:.2f} s")
    print("total emission cuts over 3-12 Nov (modelled vs published):")
    for p, v in f["cuts"].items():
        print(f"  {p:5s} {v:7.1%}  {PUBLISHED['cuts'][p]:7.1%}")
    print(f"baseline mean {f['baseline_ug_m3']:.1f}, scenario mean {f['scenario_ug_m3']:.1f} μg/m³ (published 69.5, 43.0)")
    print(f"reduction total {f['total_ug_m3']:.1f} ({f['total_pct']:.1f} %), local {f['local_ug_m3']:.1f} "
          f"({f['local_pct']:.1f} %), regional {f['regional_ug_m3']:.1f} ({f['regional_pct']:.1f} %); "
          f"published 26.5 (38 %), 19.8, 6.8")
    print(f"calibration scale c = {f['calibration_scale']:.4g}; hours with background clipped to 0: {f['background_clipped_hours']}")
    comp = result.pm25[(result.pm25.time >= CONTROL_START) & (result.pm25.time < CONTROL_END)]
    parts = {k: float(comp[k].mean()) for k in ("primary", "sulfate", "nitrate", "ammonium", "soa")}
    print("scenario local components over 3-12 Nov [μg/m³]: " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    table = sensitivity(scenario)
    print("\nsensitivity (mean reduction over 3-12 Nov, μg/m³):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    draw_figure(result, f)
    print(f"\nwrote {FIGURE}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="also run the case, print the figures and draw the figure")
    args = parser.parse_args()
    main()
    if args.report:
        report()
