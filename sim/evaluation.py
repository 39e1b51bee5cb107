"""After-action evaluation (效果评估) of an episode: did the forecasts, the warnings and the
enterprises deliver, and what did it buy (004_2694ada7f9cfab13.txt item 28)?

>>> from sim import load_scenario, evaluate                                          # doctest: +SKIP
>>> ev = evaluate(load_scenario("scenarios/demo_city_evaluation.yaml"))              # doctest: +SKIP
>>> ev.compliance.verdict.value_counts()                                             # doctest: +SKIP

Reads the scenario's ``evaluation`` block (:mod:`sim.inputs.evaluation`), judges each metered
line (:mod:`sim.rules.compliance`), rebuilds the emissions as they really were, runs the PM2.5
model with and without the realised cuts (:mod:`sim.physics.effect`) and scores the forecasts and
warnings (:mod:`sim.physics.skill`). Written by ``run_scenario.py SCENARIO.yaml --evaluate``
(:func:`write_evaluation`): compliance.csv, compliance_hourly.csv, work_index.csv,
evaluation_pm25.csv, forecast_skill.csv, cuts_by_group.csv, review.csv and evaluation.json.

A list of several cities is evaluated city by city (each city's lines, meters, CEMS rows, other
sources and box cut out of the prepared arrays; its rows of the observation, warning and
forecast files by their ``city`` column), as if each city's lines were the whole list; the
tables are then stacked with a ``city`` column and ``evaluation.json`` gains ``by_city`` under
the province sums (:func:`_province`). A one-city list gives the tables without ``city``. With
``model: regional`` the counterfactual of every city comes from one coupled run of the regional
model (:func:`_regional_effects`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.api import Prepared, prepare
from sim.config.labels import text
from sim.config.scenario import Scenario
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN
from sim.errors import InputError
from sim.inputs.evaluation import (MeterData, load_cems, load_evaluation_rules, load_forecasts, load_issued_warnings, load_observed_pm25,
                                   load_power_use, no_forecasts, no_meters)
from sim.outputs import HashingFile, write_csv
from sim.physics.aqi import daily_aqi
from sim.physics.effect import effect_band, effect_figures, modelled_effect, shifted_cuts, shifted_series
from sim.physics.projection import project_region, regional_cut_fraction
from sim.physics.skill import forecast_skill, warning_timeliness
from sim.rules.compliance import (_take, asked_cut, calendar_cut, judge, level_by_hour, level_sums, list_ratios, metered_units, normal_load,
                                  realised_factor, review_list, work_index)
from sim.rules.policy import calendar_windows

HOUR = pd.Timedelta(hours=1)
#: Hours of a day a warning must be in force for the day to count as covered (estimate: half
#: the day, so that a warning starting at noon covers its first day and one lifted at 01:00
#: does not cover its last).
COVERED_HOURS = 12
#: Lines × hours held at once when the list's per-line arrays are built (a block of lines at a
#: time): about 100 MB for the (lines, hours, pollutants) emissions of a block, whatever the list.
LINE_HOURS = 2_000_000


@dataclass(frozen=True)
class EvaluationResult:
    """An evaluated episode: DataFrames and the figures of ``evaluation.json`` (``metrics``)."""

    scenario: Scenario
    compliance: pd.DataFrame  # per unit (enterprise, line) and warning: asked and observed cut, treatment, verdict
    compliance_hourly: pd.DataFrame  # per unit and warning hour: asked cut, normal and observed load
    work_index: pd.DataFrame  # 复工指数 per unit and day
    pm25: pd.DataFrame  # time, observed, counterfactual, effect, band, level in force
    forecast_skill: pd.DataFrame  # per lead day
    cuts_by_group: pd.DataFrame  # planned and realised cuts [t] by industry and grade
    review: pd.DataFrame  # enterprises to inspect or regrade, list lines no meter can check
    issued: pd.DataFrame  # the warnings really issued
    metrics: dict
    notes: tuple[str, ...] = field(default=())
    industry_names: dict = field(default_factory=dict)  # industry key -> Chinese name (emission_factors/industries.csv)
    by_city: dict = field(default_factory=dict)  # city -> its own EvaluationResult, for a list of several cities (else empty)


def _missing_inputs_notes(cfg) -> list[str]:
    """Notes naming the optional evaluation inputs the scenario does not give."""
    notes = []
    if cfg.power_use is None:
        notes.append(text("note.no_power_use_cems" if cfg.cems is not None else "note.no_power_use", "en"))
    if cfg.forecasts is None:
        notes.append(text("note.no_forecasts", "en"))
    return notes


def _need(scenario: Scenario):
    cfg = scenario.evaluation
    if cfg is None:
        raise InputError(scenario.source_file, "key evaluation", "--evaluate needs the scenario's 'evaluation' block.",
                         "add evaluation: {observed_pm25: FILE, warnings_issued: FILE} (optional: forecasts, power_use, cems, baseline_days).")
    return cfg


def _unmeterable(prepared: Prepared, units_line: np.ndarray, tolerance: float) -> pd.DataFrame:
    """List lines whose measure no meter can check: a transport measure (the derived truck rows:
    gate records, not meters), or a cut no larger than the meter's tolerance (it cannot be told
    from a normal day)."""
    lines = prepared.inventory.lines
    cut = prepared.measures.reduction
    has_cut = cut.max(axis=1) > 0
    derived = lines.derived.to_numpy(bool)
    small = has_cut & ~derived & (np.where(cut > 0, cut, np.inf).min(axis=1) <= tolerance)
    why = np.where(derived & has_cut, "transport", np.where(small, "cut within meter tolerance", ""))
    pick = why != ""
    return pd.DataFrame({"enterprise_id": lines.enterprise_id.to_numpy()[pick], "line_id": lines.line_id.to_numpy()[pick],
                         "enterprise_name": lines.enterprise_name.to_numpy()[pick], "industry": lines.industry.to_numpy()[pick],
                         "grade": lines.grade.to_numpy()[pick], "warnings": "", "why": why[pick]})


@dataclass(frozen=True)
class _Episode:
    """A city's warnings issued in the period, its baseline days and its hours (baseline and period)."""

    issued: pd.DataFrame
    earlier: pd.DataFrame
    first_day: pd.Timestamp
    base_start: pd.Timestamp
    window: pd.DatetimeIndex


