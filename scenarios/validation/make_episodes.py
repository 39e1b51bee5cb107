"""Write the three real-episode validation cases of Beijing, on observed weather, and check them.

Cases (docs/validation.md §8), each a scenario ``scenarios/validation/<case>.yaml`` with its data
in ``scenarios/validation/<case>/``:

- ``beijing_2014-11_apec``: the APEC summit controls, 3-12 November 2014;
- ``beijing_2015-12_red_alerts``: Beijing's first two red alerts, 8 Dec 07:00 - 10 Dec 12:00
  and 19 Dec 07:00 - 22 Dec 24:00, 2015;
- ``beijing_2016-12_red_alert``: the regional red alert, Beijing 16 Dec 20:00 - 21 Dec 24:00, 2016.

Every case runs both ways on the same observed weather (``observed/beijing_<episode>.csv``,
twelve monitoring stations, CC BY 4.0, see ``observed/README.md``):

- ``run_scenario.py CASE.yaml --evaluate``: the after-action evaluation. The observed PM2.5
  (which carries the measures) plus the modelled effect of the measures = the counterfactual;
- ``run_scenario.py CASE.yaml``: the planning run. Its meteorology's ``pm25_baseline_ug_m3`` is
  that counterfactual, so the run projects the effect of the same measures from it.

Files written per case: ``enterprises.csv`` (Beijing's industry as eight sector aggregates),
``other_sources.yaml`` (traffic, machinery, dust, residential, farming), ``policy.yaml`` (the
case's cut per industry), ``warnings_issued.csv`` (the documented warnings), ``observed_pm25.csv``
(the stations' mean) and ``meteorology.csv`` (the observed weather with the counterfactual as
baseline, computed by running the evaluation). A rerun writes byte-identical files.

The inventory is the 2014 sector inventory of the synthetic APEC case (``make_apec_2014.py``:
Beijing EPB 2014 SO2 and NOx totals, sector split an estimate), scaled to each year and, in
December, to the heating season; the cuts per sector are estimates of the published measures.
Every number below carries its source or says "estimate" with the reasoning.

Run from the repository root::

    python scenarios/validation/make_episodes.py           # write every case's files
    python scenarios/validation/make_episodes.py --report  # also print each case's figures
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POLLUTANTS = ("so2", "nox", "pm10", "pm25", "voc", "nh3")
T_D_PER_KT_A = 1000.0 / 365.0


def _apec_tables():
    """SECTORS, CATEGORIES and POLICY_FRAME of the 2014 case (make_apec_2014.py, next to this script)."""
    spec = importlib.util.spec_from_file_location("make_apec_2014", HERE / "make_apec_2014.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SECTORS, module.CATEGORIES, module.POLICY_FRAME


SECTORS_2014, CATEGORIES_2014, POLICY_FRAME = _apec_tables()

# --------------------------------------------------------------------------- years and season
#
# Year scaling of the 2014 inventory [-] (SO2, NOx; the other pollutants follow NOx, an estimate):
#   2015: -6 % SO2 and NOx, Beijing's 2015 target for both totals (Beijing EPB, reported 4 Jan
#         2015); the 2015 bulletin's outcome was not found, so the target is an estimate of it.
#   2016: a further -15.4 % SO2 and -10.3 % NOx against 2015 (2016 Beijing environmental
#         bulletin, released 2 June 2017).
YEAR_SCALE = {
    2014: {"so2": 1.0, "nox": 1.0},
    2015: {"so2": 0.94, "nox": 0.94},
    2016: {"so2": 0.94 * 0.846, "nox": 0.94 * 0.897},
}

# December is heating season (Beijing: 15 Nov - 15 Mar). Estimates of the December rate against
# the annual mean rate [-], by sector: household coal and biomass burn mostly for heat over four
# months (×2.5 rather than ×3 because cooking and hot water run all year); coal boilers are
# mostly heating boilers (×2.0); gas boilers and gas power plants run district heat and power
# (×1.5); the coal combined-heat-and-power plants run at full heat load (×1.3). Other sectors ×1.
HEATING = {"residential": 2.5, "boiler_coal": 2.0, "boiler_gas": 1.5, "power_coal": 1.3}

# --------------------------------------------------------------------------- the cases
#
# Cuts at red [-] by industry (enterprise list) and by other-source category and pollutant.
# APEC: the cuts of make_apec_2014.py, which reproduce the Beijing EPB's published emission cuts
# (SO2 -39.2 %, NOx -49.6 %, PM2.5 -61.6 %, VOCs -33.6 %; press release of 17 Dec 2014).
# Red alerts (Beijing heavy air pollution contingency plan, 2015 and 2016 revisions, as reported
# on the days of the alerts): odd-even plates with a further 30 % of official cars off (APEC:
# 70 %), muck, sand and concrete trucks banned, all outdoor construction stopped, the red-alert
# stop/limit list of manufacturers, no fireworks or barbecues; heating is a livelihood and is
# not cut. 2016 adds China I/II light petrol cars banned, "more than 1,200 enterprises stopped or
# limited, 700+ stopped" (Beijing Commission of Economy and IT, 18 Dec 2016) and more imported
# electricity. Effect sizes are estimates, reasoned per sector in the notes.

_TRAFFIC_RED_ALERT = {"so2": 0.35, "nox": 0.40, "pm10": 0.40, "pm25": 0.40, "voc": 0.35, "nh3": 0.35}
_CONSTRUCTION_STOP = {"machinery": 0.70, "dust": 0.95}


def _category_cuts(case: str) -> dict[str, dict[str, float]]:
    """Red cut per category and pollutant [-] for ``case``."""
    if case == "apec":
        return {c["name"]: dict(c["red"]) for c in CATEGORIES_2014}
    traffic = dict(_TRAFFIC_RED_ALERT)
    if case == "2016":  # China I/II light petrol cars banned on top of odd-even: mostly VOC
        traffic.update({"voc": 0.42, "nox": 0.42})
    zero = {p: 0.0 for p in POLLUTANTS}
    return {
        "road_traffic": traffic,
        "non_road_machinery": {**{p: _CONSTRUCTION_STOP["machinery"] for p in POLLUTANTS}, "nh3": 0.0},
        "construction_dust": {**zero, "pm10": _CONSTRUCTION_STOP["dust"], "pm25": _CONSTRUCTION_STOP["dust"]},
        # traffic -40 % and one extra washing a day on key roads (APEC: -0.72 with trucks and a holiday)
        "road_dust": {**zero, "pm10": 0.55, "pm25": 0.55},
        # no fireworks or outdoor barbecues: a few per cent of household PM and VOC
        "residential": {**zero, "pm10": 0.02, "pm25": 0.02, "voc": 0.02},
        "agriculture": dict(zero),
    }


def _sector_cuts(case: str) -> dict[str, float]:
    """Red production cut per industry [-] for ``case``."""
    if case == "apec":
        return {s["industry"]: s["red"] for s in SECTORS_2014}
    cuts = {
        "power_coal": 0.0,           # heat and power for the heating season: not cut
        "boiler_coal": 0.05,         # industrial boilers on the stop list; heating boilers run
        "boiler_gas": 0.0,
        "cement": 1.0,               # building materials head every stop list
        "refining": 0.30,            # the petrochemical complex at reduced load, as at APEC
        "general": 0.30,             # the stop/limit list of other manufacturers
        "industrial_coating": 0.45,  # spraying stops (also banned outdoors)
        "packaging_printing": 0.45,
    }
    if case == "2016":
        cuts.update({
            "general": 0.45,         # 700+ stopped and ~500 limited of a few thousand manufacturers
            "power_coal": 0.15,      # more electricity imported to cut local generation
            "boiler_gas": 0.10,      # gas power plants at lower load for the same reason
        })
    return cuts


CASES: dict[str, dict] = {
    "beijing_2014-11_apec": {
        "key": "apec", "year": 2014, "observed": "2014-11_apec", "heating": False,
        "name": "APEC 2014, Beijing, on observed weather (validation)",
        "period": ("2014-10-25T00:00", "2014-11-16T00:00"),
        # the controls, 3-12 Nov inclusive (traffic 03:00-24:00, factories from 3 Nov 00:00);
        # announced 31 Oct 2014 (Xinhua), the hour is not given
        "warnings": [("red", "2014-10-31T00:00", "2014-11-03T00:00", "2014-11-13T00:00")],
        # Hebei, Tianjin and Shandong cities took the top emergency level from 3 or 6 Nov; BTH
        # emissions expected to fall 30-40 % (CRAES, Xinhua 26 Oct 2014): the lower end (estimate)
        "regional_cut": 0.30,
    },
    "beijing_2015-12_red_alerts": {
        "key": "2015", "year": 2015, "observed": "2015-12_red_alerts", "heating": True,
        "name": "Beijing red alerts of December 2015, on observed weather (validation)",
        "period": ("2015-11-30T00:00", "2015-12-26T00:00"),
        # issued 7 Dec 18:00 (raised from orange) and 18 Dec 07:00 (Lü et al. 2019, 环境科学 40(1))
        "warnings": [("red", "2015-12-07T18:00", "2015-12-08T07:00", "2015-12-10T12:00"),
                     ("red", "2015-12-18T07:00", "2015-12-19T07:00", "2015-12-23T00:00")],
        # Beijing's own alerts: no regional cut is assumed (the neighbours' alerts of those days
        # were not documented for this case)
        "regional_cut": 0.0,
    },
    "beijing_2016-12_red_alert": {
        "key": "2016", "year": 2016, "observed": "2016-12_red_alert", "heating": True,
        "name": "Regional red alert of December 2016, Beijing, on observed weather (validation)",
        "period": ("2016-12-08T00:00", "2016-12-25T00:00"),
        # issued 15 Dec 13:00 (Lü et al. 2019); Beijing and Tianjin 16 Dec 20:00 - 21 Dec 24:00
        "warnings": [("red", "2016-12-15T13:00", "2016-12-16T20:00", "2016-12-22T00:00")],
        # 23 cities on red, Hebei from 16 Dec 00:00 (Zhang et al. 2019, 环境科学 40(8)); the same
        # package as Beijing's, whose modelled cut of primary PM2.5 is about a third; part of the
        # background is natural or from beyond the 23 cities: 0.20 (estimate)
        "regional_cut": 0.20,
    },
}

#: One parameter set for every case: Beijing's plain (area as in the synthetic APEC case) and
#: the local share of PM2.5 in North China heavy episodes, the middle of 35-65 % (Chen et al.
#: 2019, ACP 19:10845: local 38-59 % over Beijing-Tianjin-Hebei in December 2015; Zhang et al.
#: 2019: 47.1 %, the mean local contribution of the region's cities in December 2016).
AREA_KM2 = 6300
LOCAL_SHARE = 0.5

# --------------------------------------------------------------------------- inventory files


def _scale(case: dict, group: str, pollutant: str) -> float:
    """Year and season factor [-] of ``pollutant`` for an industry or category ``group``."""
    year = YEAR_SCALE[case["year"]]
    factor = year.get(pollutant, year["nox"])
    return factor * (HEATING.get(group, 1.0) if case["heating"] else 1.0)


def enterprises_csv(case: dict) -> str:
    header = ["enterprise_id", "enterprise_name", "city", "district", "industry", "grade", "line_id", "process",
              *[f"{p}_kg_h" for p in POLLUTANTS], "hours_per_day", "livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for s in SECTORS_2014:
        rates = [f"{s['kt'][p] * _scale(case, s['industry'], p) * T_D_PER_KT_A * 1000.0 / 24.0:.3f}" for p in POLLUTANTS]  # kt/a -> kg/h
        writer.writerow([s["id"], s["name"], "beijing", "全市", s["industry"], "general", "L1", s["process"], *rates, "24", "0", "0", "0", "0", "0"])
    return buffer.getvalue()


def other_sources_yaml(case: dict) -> str:
    cuts = _category_cuts(case["key"])
    season = "December (heating season)" if case["heating"] else "annual mean"
    out = [
        f"# Non-industrial sources of Beijing, {case['year']}, {season}, as category totals [t/d], with the",
        f"# case's cuts at red. Written by make_episodes.py from the 2014 inventory of make_apec_2014.py",
        "# (year and heating factors there); edit the tables there, not this file.",
        "city: beijing",
        f"description: Beijing non-industrial sources, {case['year']}, {season}.",
        "source: Beijing EPB 2014 bulletin totals scaled by year; split, heating factors and cuts are estimates (make_episodes.py)",
        "categories:",
    ]
    for c in CATEGORIES_2014:
        t_d = ", ".join(f"{p}: {c['kt'][p] * _scale(case, c['name'], p) * T_D_PER_KT_A:.2f}" for p in POLLUTANTS)
        red = ", ".join(f"{p}: {cuts[c['name']][p]:.2f}" for p in POLLUTANTS)
        out += [f"  - name: {c['name']}", f"    name_zh: {c['name_zh']}", f"    emissions_t_d: {{{t_d}}}",
                f"    profile: {{hourly: {c['profile'][0]}, weekly: {c['profile'][1]}}}", "    reduction:",
                f"      yellow: {{{red}}}", f"      orange: {{{red}}}", f"      red: {{{red}}}",
                f"    source: \"estimate (make_episodes.py)\""]
    return "\n".join(out) + "\n"


def policy_yaml(case: dict, stem: str) -> str:
    cuts = _sector_cuts(case["key"])
    out = [
        f"# {case['name']}: the emergency measures as one production cut per industry of the case's",
        "# sector list, the same at every level (only red is used). Written by make_episodes.py.",
        f"name: {stem}",
        f"description: {case['name']}, measures per industry.",
        "source: \"measures as reported at the time; effect sizes are estimates (make_episodes.py)\"",
        *POLICY_FRAME,
    ]
    for s in SECTORS_2014:
        r = f"{cuts[s['industry']]:.2f}"
        out += [f"  - name: {stem.split('_', 1)[1].replace('-', '_')}_{s['industry']}", f"    industry: {s['industry']}",
                f"    reduction: {{yellow: {r}, orange: {r}, red: {r}}}", "    source: estimate of the measure's effect on the sector (make_episodes.py)"]
    return "\n".join(out) + "\n"


def warnings_csv(case: dict) -> str:
    rows = ["level,issued_at,start,end"] + [",".join(w) for w in case["warnings"]]
    return "\n".join(rows) + "\n"


def observed_csv(observed: pd.DataFrame) -> str:
    frame = pd.DataFrame({"time": observed.time, "pm25_ug_m3": [f"{v:.1f}" for v in observed.pm25_baseline_ug_m3]})
    return frame.to_csv(index=False, lineterminator="\n")


def scenario_yaml(stem: str, case: dict) -> str:
    warnings = "\n".join(f"    - {{level: {lvl}, start: {start}, end: {end}}}" for lvl, _, start, end in case["warnings"])
    cut = f"{case['regional_cut']:.2f}"
    return f"""# {case['name']}.
