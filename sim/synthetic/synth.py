"""Synthetic province: a large enterprise list, per-city meteorology and a season scenario.

``python -m sim.synthetic.synth --cities 13 --lines 100000 --seed 1 --out DIR`` writes, into DIR:
``enterprises.csv`` (contract schema), ``meteorology/<city>.csv`` (one winter per city),
``other_sources/<city>.yaml``, ``policy.yaml`` (a copy of the guideline default) and
``province_season.yaml``, a season scenario with regional and city warnings and
staggered-production calendars. Everything is SYNTHETIC and seeded
(``numpy.random.default_rng(seed)``): the same arguments write the same bytes.

Enterprises are resampled, whole, from a template city list (by default the bundled Demo City),
with sizes jittered, grades partly redrawn within their industry, and cities of heavy-tailed
size; so the industry, grade and size mix of a Yangtze-delta prefecture carries over.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.inputs.meteorology import format_csv, generate_episode
from sim.config.yamlio import read_yaml
from sim.inputs.inventory import RATE_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "enterprises" / "demo_city.csv"
DEFAULT_OTHER = ROOT / "enterprises" / "demo_city_other_sources.yaml"
DEFAULT_POLICY = ROOT / "scenarios" / "policies" / "guideline_default.yaml"
SEASON = ("2023-11-15", "2024-03-16")
# Season segments shared by all cities (regional weather): (start, days, onset, front, peak)
SEGMENTS = (
    ("2023-11-15", 14, 5.0, 8.0, 170.0),
    ("2023-11-29", 14, 3.5, 8.5, 290.0),
    ("2023-12-13", 18, 6.0, 9.0, 220.0),
    ("2023-12-31", 16, 5.0, 10.5, 330.0),
    ("2024-01-16", 21, 8.0, 10.5, 200.0),
    ("2024-02-06", 19, 5.0, 9.0, 260.0),
    ("2024-02-25", 20, 7.0, 9.5, 160.0),
)


def city_names(n: int) -> list[str]:
    """Synthetic city keys ``city01`` ... (plain ASCII: they also name files)."""
    return [f"city{i + 1:02d}" for i in range(n)]


def synthetic_list(template: pd.DataFrame, cities: int, lines: int, rng: np.random.Generator) -> pd.DataFrame:
    """About ``lines`` rows resampled by whole enterprises from ``template``.

    City sizes are lognormal (a few large industrial cities); each sampled enterprise gets a new
    id, a city, a position near its city's centre, activity and rates × a lognormal factor
    (σ 0.35), output value alike, and with probability 0.2 a grade redrawn from its industry.
    """
    firms = template.enterprise_id.to_numpy()
    codes, uniques = pd.factorize(firms)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(template)])
    n_firms = int(np.ceil(lines / sizes.mean() * 1.2)) + 10  # enough draws to pass `lines`
    pick = rng.integers(0, len(starts), n_firms)
    pick = pick[: int(np.searchsorted(np.cumsum(sizes[pick]), lines)) + 1]  # the first firms reaching `lines`
    rows = np.concatenate([np.arange(starts[p], starts[p] + sizes[p]) for p in pick]) if pick.size else np.zeros(0, int)
    firm_of_row = np.repeat(np.arange(pick.size), sizes[pick])
    out = template.iloc[rows].reset_index(drop=True).copy()

    weights = rng.lognormal(0.0, 0.6, cities)
    city_of_firm = rng.choice(cities, size=pick.size, p=weights / weights.sum())
    centres_lat = rng.uniform(31.0, 35.0, cities)
    centres_lon = rng.uniform(116.5, 121.5, cities)
    names = np.array(city_names(cities))
    out["city"] = names[city_of_firm][firm_of_row]
    out["enterprise_id"] = np.char.add("P", np.char.zfill(np.arange(pick.size).astype(str), 7))[firm_of_row]
    out["enterprise_name"] = np.char.add("示范省合成企业", np.arange(pick.size).astype(str))[firm_of_row]
    out["district"] = np.char.add(np.char.add(names[city_of_firm], "-d"), rng.integers(1, 6, pick.size).astype(str))[firm_of_row]
    out["lat"] = np.round(centres_lat[city_of_firm][firm_of_row] + rng.normal(0, 0.12, pick.size)[firm_of_row], 5)
    out["lon"] = np.round(centres_lon[city_of_firm][firm_of_row] + rng.normal(0, 0.12, pick.size)[firm_of_row], 5)
    scale = rng.lognormal(0.0, 0.35, pick.size)[firm_of_row]
    for col in ["activity", "output_value_wan_yuan_per_day", *RATE_COLUMNS]:
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(float) * scale
        out[col] = np.round(values, 3)
    # grades: a fifth of enterprises redrawn from the grades seen in their industry
    redraw = (rng.random(pick.size) < 0.2)[firm_of_row]
    for industry, idx in out[redraw].groupby("industry").indices.items():
        pool = template.grade[template.industry == industry].to_numpy()
        rows_idx = out.index[redraw][idx]
        firm_ids = firm_of_row[rows_idx]
        drawn = pool[rng.integers(0, pool.size, firm_ids.max() + 1)]
        out.loc[rows_idx, "grade"] = drawn[firm_ids]
    return out


def city_meteorology(city_index: int, seed: int) -> pd.DataFrame:
    """One winter for one city: the shared episode calendar with city-specific strength."""
    rng = np.random.default_rng([seed, city_index])
    parts = []
    for i, (start, days, onset, front, peak) in enumerate(SEGMENTS):
        parts.append(generate_episode(start, days, seed=int(rng.integers(1 << 31)), peak_ug_m3=float(peak * rng.uniform(0.8, 1.2)),
                                      onset_day=float(onset + rng.uniform(-0.5, 0.5)), front_day=front))
    return pd.concat(parts, ignore_index=True)


def season_warnings(cities: list[str], rng: np.random.Generator) -> list[dict]:
    """About 20 warnings: one regional warning per heavy episode (level from its strength) and a
    few city warnings before and after them."""
    out = []
    for start, days, onset, front, peak in SEGMENTS:
        if peak < 200:
            continue
        level = "red" if peak >= 320 else "orange" if peak >= 250 else "yellow"
        begin = pd.Timestamp(start) + pd.Timedelta(days=onset + 1)
        end = pd.Timestamp(start) + pd.Timedelta(days=front + 0.5)
        out.append({"level": level, "start": begin.isoformat(timespec="minutes"), "end": end.isoformat(timespec="minutes")})
    regional = list(out)
    city_warnings = []
    for w in regional:
        for k in range(3):
            city = cities[int(rng.integers(len(cities)))]
            begin = pd.Timestamp(w["start"]) - pd.Timedelta(hours=int(rng.integers(12, 48)))
            city_warnings.append({"level": "yellow", "start": begin.isoformat(timespec="minutes"), "end": w["start"], "city": [city]})
    return regional, city_warnings


def write_province(out: Path, cities: int, lines: int, seed: int, template_path: Path = DEFAULT_TEMPLATE) -> Path:
    """Write the synthetic province into ``out``; return the scenario path."""
    rng = np.random.default_rng(seed)
    template = pd.read_csv(template_path, dtype=str, keep_default_na=False)
    names = city_names(cities)
    (out / "meteorology").mkdir(parents=True, exist_ok=True)
    (out / "other_sources").mkdir(exist_ok=True)
    table = synthetic_list(template, cities, lines, rng)
    table.to_csv(out / "enterprises.csv", index=False, lineterminator="\n")
    share = table.city.value_counts(normalize=True).reindex(names).fillna(0.0)
    other = read_yaml(DEFAULT_OTHER, "other sources")
    base_lines = len(template)
    for k, city in enumerate(names):
        (out / "meteorology" / f"{city}.csv").write_text(format_csv(city_meteorology(k, seed)), encoding="utf-8")
        factor = float(share[city]) * len(table) / base_lines  # other sources scale with the city's industry
        cats = []
        for cat in other["categories"]:
            cats.append({**cat, "emissions_t_d": {p: round(v * factor, 4) for p, v in cat["emissions_t_d"].items()}})
        doc = {"city": city, "description": f"Synthetic non-industrial sources of {city}.", "source": "synthetic: Demo City totals scaled by list size", "categories": cats}
        (out / "other_sources" / f"{city}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shutil.copyfile(DEFAULT_POLICY, out / "policy.yaml")
    regional, city_warnings = season_warnings(names, rng)
    areas = np.round(rng.uniform(3000, 9000, cities), -1)
    scenario = {
        "name": f"Synthetic province, {cities} cities, {len(table)} lines, winter 2023-24",
        "description": "SYNTHETIC province for scale tests: regional and city warnings, staggered production.",
        "period": {"start": f"{SEASON[0]}T00:00", "end": f"{SEASON[1]}T00:00"},
        "inventory": {"enterprises": "enterprises.csv", "emission_factors": str((ROOT / "emission_factors").resolve()),
                      "other_sources": [f"other_sources/{c}.yaml" for c in names]},
        "policy": "policy.yaml",
        "warnings": {"schedule": city_warnings, "regional": regional},
        "staggered_production": [
            {"name": "cement_clinker_heating_season", "industry": "cement", "process": "clinker_kiln", "start": SEASON[0], "end": SEASON[1],
             "reduction": 1.0, "exempt_grades": ["A", "A+", "leading"], "exempt_flags": ["ultra_low"]},
            {"name": "steel_sinter_cap", "industry": "steel", "process": "sinter", "grade": ["C", "D"], "start": SEASON[0], "end": SEASON[1], "reduction": 0.5},
        ],
        "response": {"delay_hours": {"default": 6, "steel": 12, "cement": 12}, "compliance": 1.0},
        "atmosphere": {"model": "box", "local_share": 0.5,
                       "cities": {c: {"meteorology": f"meteorology/{c}.csv", "parameters": {"area_km2": float(a)}} for c, a in zip(names, areas)}},
        "ensemble": {"members": 1, "seed": seed},
        "output": {"dir": "out"},
    }
    path = out / "province_season.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.synthetic.synth", description="Write a synthetic province (list, meteorology, season scenario).")
    parser.add_argument("--cities", type=int, default=13)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="city list to resample (default: the bundled Demo City)")
    args = parser.parse_args(argv)
    if args.cities < 1 or args.lines < 1:
        print("error: --cities and --lines must be >= 1", file=sys.stderr)
        return 2
    if not args.template.is_file():
        print(f"error: {args.template}: template list not found. Fix: pass --template PATH (run from the repository).", file=sys.stderr)
        return 2
    path = write_province(args.out, args.cities, args.lines, args.seed, args.template)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
