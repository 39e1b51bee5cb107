"""The Python API: load a scenario, run it, read the results as DataFrames.

>>> from sim import load_scenario, run                                    # doctest: +SKIP
>>> result = run(load_scenario("scenarios/demo_city_orange.yaml"))        # doctest: +SKIP
>>> result.metrics["list_ratio"]["orange"]                                # doctest: +SKIP
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.labels import text
from sim.engine.simulation import EngineInputs, EngineResult, Inspections, ScheduledLevel, baseline_run
from sim.engine.ensemble import BatchOutput, SharedInputs, check_memory, progress_bar, run_member, run_members
from sim.engine.forecast import forecast_template
from sim.inputs.meteorology import Meteorology, load_meteorology
from sim.inputs.response_surface import ResponseSurface, load_response_surface
from sim.rules.warnings import load_rule_set
from sim.errors import InputError
from sim.inputs.inventory import Inventory, load_emission_factors, load_inventory
from sim.rules.policy import LineMeasures, assign_measures, calendar_windows
from sim.physics.projection import box_batches, combine_projections, project_boxes, project_region
from sim.config.vocabulary import LEVELS, POLLUTANTS
from sim.config.scenario import AtmosphereConfig, OtherSources, Scenario, load_scenario, scenario_sha256
from sim.results import OtherSourceArrays, Result, list_order  # noqa: F401 - Result and list_order are read from here too

__all__ = ["Result", "load_scenario", "run"]


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


def engine_emission_cut(measures: LineMeasures) -> np.ndarray | None:
    """The engine's per-pollutant cut [-] (lines, 1 + levels, pollutants) where negotiated cuts
    of single pollutants exist, else None (every pollutant follows the production cut)."""
    if measures.negotiated is None:
        return None
    cut = measures.emission_cut()
    return np.concatenate([np.zeros((cut.shape[0], 1, cut.shape[2])), cut], axis=1)


def _hours_since(start: pd.Timestamp, t: object) -> int:
    return int(np.ceil((pd.Timestamp(t) - start) / pd.Timedelta(hours=1)))


def _line_vectors(scenario: Scenario, inventory: Inventory) -> tuple[np.ndarray, np.ndarray]:
    """Compliance probability [-] and response delay [h] for every line."""
    response = scenario.response
    known = set(inventory.factors.industries)
    for key in response.delay_hours:
        if key != "default" and key not in known:
            raise InputError(scenario.source_file, f"key response.delay_hours.{key}", f"'{key}' is not an industry.", "use 'default' or a key of emission_factors/industries.csv.")
    grade_codes, grades = inventory.codes("grade")  # looked up once per distinct grade and industry
    compliance = np.array([response.compliance_for(g) for g in grades], dtype=float)[grade_codes]
    industry_codes, industries = inventory.codes("industry")
    delay = np.array([response.delay_for(i) for i in industries], dtype=np.int64)[industry_codes]
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
    meteorology: tuple[Meteorology, ...] = ()  # each city's, as read; empty without atmosphere
    surface: ResponseSurface | None = None  # the response-surface coefficients, as read


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
    if scenario.atmosphere is not None and scenario.atmosphere.model == "regional":
        # the region's cities without listed lines still carry their other sources and their air
        cities = sorted(set(cities) | set(scenario.atmosphere.cities))
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
    meteorology = read_meteorology(atmosphere, cities)
    surface = None
    if atmosphere is not None and atmosphere.model == "response_surface":
        surface = load_response_surface(atmosphere.response_surface.coefficients)
    inspections = scenario.response.inspections
    city_codes, city_names = inventory.codes("city")
    city_id = np.searchsorted(np.array(cities, dtype=object), city_names)[city_codes].astype(np.int64)
    engine = EngineInputs(
        hours=hours,
        mean_rate_kg_h=inventory.mean_rate_kg_h,
        profile_id=inventory.profile_id,
        profile_weights=inventory.profile_matrix(times),
        level_reduction=np.column_stack([np.zeros(inventory.size), measures.production_cut]),
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
        city_id=city_id,
        other_city_id=other.city_id,
        n_cities=len(cities),
        level_emission_cut=engine_emission_cut(measures),
    )
    forecasts, rule_set = {}, None
    cfg = scenario.warnings
    if cfg.standard:
        base_dir = scenario.source_file.parent if scenario.source_file else None
        rule_set = load_rule_set(cfg.standard, base_dir, scenario.source_file)
        for k, city in enumerate(cities):
            met = meteorology[k] if cfg.forecast.file is None else None
            forecasts[k] = forecast_template(cfg, times, met.times if met else None, met.pm25_baseline_ug_m3 if met else None, scenario.source_file)
    shared = SharedInputs(engine, forecasts, cfg, rule_set, scenario.ensemble.seed)
    notes = inventory.notes + measures.notes + calendar_notes
    production = ~inventory.lines.derived.to_numpy(bool)
    no_value = int((production & ~(inventory.lines.output_value_wan_yuan_per_day.to_numpy(float) > 0)).sum())
    if no_value:
        notes += (text("note.no_output_value", "en", n=no_value, total=int(production.sum())),)
    members = scenario.ensemble.members
    drawn = scenario.atmosphere is not None and scenario.atmosphere.draw_parameters
    if members > 1 and not drawn and not _anything_random(shared, compliance):
        notes += (f"the {members} ensemble members are identical (fixed or error-free forecast warnings and full compliance: nothing is drawn at random); "
                  f"ensemble.members: 1 gives the same results in 1/{members} of the time",)
    return Prepared(scenario, inventory, measures, other, times, cities, compliance, delay, shared, notes, meteorology, surface)


def read_meteorology(atmosphere: AtmosphereConfig | None, cities: list[str]) -> tuple[Meteorology, ...]:
    """Each city's meteorology, every file read once (cities may share one), for the forecasts
    and the PM2.5 projection of every run of the prepared scenario."""
    if atmosphere is None:
        return ()
    read: dict[Path, Meteorology] = {}
    out = []
    for city in cities:
        path = Path(atmosphere.for_city(city).meteorology)
        key = path.resolve()
        if key not in read:
            read[key] = load_meteorology(path)
        out.append(read[key])
    return tuple(out)


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
        n = len(prepared.cities)

        def emissions(rs: tuple[EngineResult, ...], keep_members: bool, cities: slice) -> dict[str, np.ndarray]:
            """[kg/h] by pollutant, shape (cities, members, hours), or (cities, hours) without members."""
            if n == 1:
                both = np.stack([r.hourly_kg_h + r.other_hourly_kg_h for r in rs])[:, :, None, :]  # (members, hours, 1, pollutants)
            else:
                both = np.stack([r.hourly_by_city_kg_h[:, cities] for r in rs])  # (members, hours, cities, pollutants)
            per_city = np.moveaxis(both, 2, 0)  # (cities, members, hours, pollutants)
            return {p: per_city[..., j] if keep_members else per_city[:, 0, :, j] for j, p in enumerate(POLLUTANTS) if p != "pm10"}

        configs = [scenario.atmosphere.for_city(city) for city in prepared.cities]
        meteorology = prepared.meteorology or read_meteorology(scenario.atmosphere, prepared.cities)
        projections: list = []
        if scenario.atmosphere.model == "regional":  # coupled: every city in one call
            levels = np.moveaxis(np.stack([r.level_by_city for r in runs]).astype(int), 2, 0)  # (cities, members, hours)
            every = slice(0, n)
            projections = project_region(scenario.atmosphere, prepared.cities, prepared.times, emissions((base_run,), False, every),
                                         emissions(runs, members > 1, every), levels if members > 1 else levels[:, 0], meteorology,
                                         scenario.source_file, scenario.ensemble.seed)
        # separate boxes: all cities in one batch, unless a large ensemble needs them a few at a time to bound memory
        batches = [] if scenario.atmosphere.model == "regional" else box_batches(n, 1 + len(runs), len(prepared.times) + 24 * scenario.atmosphere.spin_up_days)
        for cities in batches:
            levels = np.moveaxis(np.stack([r.level_by_city[:, cities] for r in runs]).astype(int), 2, 0)  # (cities, members, hours)
            projections += project_boxes(configs[cities], prepared.times, emissions((base_run,), False, cities), emissions(runs, members > 1, cities),
                                         levels if members > 1 else levels[:, 0], meteorology[cities], scenario.source_file,
                                         prepared.cities[cities] if n > 1 else None, scenario.ensemble.seed, prepared.surface)
        by_city = dict(zip(prepared.cities, projections))
        projection = projections[0] if n == 1 else combine_projections(projections, prepared.times)
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
        notes=prepared.notes + (projection.notes if projection is not None else ()),
        sha256=scenario_sha256(scenario),
        projection=projection,
        member_runs=member_runs,
        cities=tuple(prepared.cities),
        projection_by_city=by_city if len(by_city) > 1 else {},
        calendars=tuple(shared.engine.calendars),
    )