# Written by make_episodes.py (docs/validation.md §8); edit the tables there, not this file.
# Two ways on the same observed weather (stations: observed/README.md, CC BY 4.0):
#   run_scenario.py {stem}.yaml --evaluate   observed PM2.5 -> counterfactual and effect
#   run_scenario.py {stem}.yaml              counterfactual (meteorology baseline) -> projected effect
name: {case['name']}
description: >
  Beijing's emissions as sector aggregates under the measures of the episode, modelled as red
  warnings at the documented times, on the weather observed at Beijing's twelve national stations.
  The planning baseline is the counterfactual of the after-action evaluation.
period: {{start: {case['period'][0]}, end: {case['period'][1]}}}
inventory:
  enterprises: {stem}/enterprises.csv
  emission_factors: ../../emission_factors
  other_sources: {stem}/other_sources.yaml
policy: {stem}/policy.yaml
warnings:
  schedule:
{warnings}
response:
  delay_hours: {{default: 0}}   # the measures start at the announced hour
  compliance: 1.0             # the published measures taken as carried out
atmosphere:
  model: box
  meteorology: {stem}/meteorology.csv   # observed weather; baseline = the evaluation's counterfactual
  local_share: {LOCAL_SHARE}            # one value for every case: middle of the 35-65 % of heavy episodes
  parameters: {{area_km2: {AREA_KM2}}}  # Beijing's plain
  regional_background_cut: {{yellow: {cut}, orange: {cut}, red: {cut}}}
  regional_response_h: 24
  spin_up_days: 3
