"""Write the SYNTHETIC inputs of ``scenarios/demo_city_evaluation.yaml``: what "really happened"
in the Demo City orange episode of 4-7 December 2023. Nothing here is an observation.

Seeded (``SEED``): a rerun writes byte-identical files (same numpy version and platform).

- ``observed_pm25.csv``: the demo scenario's PM2.5 with its measures (``pm25.csv`` column
  ``scenario`` of ``scenarios/demo_city_orange.yaml``) times a lognormal measurement and model
  error (σ 0.08), with three hours missing.
- ``warnings_issued.csv``: the orange warning as issued (announced 3 Dec 16:00, in force 4 Dec
  00:00 to 7 Dec 00:00).
- ``forecasts.csv``: daily PM2.5 forecasts issued each day 25 Nov - 9 Dec for lead days 0-6: the
  observed daily mean (the episode's baseline before 1 Dec) times a lognormal error growing
  with lead time (σ 0.10 + 0.06 per lead day).
- ``power_use.csv``: cumulative production and treatment meter readings of 40 enterprises from
  26 Nov to 10 Dec: most lines metered hourly, five enterprises metered as a whole once a day.
  Behaviour during the warning, drawn per enterprise: 70 % cut exactly as the list asks (after
  their industry's response delay), 10 % cut half of it, 10 % do not cut, 5 % cut but switch
  their treatment equipment off; and the exempt lines keep running. One meter misses 30 hours
  of readings during the warning (a gap) and one is replaced mid-episode (a reset to zero).

Run: ``python scenarios/data/evaluation/generate_evaluation.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.api import prepare, run  # noqa: E402
from sim.config.scenario import load_scenario  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 20231204
WARNING = ("orange", "2023-12-03T16:00", "2023-12-04T00:00", "2023-12-07T00:00")
METER_START, METER_END = pd.Timestamp("2023-11-26"), pd.Timestamp("2023-12-10")
ENTERPRISES, DAILY_METERED = 40, 5


def _csv(frame: pd.DataFrame, name: str) -> None:
    frame.to_csv(HERE / name, index=False, lineterminator="\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    scenario = load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml")
    prepared = prepare(scenario)
    result = run(scenario, prepared=prepared)
    times = prepared.times

    # observed PM2.5: the modelled PM2.5 with measures times a lognormal error; three hours lost
    pm = result.pm25.scenario.to_numpy() * np.exp(rng.normal(0.0, 0.08, len(times)))
    obs = pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M"), "pm25_ug_m3": np.round(pm, 1).astype(str)})
    obs.loc[[30, 31, 150], "pm25_ug_m3"] = ""
    _csv(obs, "observed_pm25.csv")

    level, issued_at, start, end = WARNING
    _csv(pd.DataFrame({"level": [level], "issued_at": [issued_at], "start": [start], "end": [end]}), "warnings_issued.csv")

    # forecasts: daily means of the observation (of the baseline before the period) with errors growing with lead time
    met = prepared.meteorology[0]
    daily_base = pd.Series(met.pm25_baseline_ug_m3, index=met.times).resample("D").mean()
    daily_obs = pd.Series(pm, index=times).resample("D").mean()
    truth = daily_obs.combine_first(daily_base)
    rows = []
    for issue in pd.date_range("2023-11-25", "2023-12-09", freq="D"):
        for lead in range(7):
            target = issue + pd.Timedelta(days=lead)
            if target in truth.index:
                value = truth[target] * np.exp(rng.normal(0.0, 0.10 + 0.06 * lead))
                rows.append((issue.strftime("%Y-%m-%d"), target.strftime("%Y-%m-%d"), round(float(value), 1)))
    _csv(pd.DataFrame(rows, columns=["issue_date", "target_date", "pm25_ug_m3"]), "forecasts.csv")

    # meters: enterprises with production lines cut at orange and not stopped by a calendar, a few exempt ones
    lines = prepared.inventory.lines
    production = ~lines.derived.to_numpy(bool)
    cut = prepared.measures.reduction[:, 1]
    stopped = np.zeros(len(lines), dtype=bool)
    for w in prepared.shared.engine.calendars:
        stopped |= w.mask
    firms = lines.enterprise_id[production & ~stopped]
    cut_firms = sorted(set(firms[(cut > 0)[production & ~stopped]]))
    exempt_firms = sorted(set(firms[(cut == 0)[production & ~stopped]]) - set(cut_firms))
    chosen = list(rng.choice(cut_firms, ENTERPRISES - 4, replace=False)) + list(rng.choice(exempt_firms, 4, replace=False))
    chosen = sorted(str(c) for c in chosen)
    behaviour = rng.choice(["exact", "half", "none", "treatment_off"], size=len(chosen), p=[0.75, 0.1, 0.1, 0.05])
    # the hand-picked cases the evaluation must find, whatever the draw
    behaviour[:3] = ["none", "half", "treatment_off"]
    daily_firms = set(chosen[-DAILY_METERED:])
    hours = pd.date_range(METER_START, METER_END, freq="h")
    warning = (hours >= pd.Timestamp(start)) & (hours < pd.Timestamp(end))
    out = []
    for k, firm in enumerate(chosen):  # a few dozen synthetic enterprises: a loop is clear here
        rows = np.flatnonzero((lines.enterprise_id.to_numpy() == firm) & production)
        whole = firm in daily_firms
        units = [("", rows)] if whole else [(str(lines.line_id.iloc[r]), [r]) for r in rows]
        for line_id, members in units:
            asked = float(np.mean(cut[members]))
            delay = int(prepared.delay_h[members[0]])
            asked_hours = warning & (hours >= pd.Timestamp(start) + pd.Timedelta(hours=delay))
            kw = float(rng.uniform(200, 3000))
            shape = 1.0 + 0.15 * np.sin(2 * np.pi * (hours.hour.to_numpy() - 8) / 24)
            load = kw * shape * np.exp(rng.normal(0.0, 0.03, len(hours)))
            do = {"exact": asked, "half": asked / 2, "none": 0.0, "treatment_off": asked}[behaviour[k]]
            load = np.where(asked_hours, load * (1.0 - do), load)
            treat = 0.12 * kw * np.exp(rng.normal(0.0, 0.03, len(hours)))
            if behaviour[k] == "treatment_off":
                treat = np.where(asked_hours, treat * 0.1, treat)
            for meter, use in (("production", load), ("treatment", treat)):
                reading = np.round(np.r_[0.0, np.cumsum(use[:-1])] + float(rng.uniform(1e4, 1e6)), 1)
                stamp = hours
                if whole:
                    pick = hours.hour == 0
                    stamp, reading = hours[pick], reading[pick]
                frame = pd.DataFrame({"time": stamp.strftime("%Y-%m-%dT%H:%M"), "enterprise_id": firm, "line_id": line_id, "meter": meter, "kwh": reading})
                out.append(frame)
    power = pd.concat(out, ignore_index=True)
    # one hourly production meter misses 30 hours in the warning; another is replaced (reset to zero) on 5 Dec 12:00
    hourly = power[(power.line_id != "") & (power.meter == "production")]
    first, second = hourly.enterprise_id.unique()[3:5]
    lost = (power.enterprise_id == first) & (power.meter == "production") & power.time.between("2023-12-04T10:00", "2023-12-05T15:00")
    lost &= power.line_id == power[(power.enterprise_id == first) & (power.line_id != "")].line_id.iloc[0]
    power = power[~lost]
    pick = (power.enterprise_id == second) & (power.meter == "production") & (power.line_id == power[(power.enterprise_id == second) & (power.line_id != "")].line_id.iloc[0])
    after = pick & (power.time >= "2023-12-05T12:00")
    base_at = power.loc[after, "kwh"].iloc[0]
    power.loc[after, "kwh"] = np.round(power.loc[after, "kwh"] - base_at + 5.0, 1)
    _csv(power.reset_index(drop=True), "power_use.csv")


if __name__ == "__main__":
    main()
