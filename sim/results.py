"""A finished run: :class:`Result` and the tables it builds on first access (emissions,
measures, warnings, PM2.5, metrics), with the other source categories as arrays.

Made by :func:`sim.api.run`; read by :mod:`sim.outputs` and :mod:`sim.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.engine.simulation import EngineResult
from sim.physics.aqi import daily_aqi
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN
from sim.inputs.inventory import Inventory
from sim.physics.metrics import reduction_ratios, targets_met
from sim.rules.policy import CalendarWindow, LineMeasures, calendar_cover
from sim.physics.projection import Pm25Projection
from sim.config.scenario import Scenario


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
            bands = np.percentile(members, [5, 50, 95], axis=0)  # one partition for the three (each as alone)
            variants += [(f"scenario_p{q:02d}", band) for q, band in zip((5, 50, 95), bands)]
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
        keys = ["city", "industry", "grade"]
        group_of_line, group_keys = _group_codes(self.inventory.lines, keys)
        listed = group_of_line >= 0  # lines without a city, industry or grade belong to no group, as in pandas
        frames = []
        for variant, run in (("baseline", self.baseline_run), ("scenario", self.scenario_run)):
            # grouped by one integer code per line, not by three text columns: the same groups
            # in the same (sorted) order, and pandas' sums over each group's lines in list order
            totals = pd.DataFrame(run.line_total_kg / 1000.0, columns=list(POLLUTANTS))
            if not listed.all():
                totals, codes = totals[listed], group_of_line[listed]
            else:
                codes = group_of_line
            sums = totals.groupby(codes, sort=True).sum()
            grouped = pd.concat([group_keys.iloc[sums.index.to_numpy()].reset_index(drop=True), sums.reset_index(drop=True)], axis=1)
            if self.other.names:
                other = pd.DataFrame(run.other_total_kg / 1000.0, columns=list(POLLUTANTS))
                other.insert(0, "grade", "-")
                other.insert(0, "industry", [f"other:{n}" for n in self.other.names])
                other.insert(0, "city", list(self.other.cities))
                grouped = pd.concat([grouped, other], ignore_index=True)
            long = grouped.melt(id_vars=keys, var_name="pollutant", value_name="total_t")
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
        """The emergency reduction list (应急减排清单): :attr:`measures_coded` with the rules'
        words as text columns (``str``, missing values NaN) and the 0/1 flags as int64, as a
        modeller edits, joins, concatenates and multiplies them (an int8 flag times 1000
        overflows); built when asked for (the output files are written from
        :attr:`measures_coded`)."""
        coded = self.measures_coded
        return coded.assign(**{name: _text_column(column) if isinstance(column.dtype, pd.CategoricalDtype) else column.astype(np.int64)
                               for name, column in coded.items() if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == np.int8})

    @cached_property
    def measures_coded(self) -> pd.DataFrame:
        """The emergency reduction list (应急减排清单): one row per line, baseline [kg/d] and
        designed reductions [kg/d] at each level (full compliance), measures in words.

        Rows are in the order of ``inventory.lines`` (arrays of the run line up with them);
        :attr:`reduction_list` is the same list in its published order. ``exempt_reason``,
        ``rule`` and ``calendar`` are stable keys; ``reason``, ``calendar_text`` and the
        measures are words, "中文 (English)". A line that a staggered-production calendar cuts
        more than a level's designed measure says so in that level's measure. With negotiated
        cuts (协商减排) the grade measures keep these columns and the agreements get their own:
        ``negotiated``, ``negotiated_source`` and per level ``<level>_negotiated_production_cut``,
        ``<level>_negotiated_measure`` and ``<level>_<p>_negotiated_kg_d`` (what they add to the
        grade measure's reduction). The rules' words are categoricals (:func:`rule_words`)
        and the 0/1 flags bytes: at 1M lines the frame is 240 MB smaller than with text and
        int64 per line, which is what keeps a province run's peak memory in bounds."""
        lines = self.inventory.lines
        m = self.measures_by_line
        cover = calendar_cover(self.calendars, m.production_cut)
        negotiated = m.negotiated
        cut = None if negotiated is None else m.emission_cut()  # (lines, levels, pollutants), once
        base = self.inventory.baseline_kg_d
        # built as one dict and made a frame without copying: setting ~60 columns one by one
        # copied every float column, and pandas' conversion of the rules' words checked them
        # line by line in Python (1.4 s at 1M lines). Arrays another object holds are copied, so
        # that editing the frame never edits the run.
        out: dict[str, object] = {name: lines[name] for name in ("enterprise_id", "enterprise_name", "city", "district", "industry", "process", "line_id", "grade")}
        for flag in ("livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport"):
            out[flag] = lines[flag].to_numpy(bool).astype(np.int8)  # 0/1: a byte a line
        out["exempt_reason"] = rule_words(m.exempt_reason)
        out["rule"] = rule_words(m.rule)
        out["reason"] = rule_words(m.reason)
        if negotiated is not None:  # negotiated cuts (协商减排) in their own columns
            out["negotiated"] = rule_words(negotiated.label)
            out["negotiated_source"] = rule_words(negotiated.source)
        out["calendar"] = rule_words(cover.label)
        out["calendar_reduction"] = np.array(cover.reduction, dtype=float)
        out["calendar_text"] = rule_words(cover.words)
        out["response_delay_h"] = np.array(self.delay_h)
        out["compliance"] = np.array(self.compliance)
        out["output_value_wan_yuan_per_day"] = lines.output_value_wan_yuan_per_day.to_numpy(copy=True)
        for j, p in enumerate(POLLUTANTS):
            out[f"baseline_{p}_kg_d"] = base[:, j].copy()
        for k, level in enumerate(LEVELS):
            out[f"{level}_reduction"] = m.reduction[:, k].copy()
            suffix = cover.measure_suffix[:, k]
            # str + "" is the same str object: only lines a calendar names get a new text
            out[f"{level}_measure"] = rule_words(m.measure_text[:, k] + suffix if (suffix != "").any() else m.measure_text[:, k])
            for j, p in enumerate(POLLUTANTS):
                out[f"{level}_{p}_reduction_kg_d"] = base[:, j] * m.reduction[:, k]
            if negotiated is not None:
                # the agreement's cut and what it adds to the grade measure [kg/d]: the two sum
                # to the line's designed reduction at the level
                added = cut[:, k, :] - m.reduction[:, k, None]
                out[f"{level}_negotiated_production_cut"] = negotiated.production[:, k].copy()
                out[f"{level}_negotiated_measure"] = rule_words(negotiated.text[:, k])
                for j, p in enumerate(POLLUTANTS):
                    out[f"{level}_{p}_negotiated_kg_d"] = base[:, j] * added[:, j]
        out["source_row"] = lines.source_row.to_numpy(copy=True)
        out["derived"] = lines.derived.to_numpy(bool).astype(np.int8)
        return pd.DataFrame(out, index=lines.index, copy=False)

    @cached_property
    def list_order(self) -> np.ndarray:
        """Row positions of :attr:`measures` in the published order of the list (see
        :func:`list_order`)."""
        return list_order(self.inventory.lines, self._enterprises[0])

    @cached_property
    def _enterprises(self) -> tuple[np.ndarray, int]:
        """Each line's enterprise, numbered in order of first appearance, and the number of
        enterprises: one pass over the ids for the list's order and ``metrics``."""
        codes, uniques = pd.factorize(self.inventory.lines.enterprise_id)
        return codes, len(uniques)

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
        # each city's lines as one slice of the list sorted by city (stable: list order within a
        # city), so that each city's sums run over the values a mask per city gave, in the same
        # order, without 13 passes over the list and copies of its arrays
        codes, names = pd.factorize(lines.city)  # one pass over the text; few distinct cities
        city_of_line = np.append(pd.Index(self.cities).get_indexer(names), -1)[codes]  # code -1 (no city): -1
        order = np.argsort(city_of_line, kind="stable")
        bounds = np.searchsorted(city_of_line[order], np.arange(len(self.cities) + 1))
        rate_kg_h = self.inventory.mean_rate_kg_h[order]
        m = self.measures_by_line
        reduction = (m.reduction if m.negotiated is None else m.emission_cut())[order]
        production = city_of_line[~lines.derived.to_numpy(bool)]
        lines_per_city = np.bincount(production[production >= 0], minlength=len(self.cities))
        out = {}
        for k, city in enumerate(self.cities):
            these = slice(bounds[k], bounds[k + 1])
            other = self.other.city_id == k
            list_ratio, society_ratio = reduction_ratios(
                rate_kg_h[these], reduction[these],
                self.other.rate_kg_h[other], self.other.reduction[other][:, 1:, :],
            )
            entry = {
                "lines": int(lines_per_city[k]),
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

    def negotiated_summary(self) -> dict:
        """The negotiated cuts (协商减排) apart: lines and enterprises under them, the list and
        society ratios and targets without them (``list_ratio`` of ``metrics`` includes them),
        and the output value they cut per day at each level [万元/d] (production cuts only:
        a cut of one pollutant's emissions costs no output here)."""
        m = self.measures_by_line
        negotiated = m.negotiated
        policy = self.scenario.resolved_policy
        lines = negotiated.lines
        list_without, society_without = reduction_ratios(self.inventory.mean_rate_kg_h, m.reduction, self.other.rate_kg_h, self.other.reduction[:, 1:, :])
        value = self.inventory.lines.output_value_wan_yuan_per_day.to_numpy(float)
        value = np.where(value > 0, value, 0.0)
        added_cut = m.production_cut - m.reduction
        return {
            # the measures may come from elsewhere than the policy (the optimiser's negotiated entries)
            "agreements": len(policy.negotiated.resolved_agreements) if policy.negotiated else 0,
            "rank_rules": [r.name for r in policy.negotiated.rank] if policy.negotiated else [],
            "lines": int(lines.sum()),
            "enterprises": int(np.unique(self._enterprises[0][lines]).size),
            "exempt_lines": int((lines & m.exempt).sum()),
            "list_ratio_without": list_without,
            "society_ratio_without": society_without,
            "targets_met_without": targets_met(list_without, society_without, policy.targets),
            "output_value_cut_wan_yuan_per_day": {lv: float(value @ added_cut[:, k]) for k, lv in enumerate(LEVELS)},
        }

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
            warned = np.array([r.level_in_force > 0 for r in runs]).reshape(len(runs), -1)  # (members, hours)
            false_alarm = (warned & clean_hours).sum(axis=1)
            # a heavy day is missed when none of its hours is warned (a day without hours always is)
            day_code, days = pd.factorize(day_of_hour)
            warned_day = np.zeros((len(runs), len(days) + 1), dtype=bool)  # last column: no such day
            np.logical_or.at(warned_day.T, day_code, warned.T)
            misses = (~warned_day[:, days.get_indexer(heavy_days)]).sum(axis=1)
            reductions = [float((baseline - self.projection.members_ug_m3[m])[w].mean()) for m, w in enumerate(warned) if w.any()]
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
        """Summary indicators of ``metrics.json`` (README.md, Outputs; physics/metrics.py)."""
        policy = self.scenario.resolved_policy
        m = self.measures_by_line
        list_ratio, society_ratio = reduction_ratios(
            self.inventory.mean_rate_kg_h, m.reduction if m.negotiated is None else m.emission_cut(), self.other.rate_kg_h, self.other.reduction[:, 1:, :]
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
            **({"negotiated": self.negotiated_summary()} if m.negotiated is not None else {}),
            "emissions_t": totals,
            "warning_hours": {lv: int((run.level_in_force == k + 1).sum()) for k, lv in enumerate(LEVELS)},
            "production_loss_wan_yuan": run.production_loss_wan_yuan,
            "enterprise_days_limited": run.enterprise_hours_limited / 24.0,
            "enterprise_days_stopped": run.enterprise_hours_stopped / 24.0,
            "list": {
                "lines": int((~lines.derived).sum()),
                "derived_transport_rows": int(lines.derived.sum()),
                "enterprises": self._enterprises[1],
                "exempt_lines": int(self.measures_by_line.exempt.sum()),
                "lines_without_output_value": int(((lines.output_value_wan_yuan_per_day <= 0) & ~lines.derived).sum()),
            },
            "realised_ratio": self.realised_ratio(),
            **({"pm25": self.projection.metrics} if self.projection else {}),
            # the regional model has no calibration: no scale to report
            **({"calibration_scale": self.projection.calibration_scale} if self.projection and self.scenario.atmosphere.model != "regional" else {}),
            **({"by_city": self.city_metrics()} if len(self.cities) > 1 else {}),
            **({"warning_statistics": self.warning_statistics()} if self.member_runs and (self.scenario.warnings.standard or len(self.member_runs) > 1) else {}),
            "notes": list(self.notes),
            "seed": self.scenario.ensemble.seed,
            "scenario_sha256": self.sha256,
        }


def list_order(lines: pd.DataFrame, first_seen: np.ndarray | None = None) -> np.ndarray:
    """The order in which a list is published: enterprises in the order they first appear,
    each enterprise's input lines in input order and then its derived truck row, so that a
    reader finds an enterprise's trucks with its lines (the inventory appends derived rows).
    ``first_seen``: ``pd.factorize(lines.enterprise_id)[0]`` when the caller has it."""
    if first_seen is None:
        first_seen = pd.factorize(lines.enterprise_id)[0]  # codes follow first appearance
    # a stable sort by (enterprise, derived) keeps input order within each: the order lexsort
    # by the three keys gives, and the list is nearly in that order already (runs merge in O(n))
    return np.argsort(np.asarray(first_seen, dtype=np.int64) * 2 + lines.derived.to_numpy(bool), kind="stable")


def _group_codes(lines: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """The groups of ``lines`` by the text columns ``keys``: the group of each line (-1 where
    a key is missing) and the groups' keys, one row per group present, sorted by the keys in
    turn as ``DataFrame.groupby(keys, sort=True)`` sorts them. Each column is factorised once
    (its few distinct texts sorted), and the groups are numbered by integer arithmetic."""
    combined = np.zeros(len(lines), dtype=np.int64)
    missing = np.zeros(len(lines), dtype=bool)
    distinct = []
    for key in keys:
        codes, uniques = pd.factorize(lines[key], sort=True)
        missing |= codes < 0
        combined = combined * max(len(uniques), 1) + codes
        distinct.append(uniques)
    group_of_line = np.full(len(lines), -1, dtype=np.int64)
    group_of_line[~missing], present = pd.factorize(combined[~missing], sort=True)
    columns = {}
    rest = np.asarray(present, dtype=np.int64)
    for key, uniques in zip(reversed(keys), reversed(distinct)):
        rest, code = np.divmod(rest, max(len(uniques), 1))
        columns[key] = uniques.take(code)
    return group_of_line, pd.DataFrame({key: columns[key] for key in keys})


def _band(values: list[float] | np.ndarray) -> dict[str, float]:
    """Mean and 5/50/95th percentiles of member values."""
    v = np.asarray(values, dtype=float)
    return {"mean": float(v.mean()), "p05": float(np.percentile(v, 5)), "p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95))}


#: Members whose hourly emissions are stacked at once for the realised ratios (a block of a
#: 256-member season ensemble: 256 × 2,928 h × 6 pollutants × 8 bytes = 36 MB).
REALISED_BLOCK = 256


def _realised(result: "Result") -> dict:
    """Realised list reduction during the hours each level was in force [-], against the
    designed list ratio of that level: 1 − Σ scenario ÷ Σ baseline emissions of listed lines
    over those hours (member mean; staggered production counts too where it overlaps).

    Members are summed a block at a time: each member's hours of the level in hour order, the
    other hours adding exact zeros (emissions are finite and not negative), so every sum is that
    of the member's own hours; a level where some member's baseline total is not positive is
    worked out member by member (:func:`_realised_by_member`)."""
    base = result.baseline_run.hourly_kg_h
    runs = result.member_runs or (result.scenario_run,)
    columns = [POLLUTANTS.index(p) for p in RATIO_COLUMN.values()]
    out = {}
    for k, level in enumerate(LEVELS, start=1):
        kept, total = [], []
        for lo in range(0, len(runs), REALISED_BLOCK):
            block = runs[lo:lo + REALISED_BLOCK]
            hours = np.array([r.level_in_force == k for r in block]).reshape(len(block), -1)  # (members, hours)
            has = hours.any(axis=1)
            if has.any():
                weight = hours[has][:, :, None].astype(float)
                kept.append((np.array([r.hourly_kg_h for r, h in zip(block, has) if h]) * weight).sum(axis=1))
                total.append((base[None] * weight).sum(axis=1))
        if not kept:
            continue
        kept, total = np.concatenate(kept)[:, columns], np.concatenate(total)[:, columns]
        if (total <= 0).any():
            return _realised_by_member(result)
        ratio = 1 - kept / total
        out[level] = {key: float(np.mean(np.ascontiguousarray(ratio[:, j]))) for j, key in enumerate(RATIO_COLUMN)}
    return out


def _realised_by_member(result: "Result") -> dict:
    """:func:`_realised`, one member at a time (levels where a baseline total is not positive)."""
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
                per_member.append({key: (None if total[POLLUTANTS.index(p)] <= 0 else float(1 - kept[POLLUTANTS.index(p)] / total[POLLUTANTS.index(p)])) for key, p in RATIO_COLUMN.items()})
        if per_member:
            out[level] = {key: (None if per_member[0][key] is None else float(np.mean([m[key] for m in per_member]))) for key in RATIO_COLUMN}
    return out


def _text_column(words: pd.Series) -> pd.arrays.ArrowStringArray:
    """A categorical column of text (:func:`rule_words`) as a pandas text column (``str``,
    missing values NaN), the categories taken per line by Arrow in C."""
    codes = words.cat.codes.to_numpy()
    coded = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(words.cat.categories.to_numpy(object), type=pa.string()))
    return pd.Series(coded.cast(pa.string()), dtype="str").array


def rule_words(words: np.ndarray) -> pd.Categorical:
    """Text per line from the rules (an object array of str, None for missing) as a pandas
    categorical column (missing values NaN). The rules' words repeat on every line they
    settle (a handful of measures for a million lines), so codes and the distinct texts keep
    a 1M-line reduction list about 200 MB smaller than a text column per line. Coded by Arrow
    in C, in order of first appearance: pandas' own conversion checks every line in Python
    (0.1 s per column at 1M lines). The rules share one Python string per distinct text,
    whose UTF-8 form Python keeps, so each is encoded once."""
    coded = pa.array(words, type=pa.string(), from_pandas=True).dictionary_encode()
    codes = coded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(codes, categories=pd.Index(coded.dictionary.to_pylist(), dtype="str"))