ensemble: {{members: 1, seed: 20141103}}
evaluation:
  observed_pm25: {stem}/observed_pm25.csv
  warnings_issued: {stem}/warnings_issued.csv
output: {{dir: ../../out/{stem}}}
"""


# --------------------------------------------------------------------------- writing


def write_case(stem: str, case: dict) -> None:
    """Write the case's files; the meteorology last, from the evaluation's counterfactual."""
    from sim import evaluate, load_scenario
    from sim.inputs.meteorology import format_csv

    folder = HERE / stem
    folder.mkdir(exist_ok=True)
    observed = pd.read_csv(HERE / "observed" / f"beijing_{case['observed']}.csv")
    files = {
        "enterprises.csv": enterprises_csv(case),
        "other_sources.yaml": other_sources_yaml(case),
        "policy.yaml": policy_yaml(case, stem),
        "warnings_issued.csv": warnings_csv(case),
        "observed_pm25.csv": observed_csv(observed),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (HERE / f"{stem}.yaml").write_text(scenario_yaml(stem, case), encoding="utf-8")
    met = folder / "meteorology.csv"
    if not met.exists():  # the evaluation reads the weather only: start from the observation
        met.write_text(format_csv(observed), encoding="utf-8")
    ev = evaluate(load_scenario(HERE / f"{stem}.yaml"))
    counterfactual = ev.pm25.counterfactual.to_numpy()
    frame = observed.copy()
    frame["pm25_baseline_ug_m3"] = np.where(np.isfinite(counterfactual), counterfactual, observed.pm25_baseline_ug_m3)
    met.write_text(format_csv(frame), encoding="utf-8")


def report(stem: str) -> tuple[dict, object]:
    """Both ways' figures of a case (the evaluation's effect and the planning run's) and the
    evaluation itself."""
    from sim import evaluate, load_scenario, run

    scenario = load_scenario(HERE / f"{stem}.yaml")
    ev = evaluate(scenario)
    result = run(scenario)
    return case_figures(ev, result), ev


def case_figures(ev, result) -> dict:
    """Figures of one case over its warning hours, both ways.

    Evaluation: mean observed and counterfactual PM2.5, the mean and peak effect [μg/m³] and
    the mean effect as a share of the counterfactual [%], hours from the first warning to the
    peak effect. Planning run: mean baseline and scenario PM2.5, the local reduction (c × local
    baseline − c × local scenario) and the regional one (the rest) [μg/m³], the peak hourly
    reduction [%], and the total emission cut per pollutant [-] (1 − Σ scenario ÷ Σ baseline,
    all sources) over the warning hours.
    """
    e = ev.metrics["pm25_effect"]
    warned = (ev.pm25.level != "none").to_numpy()
    pm = result.pm25[warned]
    em = result.emissions
    base = em[em.variant == "baseline"].reset_index(drop=True)
    scen = em[em.variant == "scenario"].reset_index(drop=True)
    local = float((pm.local_baseline - pm.local_scenario).mean())
    total = float((pm.baseline - pm.scenario).mean())
    return {
        "observed_ug_m3": float(ev.pm25.observed[warned].mean()),
        "counterfactual_ug_m3": float(ev.pm25.counterfactual[warned].mean()),
        "effect_ug_m3": float(e["mean_reduction_during_warnings_ug_m3"]),
        "effect_pct": float(e["mean_reduction_during_warnings_pct"]),
        "peak_effect_ug_m3": float(e["peak_reduction_during_warnings_ug_m3"]),
        "hours_to_peak_effect": int(e["hours_from_first_warning_to_peak_reduction"]),
        "planning_baseline_ug_m3": float(pm.baseline.mean()),
        "planning_scenario_ug_m3": float(pm.scenario.mean()),
        "planning_local_ug_m3": local,
        "planning_regional_ug_m3": total - local,
        "planning_total_pct": 100.0 * total / float(pm.baseline.mean()),
        "planning_peak_reduction_pct": float(result.metrics["pm25"]["peak_reduction_during_warnings_pct"]),
        "cuts": {p: float(1.0 - scen[p][warned].sum() / base[p][warned].sum()) for p in ("so2", "nox", "pm25", "voc")},
    }


#: Beijing's centre [°N, °E] (Tian'anmen) for the regional model.
BEIJING = (39.90, 116.40)


def regional_variant(scenario):
    """The case with ``atmosphere.model: regional`` and Beijing as its only city: the local
    share comes out of the model (Beijing's sources against the far field of
    ``sim/data/regional.yaml``) instead of ``local_share``; no regional cut (the far field is
    not cut). Same weather, emissions and measures."""
    from sim.variants import with_atmosphere

    atm = scenario.atmosphere
    city = {"meteorology": str(atm.meteorology), "lat": BEIJING[0], "lon": BEIJING[1], "area_km2": AREA_KM2}
    return with_atmosphere(scenario, model="regional", meteorology=None, local_share=None, regional_background_cut=None, parameters={},
                           cities={"beijing": city})


#: Published figures each case is read against (docs/validation.md §8).
PUBLISHED = {
    "beijing_2014-11_apec": "local 19.8 and total 26.5 μg/m³ of a 69.5 μg/m³ counterfactual, 3-12 Nov (Beijing EPB, 17 Dec 2014)",
    "beijing_2015-12_red_alerts": "PM2.5 -11 to -21 % (Xue et al. 2016); about -20 to -25 % (Cheng et al. 2016); peaks -10 to -20 % (Cheng et al. 2017)",
    "beijing_2016-12_red_alert": "BTH PM2.5 -27.6 % on average, local contribution 47.1 % (Zhang et al. 2019)",
}


def _sensitivity_variants(scenario, tmp: Path):
    """(label, scenario) pairs: one uncertain input changed at a time."""
    from sim.variants import with_atmosphere

    atm = scenario.atmosphere

    def met_scaled(factor: float) -> Path:
        frame = pd.read_csv(atm.meteorology)
        frame["mixing_height_m"] = (frame.mixing_height_m * factor).clip(upper=5000).round(0)  # the reader's ceiling
        path = tmp / f"met_h{factor:.2f}.csv"
        frame.to_csv(path, index=False)
        return path

    yield "case as built", scenario
    yield "local_share 0.35", with_atmosphere(scenario, local_share=0.35)
    yield "local_share 0.65", with_atmosphere(scenario, local_share=0.65)
    for factor in (0.5, 0.7, 1.3, 2.0):
        yield f"mixing height x{factor:g} (at most 5,000 m)", with_atmosphere(scenario, meteorology=met_scaled(factor))
    yield "area x0.5", with_atmosphere(scenario, parameters={**atm.parameters, "area_km2": AREA_KM2 * 0.5})
    yield "area x2", with_atmosphere(scenario, parameters={**atm.parameters, "area_km2": AREA_KM2 * 2.0})


def sensitivity(stem: str) -> pd.DataFrame:
    """The evaluation's mean effect during the warnings [μg/m³ and % of the counterfactual] per
    variant of the case's uncertain inputs."""
    import tempfile

    from sim import evaluate, load_scenario

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, variant in _sensitivity_variants(load_scenario(HERE / f"{stem}.yaml"), Path(tmp)):
            e = evaluate(variant).metrics["pm25_effect"]
            rows.append({"variant": label, "effect_ug_m3": e["mean_reduction_during_warnings_ug_m3"],
                         "effect_pct": e["mean_reduction_during_warnings_pct"], "peak_effect_ug_m3": e["peak_reduction_during_warnings_ug_m3"]})
    return pd.DataFrame(rows)


