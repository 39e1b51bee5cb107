#!/usr/bin/env python3
"""Generate the bundled demo enterprise list of "Demo City" (示范市).

SYNTHETIC DATA. Demo City is an invented prefecture-level city loosely shaped like an
industrial city of the Yangtze River delta. It is not a real city; its districts, parks and
enterprises are invented, and every enterprise name is composed at random from a pool of
characters (any resemblance to a real company is unintended). Sizes, grades, flags and
emission rates are drawn from plausible ranges so that the simulator has a realistic-looking
emergency list to work on; they are not measurements and must not be cited as data.

Usage::

    python enterprises/generate_demo_city.py [--seed 20231201] [--out enterprises/demo_city.csv]
    python enterprises/generate_demo_city.py --summary   # also print Markdown summary tables

All randomness comes from one ``numpy.random.default_rng(seed)``; the same seed gives a
byte-identical file. One row per production line / process, in the simulator's enterprise-list
format (see README.md in this folder for the columns). Needs numpy and pandas only.

Units: activity in the row's ``activity_unit`` per day (t/d, MWh/d, 10^4 m3/d); direct emission
rates in kg/h while operating; output value in 10^4 yuan (万元) per day per row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 20231201
DEFAULT_OUT = Path(__file__).resolve().parent / "demo_city.csv"
CITY = "demo_city"
CITY_NAME = "示范市"

COLUMNS = [
    "enterprise_id", "enterprise_name", "city", "district", "lat", "lon", "industry", "grade",
    "line_id", "process", "activity", "activity_unit", "so2_kg_h", "nox_kg_h", "pm10_kg_h",
    "pm25_kg_h", "voc_kg_h", "nh3_kg_h", "hours_per_day", "output_value_wan_yuan_per_day",
    "livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport", "truck_trips_per_day",
]
RATE_COLUMNS = ["so2_kg_h", "nox_kg_h", "pm10_kg_h", "pm25_kg_h", "voc_kg_h", "nh3_kg_h"]

# Industry -> (unit, allowed processes). Keys are those of emission_factors/industries.csv.
INDUSTRY_PROCESSES = {
    "power_coal": ("MWh/d", ["boiler"]),
    "steel": ("t/d", ["sinter", "pellet", "blast_furnace", "converter", "rolling", "lime_kiln"]),
    "steel_eaf": ("t/d", ["electric_arc_furnace"]),
    "coking": ("t/d", ["coke_oven"]),
    "cement": ("t/d", ["clinker_kiln", "grinding"]),
    "flat_glass": ("t/d", ["glass_furnace"]),
    "ceramics": ("t/d", ["kiln"]),
    "brick_tile": ("t/d", ["kiln"]),
    "refractory": ("t/d", ["kiln"]),
    "lime": ("t/d", ["lime_kiln"]),
    "mineral_wool": ("t/d", ["cupola"]),
    "carbon": ("t/d", ["baking"]),
    "aluminium": ("t/d", ["electrolysis"]),
    "alumina": ("t/d", ["calcination"]),
    "nonferrous_smelting": ("t/d", ["smelter"]),
    "ferroalloy": ("t/d", ["submerged_arc_furnace"]),
    "foundry": ("t/d", ["melting"]),
    "refining": ("t/d", ["crude_processing"]),
    "nitrogen_fertilizer": ("t/d", ["synthesis"]),
    "pharmaceuticals": ("t/d", ["production"]),
    "pesticide": ("t/d", ["production"]),
    "coating_ink_manufacture": ("t/d", ["production"]),
    "industrial_coating": ("t/d", ["spray_coating"]),
    "packaging_printing": ("t/d", ["printing"]),
    "furniture": ("t/d", ["coating"]),
    "rubber": ("t/d", ["vulcanization"]),
    "synthetic_leather": ("t/d", ["coating"]),
    "wood_panel": ("t/d", ["hot_press"]),
    "nonferrous_rolling": ("t/d", ["rolling"]),
    "shoemaking": ("t/d", ["gluing"]),
    "boiler_coal": ("t/d", ["boiler"]),
    "boiler_gas": ("10^4 m3/d", ["boiler"]),
    "boiler_biomass": ("t/d", ["boiler"]),
    "chemicals": ("t/d", ["production"]),
    "general": ("t/d", ["production"]),
}
INDUSTRY_ORDER = list(INDUSTRY_PROCESSES)

# Grading schemes (环办大气函〔2020〕340号): A-D for the key industries, leading / non-leading for the
# industries without A-D grading, "general" for the rest.
GENERAL_GRADE = {"power_coal", "boiler_coal", "boiler_gas", "boiler_biomass", "chemicals",
                 "general"}
LEADING_GRADE = {"nonferrous_rolling", "shoemaking"}

# Industries whose enterprises may be on the low-VOCs-materials white list (白名单).
WHITELIST_INDUSTRIES = ["industrial_coating", "packaging_printing", "furniture", "shoemaking",
                        "synthetic_leather"]
# Candidates for the restricted (限制类) class: small kilns and cupolas.
RESTRICTED_WEIGHT = {"brick_tile": 3.0, "foundry": 1.5, "lime": 1.5, "refractory": 1.0,
                     "ceramics": 1.0}

# ---------------------------------------------------------------------------------------------
# Geography (all invented). District centres and industrial parks, degrees N / E.
# The city spans about 32.0-32.35 N, 119.2-119.75 E; the river runs along the northern edge.
DISTRICTS = {
    "江滨区": (32.215, 119.455),  # urban core on the river
    "新港区": (32.262, 119.640),  # riverside port: power, steel, chemical park
    "凤鸣区": (32.140, 119.545),  # high-tech zone
    "南塘区": (32.080, 119.440),  # southern industrial district
    "丹溪县": (32.060, 119.300),  # building materials, limestone hills
    "秀湖县": (32.070, 119.660),  # light industry: furniture, shoes, leather
    "云岭县": (32.190, 119.270),  # western county: quarries, fine chemicals
}
PARKS = {  # key: (district, lat, lon, spread [deg])
    "heavy": ("新港区", 32.285, 119.665, 0.010),     # 临江重工业园
    "chem": ("新港区", 32.245, 119.715, 0.008),      # 新港化工园
    "chem2": ("云岭县", 32.215, 119.252, 0.007),     # 云岭精细化工园
    "hitech": ("凤鸣区", 32.145, 119.555, 0.012),    # 凤鸣高新技术产业园
    "econ": ("江滨区", 32.238, 119.500, 0.010),      # 江滨经济开发区
    "south": ("南塘区", 32.085, 119.470, 0.012),     # 南塘工业集中区
    "building": ("丹溪县", 32.050, 119.330, 0.012),  # 丹溪建材产业园
    "light": ("秀湖县", 32.068, 119.685, 0.012),     # 秀湖轻工产业园
    "west": ("云岭县", 32.160, 119.245, 0.012),      # 云岭工业园
}
SCATTER_SPREAD = 0.022  # [deg] enterprises outside parks, around their district centre
LAT_RANGE = (32.005, 32.345)
LON_RANGE = (119.205, 119.745)
DEFAULT_SCATTER = {"江滨区": 0.10, "新港区": 0.10, "凤鸣区": 0.15, "南塘区": 0.15,
                   "丹溪县": 0.17, "秀湖县": 0.17, "云岭县": 0.16}
RURAL_SCATTER = {"南塘区": 0.15, "丹溪县": 0.30, "秀湖县": 0.25, "云岭县": 0.30}

# ---------------------------------------------------------------------------------------------
# Generic (many-enterprise) industries.
#   n: number of enterprises; lines: probabilities of 1, 2, 3, ... lines;
#   size: (median, sigma, lo, hi) of a line's baseline activity, lognormal truncated to [lo, hi];
#   hours: fixed hours per day, or options from short to long (bigger enterprises work longer);
#   value: output value [万元 per activity unit]; road: heavy-truck freight [t per activity unit];
#   parks: location weights ("scatter" = outside parks, district drawn from `scatter`);
#   words: name keywords (行业字样).
GENERIC = {
    "cement": dict(n=6, lines=(0.55, 0.45), size=(2000, 0.40, 800, 5000), hours=(16, 20, 24),
                   value=0.04, road=0.8, parks={"heavy": 0.4, "south": 0.3, "building": 0.3},
                   words=["建材", "水泥粉磨", "新型建材"]),
    "ceramics": dict(n=14, lines=(0.4, 0.35, 0.15, 0.1), size=(60, 0.6, 5, 400), hours=24,
                     value=0.20, road=1.8, parks={"building": 0.5, "west": 0.3, "scatter": 0.2},
                     words=["陶瓷", "瓷业", "卫浴陶瓷"]),
    "brick_tile": dict(n=36, lines=(0.7, 0.3), size=(300, 0.45, 100, 800), hours=24, value=0.015,
                       road=1.2, parks={"building": 0.35, "scatter": 0.65}, scatter=RURAL_SCATTER,
                       words=["新型墙材", "砖瓦", "建材", "墙体材料"]),
    "refractory": dict(n=5, lines=(0.4, 0.4, 0.2), size=(60, 0.6, 10, 300), hours=24, value=0.40,
                       road=1.8, parks={"building": 0.5, "west": 0.5}, words=["耐火材料", "耐材"]),
    "lime": dict(n=5, lines=(0.4, 0.4, 0.2), size=(300, 0.5, 100, 1000), hours=24, value=0.05,
                 road=2.2, parks={"building": 0.4, "west": 0.6}, words=["钙业", "石灰"]),
    "mineral_wool": dict(n=3, lines=(0.5, 0.5), size=(60, 0.4, 20, 200), hours=24, value=0.35,
                         road=2.0, parks={"building": 0.5, "south": 0.5},
                         words=["岩棉", "保温材料", "节能材料"]),
    "carbon": dict(n=2, lines=(0.5, 0.5), size=(200, 0.5, 50, 600), hours=24, value=0.50,
                   road=1.8, parks={"heavy": 0.5, "south": 0.5}, words=["炭素", "碳素"]),
    "aluminium": dict(n=1, lines=(0.0, 1.0), size=(300, 0.3, 150, 600), hours=24, value=1.85,
                      road=2.0, parks={"heavy": 1.0}, words=["铝业"]),
    "alumina": dict(n=1, lines=(1.0,), size=(100, 0.5, 30, 300), hours=24, value=0.50, road=2.5,
                    parks={"heavy": 1.0}, words=["特种氧化铝", "新材料"]),
    "nonferrous_smelting": dict(n=3, lines=(0.5, 0.5), size=(100, 0.6, 20, 500), hours=24,
                                value=2.0, road=2.0, parks={"heavy": 0.4, "south": 0.6},
                                words=["再生资源", "冶炼", "铜业"]),
    "ferroalloy": dict(n=1, lines=(0.0, 1.0), size=(60, 0.4, 20, 200), hours=24, value=0.70,
                       road=4.0, parks={"heavy": 1.0}, words=["合金", "铁合金"]),
    "foundry": dict(n=65, lines=(0.4, 0.4, 0.2), size=(40, 0.8, 10, 300), hours=(8, 12, 16),
                    value=0.60, road=1.6,
                    parks={"south": 0.35, "west": 0.2, "econ": 0.15, "scatter": 0.3},
                    words=["铸造", "机械铸造", "精密铸造", "铸业", "铸件"]),
    "nitrogen_fertilizer": dict(n=1, lines=(0.0, 1.0), size=(800, 0.3, 300, 2000), hours=24,
                                value=0.30, road=1.2, parks={"chem": 1.0}, words=["化肥", "化工"]),
    "pharmaceuticals": dict(n=24, lines=(0.35, 0.35, 0.2, 0.1), size=(1.5, 0.9, 0.1, 20), hours=24,
                            value=6.0, road=0.0, parks={"chem": 0.4, "hitech": 0.4, "chem2": 0.2},
                            words=["药业", "制药", "生物医药", "医药化工"]),
    "pesticide": dict(n=8, lines=(0.3, 0.4, 0.2, 0.1), size=(8, 0.8, 0.5, 80), hours=24,
                      value=3.0, road=0.5, parks={"chem": 0.6, "chem2": 0.4},
                      words=["农药", "农化", "作物科技"]),
    "coating_ink_manufacture": dict(n=20, lines=(0.45, 0.35, 0.2), size=(15, 0.8, 1, 150),
                                    hours=(8, 12, 16), value=1.5, road=0.8,
                                    parks={"chem": 0.5, "chem2": 0.3, "south": 0.2},
                                    words=["涂料", "油墨", "化工涂料", "树脂涂料"]),
    "industrial_coating": dict(n=420, lines=(0.35, 0.33, 0.2, 0.12), size=(0.18, 0.9, 0.05, 3),
                               hours=(8, 10, 12, 16), value=40.0, road=0.0,
                               parks={"hitech": 0.3, "econ": 0.25, "south": 0.2, "light": 0.1,
                                      "scatter": 0.15},
                               words=["机械", "汽车零部件", "电器", "金属制品", "钢结构",
                                      "工程机械", "电气设备", "船舶配件", "五金", "机电",
                                      "电动车", "农机"]),
    "packaging_printing": dict(n=175, lines=(0.38, 0.33, 0.19, 0.1), size=(0.15, 0.9, 0.02, 2),
                               hours=(8, 12, 16), value=50.0, road=0.0,
                               parks={"econ": 0.3, "hitech": 0.25, "light": 0.25, "scatter": 0.2},
                               words=["包装", "彩印", "印务", "纸品包装", "包装材料", "印刷"]),
    "furniture": dict(n=110, lines=(0.4, 0.35, 0.25), size=(0.2, 0.8, 0.03, 2),
                      hours=(8, 10, 12), value=50.0, road=0.0,
                      parks={"light": 0.55, "building": 0.1, "scatter": 0.35},
                      scatter=RURAL_SCATTER, words=["家具", "家居", "木业家具", "办公家具"]),
    "rubber": dict(n=35, lines=(0.45, 0.35, 0.2), size=(10, 0.9, 0.5, 200), hours=(16, 24),
                   value=1.5, road=1.2, parks={"south": 0.4, "chem2": 0.2, "scatter": 0.4},
                   words=["橡胶", "橡塑", "橡胶制品", "胶带"]),
    "synthetic_leather": dict(n=10, lines=(0.3, 0.4, 0.2, 0.1), size=(6, 0.6, 1, 30),
                              hours=(16, 24), value=3.0, road=1.0,
                              parks={"light": 0.6, "south": 0.4}, words=["合成革", "人造革", "革业"]),
    "wood_panel": dict(n=20, lines=(0.5, 0.35, 0.15), size=(150, 0.7, 20, 800), hours=(16, 24),
                       value=0.30, road=1.8, parks={"scatter": 0.5, "west": 0.3, "light": 0.2},
                       scatter=RURAL_SCATTER, words=["木业", "人造板", "板业", "装饰材料"]),
    "nonferrous_rolling": dict(n=25, lines=(0.45, 0.35, 0.2), size=(60, 0.8, 5, 500),
                               hours=(16, 24), value=2.5, road=1.6,
                               parks={"heavy": 0.3, "econ": 0.3, "south": 0.4},
                               words=["铝箔", "铜材", "铝材", "金属材料", "铝业科技"]),
    "shoemaking": dict(n=20, lines=(0.45, 0.35, 0.2), size=(0.05, 0.8, 0.005, 0.5),
                       hours=(8, 10, 12), value=400.0, road=0.0,
                       parks={"light": 0.7, "scatter": 0.3}, scatter=RURAL_SCATTER,
                       words=["鞋业", "制鞋", "鞋材"]),
    "boiler_coal": dict(n=18, lines=(0.5, 0.35, 0.15), size=(40, 0.8, 5, 200), hours=24,
                        value=0.14, road=1.2,
                        parks={"south": 0.25, "econ": 0.15, "west": 0.15, "chem": 0.15,
                               "scatter": 0.3},
                        words=["纸业", "印染", "纺织", "化纤"]),
    "boiler_gas": dict(n=95, lines=(0.4, 0.4, 0.2), size=(2.5, 0.9, 0.5, 20), hours=(16, 24),
                       value=3.0, road=0.0,
                       parks={"hitech": 0.15, "econ": 0.15, "south": 0.15, "light": 0.1,
                              "scatter": 0.45},
                       words=["纺织", "印染", "食品", "化纤", "酿造", "饮料", "服饰", "调味品"]),
    "boiler_biomass": dict(n=20, lines=(0.6, 0.4), size=(40, 0.7, 5, 300), hours=24, value=0.08,
                           road=1.1, parks={"scatter": 0.5, "light": 0.2, "building": 0.15,
                                            "west": 0.15},
                           scatter=RURAL_SCATTER, words=["纸业", "木业", "纺织", "粮油"]),
    "chemicals": dict(n=150, lines=(0.35, 0.35, 0.2, 0.1), size=(20, 1.0, 1, 800), hours=24,
                      value=0.8, road=0.6, parks={"chem": 0.55, "chem2": 0.35, "scatter": 0.1},
                      words=["化工", "化学", "新材料", "精细化工", "化学品", "高分子材料"]),
    "general": dict(n=200, lines=(0.4, 0.35, 0.25), size=(5, 1.0, 0.2, 100), hours=(8, 12, 16),
                    value=1.0, road=1.0,
                    parks={"hitech": 0.2, "econ": 0.2, "south": 0.15, "light": 0.1, "west": 0.1,
                           "scatter": 0.25},
                    words=["塑料制品", "电子", "塑业", "电子科技", "新材料", "纺织",
                           "玻璃制品", "光电", "复合材料", "包装制品"]),
}

# Grade quotas for the A-D industries (overall mix of all enterprises city-wide: A 5 % incl.
# A+, B 15 % incl. B-, D 10 %, C the rest of the A-D industries, about 35 %).
GRADE_SHARE = {"A": 0.05, "B": 0.13, "B-": 0.02, "D": 0.10}  # of all enterprises; C = rest of A-D
N_A_PLUS = 2            # of the A quota, promoted to A+
LEADING_SHARE = 0.15    # share of leading (引领性) in the leading / non-leading industries
WHITELIST_SHARE = 0.10  # of the enterprises in WHITELIST_INDUSTRIES
RESTRICTED_SHARE = 0.02  # of all enterprises
N_LIVELIHOOD_BOILERS = 33  # centralised steam / heat supply and food-processing boilers
TRUCK_PAYLOAD_T = 30.0   # [t] per heavy-truck trip
# Bulk transport (大宗物料运输) means > 10 heavy-truck trips a day (日常车辆进出超过10辆次,
# as city emergency plans define 大宗物料运输 for 001 七(二十七)'s transport response). The list flags
# enterprises whose estimated traffic is at least 20 trips a day, so that every flagged one is
# clearly above that line; reported trips are capped at 600.
TRIPS_RANGE = (20, 600)

# Characters for invented trade names (字号); pairs that are well-known brands are excluded.
NAME_CHARS = list("华瑞恒泰鑫宏盛隆源达丰祥信安德鼎嘉润金宇通远明兴昌和利新永腾晟振凯诚立"
                  "天江东南龙凤云青翔顺富康宁欣益佳万星辉博正茂汇创锦荣峰旭弘航卓")
NAME_BLOCK = {"华润", "恒力", "恒瑞", "新华", "华新", "永泰", "江南", "东方", "南方", "天安",
              "万达", "龙源", "华泰", "恒安", "达利", "安利", "宏达", "金龙", "云南", "江东",
              "东南", "海信", "天和", "正泰", "德力", "博世", "金峰", "万华", "卓越", "明珠",
              "通达", "新天", "青山", "中天", "信达", "华峰", "盛虹", "恒丰", "华晟", "天顺"}


# ---------------------------------------------------------------------------------------------
class Enterprise:
    """One enterprise under construction: identity, location, flags and its lines."""

    def __init__(self, industry: str, words: list[str] | str, district: str, lat: float,
                 lon: float, big: bool = False):
        self.industry = industry
        self.words = [words] if isinstance(words, str) else list(words)
        self.district = district
        self.lat = lat
        self.lon = lon
        self.big = big
        self.lines: list[dict] = []   # process, activity, hours, rates (dict or None)
        self.grade = "general"
        self.livelihood = 0
        self.ultra_low = 0
        self.whitelist = 0
        self.restricted = 0
        self.value_wan_yuan = 0.0     # enterprise output value [万元/d]
        self.road_t = 0.0             # heavy-truck freight [t/d]
        self.name = ""
        self.size_q = 0.5             # size quantile within its industry, 0..1

    def add_line(self, process: str, activity: float, hours: int, rates: dict | None = None):
        unit, allowed = INDUSTRY_PROCESSES[self.industry]
        assert process in allowed, (self.industry, process)
        self.lines.append(dict(process=process, activity=float(activity), hours=int(hours),
                               rates=rates))

    @property
    def total_activity(self) -> float:
        return sum(line["activity"] for line in self.lines)


def trunc_lognormal(rng, median, sigma, lo, hi, size):
    """Lognormal draws (median, sigma of log) kept within [lo, hi] by rejection."""
    out = np.empty(size)
    filled = 0
    while filled < size:
        draw = median * np.exp(sigma * rng.standard_normal(max(size, 8)))
        ok = draw[(draw >= lo) & (draw <= hi)]
        take = min(size - filled, ok.size)
        out[filled:filled + take] = ok[:take]
        filled += take
    return out


def place(rng, park: str | None = None, district: str | None = None, spread: float | None = None,
          scatter_weights: dict | None = None):
    """Return (district, lat, lon) in a park, or scattered around a district centre."""
    if park is not None and park != "scatter":
        district, lat0, lon0, sd = PARKS[park]
    else:
        if district is None:
            weights = scatter_weights or DEFAULT_SCATTER
            names = list(weights)
            p = np.array([weights[k] for k in names], dtype=float)
            district = names[rng.choice(len(names), p=p / p.sum())]
        lat0, lon0 = DISTRICTS[district]
        sd = SCATTER_SPREAD
    if spread is not None:
        sd = spread
    for _ in range(100):  # redraw points that fall outside the city's extent
        lat = lat0 + sd * rng.standard_normal()
        lon = lon0 + sd * 1.15 * rng.standard_normal()  # 1 deg lon ~ 0.85 deg lat here
        if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
            break
    lat = float(np.clip(lat, *LAT_RANGE))
    lon = float(np.clip(lon, *LON_RANGE))
    return district, lat, lon


def cems_rates(rng, activity_per_day, flue, conc, pm10_frac, pm25_frac):
    """Direct emission rates [kg/h] from flue gas and concentrations.

    activity_per_day [unit/d]; flue: specific flue-gas volume per pollutant [Nm3 per unit]
    (key "pm" for particulate); conc: concentration [mg/Nm3] with keys so2, nox, pm, voc, nh3.
    Each concentration is varied by ±20 %.
    """
    per_h = activity_per_day / 24.0
    c = {k: v * rng.uniform(0.8, 1.2) for k, v in conc.items()}
    rate = {k: per_h * flue[k] * c[k] * 1e-6 for k in conc}
    return {"so2_kg_h": rate["so2"], "nox_kg_h": rate["nox"],
            "pm10_kg_h": rate["pm"] * pm10_frac, "pm25_kg_h": rate["pm"] * pm25_frac,
            "voc_kg_h": rate["voc"], "nh3_kg_h": rate["nh3"]}


def choose_grade(rng, probs: dict) -> str:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return keys[rng.choice(len(keys), p=p / p.sum())]


# ---------------------------------------------------------------------------------------------
# The large enterprises, built one by one.
def make_power_plants(rng) -> list[Enterprise]:
    """Three coal power plants, two identical units each; CEMS direct rates (ultra-low)."""
    plants = [
        dict(words="发电", mw=(600, 660, 1000), loc=("新港区", 32.305, 119.615)),
        dict(words="发电", mw=(600, 660), loc=("新港区", 32.318, 119.705)),
        dict(words="热电", mw=(330, 350), loc=("江滨区", 32.262, 119.470)),
    ]
    out = []
    for spec in plants:
        district, lat0, lon0 = spec["loc"]
        e = Enterprise("power_coal", spec["words"], district,
                       lat0 + 0.002 * rng.standard_normal(), lon0 + 0.002 * rng.standard_normal(),
                       big=True)
        mw = float(rng.choice(spec["mw"]))
        for _ in range(2):
            load = rng.uniform(0.6, 0.8)
            mwh_d = mw * 24 * load
            # ~3,050 Nm3 of flue gas per MWh (a 660 MW unit at full load ~2e6 Nm3/h).
            flue = dict.fromkeys(["so2", "nox", "pm", "voc", "nh3"], 3050.0)
            conc = dict(so2=rng.uniform(15, 30), nox=rng.uniform(28, 45),
                        pm=rng.uniform(2.5, 6.0), voc=1.5, nh3=rng.uniform(0.4, 1.0))
            e.add_line("boiler", mwh_d, 24, cems_rates(rng, mwh_d, flue, conc, 1.0, 0.6))
        e.grade = "general"
        e.livelihood = 1
        e.ultra_low = 1
        e.value_wan_yuan = e.total_activity * 0.039  # ~0.39 yuan/kWh
        e.road_t = e.total_activity * 0.08            # ash, gypsum, limestone
        out.append(e)
    return out


STEEL_FLUE = {  # process: (Nm3 per t, conc if ultra-low, conc otherwise [mg/Nm3])
    "sinter": (5500, dict(so2=20, nox=35, pm=5, voc=15, nh3=1.0),
               dict(so2=35, nox=90, pm=12, voc=20, nh3=1.5)),
    "pellet": (3000, dict(so2=20, nox=40, pm=5, voc=3, nh3=0.8),
               dict(so2=35, nox=100, pm=10, voc=4, nh3=1.0)),
    "blast_furnace": (3500, dict(so2=10, nox=25, pm=5, voc=1, nh3=0.0),
                      dict(so2=20, nox=45, pm=9, voc=1, nh3=0.0)),
    "converter": (2500, dict(so2=2, nox=5, pm=5, voc=1, nh3=0.0),
                  dict(so2=3, nox=8, pm=10, voc=1, nh3=0.0)),
    "rolling": (1000, dict(so2=15, nox=80, pm=3, voc=2, nh3=0.0),
                dict(so2=30, nox=150, pm=8, voc=2, nh3=0.0)),
    "lime_kiln": (3000, dict(so2=20, nox=80, pm=6, voc=1, nh3=0.0),
                  dict(so2=40, nox=150, pm=12, voc=1, nh3=0.0)),
}


def make_steel(rng) -> Enterprise:
    """Integrated steel works (~5 Mt/a crude steel); CEMS direct rates on every line."""
    district, lat, lon = place(rng, "heavy", spread=0.004)
    e = Enterprise("steel", "钢铁", district, lat, lon, big=True)
    e.grade = choose_grade(rng, {"A": 0.6, "B": 0.4})
    e.ultra_low = int(e.grade == "A")
    hot_metal = rng.uniform(12500, 14500)                # [t/d]
    n_bf = int(rng.integers(2, 4))
    bf_share = rng.dirichlet(np.full(n_bf, 6.0))
    crude = hot_metal * rng.uniform(1.06, 1.10)          # converters add scrap
    plan = []
    sinter = hot_metal * rng.uniform(1.15, 1.25)
    s1 = rng.uniform(0.52, 0.6)
    plan += [("sinter", sinter * s1), ("sinter", sinter * (1 - s1))]
    plan += [("pellet", hot_metal * rng.uniform(0.22, 0.30))]
    plan += [("blast_furnace", hot_metal * s) for s in bf_share]
    n_bof = int(rng.integers(2, 4))
    plan += [("converter", crude / n_bof * rng.uniform(0.95, 1.05)) for _ in range(n_bof)]
    n_mill = int(rng.integers(2, 4))
    mill_share = rng.dirichlet(np.full(n_mill, 5.0))
    rolled = crude * rng.uniform(0.95, 0.98)
    plan += [("rolling", rolled * s) for s in mill_share]
    lime = crude * rng.uniform(0.05, 0.065)
    plan += [("lime_kiln", lime / 2 * rng.uniform(0.9, 1.1)) for _ in range(2)]
    for process, act in plan:
        vol, c_ul, c_other = STEEL_FLUE[process]
        conc = c_ul if e.ultra_low else c_other
        flue = dict.fromkeys(conc, float(vol))
        e.add_line(process, act, 24, cems_rates(rng, act, flue, conc, 0.9, 0.55))
    e.value_wan_yuan = rolled * 0.40                    # ~4,000 yuan/t of rolled steel
    e.road_t = rolled * 0.5 + hot_metal * 0.25          # ore and coal mostly by ship
    return e


def make_eaf(rng) -> Enterprise:
    district, lat, lon = place(rng, "heavy")
    e = Enterprise("steel_eaf", ["特钢", "钢业"], district, lat, lon, big=True)
    e.grade = choose_grade(rng, {"A": 0.3, "B": 0.5, "C": 0.2})
    for _ in range(int(rng.integers(1, 3))):
        e.add_line("electric_arc_furnace", rng.uniform(1000, 2500), 24)
    e.value_wan_yuan = e.total_activity * 0.38
    e.road_t = e.total_activity * 1.6
    return e


def make_coking(rng) -> Enterprise:
    district, lat, lon = place(rng, "heavy")
    e = Enterprise("coking", ["焦化", "煤化工"], district, lat, lon, big=True)
    e.grade = choose_grade(rng, {"A": 0.2, "B": 0.5, "C": 0.3})
    for _ in range(int(rng.integers(2, 4))):
        e.add_line("coke_oven", rng.uniform(1400, 2700), 24)
    e.value_wan_yuan = e.total_activity * 0.25
    e.road_t = e.total_activity * 0.9
    return e


def make_glass(rng) -> Enterprise:
    district, lat, lon = place(rng, "heavy")
    e = Enterprise("flat_glass", ["玻璃", "浮法玻璃"], district, lat, lon, big=True)
    e.grade = choose_grade(rng, {"A": 0.3, "B": 0.5, "C": 0.2})
    for _ in range(2):
        e.add_line("glass_furnace", rng.uniform(600, 1000), 24)
    e.value_wan_yuan = e.total_activity * 0.20
    e.road_t = e.total_activity * 1.5
    return e


def make_refinery(rng) -> Enterprise:
    district, lat, lon = place(rng, "chem", spread=0.004)
    e = Enterprise("refining", ["石化", "石油化工"], district, lat, lon, big=True)
    e.grade = choose_grade(rng, {"A": 0.3, "B": 0.5, "C": 0.2})
    e.add_line("crude_processing", rng.uniform(9000, 11500), 24)   # ~3.5-4 Mt/a unit
    e.add_line("crude_processing", rng.uniform(5000, 7000), 24)    # ~2 Mt/a unit
    e.value_wan_yuan = e.total_activity * 0.50
    e.road_t = e.total_activity * 0.12                  # crude by pipeline / ship
    return e


CEMENT_FLUE = dict(so2=2400.0, nox=2400.0, voc=2400.0, nh3=2400.0, pm=4200.0)  # Nm3/t clinker
CEMENT_CONC_UL = dict(so2=15, nox=45, pm=5, voc=8, nh3=3)
CEMENT_CONC = dict(so2=25, nox=85, pm=8, voc=8, nh3=5)


def make_cement(rng, park: str) -> Enterprise:
    """Integrated cement plant: 1-2 clinker kilns (CEMS direct rates) and 2-4 cement mills."""
    district, lat, lon = place(rng, park, spread=0.008)
    e = Enterprise("cement", "水泥", district, lat, lon, big=True)
    e.grade = choose_grade(rng, {"A": 0.35, "B": 0.45, "C": 0.2})
    e.ultra_low = int(e.grade == "A")
    kilns = [float(rng.choice([2500, 3200, 4000, 4500, 5000])) * rng.uniform(0.85, 1.0)
             for _ in range(int(rng.integers(1, 3)))]
    for act in kilns:
        conc = CEMENT_CONC_UL if e.ultra_low else CEMENT_CONC
        e.add_line("clinker_kiln", act, 24, cems_rates(rng, act, CEMENT_FLUE, conc, 0.9, 0.5))
    clinker = sum(kilns)
    cement = clinker * rng.uniform(1.2, 1.4) * rng.uniform(0.6, 1.0)
    n_mill = int(rng.integers(2, 5))
    for s in rng.dirichlet(np.full(n_mill, 5.0)):
        e.add_line("grinding", cement * s, int(rng.choice([16, 20, 24])))
    surplus_clinker = max(0.0, clinker - cement * 0.77)
    e.value_wan_yuan = cement * 0.04 + surplus_clinker * 0.03
    e.road_t = cement * 0.8 + clinker * 0.25
    return e


def make_waste_to_energy(rng) -> Enterprise:
    """Municipal-waste incineration plant, counted as a biomass/waste boiler; livelihood."""
    district, lat, lon = place(rng, district="南塘区", spread=0.01)
    e = Enterprise("boiler_biomass", "环保能源", district, lat, lon, big=True)
    for _ in range(int(rng.integers(2, 4))):
        e.add_line("boiler", rng.uniform(400, 600), 24)  # t/d waste per incinerator line
    e.livelihood = 1
    e.value_wan_yuan = e.total_activity * 0.025          # power sales + gate fee
    e.road_t = e.total_activity * 1.1
    return e


# ---------------------------------------------------------------------------------------------
def make_generic(rng, industry: str, spec: dict) -> list[Enterprise]:
    n = spec["n"]
    median, sigma, lo, hi = spec["size"]
    typical = trunc_lognormal(rng, median, sigma, lo, hi, n)
    nlines = 1 + rng.choice(len(spec["lines"]), size=n, p=np.asarray(spec["lines"]))
    park_keys = list(spec["parks"])
    park_p = np.array([spec["parks"][k] for k in park_keys], dtype=float)
    out = []
    for i in range(n):
        park = park_keys[rng.choice(len(park_keys), p=park_p / park_p.sum())]
        district, lat, lon = place(rng, park, scatter_weights=spec.get("scatter"))
        e = Enterprise(industry, spec["words"], district, lat, lon)
        acts = np.clip(typical[i] * np.exp(0.3 * rng.standard_normal(nlines[i])), lo, hi)
        process = INDUSTRY_PROCESSES[industry][1][-1] if industry == "cement" else \
            INDUSTRY_PROCESSES[industry][1][0]
        for act in acts:
            e.add_line(process, act, 24)
        noise = float(np.exp(0.25 * rng.standard_normal()))
        e.value_wan_yuan = e.total_activity * spec["value"] * noise
        e.road_t = e.total_activity * spec["road"]
        out.append(e)
    # Size quantile within the industry, then hours (bigger enterprises run longer shifts).
    sizes = np.array([e.total_activity for e in out])
    q = (np.argsort(np.argsort(sizes)) + 0.5) / n
    hours = spec["hours"]
    for e, qi in zip(out, q):
        e.size_q = float(qi)
        if isinstance(hours, int):
            h = hours
        else:
            k = int(np.clip(qi + 0.25 * rng.standard_normal(), 0, 0.999) * len(hours))
            h = hours[k]
        for line in e.lines:
            line["hours"] = h
    return out


def assign_generic_grades(rng, generic: list[Enterprise], n_all: int,
                          special_grades: list[str]) -> None:
    """Grades of the generic enterprises, by city-wide quota (GRADE_SHARE).

    The quotas count the large enterprises graded already (`special_grades`). A and B go
    preferably to the bigger enterprises of an industry, D to the smaller ones; the A-D
    enterprises left over are C.
    """
    ad = []
    for e in generic:
        if e.industry in GENERAL_GRADE:
            e.grade = "general"
        elif e.industry in LEADING_GRADE:
            e.grade = "non_leading"  # leading ones are picked below
        else:
            e.grade = "C"
            ad.append(e)
    quota = {g: round(share * n_all) - special_grades.count(g) for g, share in GRADE_SHARE.items()}
    up = lambda e: 0.4 + 1.2 * e.size_q    # noqa: E731  (bigger -> more likely)
    down = lambda e: 1.6 - 1.2 * e.size_q  # noqa: E731  (smaller -> more likely)
    for grade, weight in (("A", up), ("D", down), ("B-", lambda e: 1.0), ("B", up)):
        free = [e for e in ad if e.grade == "C"]
        for e in weighted_pick(rng, free, [weight(e) for e in free], max(quota[grade], 0)):
            e.grade = grade
    ln = [e for e in generic if e.industry in LEADING_GRADE]
    for e in weighted_pick(rng, ln, [0.2 + e.size_q for e in ln], round(LEADING_SHARE * len(ln))):
        e.grade = "leading"


def weighted_pick(rng, candidates: list, weights, k: int) -> list:
    w = np.asarray(weights, dtype=float)
    k = min(k, int((w > 0).sum()))
    idx = rng.choice(len(candidates), size=k, replace=False, p=w / w.sum())
    return [candidates[i] for i in sorted(idx)]


def assign_flags(rng, ents: list[Enterprise], generic: list[Enterprise]) -> None:
    n_all = len(ents)
    # A+ : two A-graded enterprises of the A-D industries (bigger ones more likely).
    a_ents = [e for e in generic if e.grade == "A"]
    for e in weighted_pick(rng, a_ents, [0.2 + e.size_q for e in a_ents], N_A_PLUS):
        e.grade = "A+"
    # Livelihood (保障类): power plants and the waste plant are set already; add one cement
    # plant co-processing municipal waste, two pharmaceutical plants and heat-supply boilers.
    cement = [e for e in ents if e.industry == "cement" and e.big]
    weighted_pick(rng, cement, np.ones(len(cement)), 1)[0].livelihood = 1
    pharma = [e for e in generic if e.industry == "pharmaceuticals"]
    for e in weighted_pick(rng, pharma, [0.2 + e.size_q for e in pharma], 2):
        e.livelihood = 1
    boilers = [e for e in generic if e.industry.startswith("boiler_")]
    for e in weighted_pick(rng, boilers, [0.1 + e.size_q ** 2 for e in boilers],
                           N_LIVELIHOOD_BOILERS):
        e.livelihood = 1
        if e.industry == "boiler_gas":
            e.words = ["热力", "食品", "乳业", "粮油", "食品科技"]
        else:
            e.words = ["热力", "热电", "供热"]
        for line in e.lines:
            line["hours"] = 24
    # Ultra-low (超低排放) besides power, steel and cement: the larger coal and biomass boilers
    # and glass / coking / EAF if graded A.
    for e in ents:
        if e.industry == "boiler_coal" and e.total_activity >= 30:
            e.ultra_low = 1
        elif e.industry == "boiler_biomass" and not e.big and e.total_activity >= 60:
            e.ultra_low = 1
        elif e.industry in ("flat_glass", "coking", "steel_eaf") and e.grade in ("A", "A+"):
            e.ultra_low = 1
    # White list (白名单): ~10 % of the enterprises in the low-VOCs-material industries.
    voc = [e for e in generic if e.industry in WHITELIST_INDUSTRIES]
    gw = {"A+": 4.0, "A": 4.0, "leading": 4.0, "B": 1.5, "B-": 1.0, "C": 0.7,
          "non_leading": 0.7, "D": 0.0}
    for e in weighted_pick(rng, voc, [gw[e.grade] for e in voc], round(WHITELIST_SHARE * len(voc))):
        e.whitelist = 1
    # Restricted (限制类): ~2 % of all enterprises, small kilns and cupolas of low grade.
    cand = [e for e in generic if e.industry in RESTRICTED_WEIGHT]
    rw = {"D": 3.0, "C": 1.0, "B-": 0.3}
    weights = [RESTRICTED_WEIGHT[e.industry] * rw.get(e.grade, 0.0) * (1 - e.size_q) ** 2
               for e in cand]
    for e in weighted_pick(rng, cand, weights, round(RESTRICTED_SHARE * n_all)):
        e.restricted = 1


def make_name(rng, e: Enterprise, used: set) -> str:
    for _ in range(1000):
        a, b = rng.choice(len(NAME_CHARS), size=2, replace=False)
        trade = NAME_CHARS[a] + NAME_CHARS[b]
        if trade in NAME_BLOCK:
            continue
        word = e.words[rng.integers(len(e.words))]
        if e.big:
            suffix = ["股份有限公司", "集团有限公司", "有限公司"][rng.integers(3)]
        else:
            suffix = ["有限公司"] * 7 + ["股份有限公司"] + ["有限责任公司"] * 2
            suffix = suffix[rng.integers(len(suffix))]
        name = f"{CITY_NAME}{trade}{word}{suffix}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("could not make a unique enterprise name")


def sig_round(x: float, sig: int = 4, max_decimals: int = 3) -> float:
    """Round to `sig` significant figures but never more than `max_decimals` decimals."""
    if x == 0:
        return 0.0
    decimals = sig - 1 - int(np.floor(np.log10(abs(x))))
    return round(float(x), min(decimals, max_decimals))


# ---------------------------------------------------------------------------------------------
def generate(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Build the Demo City enterprise list; one row per production line."""
    rng = np.random.default_rng(seed)
    ents: list[Enterprise] = []
    ents += make_power_plants(rng)
    ents.append(make_steel(rng))
    ents.append(make_eaf(rng))
    ents.append(make_coking(rng))
    ents.append(make_glass(rng))
    ents.append(make_refinery(rng))
    for park in ("building", "building", "west", "west"):
        ents.append(make_cement(rng, park))
    ents.append(make_waste_to_energy(rng))
    generic: list[Enterprise] = []
    for industry, spec in GENERIC.items():
        generic += make_generic(rng, industry, spec)
    assign_generic_grades(rng, generic, len(ents) + len(generic), [e.grade for e in ents])
    ents += generic
    assign_flags(rng, ents, generic)

    used: set = set()
    for e in ents:
        e.name = make_name(rng, e, used)

    # Enterprise ids: by district, then industry, then size (largest first).
    district_rank = {d: i for i, d in enumerate(DISTRICTS)}
    industry_rank = {k: i for i, k in enumerate(INDUSTRY_ORDER)}
    ents.sort(key=lambda e: (district_rank[e.district], industry_rank[e.industry],
                             -e.total_activity, e.name))

    rows = []
    for num, e in enumerate(ents, start=1):
        eid = f"DC{num:04d}"
        unit = INDUSTRY_PROCESSES[e.industry][0]
        trips_est = e.road_t / TRUCK_PAYLOAD_T
        bulk = int(trips_est >= TRIPS_RANGE[0])
        trips = int(min(round(trips_est), TRIPS_RANGE[1])) if bulk else None
        total = e.total_activity
        width = len(str(len(e.lines)))
        for j, line in enumerate(e.lines, start=1):
            rates = line["rates"] or {}
            rows.append({
                "enterprise_id": eid,
                "enterprise_name": e.name,
                "city": CITY,
                "district": e.district,
                "lat": round(e.lat, 5),
                "lon": round(e.lon, 5),
                "industry": e.industry,
                "grade": e.grade,
                "line_id": f"L{j:0{width}d}",
                "process": line["process"],
                "activity": sig_round(line["activity"]),
                "activity_unit": unit,
                **{c: (round(max(rates[c], 0.0), 3) if c in rates else np.nan)
                   for c in RATE_COLUMNS},
                "hours_per_day": line["hours"],
                "output_value_wan_yuan_per_day":
                    round(e.value_wan_yuan * line["activity"] / total, 2),
                "livelihood": e.livelihood,
                "ultra_low": e.ultra_low,
                "whitelist": e.whitelist,
                "restricted": e.restricted,
                "bulk_transport": bulk,
                "truck_trips_per_day": trips,
            })
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["truck_trips_per_day"] = df["truck_trips_per_day"].astype("Int64")
    df = df.sort_values(["enterprise_id", "line_id"], kind="stable").reset_index(drop=True)
    check(df)
    return df


