"""Compliance from electricity monitoring and realised emissions (pure, vectorised functions).

What the list asked: in every hour of a warning really issued, each line's cut of its level
(``LineMeasures.reduction``) reached after its industry's response delay, the stricter of it and
any staggered-production calendar. What a line did: its production meter's load against its
*normal load*, the mean load of the ``baseline_days`` before the first warning at the same hour
of the day (and, where each class has at least two days of data, the same weekday or weekend).
Both are compared over each warning (source: the practice of separate meters for production and
pollution-control equipment, 分表计电, with load monitoring of the lines under measures:
001_b4591242f4181a4f.txt 九(三十), 003_9c48512715ff3ba5.txt item 30).

Verdict of a metered unit (a line, or an enterprise metered as a whole) per warning, with the
thresholds of ``sim/data/evaluation.yaml``:

- **no data**: meter data (and a normal load) for fewer than ``min_data_share`` of the hours in
  which a cut was asked, or no production meter;
- **not complied**: the treatment meter read off (below ``treatment_off_share`` of its normal
  load) while production ran (at least ``production_running_share`` of normal) for
  ``treatment_off_hours`` hours or more (a violation, whatever the production cut), or the
  observed cut is below half the asked cut, or a line idle before the warning started up;
- **complied**: observed cut ≥ asked cut − ``complied_tolerance``;
- **partly**: otherwise (observed cut ≥ ``partly_share`` × asked cut).

A unit asked no cut (exempt lines) complies unless its treatment meter shows a violation.
Observed cut = 1 − Σ load ÷ Σ normal, asked cut = Σ asked × normal ÷ Σ normal, over the hours of
the warning with data in which a cut was asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config.labels import text
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN

VERDICTS = ("complied", "partly", "not complied", "no data")
HOUR = pd.Timedelta(hours=1)


def level_by_hour(issued: pd.DataFrame, times: pd.DatetimeIndex) -> np.ndarray:
    """The level in force [0 none, 1-3 yellow-red] at each hour of ``times`` from the warnings
    issued (``level``, ``start``, ``end`` exclusive); where warnings overlap the highest holds."""
    out = np.zeros(len(times), dtype=np.int8)
    t = times.to_numpy()
    for level, start, end in zip(issued.level, issued.start, issued.end):  # one pass per warning, not per hour
        inside = (t >= np.datetime64(start)) & (t < np.datetime64(end))
        out[inside] = np.maximum(out[inside], LEVELS.index(level) + 1)
    return out


def delayed_levels(level: np.ndarray, delays_h: np.ndarray) -> np.ndarray:
    """The level a line with response delay d [h] is asked to be at: min(level(t), level(t − d)),
    shape (delays, hours). A raise is reached d hours after it; a fall holds at once (the
    engine's rule for a line following a warning)."""
    hours = len(level)
    out = np.empty((len(delays_h), hours), dtype=np.int8)
    for k, d in enumerate(np.asarray(delays_h, dtype=int)):  # one row per distinct delay
        shifted = np.concatenate([np.zeros(min(d, hours), dtype=np.int8), level[: max(hours - d, 0)]])
        out[k] = np.minimum(level, shifted)
    return out


def asked_cut(reduction: np.ndarray, delay_h: np.ndarray, level: np.ndarray, calendar: np.ndarray | None = None) -> np.ndarray:
    """Cut [-] of nominal production the list asks of each line at each hour, shape (lines, hours).

    ``reduction`` (lines, levels) [-]; ``delay_h`` (lines,) [h]; ``level`` (hours,) in force;
    ``calendar`` (lines, hours) [-] staggered-production cut, the stricter holds."""
    delays, code = np.unique(np.asarray(delay_h, dtype=int), return_inverse=True)
    by_delay = delayed_levels(np.asarray(level, dtype=np.int8), delays)  # (delays, hours)
    table = np.column_stack([np.zeros(len(reduction)), reduction])  # (lines, 1 + levels)
    cut = np.take_along_axis(table, by_delay[code].astype(np.int64), axis=1)
    return cut if calendar is None else np.maximum(cut, calendar)


def calendar_cut(windows, lines: int, hours: int, pick: np.ndarray | None = None) -> np.ndarray:
    """Staggered-production cut [-] (lines, hours) of the calendar windows (``mask``, ``start_h``,
    ``end_h``, ``reduction``), the stricter where windows overlap; ``pick``: the rows wanted."""
    rows = np.arange(lines) if pick is None else np.asarray(pick)
    out = np.zeros((len(rows), hours))
    for w in windows:  # one pass per calendar rule
        hit = w.mask[rows]
        out[hit, w.start_h:w.end_h] = np.maximum(out[hit, w.start_h:w.end_h], w.reduction)
    return out


# --------------------------------------------------------------------------- normal load


def normal_load(kwh_h: np.ndarray, times: pd.DatetimeIndex, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each meter's normal load [kWh/h] at every hour, and its pre-episode daily mean [kWh/d].

    ``kwh_h`` (meters, hours) [kWh/h] with NaN gaps; ``baseline`` (hours,) bool: the baseline
    days. The normal load at hour t is the mean over the baseline hours of the same hour of day,
    and of the same class (weekday / weekend) where the meter has at least two days of data in
    each class (a weekday profile where the data allow); NaN where no baseline hour has data."""
    x = np.where(baseline[None, :], kwh_h, np.nan)
    hod = times.hour.to_numpy()
    weekend = (times.day_of_week.to_numpy() >= 5).astype(int)

    def profile(classes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        onehot = np.zeros((len(times), n))
        onehot[np.arange(len(times)), classes] = 1.0
        valid = np.isfinite(x)
        sums = np.where(valid, x, 0.0) @ onehot
        counts = valid.astype(float) @ onehot
        mean = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
        return mean[:, classes], counts

    by_hour, _ = profile(hod, 24)
    by_week, counts = profile(hod + 24 * weekend, 48)
    # days of data per class: the fewest hour-of-day counts within each class
    weekday_days = counts[:, :24].min(axis=1)
    weekend_days = counts[:, 24:].min(axis=1)
    use_week = (weekday_days >= 2) & (weekend_days >= 2)
    normal = np.where(use_week[:, None], by_week, by_hour)
    valid = np.isfinite(x)
    count = valid.sum(axis=1)
    daily = np.where(count > 0, 24.0 * np.where(valid, x, 0.0).sum(axis=1) / np.maximum(count, 1), np.nan)
    return normal, daily


def work_index(kwh_h: np.ndarray, times: pd.DatetimeIndex, daily_normal_kwh: np.ndarray) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """复工指数: each day's use [kWh/d] ÷ the pre-episode daily mean [kWh/d] [-], shape
    (meters, days); NaN for a day without a full 24 hours of data. Returns (days, kWh, index)."""
    day = times.normalize()
    days, code = np.unique(day.to_numpy(), return_inverse=True)
    onehot = np.zeros((len(times), len(days)))
    onehot[np.arange(len(times)), code] = 1.0
    valid = np.isfinite(kwh_h)
    sums = np.where(valid, kwh_h, 0.0) @ onehot
    full = (valid.astype(float) @ onehot) == (np.ones(len(times)) @ onehot)[None, :]
    kwh = np.where(full & (onehot.sum(axis=0) == 24)[None, :], sums, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(daily_normal_kwh[:, None] > 0, kwh / daily_normal_kwh[:, None], np.nan)
    return pd.DatetimeIndex(days), kwh, index


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Units:
    """The metered units: a line, or an enterprise metered as a whole (``line_id`` '').

    ``frame``: enterprise_id, line_id, enterprise_name, industry, grade, lat, lon per unit;
    ``production``/``treatment``: the row of each unit's meter in the meter table, -1 if none;
    ``line_unit``: the unit of each line of the list, -1 when unmetered (a line meter wins over
    its enterprise's meter); ``share`` (lines,): each line's share of its unit's production
    (by output value, equal shares where none is given)."""

    frame: pd.DataFrame
    production: np.ndarray
    treatment: np.ndarray
    line_unit: np.ndarray
    share: np.ndarray  # (lines,) each line's share of its unit's production [-], 0 when unmetered

    def unit_mean(self, per_line: np.ndarray, rows: slice | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Σ share × ``per_line`` over each unit's lines, (units, hours); ``rows``: the block of
        lines ``per_line`` holds, added into ``out``."""
        rows = rows if rows is not None else slice(0, len(self.line_unit))
        out = out if out is not None else np.zeros((len(self.frame), per_line.shape[1]))
        unit = self.line_unit[rows]
        ok = unit >= 0
        np.add.at(out, unit[ok], self.share[rows][ok][:, None] * per_line[ok])
        return out


def metered_units(meters: pd.DataFrame, lines: pd.DataFrame) -> Units:
    """Group the meters into units and tie them to the lines of the list (production lines only:
    the derived truck rows are not metered)."""
    keys = meters[["enterprise_id", "line_id"]].drop_duplicates().sort_values(["enterprise_id", "line_id"]).reset_index(drop=True)
    unit_of = {k: i for i, k in enumerate(zip(keys.enterprise_id, keys.line_id))}
    pick = {kind: np.full(len(keys), -1) for kind in ("production", "treatment")}
    for row, (e, ln, kind) in enumerate(zip(meters.enterprise_id, meters.line_id, meters.meter)):  # one per meter
        pick[kind][unit_of[(e, ln)]] = row
    ent = lines.enterprise_id.astype(str).to_numpy()
    lid = lines.line_id.astype(str).to_numpy()
    production_line = ~lines.derived.to_numpy(bool)
    line_key = pd.Series([unit_of.get((e, ln), -1) for e, ln in zip(ent, lid)])
    firm_key = pd.Series([unit_of.get((e, ""), -1) for e in ent])
    line_unit = np.where(line_key >= 0, line_key, firm_key).astype(int)
    line_unit[~production_line] = -1
    value = lines.output_value_wan_yuan_per_day.to_numpy(float)
    metered = line_unit >= 0
    given = np.isfinite(value) & (value > 0)
    n_units = len(keys)
    # a unit whose lines lack output values shares equally
    unit = np.where(metered, line_unit, n_units)  # unmetered lines: a spare last slot (also when no line is metered)
    lacking = np.bincount(line_unit[metered & ~given], minlength=n_units + 1) > 0
    weight = np.where(metered, np.where(lacking[unit], 1.0, np.where(given, value, 0.0)), 0.0)
    total = np.bincount(line_unit[metered], weights=weight[metered], minlength=n_units + 1)
    share = np.where(metered, weight / np.where(total[unit] > 0, total[unit], 1.0), 0.0)
    first = pd.Series(np.arange(len(lines))).groupby(ent).first()
    head = first.reindex(keys.enterprise_id).to_numpy()
    frame = keys.assign(enterprise_name=lines.enterprise_name.to_numpy()[head] if "enterprise_name" in lines else "",
                        industry=lines.industry.to_numpy()[head], grade=lines.grade.to_numpy()[head],
                        lat=lines.lat.to_numpy(float)[head] if "lat" in lines else np.nan, lon=lines.lon.to_numpy(float)[head] if "lon" in lines else np.nan)
    line_rows = pd.Series([unit_of.get((e, ln), -1) for e, ln in zip(ent, lid)])
    ln_industry = pd.Series(lines.industry.to_numpy()).groupby(line_rows).first()
    ln_grade = pd.Series(lines.grade.to_numpy()).groupby(line_rows).first()
    has_line = frame.line_id != ""
    frame.loc[has_line, "industry"] = ln_industry.reindex(np.flatnonzero(has_line)).to_numpy()
    frame.loc[has_line, "grade"] = ln_grade.reindex(np.flatnonzero(has_line)).to_numpy()
    return Units(frame, pick["production"], pick["treatment"], line_unit, share)


def _take(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Rows of ``matrix``; all NaN where the row is -1."""
    if len(matrix) == 0:  # no meter at all (a city of the list without meters)
        return np.full((len(rows), *np.shape(matrix)[1:]), np.nan)
    out = matrix[np.maximum(rows, 0)]
    out[rows < 0] = np.nan
    return out


@dataclass(frozen=True)
class Compliance:
    """Per unit and warning (``table``), per unit and warning hour (``hourly``)."""

    table: pd.DataFrame
    hourly: pd.DataFrame


def judge(units: Units, asked_unit: np.ndarray, production: np.ndarray, normal: np.ndarray, treatment: np.ndarray, treatment_normal: np.ndarray,
          times: pd.DatetimeIndex, issued: pd.DataFrame, rules: dict) -> Compliance:
    """Verdicts per unit and warning (module docstring); arrays (units, hours) [kWh/h] and
    ``asked_unit`` [-] relative to the unit's normal load."""
    tol, partly, min_share = float(rules["complied_tolerance"]), float(rules["partly_share"]), float(rules["min_data_share"])
    up_margin, off_share, run_share = float(rules["load_up_margin"]), float(rules["treatment_off_share"]), float(rules["production_running_share"])
    off_hours, idle = int(rules["treatment_off_hours"]), float(rules["idle_load_kwh_h"])
    t = times.to_numpy()
    rows, hourly = [], []
    for w, (level, start, end) in enumerate(zip(issued.level, issued.start, issued.end)):  # one pass per warning over all units
        inside = np.flatnonzero((t >= np.datetime64(start)) & (t < np.datetime64(end)))
        a, p, n = asked_unit[:, inside], production[:, inside], normal[:, inside]
        tr, trn = treatment[:, inside], treatment_normal[:, inside]
        asked = a > 0
        data = np.isfinite(p) & np.isfinite(n)
        valid = asked & data
        n_asked = asked.sum(axis=1)
        share = np.where(n_asked > 0, valid.sum(axis=1) / np.maximum(n_asked, 1), data.mean(axis=1) if len(inside) else 0.0)
        sum_n = np.where(valid, n, 0.0).sum(axis=1)
        sum_p = np.where(valid, p, 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_asked = np.where(asked, a, 0.0).sum(axis=1) / np.maximum(n_asked, 1)
            asked_cut = np.where(sum_n > 0, np.where(valid, a * n, 0.0).sum(axis=1) / sum_n, mean_asked)
            observed = np.where(sum_n > 0, 1.0 - sum_p / sum_n, np.nan)
            all_n = np.where(data, n, 0.0).sum(axis=1)
            change = np.where(all_n > 0, np.where(data, p, 0.0).sum(axis=1) / all_n - 1.0, np.nan)
            running = data & (p >= run_share * n) & (n > idle)
            off = running & np.isfinite(tr) & np.isfinite(trn) & (trn > idle) & (tr < off_share * trn)
        off_count = off.sum(axis=1)
        violation = off_count >= off_hours
        idle_before = (np.where(data, n, 0.0).max(axis=1, initial=0.0) <= idle) & (data.sum(axis=1) > 0)
        started = idle_before & (np.where(data, p, 0.0).max(axis=1, initial=0.0) > idle)
        no_meter = units.production < 0
        # a 1e-9 slack: a cut of exactly the threshold (1 − 80/100 = 0.19999999999999996) meets it
        verdict = np.where(observed >= asked_cut - tol - 1e-9, "complied", np.where(observed >= partly * asked_cut - 1e-9, "partly", "not complied")).astype(object)
        verdict[n_asked == 0] = "complied"
        verdict[idle_before] = np.where(started[idle_before], "not complied", "complied")
        verdict[(share < min_share) | no_meter] = "no data"
        verdict[violation & ~no_meter] = "not complied"
        reason = np.full(len(verdict), "", dtype=object)
        reason[n_asked == 0] = "no cut asked"
        reason[idle_before] = np.where(started[idle_before], "idle before the warning, started up during it", "idle before the warning and during it")
        reason[share < min_share] = "too few hours with meter data"
        reason[(share < min_share) & ~np.isfinite(n).any(axis=1)] = "no normal load: no readings in the baseline days"
        reason[no_meter] = "no production meter"
        reason[violation & ~no_meter] = "treatment equipment off while production ran"
        rows.append(pd.DataFrame({
            "warning": w + 1, "level": level, "start": start, "end": end,
            "hours_asked": n_asked, "hours_with_data": valid.sum(axis=1), "data_share": share,
            "asked_cut": asked_cut, "observed_cut": observed, "load_change": change,
            "treatment_off_hours": off_count, "treatment_violation": violation,
            "load_up": np.nan_to_num(change, nan=-1.0) > up_margin, "verdict": verdict, "reason": reason,
        }))
        u = len(units.frame)
        hourly.append(pd.DataFrame({
            "time": np.tile(t[inside], u), "unit": np.repeat(np.arange(u), len(inside)), "warning": w + 1, "level": level,
            "asked_cut": a.ravel(), "normal_kwh_h": n.ravel(), "production_kwh_h": p.ravel(),
            "treatment_normal_kwh_h": trn.ravel(), "treatment_kwh_h": tr.ravel(),
        }))
    keys = units.frame[["enterprise_id", "line_id", "enterprise_name", "industry", "grade", "lat", "lon"]]
    table = pd.concat([keys.reset_index(drop=True).join(r) for r in rows], ignore_index=True) if rows else keys.iloc[:0]
    table["meters"] = np.tile(np.where(units.treatment >= 0, "production+treatment", np.where(units.production >= 0, "production", "treatment")), len(rows))
    hours = pd.concat(hourly, ignore_index=True) if hourly else pd.DataFrame()
    if len(hours):
        with np.errstate(divide="ignore", invalid="ignore"):
            hours["observed_cut"] = np.where(hours.normal_kwh_h > 0, 1.0 - hours.production_kwh_h / hours.normal_kwh_h, np.nan)
        hours.insert(1, "enterprise_id", keys.enterprise_id.to_numpy()[hours.unit])
        hours.insert(2, "line_id", keys.line_id.to_numpy()[hours.unit])
        hours = hours.drop(columns="unit").sort_values(["enterprise_id", "line_id", "time"], kind="stable").reset_index(drop=True)
    table = table.sort_values(["enterprise_id", "line_id", "warning"], kind="stable").reset_index(drop=True)
    return Compliance(table, hours)


def review_list(table: pd.DataFrame, unmeterable: pd.DataFrame) -> pd.DataFrame:
    """What to revise (004_2694ada7f9cfab13.txt item 28): enterprises to inspect or regrade (not
    complied, no data, load up during a warning, treatment off) and the list lines whose measure
    no meter can check (``unmeterable``: enterprise_id, line_id, industry, measure)."""
    why = np.select(
        [table.treatment_violation.to_numpy(bool), (table.verdict == "not complied").to_numpy(), (table.verdict == "no data").to_numpy(),
         table.load_up.to_numpy(bool), (table.verdict == "partly").to_numpy()],
        [text(f"eval.act.{k}", "en") for k in ("treatment", "not_complied", "no_data", "load_up", "partly")], default="")
    firms = table.assign(action=why)[why != ""]
    firms = firms.groupby(["enterprise_id", "line_id"], sort=True).agg(
        enterprise_name=("enterprise_name", "first"), industry=("industry", "first"), grade=("grade", "first"),
        warnings=("warning", lambda s: ", ".join(str(int(x)) for x in s)), action=("action", "first")).reset_index()
    firms.insert(0, "kind", "enterprise")
    lines = unmeterable.assign(kind="list line", action="")
    return pd.concat([firms, lines], ignore_index=True)[["kind", "enterprise_id", "line_id", "enterprise_name", "industry", "grade", "warnings", "action"]] if len(lines) or len(firms) else firms


# --------------------------------------------------------------------------- realised emissions


def realised_factor(unit: np.ndarray, production: np.ndarray, normal: np.ndarray, planned: np.ndarray, calendar_base: np.ndarray, idle: float) -> tuple[np.ndarray, np.ndarray]:
    """Realised production factor [-] of nominal production per line and hour, and whether it
    was measured, shapes (lines, hours).

    A metered line runs at load ÷ normal load of its unit (an enterprise meter gives all its lines
    the same factor) times what its calendar left in the baseline days (1 − ``calendar_base``);
    a line idle before the warning runs at 0 while its meter stays idle and at 1 once it starts
    up. Where there is no meter or no data the line is taken to do as ``planned`` (1 − asked).
    ``unit``: each line's unit (-1 unmetered); ``production``, ``normal``: (units, hours) [kWh/h]."""
    p, n = _take(unit, production), _take(unit, normal)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = p / n
    idle_n = np.isfinite(n) & (n <= idle)
    factor = np.where(idle_n, np.where(p > idle, 1.0, 0.0), ratio * (1.0 - calendar_base[:, None]))
    measured = np.isfinite(factor) & (unit[:, None] >= 0)
    return np.where(measured, np.clip(factor, 0.0, None), planned), measured


def level_sums(emissions_kg_h: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Σ over lines and the hours each level was in force [kg], shape (levels, pollutants), of
    ``emissions_kg_h`` (lines, hours, pollutants) [kg/h]; ``level`` (hours,) 0 none, 1-3."""
    return np.stack([emissions_kg_h[:, level == k].sum(axis=(0, 1)) for k in range(1, len(LEVELS) + 1)])


def list_ratios(base_kg: np.ndarray, kept_kg: np.ndarray, level: np.ndarray) -> dict:
    """Ratio per level and pollutant [-]: 1 − Σ emitted ÷ Σ baseline over the lines and the hours
    the level was in force, from :func:`level_sums` of the baseline and of the list as carried
    out. None where the level was not in force (``level`` (hours,)) or a pollutant is absent."""
    out: dict[str, dict | None] = {}
    for k, name in enumerate(LEVELS):
        if not (level == k + 1).any():
            out[name] = None
            continue
        base, kept = base_kg[k], kept_kg[k]
        out[name] = {key: (None if base[POLLUTANTS.index(p)] <= 0 else float(1.0 - kept[POLLUTANTS.index(p)] / base[POLLUTANTS.index(p)])) for key, p in RATIO_COLUMN.items()}
    return out
