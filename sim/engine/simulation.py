"""The discrete-event layer: SimPy processes that change production-factor vectors.

Processes: the warning centre (daily consultation on forecasts, or a fixed schedule), the
level follower (the level in force changes; response groups reach a higher level after their
delay and relax at once), staggered-production calendars, and inspections. Between two events
every factor is constant, so the recorder integrates each segment in closed form: hourly
totals per temporal-profile group, per-line totals, production loss and counts. Lines that
respond alike are collapsed into keys (:class:`ResponseKeys`) before the run, so an event
costs O(keys) whatever the number of lines it reaches; only a compliance draw or an
inspection touches lines. There is no per-line or per-hour process.

Time unit of ``env.now``: hours since the start of the period.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
import simpy

from sim.rules.policy import CalendarWindow
from sim.rules.warnings import WarningDecider, WarningRecord

_EPS = 1e-9
#: Largest (groups × units) matrix the recorder sums groups with; larger ones are summed by
#: sorting units by group (an estimate of where a dense product stops paying: ~1 ms).
DENSE_GROUP_CELLS = 200_000
#: Largest (states × enterprise-key pairs) block of counting states the recorder keeps before
#: counting them (8 bytes each: 16 MB), so a run with many line moves stays small in memory.
COUNT_BLOCK_CELLS = 2_000_000
#: Up to this many one-pair classes, a line move recounts every enterprise type; beyond, only
#: the pairs that changed move between types (a recount of 10,000 pairs costs ~40 µs).
RECOUNT_PAIRS = 8192
#: Patterns of levels applied whose inspected lines members share (each holds up to a list's
#: line indices: 8 MB for a million lines); past this, a run works them out itself.
INSPECTION_POOLS = 64
#: Bytes of other-source series members may share (hourly series per pattern of factors over
#: time, totals per segment); past this, a run computes its own.
SHARED_OTHER_BYTES = 64 * 2**20
#: Largest (lines × columns) table of what a line move shifts kept for a list (8 bytes each:
#: 32 MB, about 500,000 lines); longer lists gather the columns at each move.
LINE_COLUMN_CELLS = 4_000_000


@dataclass(frozen=True)
class ScheduledLevel:
    """A warning level (1 = yellow, 2 = orange, 3 = red) in force over [start_h, end_h)."""

    level: int
    start_h: int
    end_h: int
    reason: str = "scheduled in the scenario file"
    issued_h: float | None = None
    cities: tuple[int, ...] | None = None  # city indices it applies to; None: every city


@dataclass(frozen=True)
class Inspections:
    """Daily inspections at ``hour_of_day``: ``per_day`` lines under measures are visited at
    random; a non-complying line is caught with ``catch_probability`` and complies after."""

    per_day: int
    catch_probability: float
    hour_of_day: int = 10


@dataclass(frozen=True)
class WarningCentre:
    """Daily consultation: at each hour in ``issue_hours`` [h] the decider reads row i of
    ``forecast_daily_aqi`` (days from ``day0_hours[i]``, day 0 = the issue day)."""

    issue_hours: np.ndarray
    day0_hours: np.ndarray
    forecast_daily_aqi: np.ndarray
    rule_set: object
    lead_h: int
    lift_after_h: int
    spells: tuple | None = None  # forecast_spells of each row, when worked out already


@dataclass(frozen=True)
class EngineInputs:
    """Everything shared by all members, as arrays.

    Lines: ``mean_rate_kg_h`` [kg/h] (lines, pollutants); ``profile_id`` (lines,) into
    ``profile_weights`` [-] (profiles, hours); ``level_reduction`` [-] (lines, 4) designed cut
    with column 0 for "no warning" (zeros) and 1-3 for yellow/orange/red;
    ``compliance_probability`` [-] per line; ``delay_h`` [h] per line; ``value_wan_yuan_d``
    [万元/d] output value; ``enterprise_code`` and ``is_production`` (False for derived truck
    rows) for enterprise-day counts. ``schedule``: fixed warnings (the scenario's schedule and
    regional warnings). Other sources: ``other_rate_kg_h`` [kg/h] (categories, pollutants),
    ``other_weights`` (categories, hours), ``other_reduction`` [-] (categories, 4, pollutants);
    they respond at once and comply fully. ``level_emission_cut`` [-] (lines, 4, pollutants),
    optional: the cut of each pollutant's emissions at each level where it may be deeper than
    the production cut (negotiated cuts of single pollutants); a line then emits each pollutant
    at its rate × min(production factor, 1 − that cut), and the production loss and the line
    counts follow the production factor alone. None: every pollutant follows production.
    """

    hours: int
    mean_rate_kg_h: np.ndarray
    profile_id: np.ndarray
    profile_weights: np.ndarray
    level_reduction: np.ndarray
    compliance_probability: np.ndarray
    delay_h: np.ndarray
    value_wan_yuan_d: np.ndarray
    enterprise_code: np.ndarray
    is_production: np.ndarray
    schedule: tuple[ScheduledLevel, ...]
    calendars: tuple[CalendarWindow, ...]
    other_rate_kg_h: np.ndarray
    other_weights: np.ndarray
    other_reduction: np.ndarray
    inspections: Inspections | None = None
    city_id: np.ndarray | None = None  # (lines,) city index; None: one city
    other_city_id: np.ndarray | None = None  # (categories,) city index
    n_cities: int = 1
    level_emission_cut: np.ndarray | None = None

    #: left out when the inputs are sent to a worker: what members fill as they run, and a
    #: table quicker to rebuild than to send (see each)
    LOCAL_CACHES = ("inspection_pools", "other_series", "group_factors", "line_columns")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for name in self.LOCAL_CACHES:
            state.pop(name, None)
        return state

    @cached_property
    def keys(self) -> "ResponseKeys":
        """The lines grouped by response (computed once; travels with the inputs to workers)."""
        return response_keys(self)

    @cached_property
    def enterprise_classes(self) -> "EnterpriseClasses":
        may_move = bool((np.asarray(self.compliance_probability) < 1.0).any())
        return enterprise_classes(np.asarray(self.is_production, dtype=bool), np.asarray(self.enterprise_code).astype(np.int64), self.keys.line_key, may_move)

    @cached_property
    def response_groups(self) -> tuple[list, list, list, list]:
        return response_groups(self, self.keys)

    @cached_property
    def unit_layout(self) -> "UnitLayout":
        return unit_layout(self, self.keys)

    @cached_property
    def initial_line_unit(self) -> np.ndarray:
        """The unit of each line while every line complies: 2 × its key + 1."""
        return 2 * self.keys.line_key + 1

    @cached_property
    def initial_unit_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rates [kg/h], output value [万元/h] and production lines per unit with every line
        complying (each run starts from copies)."""
        keys = self.keys
        units, rates = 2 * keys.size, self.mean_rate_kg_h
        line_unit = 2 * keys.line_key + 1
        unit_rate = np.stack([np.bincount(line_unit, weights=rates[:, j], minlength=units) for j in range(rates.shape[1])], axis=1).reshape(units, rates.shape[1])
        unit_value = np.bincount(line_unit, weights=np.asarray(self.value_wan_yuan_d, dtype=float) / 24.0, minlength=units)
        unit_production = np.bincount(line_unit[np.asarray(self.is_production, dtype=bool)], minlength=units)
        return unit_rate, unit_value, unit_production

    @cached_property
    def type_units(self) -> tuple[np.ndarray, np.ndarray]:
        """For each enterprise pair type 3k + mode (:class:`ClassSplit`): the unit whose stop
        stops the type's lines, and the unit whose cut cuts some of them."""
        n_types = 3 * self.keys.size
        base = 2 * (np.arange(n_types) // 3)  # unit 2k of each type 3k + mode
        mode = np.arange(n_types) % 3
        return base + (mode == 0), base + (mode != 1)

    @cached_property
    def inspection_pools(self) -> dict[bytes, np.ndarray]:
        """Lines under a measure for each pattern of levels applied to the keys, filled as
        members meet them (shared by the members of an ensemble)."""
        return {}

    @cached_property
    def line_columns(self) -> np.ndarray | None:
        """Per line: rates [kg/h], output value [万元/h] and production flag (1/0), the columns
        a line move shifts between units; None for a long list (built at each move instead)."""
        n, p = self.mean_rate_kg_h.shape
        if n * (p + 2) > LINE_COLUMN_CELLS:
            return None
        value = np.asarray(self.value_wan_yuan_d, dtype=float) / 24.0
        return np.concatenate([self.mean_rate_kg_h, value[:, None], np.asarray(self.is_production, dtype=bool)[:, None]], axis=1)

    @cached_property
    def always_complying(self) -> tuple[np.ndarray, bool]:
        """Lines that always comply, and whether compliance draws matter: with every line
        complying and no inspections, a draw changes nothing and nothing else reads the
        generator, so the draws (O(lines of the city) each) are skipped."""
        always = np.asarray(self.compliance_probability) >= 1.0
        return always, not always.all() or (self.inspections is not None and self.inspections.per_day > 0)

    @cached_property
    def city_spans(self) -> list[tuple[int, int] | None]:
        """(first, end) of each city's lines when they are consecutive in the list, else None."""
        spans = []
        for lines in self.response_groups[2]:
            first = int(lines[0]) if lines.size else 0
            spans.append((first, first + lines.size) if np.array_equal(lines, np.arange(first, first + lines.size)) else None)
        return spans

    @cached_property
    def group_factors(self) -> dict:
        """Warning factors (and per-pollutant caps) of each response group's units at each
        level, filled as members meet them (see ``_Response.refresh``)."""
        return {}

    @cached_property
    def other_series(self) -> dict:
        """Other-source hourly series and segment totals already computed, by the factors
        they come from (shared by the members of an ensemble); see ``_Recorder._integrate``."""
        return {}

    @cached_property
    def cumulative_profile_weights(self) -> np.ndarray:
        """Σ of each profile's weights [h] over hours before t, (profiles, hours + 1)."""
        weights = self.profile_weights
        return np.concatenate([np.zeros((weights.shape[0], 1)), np.cumsum(weights, axis=1)], axis=1)

    def line_city(self) -> np.ndarray:
        return np.zeros(self.mean_rate_kg_h.shape[0], dtype=np.int64) if self.city_id is None else self.city_id

    def other_city(self) -> np.ndarray:
        return np.zeros(self.other_rate_kg_h.shape[0], dtype=np.int64) if self.other_city_id is None else self.other_city_id


@dataclass
class EngineResult:
    """What the recorder integrated. Emissions [kg/h] hourly and [kg] in totals."""

    hourly_kg_h: np.ndarray  # (hours, pollutants), listed lines
    other_hourly_kg_h: np.ndarray  # (hours, pollutants), other sources
    line_total_kg: np.ndarray  # (lines, pollutants)
    other_total_kg: np.ndarray  # (categories, pollutants)
    level_in_force: np.ndarray  # (hours,) highest level in force in any city: 0 none, 1 yellow, 2 orange, 3 red
    lines_limited: np.ndarray  # (hours,) production lines cut but running
    lines_stopped: np.ndarray  # (hours,) production lines stopped
    production_loss_wan_yuan: float
    enterprise_hours_limited: float
    enterprise_hours_stopped: float
    warnings: list[WarningRecord] = field(default_factory=list)
    hourly_by_city_kg_h: np.ndarray | None = None  # (hours, cities, pollutants), lines and other sources
    level_by_city: np.ndarray | None = None  # (hours, cities)
    loss_by_city_wan_yuan: np.ndarray | None = None  # (cities,)
    warning_cities: list[int] = field(default_factory=list)  # city index of each warning
    inspections: int = 0
    caught: int = 0
    events: list[tuple[float, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ResponseKeys:
    """Lines that respond alike, collapsed into keys.

    Two lines share a key when they share city, response delay, temporal profile, designed
    cut at every level, compliance probability, production flag and the staggered-production
    windows that stop them: their factors then move together, so the engine keeps rates and
    factors per key and an event costs O(keys), however many lines it reaches. Per key:
    ``city``, ``delay_h`` [h], ``profile_id``, ``level_reduction`` [-] (keys, levels + 1),
    ``calendar_member`` (windows, keys); ``line_key`` maps each line to its key. With
    per-pollutant cuts the lines of a key share those too: ``level_emission_cut`` [-] (keys,
    levels + 1, pollutants), else None.
    """

    line_key: np.ndarray
    city: np.ndarray
    delay_h: np.ndarray
    profile_id: np.ndarray
    level_reduction: np.ndarray
    calendar_member: np.ndarray
    level_emission_cut: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.city.size)


def _codes(values: np.ndarray) -> np.ndarray:
    """Dense integer codes 0..k-1 of ``values`` (any dtype), in sorted order of the values
    (a hash table: several times faster than sorting a million values)."""
    return pd.factorize(values, sort=True, use_na_sentinel=False)[0].astype(np.int64)


def response_keys(inp: EngineInputs) -> ResponseKeys:
    """Group the lines of ``inp`` into :class:`ResponseKeys` (one sort of a combined code)."""
    n = inp.mean_rate_kg_h.shape[0]
    columns = [inp.line_city(), np.asarray(inp.delay_h), np.asarray(inp.profile_id), np.asarray(inp.is_production, dtype=bool)]
    columns += [np.asarray(w.mask, dtype=bool) for w in inp.calendars]
    columns += [inp.level_reduction[:, j] for j in range(inp.level_reduction.shape[1])]
    columns.append(np.asarray(inp.compliance_probability, dtype=float))
    cut = inp.level_emission_cut
    if cut is not None:
        columns += [cut[:, j, q] for j in range(cut.shape[1]) for q in range(cut.shape[2])]
    code, span = np.zeros(n, dtype=np.int64), 1
    for column in columns:
        small = column.dtype.kind in "bu" or (column.dtype.kind == "i" and (n == 0 or column.min() >= 0))
        digits = column.astype(np.int64) if small else _codes(column)
        size = int(digits.max()) + 1 if n else 1
        if span * size >= 2**62:  # keep the mixed-radix code inside int64
            code = _codes(code)
            span = int(code.max()) + 1 if n else 1
        code, span = code * size + digits, span * size
    line_key = _codes(code)
    first = np.zeros(int(line_key.max()) + 1 if n else 0, dtype=np.int64)
    first[line_key] = np.arange(n)  # a line of each key (any: they agree on every attribute)
    return ResponseKeys(
        line_key=line_key,
        city=inp.line_city()[first],
        delay_h=np.asarray(inp.delay_h)[first],
        profile_id=np.asarray(inp.profile_id)[first],
        level_reduction=inp.level_reduction[first],
        calendar_member=np.array([np.asarray(w.mask, dtype=bool)[first] for w in inp.calendars]).reshape(len(inp.calendars), first.size),
        level_emission_cut=None if cut is None else cut[first],
    )


@dataclass(frozen=True)
class EnterpriseClasses:
    """(enterprise, key) pairs of production lines, for the counts of enterprises limited and
    stopped: ``pair_class``, ``pair_key``, ``pair_lines`` per pair, ``class_size`` (enterprises
    per class), ``class_lines`` (production lines per enterprise of the class) and
    ``line_pair`` (pair of each line, -1 for lines that are not production lines)."""

    pair_class: np.ndarray
    pair_key: np.ndarray
    pair_lines: np.ndarray
    class_size: np.ndarray
    class_lines: np.ndarray
    line_pair: np.ndarray

    @cached_property
    def split(self) -> "ClassSplit":
        """Classes of one pair apart from the others (see :class:`ClassSplit`)."""
        pairs_of_class = np.bincount(self.pair_class, minlength=self.class_size.size)
        single = np.flatnonzero(pairs_of_class[self.pair_class] == 1)
        multi = np.flatnonzero(pairs_of_class[self.pair_class] > 1)
        multi = multi[np.argsort(self.pair_class[multi], kind="stable")]  # grouped by class, for reduceat
        multi_classes, multi_class = np.unique(self.pair_class[multi], return_inverse=True)
        base, weight = 3 * self.pair_key[single].astype(np.int64), self.class_size[self.pair_class[single]].astype(float)
        n_types = 3 * (int(self.pair_key.max()) + 1 if self.pair_key.size else 0)
        single_of_pair = np.full(self.pair_key.size, -1, dtype=np.int64)
        single_of_pair[single] = np.arange(single.size)
        return ClassSplit(single, single_of_pair, base, weight, self.pair_lines[single], np.bincount(base, weights=weight, minlength=n_types),
                          multi, np.flatnonzero(np.r_[True, np.diff(multi_class.reshape(-1)) != 0]) if multi.size else np.zeros(0, dtype=np.int64),
                          self.class_size[multi_classes], self.class_lines[multi_classes])


@dataclass(frozen=True)
class ClassSplit:
    """Enterprise classes for counting many states at once.

    Within a key, the non-complying unit 2k never runs lower than the complying one 2k + 1
    (it keeps only the calendar's cut, which the complying unit has too): a unit-2k line
    stopped or cut means the unit-2k + 1 lines are too. So a class of one pair (nearly every
    enterprise of a list) is stopped when its lines not complying are (all of them when none
    does), and cut when its complying ones are (the others when none complies): the pair's
    type, 3k + (0 every line complies, 1 none, 2 some), decides, and a state's counts are sums
    over the enterprises of each type (``type_count``, kept up to date when lines move).
    Classes of several pairs are counted pair by pair: ``multi`` pairs grouped by class,
    where each class starts among them, and per class its enterprises and production lines
    per enterprise."""

    single: np.ndarray
    single_of_pair: np.ndarray  # position of each pair among ``single``, -1 for the others
    single_base: np.ndarray
    single_weight: np.ndarray
    single_lines: np.ndarray
    every_complying: np.ndarray  # enterprises by type while every line complies (types of keys with pairs)
    multi: np.ndarray
    multi_starts: np.ndarray
    multi_size: np.ndarray
    multi_lines: np.ndarray


def enterprise_classes(production: np.ndarray, enterprise: np.ndarray, line_key: np.ndarray, may_move: bool) -> EnterpriseClasses:
    """Group enterprises for counting (pure; computed once per inputs).

    When no line can stop complying, enterprises with the same (key, count) pairs behave
    alike and are kept as one class weighted by its number of enterprises; otherwise each
    enterprise is its own class and the run counts each pair's non-complying lines."""
    prod = np.flatnonzero(production)
    ent, key = enterprise[prod], line_key[prod]
    # one stable sort of a combined code: lists come grouped by enterprise, so it is nearly sorted
    order = np.argsort(ent * (int(line_key.max()) + 1 if prod.size else 1) + key, kind="stable")
    ent, key = ent[order], key[order]
    first = np.r_[True, (ent[1:] != ent[:-1]) | (key[1:] != key[:-1])] if prod.size else np.zeros(0, dtype=bool)
    line_pair = np.full(production.size, -1, dtype=np.int64)
    line_pair[prod[order]] = np.cumsum(first) - 1
    start = np.flatnonzero(first)
    pair_ent, pair_key, pair_lines = ent[start], key[start], np.diff(np.r_[start, ent.size])
    ent_start = np.flatnonzero(np.r_[True, pair_ent[1:] != pair_ent[:-1]]) if pair_ent.size else np.zeros(0, dtype=np.int64)
    n_pairs = np.diff(np.r_[ent_start, pair_ent.size])
    n_ents = ent_start.size
    ent_class = np.repeat(np.arange(n_ents), n_pairs)  # class of each pair: its enterprise
    class_size = np.ones(n_ents, dtype=np.int64)
    if not may_move and n_ents:
        # a multiset hash of each enterprise's (key, count) pairs, verified exactly below
        mixed = (pair_key.astype(np.uint64) << np.uint64(24)) ^ pair_lines.astype(np.uint64)
        mixed = (mixed + np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(31)
        signature = np.add.reduceat(mixed, ent_start) ^ (n_pairs.astype(np.uint64) * np.uint64(0x94D049BB133111EB))
        cls = _codes(signature)
        rep = np.zeros(int(cls.max()) + 1, dtype=np.int64)
        rep[cls] = np.arange(n_ents)  # an enterprise of each class (checked against all of them below)
        same = np.array_equal(n_pairs, n_pairs[rep[cls]])
        if same:
            twin = ent_start[rep[cls[ent_class]]] + (np.arange(pair_ent.size) - ent_start[ent_class])  # the same pair of the class's first enterprise
            same = np.array_equal(pair_key, pair_key[twin]) and np.array_equal(pair_lines, pair_lines[twin])
        if same:  # else a hash collision: keep one class per enterprise
            is_rep = np.zeros(n_ents, dtype=bool)
            is_rep[rep] = True
            keep = is_rep[ent_class]
            pair_key, pair_lines, ent_class = pair_key[keep], pair_lines[keep], cls[ent_class[keep]]
            class_size = np.bincount(cls, minlength=rep.size)
    class_lines = np.bincount(ent_class, weights=pair_lines, minlength=class_size.size)
    return EnterpriseClasses(ent_class, pair_key, pair_lines, class_size, class_lines, line_pair)


def response_groups(inp: EngineInputs, keys: ResponseKeys) -> tuple[list, list, list, list]:
    """What every member's response shares: the groups (city, delay, keys, units) of keys of
    one city with one delay, the groups of each city, the lines of each city (in list order,
    the order compliance is drawn in) and the other-source categories of each city."""
    pairs = np.unique(np.column_stack([keys.city, keys.delay_h]).astype(np.int64), axis=0) if keys.size else np.zeros((0, 2), dtype=np.int64)
    groups: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    city_groups: list[list[int]] = [[] for _ in range(inp.n_cities)]
    for c, d in pairs:
        members = np.flatnonzero((keys.city == c) & (keys.delay_h == d))
        city_groups[int(c)].append(len(groups))
        groups.append((int(c), int(d), members, np.sort(np.concatenate([2 * members, 2 * members + 1]))))
    city = inp.line_city()
    order = np.argsort(city, kind="stable")
    bounds = np.searchsorted(city[order], np.arange(inp.n_cities + 1))
    city_lines = [order[bounds[c]:bounds[c + 1]] for c in range(inp.n_cities)]
    other_of_city = [np.flatnonzero(inp.other_city() == c) for c in range(inp.n_cities)]
    return groups, city_groups, city_lines, other_of_city


@dataclass(frozen=True)
class UnitLayout:
    """What every run's recorder reads and never changes: per unit (2k + 1 the complying
    lines of key k, 2k the others) its key, compliance [0/1], profile, city and group
    (profile × cities + city); the (groups × units) and (cities × units) sums as 0/1 matrices
    (the group matrix only while it is small, else units sorted by group for a reduceat);
    other-source categories by city; output value [万元/h] and production flag per line."""

    unit_key: np.ndarray
    unit_complies: np.ndarray
    unit_profile: np.ndarray
    unit_city: np.ndarray
    n_groups: int
    group_matrix: np.ndarray | None
    group_order: np.ndarray | None
    group_starts: np.ndarray | None
    filled_groups: np.ndarray | None
    city_matrix: np.ndarray
    other_city_onehot: np.ndarray
    value_per_h: np.ndarray
    production: np.ndarray


def unit_layout(inp: EngineInputs, keys: ResponseKeys) -> UnitLayout:
    """The :class:`UnitLayout` of ``inp`` grouped by ``keys`` (computed once per inputs)."""
    c, units = inp.n_cities, 2 * keys.size
    unit_key = np.arange(units) // 2
    unit_profile = keys.profile_id[unit_key].astype(np.int64)
    unit_city = keys.city[unit_key].astype(np.int64)
    n_groups = inp.profile_weights.shape[0] * c
    unit_group = unit_profile * c + unit_city
    group_matrix = group_order = group_starts = filled_groups = None
    if n_groups * units <= DENSE_GROUP_CELLS:  # small lists: one product per refresh
        group_matrix = np.zeros((n_groups, units))
        group_matrix[unit_group, np.arange(units)] = 1.0
    else:  # units sorted by group: one reduceat sums every group and pollutant at once
        group_order = np.argsort(unit_group, kind="stable")
        sorted_groups = unit_group[group_order]
        group_starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
        filled_groups = sorted_groups[group_starts]
    city_matrix = np.zeros((c, units))
    city_matrix[unit_city, np.arange(units)] = 1.0
    other_city = inp.other_city()
    other_city_onehot = np.zeros((other_city.size, c))
    other_city_onehot[np.arange(other_city.size), other_city] = 1.0
    return UnitLayout(unit_key, (np.arange(units) % 2).astype(float), unit_profile, unit_city, n_groups, group_matrix, group_order, group_starts,
                      filled_groups, city_matrix, other_city_onehot, np.asarray(inp.value_wan_yuan_d, dtype=float) / 24.0,
                      np.asarray(inp.is_production, dtype=bool))


class _Plan:
    """Warnings of one city, planned or in force; the level at a time is the highest covering it.

    The level is a step function of time, rebuilt only when the plan changes, so a long
    schedule costs O(log warnings) per look-up."""

    def __init__(self, env: simpy.Environment, fixed: list[WarningRecord]):
        self.env = env
        self.fixed = fixed
        self.decided: list[WarningRecord] = []
        self.changed = env.event()
        self._steps: tuple[np.ndarray, np.ndarray] | None = None

    def records(self) -> list[WarningRecord]:
        return [r for r in self.fixed + self.decided if r.end_h > r.start_h]

    def _step_function(self) -> tuple[list[float], list[int]]:
        """Boundaries [h] and the level from each boundary to the next (plain lists: a
        look-up is one bisection)."""
        if self._steps is None:
            records = self.records()
            bounds = sorted({float(b) for r in records for b in (r.start_h, r.end_h)})
            if len(records) <= 16:  # a few warnings: each interval's highest level directly
                levels = [max((r.level for r in records if r.level in (1, 2, 3) and r.start_h <= b < r.end_h), default=0) for b in bounds]
                self._steps = (bounds, levels)
            else:
                times = np.array(bounds, dtype=float)
                cover = np.zeros((4, times.size + 1), dtype=np.int64)  # records of each level covering each interval
                for r in records:
                    cover[r.level, np.searchsorted(times, r.start_h)] += 1
                    cover[r.level, np.searchsorted(times, r.end_h)] -= 1
                running = np.cumsum(cover, axis=1)[:, : times.size] > 0
                levels = np.where(running[3], 3, np.where(running[2], 2, np.where(running[1], 1, 0)))
                self._steps = (bounds, [int(v) for v in levels])
        return self._steps

    def level_at(self, t: float) -> int:
        times, levels = self._step_function()
        i = bisect_right(times, t) - 1
        return levels[i] if i >= 0 else 0

    def next_change_after(self, t: float) -> float | None:
        times, _ = self._step_function()
        i = bisect_right(times, t)
        return times[i] if i < len(times) else None

    def notify(self) -> None:
        self._steps = None
        self.changed.succeed()
        self.changed = self.env.event()


class _Recorder:
    """Holds the factor vectors and integrates each constant segment when time moves on.

    State lives on units: unit 2k + 1 holds the complying lines of key k, unit 2k those that
    do not comply (they keep only the staggered-production cut). Rates, output value and line
    counts are summed per unit, so an event costs O(units) and a segment O(hours × groups),
    with groups = (profile, city). Lines move between the two units of their key only when a
    compliance draw or an inspection changes them; a line's own total is the cumulative
    weight of its unit, corrected by an offset taken when it moved.
    """

    def __init__(self, inp: EngineInputs, keys: ResponseKeys):
        self.inp, self.keys = inp, keys
        n, p = inp.mean_rate_kg_h.shape
        k = inp.other_rate_kg_h.shape[0]
        c = inp.n_cities
        layout = inp.unit_layout
        units = self.n_units = layout.unit_key.size
        self.unit_key, self.unit_complies, self.unit_profile, self.unit_city = layout.unit_key, layout.unit_complies, layout.unit_profile, layout.unit_city
        self.n_groups, self.group_matrix, self.city_matrix = layout.n_groups, layout.group_matrix, layout.city_matrix
        self.group_order, self.group_starts, self.filled_groups = layout.group_order, layout.group_starts, layout.filled_groups
        self.other_city_onehot, self.value_per_h, self.production = layout.other_city_onehot, layout.value_per_h, layout.production
        self.line_unit = inp.initial_line_unit.copy()  # every line complies until a draw says otherwise
        self.warning_factor = np.ones(units)
        self.calendar_factor = np.ones(keys.size)
        self.factor = np.ones(units)  # min(warning, calendar)
        self.other_factor = np.ones((k, p))  # replaced, never changed in place (segments keep it)
        self.level_in_force = np.zeros(c, dtype=np.int8)  # likewise
        self.last_t = 0
        self.cum_weight = inp.cumulative_profile_weights
        self.unit_weight = np.zeros(units)  # Σ over settled hours of factor × temporal weight [h]
        self.unit_settled_at = np.zeros(units, dtype=np.int64)
        self.line_offset = np.zeros(n)  # [h]: a line's weight = its unit's weight - offset
        self.hourly_by_city = np.zeros((inp.hours, c, p))
        self.segments: list[tuple] = []  # (t0, t1, by_group, other factor, levels, loss, counts...) of each constant stretch
        self.unit_rate, self.unit_value_per_h, self.unit_production_lines = (a.copy() for a in inp.initial_unit_sums)  # every line complies at first
        classes = inp.enterprise_classes
        self.class_size, self.class_lines, self.line_pair = classes.class_size, classes.class_lines, classes.line_pair
        split = self.split = classes.split
        self.type_stop_unit, self.type_cut_unit = inp.type_units
        self.pair_class, self.pair_key, self.pair_lines = classes.pair_class, classes.pair_key, classes.pair_lines
        self.pair_not_complying = np.zeros(self.pair_key.size)  # replaced, never changed in place: states keep it
        self.type_count = np.zeros(3 * keys.size)  # enterprises of one-pair classes by pair type (ClassSplit)
        self.type_count[:split.every_complying.size] = split.every_complying
        # counting states: (unit flags 0 running / 1 cut / 2 stopped, production lines per unit,
        # non-complying lines per pair) of the segments; counted in blocks (_count_states)
        self.flags_before: bytes | None = None  # unit flags of the last state
        self.pairs_moved = True
        self.state_of_segment: list[int] = []
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # states not counted yet
        self.counted: list[np.ndarray] = []  # (states, 4) lines stopped, limited, enterprises stopped, limited
        self.n_states = 0
        self.res = EngineResult(
            hourly_kg_h=np.zeros((inp.hours, p)),
            other_hourly_kg_h=np.zeros((inp.hours, p)),
            line_total_kg=np.zeros((0, p)),  # set by finish
            other_total_kg=np.zeros((k, p)),
            level_in_force=np.zeros(inp.hours, dtype=np.int8),
            lines_limited=np.zeros(inp.hours, dtype=np.int64),
            lines_stopped=np.zeros(inp.hours, dtype=np.int64),
            production_loss_wan_yuan=0.0,
            enterprise_hours_limited=0.0,
            enterprise_hours_stopped=0.0,
            level_by_city=np.zeros((inp.hours, c), dtype=np.int8),
            loss_by_city_wan_yuan=np.zeros(c),
        )
        # per-pollutant cuts: each unit's factor per pollutant [-], min(production factor, the
        # cap of its key's level), and its own cumulative weights; None without such cuts
        self.per_pollutant = keys.level_emission_cut is not None
        if self.per_pollutant:
            self.cap = np.ones((units, p))
            self.efactor = np.ones((units, p))
            self.unit_eweight = np.zeros((units, p))
            self.line_eoffset = np.zeros((n, p))
        self.dirty = True

    # -- what the units hold ------------------------------------------------------------
    def _refresh_sums(self) -> None:
        """Group rates and output lost from the unit factors; the state the line and
        enterprise counts come from (counted later, many states at once)."""
        f = self.factor
        ef = self.efactor if self.per_pollutant else f[:, None]  # the factor of each pollutant
        if self.group_matrix is not None:
            self.by_group = self.group_matrix @ (self.unit_rate * ef)
        else:
            self.by_group = np.zeros((self.n_groups, self.unit_rate.shape[1]))
            if self.group_starts.size:  # (sorted units exist whenever there is no group matrix)
                order = self.group_order
                self.by_group[self.filled_groups] = np.add.reduceat(self.unit_rate[order] * ef[order], self.group_starts, axis=0)
        self.loss_per_hour = self.city_matrix @ (self.unit_value_per_h * (1.0 - f))
        flags = (f < 1.0 - _EPS).view(np.int8) + (f <= _EPS)  # 0 running, 1 cut, 2 stopped
        key = flags.tobytes()
        if not self.pairs_moved and key == self.flags_before:
            return  # no unit crossed a threshold and no line moved: the counts hold
        self.flags_before, self.pairs_moved = key, False
        self.pending.append((flags, self.unit_production_lines, self.type_count, self.pair_not_complying[self.split.multi]))
        self.n_states += 1
        if len(self.pending) * max(self.split.multi.size, self.n_units, self.type_count.size) >= COUNT_BLOCK_CELLS:
            self._count_states()

    def _type_count(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Enterprises of one-pair classes by pair type (see :class:`ClassSplit`) once the lines
        not complying per pair went from ``before`` to ``after``: the pairs that changed leave
        their old type for their new one (whole numbers: exact, as a count from scratch)."""
        split, n_types = self.split, 3 * self.keys.size
        if split.single.size <= RECOUNT_PAIRS:  # a few pairs: recounting them all is quicker than finding those that changed
            off = after[split.single]
            mode = (off > 0) * (1 + (off < split.single_lines))  # 0 every line complies, 1 none, 2 some
            return np.bincount(split.single_base + mode, weights=split.single_weight, minlength=n_types)
        pos = split.single_of_pair[np.flatnonzero(after != before)]
        pos = pos[pos >= 0]
        if pos.size == 0:
            return self.type_count
        single = split.single[pos]
        lines, base, weight = split.single_lines[pos], split.single_base[pos], split.single_weight[pos]

        def types(off: np.ndarray) -> np.ndarray:
            mode = (off > 0) * (1 + (off < lines))  # 0 every line complies, 1 none, 2 some
            return np.bincount(base + mode, weights=weight, minlength=n_types)

        return self.type_count + (types(after[single]) - types(before[single]))

    def _count_states(self) -> None:
        """Count the pending states (see :meth:`_state_counts`)."""
        if self.pending:
            self.counted.append(self._state_counts(self.pending))
            self.pending = []

    def _state_counts(self, pending: list[tuple]) -> np.ndarray:
        """Production lines and enterprises stopped and limited of ``pending`` states, of this
        run or of several runs of the same inputs, (states, 4): exact integer counts, so
        counting many states at once gives the same numbers."""
        flags = np.array([s[0] for s in pending])  # (states, units)
        stopped, cut = flags == 2, flags > 0
        lines = np.array([s[1] for s in pending])
        counts = np.zeros((len(pending), 4), dtype=np.int64)
        counts[:, 0] = (lines * stopped).sum(axis=1)
        counts[:, 1] = (lines * (cut & ~stopped)).sum(axis=1)
        # one-pair classes: enterprises of each pair type times whether that type is stopped, cut
        split = self.split
        types = np.array([s[2] for s in pending])  # (states, types)
        type_stop, type_cut = stopped[:, self.type_stop_unit], cut[:, self.type_cut_unit]
        counts[:, 2] = (types * type_stop).sum(axis=1)
        counts[:, 3] = (types * (type_cut & ~type_stop)).sum(axis=1)
        if split.multi.size:  # the others pair by pair
            key = self.pair_key[split.multi]
            off = np.array([s[3] for s in pending])  # (states, pairs) lines not complying
            on = self.pair_lines[split.multi] - off
            pair_cut = on * cut[:, 2 * key + 1] + off * cut[:, 2 * key]
            pair_stop = on * stopped[:, 2 * key + 1] + off * stopped[:, 2 * key]
            class_cut = np.add.reduceat(pair_cut, split.multi_starts, axis=1)  # whole numbers: exact in any order
            class_stop = np.add.reduceat(pair_stop, split.multi_starts, axis=1)
            all_stopped = (split.multi_lines > 0) & (class_stop == split.multi_lines)
            counts[:, 2] += all_stopped @ split.multi_size
            counts[:, 3] += ((class_cut > 0) & ~all_stopped) @ split.multi_size
        return counts

    def _weight_all(self) -> np.ndarray:
        """:meth:`_weight_now` of every unit."""
        pid = self.unit_profile
        return self.unit_weight + self.factor * (self.cum_weight[pid, self.last_t] - self.cum_weight[pid, self.unit_settled_at])

    def _weight_now(self, units: np.ndarray) -> np.ndarray:
        """Cumulative weight [h] of ``units`` up to now."""
        pid, now = self.unit_profile[units], self.last_t
        return self.unit_weight[units] + self.factor[units] * (self.cum_weight[pid, now] - self.cum_weight[pid, self.unit_settled_at[units]])

    def _eweight_now(self, units: np.ndarray) -> np.ndarray:
        """Cumulative weight [h] of ``units`` per pollutant up to now (per-pollutant cuts only)."""
        pid, now = self.unit_profile[units], self.last_t
        return self.unit_eweight[units] + self.efactor[units] * (self.cum_weight[pid, now] - self.cum_weight[pid, self.unit_settled_at[units]])[:, None]

    # -- events --------------------------------------------------------------------------
    def update(self, units: np.ndarray) -> None:
        """The warning or calendar factor of ``units`` changed now (after a flush)."""
        new = np.minimum(self.warning_factor[units], self.calendar_factor[self.unit_key[units]])
        moved = new != self.factor[units]
        if self.per_pollutant:
            new_e = np.minimum(new[:, None], self.cap[units])
            moved |= (new_e != self.efactor[units]).any(axis=1)
        if not moved.any():
            return
        units = units[moved]
        self.unit_weight[units] = self._weight_now(units)
        if self.per_pollutant:
            self.unit_eweight[units] = self._eweight_now(units)
            self.efactor[units] = new_e[moved]
        self.unit_settled_at[units] = self.last_t
        self.factor[units] = new[moved]
        self.dirty = True  # sums are refreshed once per instant, at the next flush

    def move(self, lines: np.ndarray | slice, to_units: np.ndarray | None) -> None:
        """Lines change unit now (a compliance draw or an inspection; after a flush).
        ``lines``: their indices, or a slice of consecutive lines (a city's, read as views);
        ``to_units`` None: lines that do not comply (unit 2k) comply from now on (unit 2k + 1),
        as after an inspection's catch, with fewer steps and the same numbers."""
        from_units = self.line_unit[lines]
        catch = to_units is None
        if catch:
            to_units = from_units + 1
        else:
            change = from_units != to_units
            if not change.all():
                if not change.any():
                    return
                keep = np.flatnonzero(change)
                lines = keep + lines.start if isinstance(lines, slice) else lines[keep]
                to_units, from_units = to_units[keep], from_units[keep]
            elif isinstance(lines, slice):
                lines, from_units = np.arange(lines.start, lines.stop), from_units.copy()  # (a view of what changes below)
        now = self._weight_all()
        self.line_offset[lines] += now[to_units] - now[from_units]
        if self.per_pollutant:
            enow = self._eweight_now(np.arange(self.n_units))
            self.line_eoffset[lines] += enow[to_units] - enow[from_units]
        self.line_unit[lines] = to_units
        units, p = self.n_units, self.inp.mean_rate_kg_h.shape[1]
        prod = self.production[lines]
        # rates of every pollutant, output value and the production flag in one bincount over
        # (unit, column) cells: each cell still sums its lines in list order, as one bincount
        # per column did
        every = self.inp.line_columns
        columns = every[lines] if every is not None else np.concatenate([self.inp.mean_rate_kg_h[lines], self.value_per_h[lines][:, None], prod[:, None]], axis=1)
        cells = np.arange(p + 2)
        into = np.bincount((to_units[:, None] * (p + 2) + cells).ravel(), weights=columns.ravel(), minlength=units * (p + 2))
        if catch:  # what leaves unit 2k is what enters 2k + 1 (the same lines in the same order)
            shift = into.reshape(units, p + 2)
            shift[0::2] = 0.0 - shift[1::2]  # into − out, as below: nothing enters 2k, nothing leaves 2k + 1
        else:
            out = np.bincount((from_units[:, None] * (p + 2) + cells).ravel(), weights=columns.ravel(), minlength=units * (p + 2))
            shift = (into - out).reshape(units, p + 2)
        self.unit_rate += shift[:, :p]
        self.unit_value_per_h += shift[:, p]
        # new arrays, not changed in place: the counting states keep the old ones
        self.unit_production_lines = self.unit_production_lines + shift[:, p + 1].astype(np.int64)
        before = self.pair_not_complying
        if catch:  # every caught line complies again: one fewer not complying in its pair
            self.pair_not_complying = before - np.bincount(self.line_pair[lines[prod]], minlength=self.pair_key.size)
        else:  # a moved line changes unit within its key: to an even unit it stops complying (+1)
            stops_complying = 1 - 2 * (to_units[prod] & 1)
            self.pair_not_complying = before + np.bincount(self.line_pair[lines[prod]], weights=stops_complying, minlength=self.pair_key.size)
        self.type_count = self._type_count(before, self.pair_not_complying)
        self.pairs_moved = True
        self.dirty = True

    def flush(self, now: float) -> None:
        """Time moves on to ``now``: keep the segment since the last event with what holds
        over it (integrated once, at :meth:`finish`)."""
        t0, t1 = int(self.last_t), int(min(now, self.inp.hours))
        if t1 <= t0:
            return
        if self.dirty:
            self._refresh_sums()
            self.dirty = False
        # _refresh_sums builds new arrays, so by_group and loss_per_hour need no copy
        # other_factor and level_in_force are replaced, never changed in place: no copy either
        self.segments.append((t0, t1, self.by_group, self.other_factor, self.level_in_force, self.loss_per_hour))
        self.state_of_segment.append(self.n_states - 1)
        self.last_t = t1

    def _integrate(self) -> None:
        """Hourly series and totals of every kept segment (they tile the period)."""
        inp, res, segments = self.inp, self.res, self.segments
        c, p = inp.n_cities, inp.mean_rate_kg_h.shape[1]
        spans = np.array([t1 - t0 for t0, t1, *_ in segments], dtype=np.int64)
        of_hour = np.repeat(np.arange(len(segments)), spans)  # the segment of each hour
        for t0, t1, by_group, *_ in segments:
            # groups are profile-major (profile × cities + city): one product gives every city
            self.hourly_by_city[t0:t1] = (inp.profile_weights[:, t0:t1].T @ by_group.reshape(-1, c * p)).reshape(t1 - t0, c, p)
        res.hourly_kg_h[:] = self.hourly_by_city.sum(axis=1) if c > 1 else self.hourly_by_city[:, 0]
        if inp.other_rate_kg_h.shape[0]:
            self._other_sources(of_hour)
        levels = np.stack([s[4] for s in segments])[of_hour]
        res.level_by_city[:] = levels
        res.level_in_force[:] = levels.max(axis=1)
        loss = np.stack([s[5] for s in segments]) * spans[:, None]  # [万元] per segment and city
        res.loss_by_city_wan_yuan[:] = loss.sum(axis=0)
        res.production_loss_wan_yuan = float(loss.sum())
        self.spans, self.of_hour = spans, of_hour  # for the counts (_apply_counts)

    def _apply_counts(self) -> None:
        """Hourly line counts and enterprise-hours from the counted states of the segments."""
        if not self.segments:
            return
        self._count_states()
        res, spans, of_hour = self.res, self.spans, self.of_hour
        counts = np.concatenate(self.counted)[self.state_of_segment]  # (segments, 4)
        res.lines_stopped[:] = counts[of_hour, 0]
        res.lines_limited[:] = counts[of_hour, 1]
        res.enterprise_hours_stopped = float(counts[:, 2] @ spans)
        res.enterprise_hours_limited = float(counts[:, 3] @ spans)

    def _other_sources(self, of_hour: np.ndarray) -> None:
        """Other sources: hourly series, totals and their share of each city's hours.

        They depend on the factor in force in each hour only, which members often share:
        results already computed (``inp.other_series``) are looked up by the factors over time
        (runs of equal factors merged) and the totals by segment, and added exactly as they
        were computed, so the figures are the same."""
        inp, res, segments, shared = self.inp, self.res, self.segments, self.inp.other_series
        factors = [s[3].tobytes() for s in segments]
        runs: list[list] = []
        for (t0, t1, *_), f in zip(segments, factors):
            if runs and runs[-1][2] == f:
                runs[-1][1] = t1
            else:
                runs.append([t0, t1, f])
        key = tuple(tuple(r) for r in runs)
        found = shared.get(key)
        if found is None:
            factor = np.stack([s[3] for s in segments])[of_hour]  # (hours, categories, pollutants)
            other = inp.other_rate_kg_h[None, :, :] * factor * inp.other_weights.T[:, :, None]
            found = (other.sum(axis=1), np.tensordot(other, self.other_city_onehot, axes=([1], [0])).transpose(0, 2, 1))
            self._share(key, found)
        res.other_hourly_kg_h[:] = found[0]
        for (t0, t1, _, other_factor, *_), f in zip(segments, factors):  # segment by segment, as the totals were always summed
            term = shared.get((t0, t1, f))
            if term is None:
                term = inp.other_rate_kg_h * other_factor * inp.other_weights[:, t0:t1].sum(axis=1)[:, None]
                self._share((t0, t1, f), term)
            res.other_total_kg += term
        self.hourly_by_city += found[1]

    def _share(self, key: tuple, value: np.ndarray | tuple) -> None:
        shared = self.inp.other_series
        size = sum(a.nbytes for a in value) if isinstance(value, tuple) else value.nbytes
        used = shared.get("bytes", 0) + size
        if used <= SHARED_OTHER_BYTES:
            shared[key], shared["bytes"] = value, used

    def finish(self, count: bool = True) -> EngineResult:
        """The integrated result; without ``count`` the line and enterprise counts are left
        for :func:`_count_together` (the states of several runs counted at once)."""
        self.flush(self.inp.hours)
        if self.segments:
            self._integrate()
        if self.per_pollutant:
            final = self._eweight_now(np.arange(self.n_units))
            self.res.line_total_kg = self.inp.mean_rate_kg_h * (final[self.line_unit] - self.line_eoffset)
        else:
            final = self._weight_all()
            line_weight = final[self.line_unit] - self.line_offset
            self.res.line_total_kg = self.inp.mean_rate_kg_h * line_weight[:, None]
        self.res.hourly_by_city_kg_h = self.hourly_by_city
        if count:
            self._apply_counts()
        return self.res


def _count_together(recorders: list[_Recorder]) -> None:
    """The line and enterprise counts of several finished runs of the same inputs, their states
    counted in one pass (exact integer counts: the numbers of each run counted alone)."""
    pending = [state for rec in recorders for state in rec.pending]
    if pending:
        counts = recorders[0]._state_counts(pending)
        start = 0
        for rec in recorders:
            if rec.pending:
                rec.counted.append(counts[start:start + len(rec.pending)])
                start += len(rec.pending)
                rec.pending = []
    for rec in recorders:
        rec._apply_counts()


class _Response:
    """Response groups (keys of one city sharing a delay) and compliance.

    Compliance is drawn per line when its city's warning starts (from no warning) and holds
    through upgrades; an inspection may catch a non-complying line, which then complies.
    """

    def __init__(self, env: simpy.Environment, rec: _Recorder, rng: np.random.Generator):
        inp, keys = rec.inp, rec.keys
        self.env, self.rec, self.inp, self.keys, self.rng = env, rec, inp, keys, rng
        self.groups, self.city_groups, self.city_lines, self.other_of_city = inp.response_groups
        self.applied = np.zeros(keys.size, dtype=np.int8)  # level applied to each key
        self.group_level = [0] * len(self.groups)
        self.complying = np.ones(inp.level_reduction.shape[0], dtype=bool)
        self.always, self.draws_matter = inp.always_complying
        self.city_spans = inp.city_spans

    def draw_compliance(self, city: int) -> None:
        if not self.draws_matter:
            return
        idx = self.city_lines[city]
        if self.city_spans[city] is not None:  # consecutive lines: views instead of copies
            idx = slice(*self.city_spans[city])
        self.complying[idx] = self.always[idx] | (self.rng.random(self.city_lines[city].size) < self.inp.compliance_probability[idx])
        self.rec.move(idx, 2 * self.keys.line_key[idx] + self.complying[idx])

    def refresh(self, g: int, level: int) -> None:
        """Group ``g`` is now at ``level``: its units' warning factors (the same in every
        member, so worked out once per inputs)."""
        rec, units = self.rec, self.groups[g][3]
        found = self.inp.group_factors.get((g, level))
        if found is None:
            key = rec.unit_key[units]
            factor = 1.0 - self.keys.level_reduction[key, self.applied[key]] * rec.unit_complies[units]
            cap = 1.0 - self.keys.level_emission_cut[key, self.applied[key]] * rec.unit_complies[units][:, None] if rec.per_pollutant else None
            found = self.inp.group_factors[(g, level)] = (factor, cap)
        rec.warning_factor[units] = found[0]
        if rec.per_pollutant:
            rec.cap[units] = found[1]
        rec.update(units)

    def apply(self, g: int, level: int) -> None:
        city, delay, members, units = self.groups[g]
        self.rec.flush(self.env.now)
        self.group_level[g] = level
        self.applied[members] = level
        self.refresh(g, level)
        self.rec.res.events.append((self.env.now, f"city {city}: lines with {delay} h response delay at level {level}"))

    def rise(self, g: int, level: int):
        city, delay, _, _ = self.groups[g]
        yield self.env.timeout(delay)
        # a later fall of the warning caps what a pending rise may apply
        target = min(level, int(self.rec.level_in_force[city]))
        if target > self.group_level[g]:
            self.apply(g, target)

    def change_level(self, city: int, level: int) -> None:
        """The level in force in ``city`` changes now."""
        rec = self.rec
        rec.flush(self.env.now)
        before = int(rec.level_in_force[city])
        rec.res.events.append((self.env.now, f"city {city}: warning level {before} -> {level}"))
        if before == 0 and level > 0:
            self.draw_compliance(city)
        rec.level_in_force = rec.level_in_force.copy()  # new arrays: kept segments hold the old ones
        rec.level_in_force[city] = level
        others = self.other_of_city[city]
        rec.other_factor = rec.other_factor.copy()
        rec.other_factor[others] = 1.0 - self.inp.other_reduction[others, level, :]
        for g in self.city_groups[city]:
            if level > before:
                self.env.process(self.rise(g, level))
            elif self.group_level[g] > level:
                self.apply(g, level)


def _first_of(env: simpy.Environment, events: list) -> simpy.Event:
    """An event that succeeds when the first of ``events`` is processed: SimPy's ``any_of``
    without the condition value nobody reads, scheduled at the same moment (so every event
    keeps its place in the queue) for a fraction of the cost."""
    wake = env.event()

    def check(event: simpy.Event) -> None:
        if not wake.triggered:
            wake.succeed()
            for other in events:  # as a condition drops its check from the other events
                if other is not event and other.callbacks is not None and check in other.callbacks:
                    other.callbacks.remove(check)

    for event in events:
        if event.callbacks is None:  # processed already
            check(event)
        else:
            event.callbacks.append(check)
    return wake


def _follower(env: simpy.Environment, city: int, plan: _Plan, rec: _Recorder, response: _Response):
    """Keeps a city's level in force equal to its plan, waking at each boundary or change."""
    while True:
        level = plan.level_at(env.now)
        if level != rec.level_in_force[city]:
            response.change_level(city, level)
        nxt = plan.next_change_after(env.now)
        wake = [plan.changed] + ([env.timeout(nxt - env.now)] if nxt is not None and nxt < rec.inp.hours else [])
        yield _first_of(env, wake)


def _centre(env: simpy.Environment, plan: _Plan, centre: WarningCentre):
    decider = WarningDecider(centre.rule_set, centre.lead_h, centre.lift_after_h, plan.decided)
    for i, t in enumerate(centre.issue_hours):
        yield env.timeout(float(t) - env.now)
        if decider.step(int(t), int(centre.day0_hours[i]), centre.forecast_daily_aqi[i], None if centre.spells is None else centre.spells[i]):
            plan.notify()


def _calendar(env: simpy.Environment, rec: _Recorder, windows: tuple[CalendarWindow, ...], index: int, active: list[bool]):
    window = windows[index]

    def recompute() -> None:
        rec.flush(env.now)
        factor = np.ones_like(rec.calendar_factor)
        for i, (w, on) in enumerate(zip(windows, active)):
            if on:
                np.minimum(factor, np.where(rec.keys.calendar_member[i], 1.0 - w.reduction, 1.0), out=factor)
        rec.calendar_factor = factor
        rec.update(np.arange(rec.n_units))

    yield env.timeout(window.start_h)
    active[index] = True
    recompute()
    rec.res.events.append((env.now, f"staggered production '{window.label}' starts"))
    if window.end_h < rec.inp.hours:
        yield env.timeout(window.end_h - env.now)
        active[index] = False
        recompute()
        rec.res.events.append((env.now, f"staggered production '{window.label}' ends"))


def _inspector(env: simpy.Environment, rec: _Recorder, response: _Response, spec: Inspections):
    """Each day, visit ``per_day`` random lines that are under a warning measure."""
    t = spec.hour_of_day
    pools, keys = rec.inp.inspection_pools, rec.keys
    last_applied = under = None
    while t < rec.inp.hours:
        yield env.timeout(t - env.now)
        applied = response.applied.tobytes()
        if applied != last_applied:  # the lines under a measure change only with the levels applied
            under, last_applied = pools.get(applied), applied
            if under is None:
                under_key = keys.level_reduction[np.arange(keys.size), response.applied] > 0
                if keys.level_emission_cut is not None:  # a negotiated cut of one pollutant is a measure too
                    under_key |= keys.level_emission_cut[np.arange(keys.size), response.applied].max(axis=1) > 0
                under = np.flatnonzero(under_key[keys.line_key])
                if len(pools) < INSPECTION_POOLS:
                    pools[applied] = under
        if under.size:
            visited = response.rng.choice(under, size=min(spec.per_day, under.size), replace=False)
            caught = visited[~response.complying[visited] & (response.rng.random(visited.size) < spec.catch_probability)]
            rec.res.inspections += int(visited.size)
            if caught.size:
                rec.flush(env.now)
                response.complying[caught] = True
                rec.move(caught, None)  # caught lines do not comply: unit 2k -> 2k + 1
                rec.res.caught += int(caught.size)
        t += 24


def run_engine(inp: EngineInputs, rng: np.random.Generator | None = None, centres: WarningCentre | dict[int, WarningCentre] | None = None) -> EngineResult:
    """Run the event simulation over ``inp.hours`` hours and return the integrated result.

    ``rng`` drives compliance draws and inspections (unused when every line complies and there
    are no inspections); ``centres`` adds forecast-driven warnings to the fixed schedule: one
    warning centre, or one per city index. Lines are grouped by response once per inputs
    (``inp.keys``), so members of an ensemble share the grouping.
    """
    return _simulate(inp, rng, centres, count=True).res


def run_engines(inp: EngineInputs, members: list[tuple[np.random.Generator, dict[int, WarningCentre]]]) -> list[EngineResult]:
    """:func:`run_engine` of several members (generator and warning centres each) of the same
    inputs: each member's events run on their own, then the line and enterprise counts of all
    of them are worked out in one pass (exact integers: the same numbers)."""
    recorders = [_simulate(inp, rng, centres, count=False) for rng, centres in members]
    _count_together(recorders)
    return [rec.res for rec in recorders]


def _simulate(inp: EngineInputs, rng: np.random.Generator | None, centres: WarningCentre | dict[int, WarningCentre] | None, count: bool) -> _Recorder:
    """The event simulation of :func:`run_engine`; its recorder, finished (``count``: see
    :meth:`_Recorder.finish`)."""
    env = simpy.Environment()
    rec = _Recorder(inp, inp.keys)
    response = _Response(env, rec, rng if rng is not None else np.random.default_rng(0))
    if isinstance(centres, WarningCentre):
        centres = {0: centres}
    centres = centres or {}
    plans = []
    for city in range(inp.n_cities):
        fixed = [WarningRecord(w.level, w.issued_h, w.start_h, w.end_h, w.reason) for w in inp.schedule if w.cities is None or city in w.cities]
        plan = _Plan(env, fixed)
        plans.append(plan)
        env.process(_follower(env, city, plan, rec, response))
        if city in centres:
            env.process(_centre(env, plan, centres[city]))
    active = [False] * len(inp.calendars)
    for i in range(len(inp.calendars)):
        env.process(_calendar(env, rec, inp.calendars, i, active))
    if inp.inspections is not None and inp.inspections.per_day > 0:
        env.process(_inspector(env, rec, response, inp.inspections))
    env.run(until=inp.hours)
    result = rec.finish(count)
    records = [(r, city) for city, plan in enumerate(plans) for r in plan.records()]
    records.sort(key=lambda rc: (rc[1], rc[0].start_h, rc[0].level))
    result.warnings = [r for r, _ in records]
    result.warning_cities = [c for _, c in records]
    return rec


def baseline_run(inp: EngineInputs) -> EngineResult:
    """The same integration with every factor at 1: no warnings, no calendars."""
    base = replace(inp, schedule=(), calendars=(), inspections=None)
    # what the scenario's inputs worked out still holds (no calendar runs here): share it
    for name in ("keys", "enterprise_classes", "cumulative_profile_weights", "response_groups", "initial_unit_sums", "unit_layout"):
        base.__dict__[name] = getattr(inp, name)
    return run_engine(base)