def _episode(cfg, times: pd.DatetimeIndex, city: str, cities: tuple[str, ...]) -> _Episode:
    issued = load_issued_warnings(cfg.warnings_issued, city, cities)
    period_end = times[-1] + HOUR
    inside = (issued.end > times[0]) & (issued.start < period_end)
    if not inside.any():
        raise InputError(cfg.warnings_issued, "column start", f"no issued warning{f' for {city}' if len(cities) > 1 else ''} falls in the scenario's period ({times[0]:%Y-%m-%dT%H:%M} to {period_end:%Y-%m-%dT%H:%M}).",
                         "give the warnings issued during the period, or move the period.")
    earlier = issued[~inside]
    issued = issued[inside].reset_index(drop=True)
    first_day = pd.Timestamp(issued.start.min()).normalize()
    base_start = first_day - pd.Timedelta(days=cfg.baseline_days)
    window = pd.date_range(min(base_start, times[0]), period_end - HOUR, freq="h")
    return _Episode(issued, earlier, first_day, base_start, window)


def _city_prepared(prepared: Prepared, k: int) -> Prepared:
    """``prepared`` cut to the lines, the other sources and the box of its ``k``-th city: what
    ``prepare`` gives for a list of that city's lines alone."""
    city = prepared.cities[k]
    inv = prepared.inventory
    rows = np.flatnonzero(inv.lines.city.to_numpy() == city)
    sub = replace(inv, lines=inv.lines.iloc[rows].reset_index(drop=True), mean_rate_kg_h=inv.mean_rate_kg_h[rows], profile_id=inv.profile_id[rows])
    measures = replace(prepared.measures, **{f.name: getattr(prepared.measures, f.name)[rows] for f in fields(prepared.measures)
                                             if isinstance(getattr(prepared.measures, f.name), np.ndarray)})
    other = prepared.other
    own = np.flatnonzero(other.city_id == k)
    other = replace(other, names=tuple(other.names[i] for i in own), rate_kg_h=other.rate_kg_h[own], weights=other.weights[own], reduction=other.reduction[own],
                    cities=(city,), city_id=np.zeros(len(own), dtype=other.city_id.dtype), measure_text=tuple(other.measure_text[i] for i in own))
    return replace(prepared, inventory=sub, measures=measures, other=other, cities=[city], compliance=prepared.compliance[rows], delay_h=prepared.delay_h[rows],
                   meteorology=prepared.meteorology[k:k + 1])


def _meters_of(meters: MeterData, lines: pd.DataFrame, window: pd.DatetimeIndex) -> MeterData:
    """The meters of the enterprises of ``lines`` over ``window`` (a tail of ``meters.times``)."""
    keep = np.flatnonzero(meters.meters.enterprise_id.isin(set(lines.enterprise_id.astype(str))).to_numpy())
    offset = int((window[0] - meters.times[0]) / HOUR)
    return MeterData(window, meters.meters.iloc[keep].reset_index(drop=True), meters.kwh_h[keep, offset:offset + len(window)], ())