def draw_figure(pm25: dict[str, pd.DataFrame], path: Path = ROOT / "docs" / "figures" / "beijing_episodes.png") -> None:
    """Observed vs counterfactual PM2.5 of the three cases (``pm25``: each case's evaluation
    table, by case), warnings shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(11, 9.5), dpi=100)
    for ax, (stem, case) in zip(axes, CASES.items()):
        pm = pm25[stem]
        for _, _, start, end in case["warnings"]:
            ax.axvspan(pd.Timestamp(start), pd.Timestamp(end), color="#fde0dd", lw=0)
        ax.fill_between(pm.time, pm.counterfactual_p05, pm.counterfactual_p95, color="#bbbbbb", lw=0, label="counterfactual 5-95 % (model parameters)")
        ax.plot(pm.time, pm.counterfactual, color="#444444", lw=1.0, label="counterfactual (no measures, modelled)")
        ax.plot(pm.time, pm.observed, color="#1f77b4", lw=1.2, label="observed (12 stations)")
        ax.axhline(75, color="#999999", lw=0.7, ls=":")
        ax.set_title(case["name"].replace(" (validation)", "") + ": red warnings shaded", fontsize=10)
        ax.set_ylabel("PM2.5 [μg/m³]")
        ax.set_xlim(pm.time.iloc[0], pm.time.iloc[-1])
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b"))
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="also print each case's figures both ways, its sensitivity, and draw docs/figures/beijing_episodes.png")
    args = parser.parse_args(argv)
    for stem, case in CASES.items():
        write_case(stem, case)
    if args.report:
        from sim import load_scenario, run

        pm25 = {}
        for stem in CASES:
            print(f"\n{stem} (published: {PUBLISHED[stem]})")
            figures, ev = report(stem)
            pm25[stem] = ev.pm25
            for key, value in figures.items():
                print(f"  {key}: {value if not isinstance(value, dict) else {p: round(v, 3) for p, v in value.items()}}")
            print(sensitivity(stem).round(2).to_string(index=False))
            regional = run(regional_variant(load_scenario(HERE / f"{stem}.yaml"))).metrics["pm25"]
            print(f"  regional model, Beijing alone: local share {regional['local_share_modelled']:.3f}, "
                  f"reduction during the warnings {regional['mean_reduction_during_warnings_ug_m3']:.2f} μg/m³ "
                  f"({regional['mean_reduction_during_warnings_pct']:.1f} %)")
        draw_figure(pm25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