def check(df: pd.DataFrame) -> None:
    """Assert the invariants the simulator's loader relies on."""
    assert list(df.columns) == COLUMNS
    assert not df.duplicated(["enterprise_id", "line_id"]).any(), "duplicate (enterprise, line)"
    for ind, proc, unit in zip(df["industry"], df["process"], df["activity_unit"]):
        u, procs = INDUSTRY_PROCESSES[ind]
        assert unit == u and proc in procs, (ind, proc, unit)
    numeric = df[["activity", *RATE_COLUMNS, "hours_per_day", "output_value_wan_yuan_per_day"]]
    assert (numeric.fillna(0) >= 0).all().all(), "negative number"
    assert (df["activity"] > 0).all()
    assert set(df["grade"]) <= {"A", "A+", "B", "B-", "C", "D", "leading", "non_leading", "general"}
    per_ent = df.groupby("enterprise_id")[["grade", "livelihood", "ultra_low", "whitelist",
                                           "restricted", "bulk_transport",
                                           "truck_trips_per_day"]].nunique(dropna=False)
    assert (per_ent <= 1).all().all(), "enterprise-level field differs between lines"


GRADE_ORDER = ["A+", "A", "B", "B-", "C", "D", "leading", "non_leading", "general"]
FLAGS = ["livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport"]


