"""The Python API: load a scenario, run it, read the results as DataFrames.

>>> from sim import load_scenario, run                                    # doctest: +SKIP
>>> result = run(load_scenario("scenarios/demo_city_orange.yaml"))        # doctest: +SKIP
>>> result.metrics["list_ratio"]["orange"]                                # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sim.engine import EngineInputs, EngineResult, ScheduledLevel, baseline_run, run_engine
from sim.errors import InputError
from sim.inventory import POLLUTANTS, Inventory, load_emission_factors, load_inventory
from sim.metrics import reduction_ratios, targets_met
from sim.policy import LineMeasures, assign_measures, calendar_windows
from sim.projection import Pm25Projection, project_pm25
from sim.scenario import LEVELS, OtherSources, Scenario, load_scenario, scenario_sha256

__all__ = ["Result", "load_scenario", "run"]


@dataclass(frozen=True)
class OtherSourceArrays:
    """Other source categories as arrays: ``rate_kg_h`` [kg/h] (categories, pollutants),
    ``weights`` [-] (categories, hours), ``reduction`` [-] (categories, 1 + levels, pollutants)."""

    names: tuple[str, ...]
    rate_kg_h: np.ndarray
    weights: np.ndarray
    reduction: np.ndarray
    city: str
    measure_text: tuple[tuple[str, str, str], ...]


def other_source_arrays(other: OtherSources | None, inventory: Inventory, times: pd.DatetimeIndex, file: object) -> OtherSourceArrays:
    """Category totals [t/d] -> mean rates [kg/h] with their temporal weights and cuts."""
    p = len(POLLUTANTS)
    if other is None:
        return OtherSourceArrays((), np.zeros((0, p)), np.zeros((0, len(times))), np.zeros((0, 1 + len(LEVELS), p)), "all", ())
    hourly, weekly = inventory.factors.hourly_profiles, inventory.factors.weekly_profiles
    rates, weights, cuts, texts = [], [], [], []
    for i, cat in enumerate(other.categories):
        for kind, name, store in (("hourly", cat.profile.hourly, hourly), ("weekly", cat.profile.weekly, weekly)):
            if name not in store:
                raise InputError(file, f"key categories[{i}].profile.{kind}", f"profile '{name}' is not defined.", f"use one of {', '.join(sorted(store))} (emission_factors/profiles.csv).")
        rates.append([getattr(cat.emissions_t_d, q) * 1000.0 / 24.0 for q in POLLUTANTS])
        weights.append(hourly[cat.profile.hourly][times.hour] * weekly[cat.profile.weekly][times.day_of_week])
        cuts.append([[0.0] * p] + [[getattr(getattr(cat.reduction, lv), q) for q in POLLUTANTS] for lv in LEVELS])
        texts.append(tuple(getattr(cat.measure, lv) or "" for lv in LEVELS))
    return OtherSourceArrays(
        tuple(c.name for c in other.categories), np.array(rates), np.array(weights), np.array(cuts), other.city, tuple(texts)
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

    @property
    def pm25(self) -> pd.DataFrame | None:
        """Hourly PM2.5 [μg/m³]: baseline, scenario, background, local parts, components of the
        scenario, AQI of the trailing 24-h mean, warning level; None without ``atmosphere``."""
        return None if self.projection is None else self.projection.frame

    # ------------------------------------------------------------------ frames
    @cached_property
    def emissions(self) -> pd.DataFrame:
        """Hourly emissions of all sources [t/h], one block per variant (baseline, scenario)."""
        frames = []
        for variant, run in (("baseline", self.baseline_run), ("scenario", self.scenario_run)):
            total = (run.hourly_kg_h + run.other_hourly_kg_h) / 1000.0
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
                other.insert(0, "city", self.other.city)
                grouped = pd.concat([grouped, other], ignore_index=True)
            long = grouped.melt(id_vars=["city", "industry", "grade"], var_name="pollutant", value_name="total_t")
            long.insert(0, "variant", variant)
            frames.append(long)
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def warnings(self) -> pd.DataFrame:
        """Warnings of the scenario: level, issue time, start, end (end exclusive), reason."""
        rows = [
            {"level": w.level, "issued_at": pd.NaT, "start": pd.Timestamp(w.start), "end": pd.Timestamp(w.end), "reason": "scheduled in the scenario file"}
            for w in self.scenario.warnings.schedule
        ]
        return pd.DataFrame(rows, columns=["level", "issued_at", "start", "end", "reason"])

    @cached_property
    def measures(self) -> pd.DataFrame:
        """The emergency reduction list (应急减排清单): one row per line, baseline [kg/d] and
        designed reductions [kg/d] at each level (full compliance), measures in words."""
        lines = self.inventory.lines
        m = self.measures_by_line
        base = self.inventory.baseline_kg_d
        out = lines[["enterprise_id", "enterprise_name", "city", "district", "industry", "process", "line_id", "grade"]].copy()
        for flag in ("livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport"):
            out[flag] = lines[flag].astype(int)
        out["exempt_reason"] = m.exempt_reason
        out["rule"] = m.rule
        out["response_delay_h"] = self.delay_h
        out["compliance"] = self.compliance
        out["output_value_wan_yuan_per_day"] = lines.output_value_wan_yuan_per_day
        for j, p in enumerate(POLLUTANTS):
            out[f"baseline_{p}_kg_d"] = base[:, j]
        for k, level in enumerate(LEVELS):
            out[f"{level}_reduction"] = m.reduction[:, k]
            out[f"{level}_measure"] = m.measure_text[:, k]
            for j, p in enumerate(POLLUTANTS):
                out[f"{level}_{p}_reduction_kg_d"] = base[:, j] * m.reduction[:, k]
        out["source_row"] = lines.source_row
        out["derived"] = lines.derived.astype(int)
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
            **({"pm25": self.projection.metrics, "calibration_scale": self.projection.calibration_scale} if self.projection else {}),
            "notes": list(self.notes),
            "seed": self.scenario.ensemble.seed,
            "scenario_sha256": self.sha256,
        }


def _line_vectors(scenario: Scenario, inventory: Inventory) -> tuple[np.ndarray, np.ndarray]:
    """Compliance [-] and response delay [h] for every line."""
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


def run(scenario: Scenario) -> Result:
    """Run a scenario deterministically and return its :class:`Result`."""
    if scenario.ensemble.members != 1:
        raise InputError(scenario.source_file, "key ensemble.members", "ensembles of more than one member are not available in this version.", "set members: 1.")
    factors = load_emission_factors(scenario.inventory.emission_factors)
    inventory = load_inventory(scenario.inventory.enterprises, factors, scenario.inventory.sheet)
    measures = assign_measures(inventory, scenario.resolved_policy)
    start = pd.Timestamp(scenario.period.start)
    hours = scenario.period.hours
    times = pd.date_range(start, periods=hours, freq="h")
    windows, calendar_notes = calendar_windows(inventory, list(scenario.staggered_production), start, hours)
    other = other_source_arrays(scenario.resolved_other_sources, inventory, times, scenario.source_file)
    compliance, delay = _line_vectors(scenario, inventory)
    level_reduction = np.column_stack([np.zeros(inventory.size), measures.reduction * compliance[:, None]])
    schedule = tuple(
        ScheduledLevel(LEVELS.index(w.level) + 1, max(_hours_since(start, w.start), 0), min(_hours_since(start, w.end), hours))
        for w in scenario.warnings.schedule
    )
    inputs = EngineInputs(
        hours=hours,
        mean_rate_kg_h=inventory.mean_rate_kg_h,
        profile_id=inventory.profile_id,
        profile_weights=inventory.profile_matrix(times),
        level_reduction=level_reduction,
        delay_h=delay,
        value_wan_yuan_d=inventory.lines.output_value_wan_yuan_per_day.to_numpy(float),
        enterprise_code=inventory.lines.enterprise_code.to_numpy(),
        is_production=~inventory.lines.derived.to_numpy(bool),
        schedule=schedule,
        calendars=tuple(windows),
        other_rate_kg_h=other.rate_kg_h,
        other_weights=other.weights,
        other_reduction=other.reduction,
    )
    scenario_run, base_run = run_engine(inputs), baseline_run(inputs)
    projection = None
    if scenario.atmosphere is not None:
        def total(r: EngineResult) -> dict[str, np.ndarray]:
            both = r.hourly_kg_h + r.other_hourly_kg_h
            return {p: both[:, j] for j, p in enumerate(POLLUTANTS) if p != "pm10"}

        projection = project_pm25(scenario.atmosphere, times, total(base_run), total(scenario_run), scenario_run.level_in_force, scenario.source_file)
    return Result(
        scenario=scenario,
        inventory=inventory,
        measures_by_line=measures,
        other=other,
        times=times,
        scenario_run=scenario_run,
        baseline_run=base_run,
        projection=projection,
        compliance=compliance,
        delay_h=delay,
        notes=measures.notes + calendar_notes,
        sha256=scenario_sha256(scenario),
    )