def evaluate(scenario: Scenario, prepared: Prepared | None = None) -> EvaluationResult:
    """Evaluate the episode of ``scenario`` from its ``evaluation`` block (module docstring);
    a list of several cities city by city (:func:`_province`)."""
    cfg = _need(scenario)
    prepared = prepared if prepared is not None else prepare(scenario)
    regional = scenario.atmosphere is not None and scenario.atmosphere.model == "regional"
    cities = tuple(prepared.cities)
    rules = load_evaluation_rules()
    episodes = [_episode(cfg, prepared.times, city, cities) for city in cities]
    window = pd.date_range(min(e.window[0] for e in episodes), prepared.times[-1], freq="h")
    meters = load_power_use(cfg.power_use, window, prepared.inventory.lines) if cfg.power_use is not None else no_meters(window)
    cems = load_cems(cfg.cems, prepared.times, prepared.inventory.lines) if cfg.cems is not None else None
    if len(cities) == 1 and not regional:
        return _evaluate_city(scenario, prepared, cfg, rules, episodes[0], meters, cems, cities)[0]

    def city_pass(k: int, effects: np.ndarray | None) -> tuple[EvaluationResult | None, dict]:
        own = _city_prepared(prepared, k)
        lines = own.inventory.lines
        own_cems = None
        if cems is not None:
            pairs = pd.MultiIndex.from_arrays([lines.enterprise_id.astype(str), lines.line_id.astype(str)])
            own_cems = cems[pd.MultiIndex.from_arrays([cems.enterprise_id, cems.line_id]).isin(pairs)].reset_index(drop=True)
        return _evaluate_city(scenario, own, cfg, rules, episodes[k], _meters_of(meters, lines, episodes[k].window), own_cems, cities, effects)

    effects: list = [None] * len(cities)
    model_notes: tuple[str, ...] = ()
    if regional:  # the coupled model needs every city's emissions at once: a first pass for them
        effects, model_notes = _regional_effects(scenario, prepared, [city_pass(k, np.empty(0))[1] for k in range(len(cities))], [int(s) for s in rules["shifts_h"]])
    done = [city_pass(k, effects[k]) for k in range(len(cities))]  # one pass per city
    if len(cities) == 1:
        ev = done[0][0]
        notes = list(dict.fromkeys([*ev.notes, *model_notes]))
        return replace(ev, notes=tuple(notes), metrics={**ev.metrics, "notes": notes})
    return _province(scenario, cfg, rules, cities, done, meters, model_notes)


def _regional_effects(scenario: Scenario, prepared: Prepared, parts: list[dict], shifts: list[int]) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """``model: regional``: each city's effect [μg/m³] of the realised cuts, shape (1 + shifts,
    hours): the coupled model (:func:`sim.physics.projection.project_region`) runs all the cities
    with their emissions as they really were (its baseline, whose PM2.5 is each city's
    observation) and without the emergency measures, and with each city's realised cut shifted
    by ``shifts`` [h] (:func:`shifted_cuts`), all at once; effect = PM2.5 without − observed
    (row 0) and PM2.5 without − PM2.5 shifted (the other rows). An hour without observation takes
    the city's mean observation in the run (its counterfactual stays empty). Returns the effects
    and the model's notes (the share of the observation the region's sources make)."""
    times = prepared.times
    end = times[-1] + HOUR
    keys = [p for p in POLLUTANTS if p != "pm10"]
    mets = []
    for met, part in zip(prepared.meteorology, parts):
        obs = part["observed"]
        filled = np.where(np.isfinite(obs), obs, np.nanmean(obs))
        mets.append(replace(met.slice(times[0], end), pm25_baseline_ug_m3=filled))
    realised = {p: np.stack([x["realised_h"][:, POLLUTANTS.index(p)] for x in parts]) for p in keys}  # (cities, hours)
    variants = {p: np.stack([np.concatenate([x["without_h"][None, :, POLLUTANTS.index(p)],
                                             shifted_cuts(x["without_h"][:, POLLUTANTS.index(p)], x["realised_h"][:, POLLUTANTS.index(p)], shifts)]) for x in parts])
                for p in keys}  # (cities, 1 + shifts, hours)
    levels = np.zeros((len(parts), 1 + len(shifts), len(times)), dtype=int)  # no background cut: every city is modelled
    projections = project_region(scenario.atmosphere, prepared.cities, times, realised, variants, levels, mets, scenario.source_file)
    out = []
    for met, projection in zip(mets, projections):
        runs = projection.members_ug_m3  # (1 + shifts, hours): without, then shifted
        out.append(np.concatenate([(runs[0] - met.pm25_baseline_ug_m3)[None], runs[0][None] - runs[1:]]))
    return out, tuple(n for p in projections for n in p.notes)


