"""The Python API: load a scenario, run it, read the results as DataFrames.

>>> from sim import load_scenario, run                                    # doctest: +SKIP
>>> result = run(load_scenario("scenarios/demo_city_orange.yaml"))        # doctest: +SKIP
>>> result.metrics["list_ratio"]["orange"]                                # doctest: +SKIP
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sim.engine import EngineInputs, EngineResult, Inspections, ScheduledLevel, baseline_run
from sim.ensemble import BatchOutput, SharedInputs, check_memory, progress_bar, run_member, run_members
from sim.forecast import forecast_template
from sim.meteorology import load_meteorology
from sim.aqi import daily_aqi
from sim.vocabulary import vocabulary
from sim.warnings import load_rule_set
from sim.errors import InputError
from sim.inventory import POLLUTANTS, Inventory, load_emission_factors, load_inventory
from sim.metrics import reduction_ratios, targets_met
from sim.policy import CalendarWindow, LineMeasures, assign_measures, calendar_cover, calendar_windows
from sim.projection import Pm25Projection, combine_projections, project_pm25
from sim.scenario import LEVELS, OtherSources, Scenario, load_scenario, scenario_sha256

__all__ = ["Result", "load_scenario", "run"]


@dataclass(frozen=True)
class OtherSourceArrays:
    """Other source categories as arrays: ``rate_kg_h`` [kg/h] (categories, pollutants),
    ``weights`` [-] (categories, hours), ``reduction`` [-] (categories, 1 + levels, pollutants),
    ``city_id`` (categories,) index into the run's cities."""

    names: tuple[str, ...]
    rate_kg_h: np.ndarray
    weights: np.ndarray
    reduction: np.ndarray
    cities: tuple[str, ...]
    city_id: np.ndarray
    measure_text: tuple[tuple[str, str, str], ...]


def other_source_arrays(others: list[OtherSources], inventory: Inventory, times: pd.DatetimeIndex, cities: list[str], file: object) -> OtherSourceArrays:
    """Category totals [t/d] -> mean rates [kg/h] with their temporal weights, cuts and city.

    A file whose ``city`` is ``all`` belongs to the only city of a one-city list."""
    p = len(POLLUTANTS)
    hourly, weekly = inventory.factors.hourly_profiles, inventory.factors.weekly_profiles
    names, rates, weights, cuts, texts, city_names = [], [], [], [], [], []
    for other in others:
        city = other.city
        if city == "all" and len(cities) == 1:
            city = cities[0]
        if city not in cities:
            raise InputError(other.file or file, "key inventory.other_sources" if other.file is None else "key city", f"other sources for city '{other.city}' do not match a city of the list ({', '.join(cities)}).", "set 'city' in the other-sources file to a city of the list.")
        for i, cat in enumerate(other.categories):
            for kind, name, store in (("hourly", cat.profile.hourly, hourly), ("weekly", cat.profile.weekly, weekly)):
                if name not in store:
                    raise InputError(other.file or file, f"key categories[{i}].profile.{kind}", f"profile '{name}' is not defined.", f"use one of {', '.join(sorted(store))} (emission_factors/profiles.csv).")
            names.append(cat.name)
            city_names.append(city)
            rates.append([getattr(cat.emissions_t_d, q) * 1000.0 / 24.0 for q in POLLUTANTS])
            weights.append(hourly[cat.profile.hourly][times.hour] * weekly[cat.profile.weekly][times.day_of_week])
            cuts.append([[0.0] * p] + [[getattr(getattr(cat.reduction, lv), q) for q in POLLUTANTS] for lv in LEVELS])
            texts.append(tuple(getattr(cat.measure, lv) or "" for lv in LEVELS))
    k = len(names)
    return OtherSourceArrays(
        tuple(names),
        np.array(rates).reshape(k, p),
        np.array(weights).reshape(k, len(times)),
        np.array(cuts).reshape(k, 1 + len(LEVELS), p),
        tuple(city_names),
        np.array([cities.index(c) for c in city_names], dtype=np.int64),
        tuple(texts),
    )