def summary_markdown(df: pd.DataFrame) -> str:
    """Markdown tables of a generated list: per industry, grade, district, and flag counts."""
    ent = df.drop_duplicates("enterprise_id")
    out = [f"{len(ent)} enterprises, {len(df)} lines (rows).", ""]
    out += ["Enterprises and lines per industry, and enterprises per grade:", ""]
    out += ["| industry | unit | enterprises | lines | " + " | ".join(GRADE_ORDER) + " |",
            "|---|---|---:|---:|" + "---:|" * len(GRADE_ORDER)]
    for ind in INDUSTRY_ORDER:
        sub = df[df["industry"] == ind]
        if sub.empty:
            continue
        e_sub = sub.drop_duplicates("enterprise_id")
        cells = [str(int((e_sub["grade"] == g).sum()) or "") for g in GRADE_ORDER]
        out.append(f"| {ind} | {sub['activity_unit'].iloc[0]} | {len(e_sub)} | {len(sub)} | "
                   + " | ".join(cells) + " |")
    cells = [str(int((ent["grade"] == g).sum())) for g in GRADE_ORDER]
    out.append(f"| **total** | | **{len(ent)}** | **{len(df)}** | " + " | ".join(cells) + " |")
    out += ["", "| grade | enterprises | share of enterprises | lines |", "|---|---:|---:|---:|"]
    for g in GRADE_ORDER:
        n_e = int((ent["grade"] == g).sum())
        n_l = int((df["grade"] == g).sum())
        out.append(f"| {g} | {n_e} | {100 * n_e / len(ent):.1f} % | {n_l} |")
    out += ["", "| district | enterprises | lines |", "|---|---:|---:|"]
    for d in DISTRICTS:
        out.append(f"| {d} | {int((ent['district'] == d).sum())} | "
                   f"{int((df['district'] == d).sum())} |")
    out += ["", "| flag | enterprises | share of enterprises | lines |", "|---|---:|---:|---:|"]
    for f in FLAGS:
        n_e = int(ent[f].sum())
        out.append(f"| {f} | {n_e} | {100 * n_e / len(ent):.1f} % | {int(df[f].sum())} |")
    trips = ent["truck_trips_per_day"].dropna()
    out += ["", f"Lines with direct (CEMS) emission rates: {int(df['so2_kg_h'].notna().sum())}. "
            f"Truck trips per day of the bulk-transport enterprises: {int(trips.min())}-"
            f"{int(trips.max())}, {int(trips.sum())} in all."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the synthetic Demo City (示范市) "
                                                 "enterprise list.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output CSV (default enterprises/demo_city.csv)")
    parser.add_argument("--summary", action="store_true",
                        help="print Markdown summary tables of the generated list")
    args = parser.parse_args(argv)
    df = generate(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\n")
    print(f"wrote {args.out}: {df['enterprise_id'].nunique()} enterprises, {len(df)} lines "
          f"(seed {args.seed})", file=sys.stderr)
    if args.summary:
        print(summary_markdown(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