def _evaluate_city(scenario: Scenario, prepared: Prepared, cfg, rules: dict, episode: _Episode, meters: MeterData, cems: pd.DataFrame | None,
                   cities: tuple[str, ...], regional_effects: np.ndarray | None = None) -> tuple[EvaluationResult | None, dict]:
    """The evaluation of the one city of ``prepared`` (its lines alone), with the sums the
    province figures add up. ``regional_effects``: with ``model: regional``, the city's effects
    [μg/m³] (1 + shifts, hours) from the coupled run; an empty array asks for the first pass,
    which returns (None, the city's realised and without-measures emissions [kg/h] and its
    observed PM2.5)."""
    file = scenario.source_file
    city = prepared.cities[0]
    inv, times = prepared.inventory, prepared.times
    issued, earlier, first_day, base_start, window = episode.issued, episode.earlier, episode.first_day, episode.base_start, episode.window
    period_end = times[-1] + HOUR
    notes: list[str] = []
    if cfg.power_use is not None and ((earlier.end > base_start) & (earlier.start < first_day)).any():  # the baseline days serve the meters
        notes.append(f"{Path(cfg.warnings_issued).name}: a warning issued{f' for {city}' if len(cities) > 1 else ''} before the period falls in the baseline days ({base_start:%Y-%m-%d} to {first_day:%Y-%m-%d}), "
                     "so the normal loads hold its cuts and the observed cuts are understated; shorten baseline_days or start the period earlier")
    baseline = (window >= base_start) & (window < first_day)
    period = np.flatnonzero(window >= times[0])

    if len(cities) == 1:  # the meters as read (the province names their notes once)
        notes += meters.notes
        notes += _missing_inputs_notes(cfg)
    observed = load_observed_pm25(cfg.observed_pm25, times, city, cities)
    notes += [f"{city}: {n}" for n in observed.notes] if len(cities) > 1 else observed.notes
    forecasts = load_forecasts(cfg.forecasts, city, cities) if cfg.forecasts is not None else no_forecasts()

    # what the list asked: the issued level after each line's delay, the stricter of it and the
    # calendar, relative to the calendar of the baseline days; lines in blocks to bound memory
    level_w = level_by_hour(issued, window)
    windows, _ = calendar_windows(inv, list(scenario.staggered_production), window[0], len(window), file)
    blocks = [slice(lo, min(lo + max(1, LINE_HOURS // len(window)), inv.size)) for lo in range(0, inv.size, max(1, LINE_HOURS // len(window)))]

    def asked(rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Calendar cut, asked cut of nominal production, baseline-days calendar and asked cut
        relative to the normal load [-] of a block of lines."""
        calendar = calendar_cut(windows, inv.size, len(window), np.arange(rows.start, rows.stop))
        total = asked_cut(prepared.measures.reduction[rows], prepared.delay_h[rows], level_w, calendar)  # (lines, window hours)
        c_base = calendar[:, baseline].mean(axis=1) if baseline.any() else np.zeros(rows.stop - rows.start)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(c_base[:, None] < 1.0, 1.0 - (1.0 - total) / (1.0 - c_base[:, None]), 0.0)
        return calendar, total, c_base, np.clip(rel, 0.0, 1.0)

    # what the lines did
    units = metered_units(meters.meters, inv.lines)
    normal, daily = normal_load(meters.kwh_h, window, baseline)
    production, p_normal = _take(units.production, meters.kwh_h), _take(units.production, normal)
    treatment, t_normal = _take(units.treatment, meters.kwh_h), _take(units.treatment, normal)
    asked_unit = np.zeros((len(units.frame), len(window)))
    for rows in blocks:
        units.unit_mean(asked(rows)[3], rows, asked_unit)
    judged = judge(units, asked_unit, production, p_normal, treatment, t_normal, window, issued, rules)
    days, kwh, index = work_index(production, window, _take(units.production, daily[:, None])[:, 0])
    work = pd.DataFrame({"date": np.tile(days, len(units.frame)), "enterprise_id": np.repeat(units.frame.enterprise_id.to_numpy(), len(days)),
                         "line_id": np.repeat(units.frame.line_id.to_numpy(), len(days)), "kwh": kwh.ravel(), "work_index": index.ravel()})
    work = work[np.repeat(units.production >= 0, len(days))].reset_index(drop=True)

    # emissions as planned, as they really were and without the emergency measures, over the period
    profile = inv.profile_matrix(times)
    idle = float(rules["idle_load_kwh_h"])
    level_p = level_w[period]
    warned = level_p > 0
    n_p = len(POLLUTANTS)
    sums = {k: np.zeros((len(LEVELS), n_p)) for k in ("base", "planned", "realised")}
    realised_h, without_h = np.zeros((len(times), n_p)), np.zeros((len(times), n_p))
    planned_cut_t, realised_cut_t = np.zeros((inv.size, n_p)), np.zeros((inv.size, n_p))
    metered_base, warned_base = np.zeros(n_p), np.zeros(n_p)
    cems_rows = None
    if cems is not None and len(cems):
        row_of = pd.Series(np.arange(inv.size), index=pd.MultiIndex.from_arrays([inv.lines.enterprise_id.astype(str), inv.lines.line_id.astype(str)]))
        cems_rows = row_of.reindex(pd.MultiIndex.from_arrays([cems.enterprise_id, cems.line_id])).to_numpy().astype(int)
        rate = inv.mean_rate_kg_h
        pm10, pm25 = rate[:, POLLUTANTS.index("pm10")], rate[:, POLLUTANTS.index("pm25")]
        fine = np.where(pm10 > 0, pm25 / np.where(pm10 > 0, pm10, 1.0), 1.0)  # the PM2.5 share of the line's PM
    for rows in blocks:
        calendar, total, c_base, _ = asked(rows)
        unit = units.line_unit[rows]
        base = inv.mean_rate_kg_h[rows, None, :] * profile[inv.profile_id[rows]][:, :, None]  # (lines, hours, pollutants) [kg/h]
        planned = 1.0 - total[:, period]
        factor, _ = realised_factor(unit, production[:, period], p_normal[:, period], planned, c_base, idle)
        normal_line = _take(unit, p_normal[:, period])
        without = np.where(np.isfinite(normal_line) & (unit[:, None] >= 0), np.where(normal_line <= idle, 0.0, 1.0 - c_base[:, None]), 1.0 - calendar[:, period])
        realised = base * factor[:, :, None]
        if cems_rows is not None:
            pick = (cems_rows >= rows.start) & (cems_rows < rows.stop)
            for column, targets in (("so2_kg_h", ("so2",)), ("nox_kg_h", ("nox",)), ("pm_kg_h", ("pm10", "pm25"))):
                value = cems[column].to_numpy(float)
                ok = pick & np.isfinite(value)
                for pollutant in targets:
                    scale = fine[cems_rows[ok]] if pollutant == "pm25" else 1.0
                    realised[cems_rows[ok] - rows.start, cems.hour.to_numpy()[ok], POLLUTANTS.index(pollutant)] = value[ok] * scale
        kept_planned = base * planned[:, :, None]
        without_e = base * without[:, :, None]
        sums["base"] += level_sums(base, level_p)
        sums["planned"] += level_sums(kept_planned, level_p)
        sums["realised"] += level_sums(realised, level_p)
        planned_cut_t[rows] = (without_e - kept_planned)[:, warned].sum(axis=1) / 1000.0
        realised_cut_t[rows] = (without_e - realised)[:, warned].sum(axis=1) / 1000.0
        realised_h += realised.sum(axis=0)
        without_h += without_e.sum(axis=0)
        warned_base += base[:, warned].sum(axis=(0, 1))
        metered_base += base[unit >= 0][:, warned].sum(axis=(0, 1))
    cems_cells = 0 if cems is None else int(np.isfinite(cems[["so2_kg_h", "nox_kg_h", "pm_kg_h"]].to_numpy(float)).sum())
    planned_ratio = list_ratios(sums["base"], sums["planned"], level_p)
    realised_ratio = list_ratios(sums["base"], sums["realised"], level_p)
    groups = pd.DataFrame({"industry": inv.lines.industry.to_numpy(), "grade": inv.lines.grade.to_numpy(), "metered": units.line_unit >= 0})
    for j, p in enumerate(POLLUTANTS):
        groups[f"planned_{p}_t"] = planned_cut_t[:, j]
        groups[f"realised_{p}_t"] = realised_cut_t[:, j]
    cuts_by_group = groups.groupby(["industry", "grade"], sort=True).sum(numeric_only=True).reset_index()
    cuts_by_group["metered_lines"] = groups.groupby(["industry", "grade"], sort=True).metered.sum().to_numpy()

    # other sources: as planned at the issued level (nothing measures them)
    other = prepared.other
    cut_other = other.reduction[:, level_p.astype(int), :]  # (categories, hours, pollutants)
    other_base = other.rate_kg_h[:, None, :] * other.weights[:, :, None]
    realised_h += (other_base * (1.0 - cut_other)).sum(axis=0)  # (hours, pollutants)
    without_h += other_base.sum(axis=0)

    metrics: dict = {
        "period": {"start": times[0].isoformat(), "end": period_end.isoformat()},
        "baseline_days": {"start": base_start.isoformat(), "end": first_day.isoformat(), "days": cfg.baseline_days},
        "warnings_issued": [{"level": lv, "issued_at": pd.Timestamp(i).isoformat(), "start": pd.Timestamp(s).isoformat(), "end": pd.Timestamp(e).isoformat()}
                            for lv, i, s, e in zip(issued.level, issued.issued_at, issued.start, issued.end)],
        "compliance": {
            "units": int(len(units.frame)),
            "verdicts": {v: int((judged.table.verdict == v).sum()) for v in ("complied", "partly", "not complied", "no data")},
            "treatment_violations": int(judged.table.treatment_violation.sum()),
            "load_up": int(judged.table.load_up.sum()),
            "meters": int(len(meters.meters)), "meter_resets": int(meters.meters.resets.sum()), "meter_gap_hours": int(meters.meters.gap_hours.sum()),
            "rules": {k: rules[k] for k in ("complied_tolerance", "partly_share", "min_data_share", "load_up_margin", "treatment_off_share",
                                            "production_running_share", "treatment_off_hours")},
        },
        "list_ratio_planned": planned_ratio,
        "list_ratio_realised": realised_ratio,
        "cuts_during_warnings_t": {
            "planned": {p: float(planned_cut_t[:, j].sum()) for j, p in enumerate(POLLUTANTS)},
            "realised": {p: float(realised_cut_t[:, j].sum()) for j, p in enumerate(POLLUTANTS)},
        },
        "metered_share_of_baseline": {key: (None if warned_base[POLLUTANTS.index(p)] <= 0 else float(metered_base[POLLUTANTS.index(p)] / warned_base[POLLUTANTS.index(p)]))
                                      for key, p in RATIO_COLUMN.items()},
        "lines_with_cuts_unmetered": int(((prepared.measures.reduction.max(axis=1) > 0) & (units.line_unit < 0) & ~inv.lines.derived.to_numpy(bool)).sum()),
        "cems_values": cems_cells,
    }

    # the PM2.5 effect
    obs = observed.pm25_ug_m3
    if regional_effects is not None and not len(regional_effects):  # the first pass of a regional evaluation
        return None, {"realised_h": realised_h, "without_h": without_h, "observed": obs}
    frame = pd.DataFrame({"time": times, "observed": obs})
    cf_aqi = None
    if scenario.atmosphere is not None:
        config = scenario.atmosphere.for_city(city)
        shifts = [int(s) for s in rules["shifts_h"]]
        keys = [p for p in POLLUTANTS if p != "pm10"]
        realised_kg = {p: np.stack([realised_h[:, POLLUTANTS.index(p)]]) for p in keys}
        without_kg = {p: without_h[:, POLLUTANTS.index(p)] for p in keys}
        if regional_effects is not None:  # the coupled run of all the cities (_regional_effects)
            effects, c = regional_effects, 1.0
        else:
            met = prepared.meteorology[0].slice(times[0], period_end)
            shifted = {p: np.concatenate([realised_kg[p], shifted_cuts(without_h[:, POLLUTANTS.index(p)], realised_h[:, POLLUTANTS.index(p)], shifts)]) for p in keys}
            cut = regional_cut_fraction(config, level_p)  # the regional background's cut under the warnings issued
            if cut is not None and (cut > 1.0 - 1e-6).any():
                raise InputError(file, "key atmosphere.regional_background_cut", "a cut of 1 takes the whole regional background away, so the "
                                 "evaluation cannot tell from the observation what the background was.", "give a cut below 1 (e.g. 0.3).")
            cuts = None if cut is None else np.stack([cut, *(shifted_series(cut, s) for s in shifts)])
            effects, c = modelled_effect(config, met, obs, shifted, without_kg, file, cuts)
        effect = effects[0]
        band = None
        if config.model == "box":
            band = effect_band(config, met, obs, {p: v[0] for p, v in realised_kg.items()}, without_kg, int(rules["band_members"]), scenario.ensemble.seed, file,
                               None if cuts is None else cuts[0])
        frame["counterfactual"] = obs + effect
        frame["effect"] = effect
        if band is not None:
            frame["counterfactual_p05"] = obs + np.percentile(band, 5, axis=0)
            frame["counterfactual_p95"] = obs + np.percentile(band, 95, axis=0)
        figures = effect_figures(times, obs, effect, level_p, band)
        figures["calibration_scale"] = c
        figures["band"] = ("box-model parameters drawn within the ranges of sim/data/atmosphere.yaml" if band is not None
                           else "none (regional model)" if config.model == "regional" else "none (linear model)")
        cf_daily = daily_aqi(obs + effect, times)
        heavy_cf = cf_daily.to_numpy() > 200
        heavy_days = np.isin(times.normalize(), cf_daily.index[heavy_cf])
        figures["warning_shifts"] = [
            {"shift_h": s, "mean_reduction_on_counterfactual_heavy_days_ug_m3": (float(np.nanmean(effects[k + 1][heavy_days])) if heavy_days.any() else None),
             "heavy_days": int((daily_aqi(obs + effect - effects[k + 1], times).to_numpy() > 200).sum())}
            for k, s in enumerate(shifts)]
        figures["warning_shifts"].insert(2, {"shift_h": 0, "mean_reduction_on_counterfactual_heavy_days_ug_m3": (float(np.nanmean(effect[heavy_days])) if heavy_days.any() else None),
                                             "heavy_days": figures["heavy_days_observed"]})
        metrics["pm25_effect"] = figures
        cf_aqi = cf_daily
    else:
        notes.append("no atmosphere block: the PM2.5 effect is not estimated (add atmosphere with a meteorology file)")
    frame["level"] = np.array(["none", *LEVELS], dtype=object)[level_p]

    # forecasts and warnings
    obs_aqi = daily_aqi(obs, times)
    skill = forecast_skill(forecasts, obs_aqi, float(rules["accuracy_target"]))
    metrics["forecast_skill"] = {
        "by_lead_day": json.loads(skill.to_json(orient="records")),
        "level_hit_rate": (float(skill.level_hits.sum() / skill.days.sum()) if len(skill) else None),
        "target": float(rules["accuracy_target"]),
        "meets_target_all_lead_days": bool(skill.meets_target.all()) if len(skill) else None,
    }
    metrics["warning_timeliness"] = warning_timeliness(issued, obs_aqi, cf_aqi, COVERED_HOURS)

    unmeterable = _unmeterable(prepared, units.line_unit, float(rules["complied_tolerance"]))
    review = review_list(judged.table, unmeterable.drop(columns="why"))
    if len(unmeterable):
        review.loc[review.kind == "list line", "action"] = np.where(
            unmeterable.why.to_numpy() == "transport", text("eval.act.transport", "en"), text("eval.act.small_cut", "en"))
    metrics["review"] = {"enterprises": int((review.kind == "enterprise").sum()), "list_lines": int((review.kind == "list line").sum())}
    metrics["notes"] = list(notes)
    compliance = judged.table.assign(start=lambda d: pd.to_datetime(d.start), end=lambda d: pd.to_datetime(d.end))
    processes = inv.factors.processes
    names = processes["name_zh"].groupby(level="industry").first().to_dict() if "name_zh" in processes.columns else {}
    sums_out = {"base": sums["base"], "planned": sums["planned"], "realised": sums["realised"], "level": level_p, "warned_base": warned_base,
                "metered_base": metered_base, "observed": obs, "effect": frame["effect"].to_numpy() if "effect" in frame else None, "skill": skill}
    return EvaluationResult(scenario, compliance, judged.hourly, work, frame, skill, cuts_by_group, review, issued, metrics, tuple(notes),
                            {str(k): str(v) for k, v in names.items() if isinstance(v, str) and v}), sums_out


def _with_city(frames: list[pd.DataFrame], cities: tuple[str, ...]) -> pd.DataFrame:
    """The cities' tables one under the other, a ``city`` column first."""
    parts = [f.copy() for f in frames]
    for part, city in zip(parts, cities):
        part.insert(0, "city", city)
    return pd.concat(parts, ignore_index=True) if len(parts) else pd.DataFrame()


def _province(scenario: Scenario, cfg, rules: dict, cities: tuple[str, ...], done: list[tuple[EvaluationResult, dict]], meters: MeterData,
              model_notes: tuple[str, ...] = ()) -> EvaluationResult:
    """A list of several cities: the cities' tables with a ``city`` column, and ``evaluation.json``
    with each city's figures under ``by_city`` and, at the top level, the province sums and the
    figures pooled over the cities (list ratios from the summed emissions, PM2.5 effect means over
    the city-hours, heavy city-days, the forecast hit rate over the city-days)."""
    results = [ev for ev, _ in done]
    sums = [extra for _, extra in done]
    metrics: dict = {"cities": list(cities), "period": results[0].metrics["period"], "baseline_days": {"days": cfg.baseline_days}}
    metrics["warnings_issued"] = [{"city": city, **w} for city, ev in zip(cities, results) for w in ev.metrics["warnings_issued"]]
    verdicts = {v: sum(ev.metrics["compliance"]["verdicts"][v] for ev in results) for v in results[0].metrics["compliance"]["verdicts"]}
    metrics["compliance"] = {
        "units": sum(ev.metrics["compliance"]["units"] for ev in results), "verdicts": verdicts,
        "treatment_violations": sum(ev.metrics["compliance"]["treatment_violations"] for ev in results),
        "load_up": sum(ev.metrics["compliance"]["load_up"] for ev in results),
        "meters": int(len(meters.meters)), "meter_resets": int(meters.meters.resets.sum()), "meter_gap_hours": int(meters.meters.gap_hours.sum()),
        "rules": results[0].metrics["compliance"]["rules"],
    }
    level = np.concatenate([x["level"] for x in sums])
    total = {k: np.sum([x[k] for x in sums], axis=0) for k in ("base", "planned", "realised", "warned_base", "metered_base")}
    metrics["list_ratio_planned"] = list_ratios(total["base"], total["planned"], level)
    metrics["list_ratio_realised"] = list_ratios(total["base"], total["realised"], level)
    metrics["cuts_during_warnings_t"] = {kind: {p: float(sum(ev.metrics["cuts_during_warnings_t"][kind][p] for ev in results)) for p in POLLUTANTS}
                                         for kind in ("planned", "realised")}
    metrics["metered_share_of_baseline"] = {key: (None if total["warned_base"][POLLUTANTS.index(p)] <= 0 else float(total["metered_base"][POLLUTANTS.index(p)] / total["warned_base"][POLLUTANTS.index(p)]))
                                            for key, p in RATIO_COLUMN.items()}
    metrics["lines_with_cuts_unmetered"] = sum(ev.metrics["lines_with_cuts_unmetered"] for ev in results)
    metrics["cems_values"] = sum(ev.metrics["cems_values"] for ev in results)
    if all("pm25_effect" in ev.metrics for ev in results):
        effect = np.concatenate([x["effect"] for x in sums])
        obs = np.concatenate([x["observed"] for x in sums])
        warned = (level > 0) & np.isfinite(obs)
        figures = {key: sum(ev.metrics["pm25_effect"][key] for ev in results) for key in ("heavy_days_observed", "heavy_days_counterfactual", "heavy_days_avoided")}
        figures = {key.replace("heavy_days", "heavy_city_days"): value for key, value in figures.items()}
        if warned.any():
            figures["mean_reduction_during_warnings_ug_m3"] = float(effect[warned].mean())
            figures["mean_reduction_during_warnings_pct"] = float(100.0 * effect[warned].mean() / (obs + effect)[warned].mean())
        metrics["pm25_effect"] = figures
    skill = pd.concat([x["skill"] for x in sums if len(x["skill"])], ignore_index=True) if any(len(x["skill"]) for x in sums) else pd.DataFrame()
    metrics["forecast_skill"] = {
        "level_hit_rate": (float(skill.level_hits.sum() / skill.days.sum()) if len(skill) else None),
        "target": float(rules["accuracy_target"]),
        "meets_target_all_cities_and_lead_days": bool(skill.meets_target.all()) if len(skill) else None,
    }
    metrics["review"] = {k: sum(ev.metrics["review"][k] for ev in results) for k in ("enterprises", "list_lines")}
    notes = list(meters.notes) + _missing_inputs_notes(cfg) + [n for ev in results for n in ev.notes] + list(model_notes)
    notes = list(dict.fromkeys(notes))  # a note every city gives, once
    metrics["notes"] = notes
    metrics["by_city"] = {city: ev.metrics for city, ev in zip(cities, results)}
    names = {}
    for ev in results:
        names.update(ev.industry_names)
    cuts = _with_city([ev.cuts_by_group for ev in results], cities)
    return EvaluationResult(scenario, _with_city([ev.compliance for ev in results], cities), _with_city([ev.compliance_hourly for ev in results], cities),
                            _with_city([ev.work_index for ev in results], cities), _with_city([ev.pm25 for ev in results], cities),
                            _with_city([ev.forecast_skill for ev in results], cities), cuts, _with_city([ev.review for ev in results], cities),
                            _with_city([ev.issued for ev in results], cities), metrics, tuple(notes), names, dict(zip(cities, results)))


def evaluation_tables(ev: EvaluationResult) -> dict[str, pd.DataFrame]:
    """The evaluation's tables by file stem."""
    return {"compliance": ev.compliance, "compliance_hourly": ev.compliance_hourly, "work_index": ev.work_index, "evaluation_pm25": ev.pm25,
            "forecast_skill": ev.forecast_skill, "cuts_by_group": ev.cuts_by_group, "review": ev.review}


def write_evaluation(ev: EvaluationResult, folder: Path, *, report: bool = True, lang: str = "en") -> list[str]:
    """The evaluation's files into ``folder`` (inside an output folder being committed)."""
    written = []
    for stem, frame in evaluation_tables(ev).items():
        write_csv(frame, folder / f"{stem}.csv")
        written.append(f"{stem}.csv")
    with HashingFile(folder / "evaluation.json") as fh:
        fh.write((json.dumps(ev.metrics, indent=2, ensure_ascii=False, default=_plain) + "\n").encode("utf-8"))
    written.append("evaluation.json")
    if report:
        from sim.report.evaluation import write_evaluation_report

        written += write_evaluation_report(ev, folder, lang=lang)
    return written


def _plain(value):
    """JSON for numpy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