def _hours_since(start: pd.Timestamp, t: object) -> int:
    return int(np.ceil((pd.Timestamp(t) - start) / pd.Timedelta(hours=1)))


@dataclass(frozen=True)
class Result:
    """The outcome of one scenario run. DataFrames are built on first access.

    Emission frames are in [t/h] (hourly) and [t] (totals); measure figures in [kg/d].
    """

    scenario: Scenario
    inventory: Inventory
    measures_by_line: LineMeasures
    other: OtherSourceArrays
    times: pd.DatetimeIndex
    scenario_run: EngineResult
    baseline_run: EngineResult
    compliance: np.ndarray
    delay_h: np.ndarray
    notes: tuple[str, ...]
    sha256: str
    projection: Pm25Projection | None = None
    member_runs: tuple[EngineResult, ...] = ()
    cities: tuple[str, ...] = ()
    projection_by_city: dict[str, Pm25Projection] = field(default_factory=dict)
    calendars: tuple[CalendarWindow, ...] = ()  # staggered production in force during the run

    @property
    def pm25_by_city(self) -> pd.DataFrame | None:
        """With several cities: each city's PM2.5 frame stacked, with a ``city`` column."""
        if not self.projection_by_city:
            return None
        return pd.concat([p.frame.assign(city=c) for c, p in self.projection_by_city.items()], ignore_index=True)

    @property
    def pm25(self) -> pd.DataFrame | None:
        """Hourly PM2.5 [μg/m³]: baseline, scenario, background, local parts, components of the
        scenario, AQI of the trailing 24-h mean, warning level; None without ``atmosphere``."""
        return None if self.projection is None else self.projection.frame

    # ------------------------------------------------------------------ frames
    @cached_property
    def emissions(self) -> pd.DataFrame:
        """Hourly emissions of all sources [t/h], one block per variant: baseline, scenario
        (the member mean with an ensemble) and, with members > 1, scenario_p05/p50/p95."""
        variants = [(name, (r.hourly_kg_h + r.other_hourly_kg_h) / 1000.0) for name, r in (("baseline", self.baseline_run), ("scenario", self.scenario_run))]
        if len(self.member_runs) > 1:
            members = np.stack([r.hourly_kg_h + r.other_hourly_kg_h for r in self.member_runs]) / 1000.0
            variants += [(f"scenario_p{q:02d}", np.percentile(members, q, axis=0)) for q in (5, 50, 95)]
        frames = []
        for variant, total in variants:
            frame = pd.DataFrame(total, columns=list(POLLUTANTS))
            frame.insert(0, "variant", variant)
            frame.insert(0, "time", self.times)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def emissions_by_group(self) -> pd.DataFrame:
        """Period totals [t] by variant, city, industry, grade and pollutant (tidy)."""
        lines = self.inventory.lines
        frames = []
        for variant, run in (("baseline", self.baseline_run), ("scenario", self.scenario_run)):
            table = pd.DataFrame(run.line_total_kg / 1000.0, columns=list(POLLUTANTS))
            table[["city", "industry", "grade"]] = lines[["city", "industry", "grade"]].to_numpy()
            grouped = table.groupby(["city", "industry", "grade"], sort=True)[list(POLLUTANTS)].sum().reset_index()
            if self.other.names:
                other = pd.DataFrame(run.other_total_kg / 1000.0, columns=list(POLLUTANTS))
                other.insert(0, "grade", "-")
                other.insert(0, "industry", [f"other:{n}" for n in self.other.names])
                other.insert(0, "city", list(self.other.cities))
                grouped = pd.concat([grouped, other], ignore_index=True)
            long = grouped.melt(id_vars=["city", "industry", "grade"], var_name="pollutant", value_name="total_t")
            long.insert(0, "variant", variant)
            frames.append(long)
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def warnings(self) -> pd.DataFrame:
        """Warnings: level, issue time (empty for scheduled ones), start, end (end exclusive),
        reason (the rule matched); with members > 1 one block per member (``member`` column)."""
        hour = pd.Timedelta(hours=1)
        t0 = self.times[0]
        rows = []
        several = len(self.cities) > 1
        for m, run in enumerate(self.member_runs or (self.scenario_run,)):
            for w, c in zip(run.warnings, run.warning_cities or [0] * len(run.warnings)):
                rows.append({
                    **({"member": m} if len(self.member_runs) > 1 else {}),
                    **({"city": self.cities[c]} if several else {}),
                    "level": LEVELS[w.level - 1],
                    "issued_at": pd.NaT if w.issued_h is None else t0 + w.issued_h * hour,
                    "start": t0 + w.start_h * hour,
                    "end": t0 + w.end_h * hour,
                    "reason": w.reason,
                })
        columns = (["member"] if len(self.member_runs) > 1 else []) + (["city"] if several else []) + ["level", "issued_at", "start", "end", "reason"]
        return pd.DataFrame(rows, columns=columns)

    @cached_property
    def measures(self) -> pd.DataFrame:
        """The emergency reduction list (应急减排清单): one row per line, baseline [kg/d] and
        designed reductions [kg/d] at each level (full compliance), measures in words.

        Rows are in the order of ``inventory.lines`` (arrays of the run line up with them);
        :attr:`reduction_list` is the same list in its published order. ``exempt_reason``,
        ``rule`` and ``calendar`` are stable keys; ``reason``, ``calendar_text`` and the
        measures are words, "中文 (English)". A line that a staggered-production calendar cuts
        more than a level's designed measure says so in that level's measure."""
        lines = self.inventory.lines
        m = self.measures_by_line
        cover = calendar_cover(self.calendars, m.reduction)
        base = self.inventory.baseline_kg_d
        out = lines[["enterprise_id", "enterprise_name", "city", "district", "industry", "process", "line_id", "grade"]].copy()
        for flag in ("livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport"):
            out[flag] = lines[flag].astype(int)
        out["exempt_reason"] = m.exempt_reason
        out["rule"] = m.rule
        out["reason"] = m.reason
        out["calendar"] = cover.label
        out["calendar_reduction"] = cover.reduction
        out["calendar_text"] = cover.words
        out["response_delay_h"] = self.delay_h
        out["compliance"] = self.compliance
        out["output_value_wan_yuan_per_day"] = lines.output_value_wan_yuan_per_day
        for j, p in enumerate(POLLUTANTS):
            out[f"baseline_{p}_kg_d"] = base[:, j]
        for k, level in enumerate(LEVELS):
            out[f"{level}_reduction"] = m.reduction[:, k]
            suffix = cover.measure_suffix[:, k]
            out[f"{level}_measure"] = m.measure_text[:, k] + suffix if (suffix != "").any() else m.measure_text[:, k]
            for j, p in enumerate(POLLUTANTS):
                out[f"{level}_{p}_reduction_kg_d"] = base[:, j] * m.reduction[:, k]
        out["source_row"] = lines.source_row
        out["derived"] = lines.derived.astype(int)
        return out

    @cached_property
    def list_order(self) -> np.ndarray:
        """Row positions of :attr:`measures` in the published order of the list (see
        :func:`list_order`)."""
        return list_order(self.inventory.lines)

    @property
    def reduction_list(self) -> pd.DataFrame:
        """:attr:`measures` in the published order: each enterprise's lines together, in the
        order of the input list, its derived truck row directly below them (``measures.csv``,
        ``measures.xlsx``). ``source_row`` still names each row's input row."""
        order = self.list_order
        if (order == np.arange(len(order))).all():  # no derived rows out of place: no copy
            return self.measures
        return self.measures.iloc[order].reset_index(drop=True)

    def city_metrics(self) -> dict:
        """Per city: list and society ratios, production loss [万元], emissions [t], PM2.5 figures."""
        lines = self.inventory.lines
        run = self.scenario_run
        out = {}
        for k, city in enumerate(self.cities):
            mask = (lines.city == city).to_numpy()
            other = self.other.city_id == k
            list_ratio, society_ratio = reduction_ratios(
                self.inventory.mean_rate_kg_h[mask], self.measures_by_line.reduction[mask],
                self.other.rate_kg_h[other], self.other.reduction[other][:, 1:, :],
            )
            entry = {
                "lines": int((mask & ~lines.derived.to_numpy(bool)).sum()),
                "list_ratio": list_ratio,
                "society_ratio": society_ratio,
                "production_loss_wan_yuan": float(run.loss_by_city_wan_yuan[k]),
                "warning_hours": int((run.level_by_city[:, k] > 0).sum()),
                "emissions_t": {
                    variant: {p: float(r.hourly_by_city_kg_h[:, k, j].sum() / 1000.0) for j, p in enumerate(POLLUTANTS)}
                    for variant, r in (("baseline", self.baseline_run), ("scenario", run))
                },
            }
            if city in self.projection_by_city:
                entry["pm25"] = self.projection_by_city[city].metrics
            out[city] = entry
        return out

    def realised_ratio(self) -> dict:
        """Realised list reduction per level while it was in force (see :func:`_realised`)."""
        return _realised(self)

    def warning_statistics(self) -> dict:
        """Warnings per level, false-alarm hours (under warning while the true daily AQI of
        the baseline is ≤ 200), misses (baseline heavy-pollution days without any warning hour),
        and the PM2.5 reduction during warnings [μg/m³], as member bands."""
        runs = self.member_runs
        out: dict = {"members": len(runs)}
        out["warnings_issued"] = {lv: _band([sum(w.level == k for w in r.warnings) for r in runs]) for k, lv in enumerate(LEVELS, start=1)}
        out["warning_hours"] = _band([int((r.level_in_force > 0).sum()) for r in runs])
        if self.projection is not None:
            baseline = self.projection.frame.baseline.to_numpy()
            daily = daily_aqi(baseline, self.times)
            day_of_hour = self.times.normalize()
            aqi_by_hour = daily.reindex(day_of_hour).to_numpy()
            clean_hours = ~(aqi_by_hour > 200)
            heavy_days = daily.index[(daily > 200).to_numpy()]
            false_alarm, misses, reductions = [], [], []
            for m, r in enumerate(runs):
                warned = r.level_in_force > 0
                false_alarm.append(int((warned & clean_hours).sum()))
                warned_days = set(day_of_hour[warned])
                misses.append(int(sum(d not in warned_days for d in heavy_days)))
                if warned.any():
                    reductions.append(float((baseline - self.projection.members_ug_m3[m])[warned].mean()))
            out["false_alarm_hours"] = _band(false_alarm)
            out["missed_heavy_days"] = _band(misses)
            out["heavy_days_baseline"] = int(len(heavy_days))
            if reductions:
                out["pm25_reduction_during_warnings_ug_m3"] = _band(reductions)
        out["inspections"] = int(sum(r.inspections for r in runs))
        out["caught_non_compliant"] = int(sum(r.caught for r in runs))
        return out

    @cached_property
    def metrics(self) -> dict:
        """Summary indicators (see ARCHITECTURE.md §4)."""
        policy = self.scenario.resolved_policy
        list_ratio, society_ratio = reduction_ratios(
            self.inventory.mean_rate_kg_h, self.measures_by_line.reduction, self.other.rate_kg_h, self.other.reduction[:, 1:, :]
        )
        run = self.scenario_run
        lines = self.inventory.lines
        totals = {
            variant: {p: float((r.hourly_kg_h[:, j] + r.other_hourly_kg_h[:, j]).sum() / 1000.0) for j, p in enumerate(POLLUTANTS)}
            for variant, r in (("baseline", self.baseline_run), ("scenario", self.scenario_run))
        }
        return {
            "scenario": self.scenario.name,
            "period": {"start": self.times[0].isoformat(), "end": (self.times[-1] + pd.Timedelta(hours=1)).isoformat(), "hours": len(self.times)},
            "list_ratio": list_ratio,
            "society_ratio": society_ratio,
            "targets": policy.targets.model_dump(),
            "targets_met": targets_met(list_ratio, society_ratio, policy.targets),
            "emissions_t": totals,
            "warning_hours": {lv: int((run.level_in_force == k + 1).sum()) for k, lv in enumerate(LEVELS)},
            "production_loss_wan_yuan": run.production_loss_wan_yuan,
            "enterprise_days_limited": run.enterprise_hours_limited / 24.0,
            "enterprise_days_stopped": run.enterprise_hours_stopped / 24.0,
            "list": {
                "lines": int((~lines.derived).sum()),
                "derived_transport_rows": int(lines.derived.sum()),
                "enterprises": int(lines.enterprise_id.nunique()),
                "exempt_lines": int(self.measures_by_line.exempt.sum()),
                "lines_without_output_value": int(((lines.output_value_wan_yuan_per_day <= 0) & ~lines.derived).sum()),
            },
            "realised_ratio": self.realised_ratio(),
            **({"pm25": self.projection.metrics, "calibration_scale": self.projection.calibration_scale} if self.projection else {}),
            **({"by_city": self.city_metrics()} if len(self.cities) > 1 else {}),
            **({"warning_statistics": self.warning_statistics()} if self.member_runs and (self.scenario.warnings.standard or len(self.member_runs) > 1) else {}),
            "notes": list(self.notes),
            "seed": self.scenario.ensemble.seed,
            "scenario_sha256": self.sha256,
        }


def list_order(lines: pd.DataFrame) -> np.ndarray:
    """The order in which a list is published: enterprises in the order they first appear,
    each enterprise's input lines in input order and then its derived truck row, so that a
    reader finds an enterprise's trucks with its lines (the inventory appends derived rows)."""
    first_seen = pd.factorize(lines.enterprise_id)[0]  # codes follow first appearance
    return np.lexsort((np.arange(len(lines)), lines.derived.to_numpy(bool), first_seen))


def _band(values: list[float] | np.ndarray) -> dict[str, float]:
    """Mean and 5/50/95th percentiles of member values."""
    v = np.asarray(values, dtype=float)
    return {"mean": float(v.mean()), "p05": float(np.percentile(v, 5)), "p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95))}


def _realised(result: "Result") -> dict:
    """Realised list reduction during the hours each level was in force [-], against the
    designed list ratio of that level: 1 − Σ scenario ÷ Σ baseline emissions of listed lines
    over those hours (member mean; staggered production counts too where it overlaps)."""
    voc = vocabulary()
    base = result.baseline_run.hourly_kg_h
    runs = result.member_runs or (result.scenario_run,)
    out = {}
    for k, level in enumerate(LEVELS, start=1):
        per_member = []
        for r in runs:
            hours = r.level_in_force == k
            if hours.any():
                kept = r.hourly_kg_h[hours].sum(axis=0)
                total = base[hours].sum(axis=0)
                per_member.append({key: (None if total[voc.pollutants.index(p)] <= 0 else float(1 - kept[voc.pollutants.index(p)] / total[voc.pollutants.index(p)])) for key, p in voc.ratio_pollutants.items()})
        if per_member:
            out[level] = {key: (None if per_member[0][key] is None else float(np.mean([m[key] for m in per_member]))) for key in voc.ratio_pollutants}
    return out


def _line_vectors(scenario: Scenario, inventory: Inventory) -> tuple[np.ndarray, np.ndarray]:
    """Compliance probability [-] and response delay [h] for every line."""
    lines = inventory.lines
    response = scenario.response
    known = set(inventory.factors.industries)
    for key in response.delay_hours:
        if key != "default" and key not in known:
            raise InputError(scenario.source_file, f"key response.delay_hours.{key}", f"'{key}' is not an industry.", "use 'default' or a key of emission_factors/industries.csv.")
    grades = lines.grade.unique()
    compliance = lines.grade.map({g: response.compliance_for(g) for g in grades}).to_numpy(float)
    industries = lines.industry.unique()
    delay = lines.industry.map({i: response.delay_for(i) for i in industries}).to_numpy(np.int64)
    return compliance, delay


@dataclass(frozen=True)
class Prepared:
    """A scenario turned into arrays, ready for members to run."""

    scenario: Scenario
    inventory: Inventory
    measures: LineMeasures
    other: OtherSourceArrays
    times: pd.DatetimeIndex
    cities: list[str]
    compliance: np.ndarray
    delay_h: np.ndarray
    shared: SharedInputs
    notes: tuple[str, ...]


def prepare(scenario: Scenario) -> Prepared:
    """Load the list and factors, apply the policy and build the engine's arrays."""
    factors = load_emission_factors(scenario.inventory.emission_factors)
    inventory = load_inventory(scenario.inventory.enterprises, factors, scenario.inventory.sheet, scenario.inventory.header_row)
    measures = assign_measures(inventory, scenario.resolved_policy)
    start = pd.Timestamp(scenario.period.start)
    hours = scenario.period.hours
    times = pd.date_range(start, periods=hours, freq="h")
    windows, calendar_notes = calendar_windows(inventory, list(scenario.staggered_production), start, hours, scenario.source_file)
    cities = sorted(inventory.lines.city.unique())
    other = other_source_arrays(scenario.resolved_other_sources, inventory, times, cities, scenario.source_file)
    compliance, delay = _line_vectors(scenario, inventory)

    def city_indices(names: list[str] | None, where: str) -> tuple[int, ...] | None:
        if names is None:
            return None
        unknown = [n for n in names if n not in cities]
        if unknown:
            raise InputError(scenario.source_file, where, f"city '{unknown[0]}' is not a city of the list ({', '.join(cities)}).", "correct the city name.")
        return tuple(cities.index(n) for n in names)

    fixed = tuple(
        ScheduledLevel(LEVELS.index(w.level) + 1, max(_hours_since(start, w.start), 0), min(_hours_since(start, w.end), hours), reason,
                       cities=city_indices(w.city, f"key warnings.{key}[{i}].city"))
        for key, reason in (("schedule", "scheduled in the scenario file"), ("regional", "regional (provincial) warning"))
        for i, w in enumerate(getattr(scenario.warnings, key))
    )
    atmosphere = scenario.atmosphere
    if atmosphere is not None and atmosphere.cities:
        missing = [c for c in cities if c not in atmosphere.cities]
        if missing:
            raise InputError(scenario.source_file, "key atmosphere.cities", f"city '{missing[0]}' of the list has no meteorology.", f"add it under atmosphere.cities (cities of the list: {', '.join(cities)}).")
    elif atmosphere is not None and len(cities) > 1:
        raise InputError(scenario.source_file, "key atmosphere.meteorology", f"the list spans {len(cities)} cities ({', '.join(cities[:5])}{', ...' if len(cities) > 5 else ''}), but one meteorology file is given.", "give each city its box under atmosphere.cities: {CITY: {meteorology: FILE}}.")
    inspections = scenario.response.inspections
    engine = EngineInputs(
        hours=hours,
        mean_rate_kg_h=inventory.mean_rate_kg_h,
        profile_id=inventory.profile_id,
        profile_weights=inventory.profile_matrix(times),
        level_reduction=np.column_stack([np.zeros(inventory.size), measures.reduction]),
        compliance_probability=compliance,
        delay_h=delay,
        value_wan_yuan_d=inventory.lines.output_value_wan_yuan_per_day.to_numpy(float),
        enterprise_code=inventory.lines.enterprise_code.to_numpy(),
        is_production=~inventory.lines.derived.to_numpy(bool),
        schedule=fixed,
        calendars=tuple(windows),
        other_rate_kg_h=other.rate_kg_h,
        other_weights=other.weights,
        other_reduction=other.reduction,
        inspections=None if inspections is None else Inspections(inspections.per_day, inspections.catch_probability, inspections.hour_of_day),
        city_id=np.searchsorted(np.array(cities, dtype=object), inventory.lines.city.to_numpy()).astype(np.int64),
        other_city_id=other.city_id,
        n_cities=len(cities),
    )
    forecasts, rule_set = {}, None
    cfg = scenario.warnings
    if cfg.standard:
        base_dir = scenario.source_file.parent if scenario.source_file else None
        rule_set = load_rule_set(cfg.standard, base_dir, scenario.source_file)
        for k, city in enumerate(cities):
            met = load_meteorology(atmosphere.for_city(city).meteorology) if cfg.forecast.file is None else None
            forecasts[k] = forecast_template(cfg, times, met.times if met else None, met.pm25_baseline_ug_m3 if met else None, scenario.source_file)
    shared = SharedInputs(engine, forecasts, cfg, rule_set, scenario.ensemble.seed)
    notes = inventory.notes + measures.notes + calendar_notes
    production = ~inventory.lines.derived.to_numpy(bool)
    no_value = int((production & ~(inventory.lines.output_value_wan_yuan_per_day.to_numpy(float) > 0)).sum())
    if no_value:
        notes += (f"{no_value} of {int(production.sum())} lines have no output value (output_value_wan_yuan_per_day blank or 0): "
                  "the production loss leaves them out, so it is under-counted",)
    members = scenario.ensemble.members
    if members > 1 and not _anything_random(shared, compliance):
        notes += (f"the {members} ensemble members are identical (fixed or error-free forecast warnings and full compliance: nothing is drawn at random); "
                  f"ensemble.members: 1 gives the same results in 1/{members} of the time",)
    return Prepared(scenario, inventory, measures, other, times, cities, compliance, delay, shared, notes)


def _anything_random(shared: SharedInputs, compliance: np.ndarray) -> bool:
    """Whether members can differ: only forecast errors and compliance draws are random
    (inspections only change lines that do not comply, so with full compliance they change
    nothing)."""
    forecast_error = any(not f.from_file and bool(np.any(f.sigma > 0)) for f in shared.forecasts.values())
    return forecast_error or bool(np.any(compliance < 1.0))


def _mean_run(batches: list[BatchOutput], members: int) -> EngineResult:
    """An EngineResult of member means (the level in force is the median member's)."""
    runs = [r for b in batches for r in b.runs]
    return EngineResult(
        hourly_kg_h=np.mean([r.hourly_kg_h for r in runs], axis=0),
        other_hourly_kg_h=np.mean([r.other_hourly_kg_h for r in runs], axis=0),
        line_total_kg=np.sum([b.line_total_sum_kg for b in batches], axis=0) / members,
        other_total_kg=np.sum([b.other_total_sum_kg for b in batches], axis=0) / members,
        level_in_force=np.median([r.level_in_force for r in runs], axis=0).astype(np.int8),
        lines_limited=np.mean([r.lines_limited for r in runs], axis=0),
        lines_stopped=np.mean([r.lines_stopped for r in runs], axis=0),
        production_loss_wan_yuan=float(np.mean([r.production_loss_wan_yuan for r in runs])),
        enterprise_hours_limited=float(np.mean([r.enterprise_hours_limited for r in runs])),
        enterprise_hours_stopped=float(np.mean([r.enterprise_hours_stopped for r in runs])),
        warnings=runs[0].warnings,
        warning_cities=runs[0].warning_cities,
        hourly_by_city_kg_h=None if runs[0].hourly_by_city_kg_h is None else np.mean([r.hourly_by_city_kg_h for r in runs], axis=0),
        level_by_city=np.median([r.level_by_city for r in runs], axis=0).astype(np.int8),
        loss_by_city_wan_yuan=np.mean([r.loss_by_city_wan_yuan for r in runs], axis=0),
        inspections=int(np.sum([r.inspections for r in runs])),
        caught=int(np.sum([r.caught for r in runs])),
    )


def with_overrides(scenario: Scenario, *, seed: int | None = None, members: int | None = None) -> Scenario:
    """``scenario`` with the ensemble seed and member count given on the command line
    (``--seed``, ``--members``; None keeps the scenario's own)."""
    ensemble = {k: v for k, v in (("seed", seed), ("members", members)) if v is not None}
    if not ensemble:
        return scenario
    if ensemble.get("members", 1) < 1 or ensemble.get("seed", 0) < 0:
        raise InputError(None, "--members/--seed", "members must be >= 1 and the seed >= 0.", "give e.g. --members 200 --seed 42.")
    return scenario.replace(ensemble=scenario.ensemble.model_copy(update=ensemble))


def run(scenario: Scenario, *, executor: str = "serial", scheduler: str | None = None, quiet: bool = True, prepared: Prepared | None = None) -> Result:
    """Run a scenario and return its :class:`Result`.

    With ``ensemble.members`` > 1 the members run on ``executor`` (``serial``, ``processes``
    or ``dask`` with an optional ``scheduler`` address); every executor gives the same numbers
    for the same seed. ``quiet=False`` shows a progress bar for members on stderr.
    ``prepared``: the scenario's arrays from :func:`prepare`, possibly with other per-line
    measures (as the optimiser makes them); prepared here when None.
    """
    prepared = prepared if prepared is not None else prepare(scenario)
    shared = prepared.shared
    members = scenario.ensemble.members
    # before the members run, not after they filled the memory (100000 members took 16.7 GB)
    need = check_memory(members, len(prepared.times), prepared.inventory.size, len(prepared.cities), scenario.source_file)
    if need > 1e9 and not quiet:  # a long run: say what it will take
        print(f"note: {members:,} members need about {need / 1e9:,.1f} GB of memory", file=sys.stderr)
    if members == 1:
        member_runs: tuple[EngineResult, ...] = (run_member(shared, 0),)
        scenario_run = member_runs[0]
    else:
        tick, close = progress_bar(members, quiet)
        try:
            done = run_members(shared, members, executor, scheduler, tick)
        finally:
            close()
        member_runs = tuple(r for b in done for r in b.runs)
        scenario_run = _mean_run(done, members)
    base_run = baseline_run(shared.engine)
    projection, by_city = None, {}
    if scenario.atmosphere is not None:
        runs = member_runs
        for k, city in enumerate(prepared.cities):
            def emissions(rs: tuple[EngineResult, ...], keep_members: bool) -> dict[str, np.ndarray]:
                if len(prepared.cities) == 1:
                    both = np.stack([r.hourly_kg_h + r.other_hourly_kg_h for r in rs])  # (members, hours, pollutants)
                else:
                    both = np.stack([r.hourly_by_city_kg_h[:, k, :] for r in rs])
                return {p: both[:, :, j] if keep_members else both[0, :, j] for j, p in enumerate(POLLUTANTS) if p != "pm10"}

            levels = np.stack([r.level_by_city[:, k] for r in runs]).astype(int)
            by_city[city] = project_pm25(scenario.atmosphere.for_city(city), prepared.times, emissions((base_run,), False),
                                         emissions(runs, members > 1), levels if members > 1 else levels[0], scenario.source_file)
        projection = by_city[prepared.cities[0]] if len(by_city) == 1 else combine_projections(list(by_city.values()), prepared.times)
    return Result(
        scenario=scenario,
        inventory=prepared.inventory,
        measures_by_line=prepared.measures,
        other=prepared.other,
        times=prepared.times,
        scenario_run=scenario_run,
        baseline_run=base_run,
        compliance=prepared.compliance,
        delay_h=prepared.delay_h,
        notes=prepared.notes,
        sha256=scenario_sha256(scenario),
        projection=projection,
        member_runs=member_runs,
        cities=tuple(prepared.cities),
        projection_by_city=by_city if len(by_city) > 1 else {},
        calendars=tuple(shared.engine.calendars),
    )
