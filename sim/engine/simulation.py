"""The discrete-event layer: SimPy processes that change production-factor vectors.

Processes: the warning centre (daily consultation on forecasts, or a fixed schedule), the
level follower (the level in force changes; response groups reach a higher level after their
delay and relax at once), staggered-production calendars, and inspections. Between two events
every factor is constant, so the recorder integrates each segment in closed form: hourly
totals per temporal-profile group, per-line totals, production loss and counts. Cost is
O(events × lines + hours × profile groups); there is no per-line or per-hour process.

Time unit of ``env.now``: hours since the start of the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.rules.policy import CalendarWindow
from sim.rules.warnings import WarningDecider, WarningRecord

_EPS = 1e-9


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
    they respond at once and comply fully.
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


class _Plan:
    """Warnings of one city, planned or in force; the level at a time is the highest covering it."""

    def __init__(self, env: simpy.Environment, fixed: list[WarningRecord]):
        self.env = env
        self.fixed = fixed
        self.decided: list[WarningRecord] = []
        self.changed = env.event()

    def records(self) -> list[WarningRecord]:
        return [r for r in self.fixed + self.decided if r.end_h > r.start_h]

    def level_at(self, t: float) -> int:
        return max((r.level for r in self.records() if r.start_h <= t < r.end_h), default=0)

    def next_change_after(self, t: float) -> float | None:
        times = [b for r in self.records() for b in (r.start_h, r.end_h) if b > t]
        return min(times, default=None)

    def notify(self) -> None:
        self.changed.succeed()
        self.changed = self.env.event()


class _Recorder:
    """Holds the factor vectors and integrates each constant segment when time moves on.

    Everything a segment needs is kept as running sums that an event updates only for the
    lines it changes: emission rates per (profile, city) group, output value lost per hour,
    counts of limited and stopped lines and enterprises. A segment then costs O(hours ×
    groups), and a line's own total is settled only when its factor changes (and at the end)
    from cumulative temporal weights.
    """

    def __init__(self, inp: EngineInputs):
        self.inp = inp
        n, p = inp.mean_rate_kg_h.shape
        k = inp.other_rate_kg_h.shape[0]
        c = inp.n_cities
        self.warning_factor = np.ones(n)
        self.calendar_factor = np.ones(n)
        self.factor = np.ones(n)  # min(warning, calendar): what the running sums hold
        self.other_factor = np.ones((k, p))
        self.level_in_force = np.zeros(c, dtype=np.int8)
        self.last_t = 0
        n_profiles = inp.profile_weights.shape[0]
        self.city = inp.line_city()
        # one accumulation group per (profile, city): hourly totals stay O(hours × groups)
        self.group_id = inp.profile_id.astype(np.int64) * c + self.city
        self.n_groups = n_profiles * c
        self.group_profile = np.arange(self.n_groups) // c
        self.by_group = self._group_sums(np.arange(n), inp.mean_rate_kg_h)
        self.cum_weight = np.concatenate([np.zeros((n_profiles, 1)), np.cumsum(inp.profile_weights, axis=1)], axis=1)
        self.settled_at = np.zeros(n, dtype=np.int64)  # hour up to which line_weight is settled
        self.line_weight = np.zeros(n)  # Σ over settled hours of factor × temporal weight [h]
        self.loss_per_hour = np.zeros(c)  # output value lost per hour [万元/h], by city
        self.production = inp.is_production.astype(bool)
        self.n_limited = 0
        self.n_stopped = 0
        self.enterprise = inp.enterprise_code.astype(np.int64)
        n_ent = int(self.enterprise.max()) + 1 if n else 0
        self.ent_lines = np.bincount(self.enterprise[self.production], minlength=n_ent)
        self.ent_cut = np.zeros(n_ent, dtype=np.int64)  # production lines with factor < 1
        self.ent_stop = np.zeros(n_ent, dtype=np.int64)  # production lines stopped
        self.ent_limited = 0
        self.ent_stopped = 0
        self.other_city = inp.other_city()
        self.hourly_by_city = np.zeros((inp.hours, c, p))
        self.res = EngineResult(
            hourly_kg_h=np.zeros((inp.hours, p)),
            other_hourly_kg_h=np.zeros((inp.hours, p)),
            line_total_kg=np.zeros((n, p)),
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

    def _group_sums(self, idx: np.ndarray, rates: np.ndarray) -> np.ndarray:
        """Σ of ``rates`` (lines in idx, pollutants) per accumulation group."""
        return np.stack(
            [np.bincount(self.group_id[idx], weights=rates[:, j], minlength=self.n_groups) for j in range(rates.shape[1])],
            axis=1,
        )

    def _status(self, f: np.ndarray, production: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stopped = production & (f <= _EPS)
        cut = production & (f < 1.0 - _EPS)
        return cut, stopped

    def _enterprise_counts(self, ents: np.ndarray) -> tuple[int, int]:
        cut, stop, lines = self.ent_cut[ents], self.ent_stop[ents], self.ent_lines[ents]
        stopped = (lines > 0) & (stop == lines)
        return int(((cut > 0) & ~stopped).sum()), int(stopped.sum())

    def update(self, idx: np.ndarray) -> None:
        """The warning or calendar factor of lines ``idx`` changed now (after a flush)."""
        new = np.minimum(self.warning_factor[idx], self.calendar_factor[idx])
        old = self.factor[idx]
        moved = new != old
        if not moved.any():
            return
        idx, new, old = idx[moved], new[moved], old[moved]
        now = self.last_t
        pid = self.inp.profile_id[idx]
        self.line_weight[idx] += old * (self.cum_weight[pid, now] - self.cum_weight[pid, self.settled_at[idx]])
        self.settled_at[idx] = now
        self.factor[idx] = new
        self.by_group += self._group_sums(idx, self.inp.mean_rate_kg_h[idx] * (new - old)[:, None])
        value = self.inp.value_wan_yuan_d[idx] / 24.0
        self.loss_per_hour += np.bincount(self.city[idx], weights=value * (old - new), minlength=self.inp.n_cities)
        prod = self.production[idx]
        old_cut, old_stop = self._status(old, prod)
        new_cut, new_stop = self._status(new, prod)
        self.n_stopped += int(new_stop.sum()) - int(old_stop.sum())
        self.n_limited += int((new_cut & ~new_stop).sum()) - int((old_cut & ~old_stop).sum())
        ent = self.enterprise[idx]
        mark = np.zeros(self.ent_cut.size, dtype=bool)
        mark[ent[prod]] = True  # a mask, not np.unique: no sort of the changed lines
        touched = np.flatnonzero(mark)
        if touched.size:
            before = self._enterprise_counts(touched)
            size = self.ent_cut.size
            self.ent_cut += np.bincount(ent, weights=new_cut.astype(np.int64) - old_cut, minlength=size).astype(np.int64)
            self.ent_stop += np.bincount(ent, weights=new_stop.astype(np.int64) - old_stop, minlength=size).astype(np.int64)
            after = self._enterprise_counts(touched)
            self.ent_limited += after[0] - before[0]
            self.ent_stopped += after[1] - before[1]

    def flush(self, now: float) -> None:
        t0, t1 = int(self.last_t), int(min(now, self.inp.hours))
        if t1 <= t0:
            return
        inp, res = self.inp, self.res
        c = inp.n_cities
        w = inp.profile_weights[:, t0:t1]
        if c == 1:
            lines_hourly = w.T @ self.by_group
            self.hourly_by_city[t0:t1, 0] += lines_hourly
        else:
            per_group = w[self.group_profile].T[:, :, None] * self.by_group[None, :, :]  # (hours, groups, pollutants)
            city_hourly = per_group.reshape(t1 - t0, -1, c, self.by_group.shape[1]).sum(axis=1)
            self.hourly_by_city[t0:t1] += city_hourly
            lines_hourly = city_hourly.sum(axis=1)
        res.hourly_kg_h[t0:t1] += lines_hourly
        ow = inp.other_weights[:, t0:t1]
        other = inp.other_rate_kg_h * self.other_factor
        other_hourly = ow.T[:, :, None] * other[None, :, :]  # (hours, categories, pollutants)
        res.other_hourly_kg_h[t0:t1] += other_hourly.sum(axis=1)
        np.add.at(self.hourly_by_city, (slice(t0, t1), self.other_city), other_hourly)
        res.other_total_kg += other * ow.sum(axis=1)[:, None]
        res.level_by_city[t0:t1] = self.level_in_force
        res.level_in_force[t0:t1] = self.level_in_force.max()
        hours = t1 - t0
        res.loss_by_city_wan_yuan += self.loss_per_hour * hours
        res.production_loss_wan_yuan += float(self.loss_per_hour.sum()) * hours
        res.lines_stopped[t0:t1] = self.n_stopped
        res.lines_limited[t0:t1] = self.n_limited
        res.enterprise_hours_stopped += float(self.ent_stopped) * hours
        res.enterprise_hours_limited += float(self.ent_limited) * hours
        self.last_t = t1

    def finish(self) -> EngineResult:
        self.flush(self.inp.hours)
        pid = self.inp.profile_id
        end = self.inp.hours
        self.line_weight += self.factor * (self.cum_weight[pid, end] - self.cum_weight[pid, self.settled_at])
        self.res.line_total_kg = self.inp.mean_rate_kg_h * self.line_weight[:, None]
        self.res.hourly_by_city_kg_h = self.hourly_by_city
        return self.res


class _Response:
    """Response groups (lines of one city sharing a delay) and compliance.

    Compliance is drawn per line when its city's warning starts (from no warning) and holds
    through upgrades; an inspection may catch a non-complying line, which then complies.
    """

    def __init__(self, env: simpy.Environment, rec: _Recorder, rng: np.random.Generator):
        inp = rec.inp
        self.env, self.rec, self.inp, self.rng = env, rec, inp, rng
        city = inp.line_city()
        pairs = np.unique(np.column_stack([city, inp.delay_h]), axis=0) if city.size else np.zeros((0, 2), dtype=np.int64)
        self.groups = [(int(c), int(d), np.flatnonzero((city == c) & (inp.delay_h == d))) for c, d in pairs]
        self.city_lines = [np.flatnonzero(city == c) for c in range(inp.n_cities)]
        self.other_of_city = [np.flatnonzero(inp.other_city() == c) for c in range(inp.n_cities)]
        self.applied = np.zeros(inp.level_reduction.shape[0], dtype=np.int8)
        self.group_level = [0] * len(self.groups)
        self.complying = np.ones(inp.level_reduction.shape[0], dtype=bool)
        self.always = inp.compliance_probability >= 1.0

    def draw_compliance(self, city: int) -> None:
        idx = self.city_lines[city]
        self.complying[idx] = self.always[idx] | (self.rng.random(idx.size) < self.inp.compliance_probability[idx])

    def refresh(self, idx: np.ndarray) -> None:
        cut = self.inp.level_reduction[idx, self.applied[idx]] * self.complying[idx]
        self.rec.warning_factor[idx] = 1.0 - cut
        self.rec.update(idx)

    def apply(self, g: int, level: int) -> None:
        city, delay, idx = self.groups[g]
        self.rec.flush(self.env.now)
        self.group_level[g] = level
        self.applied[idx] = level
        self.refresh(idx)
        self.rec.res.events.append((self.env.now, f"city {city}: lines with {delay} h response delay at level {level}"))

    def rise(self, g: int, level: int):
        city, delay, _ = self.groups[g]
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
        rec.level_in_force[city] = level
        others = self.other_of_city[city]
        rec.other_factor[others] = 1.0 - self.inp.other_reduction[others, level, :]
        for g, (c, _, _) in enumerate(self.groups):
            if c != city:
                continue
            if level > before:
                self.env.process(self.rise(g, level))
            elif self.group_level[g] > level:
                self.apply(g, level)


def _follower(env: simpy.Environment, city: int, plan: _Plan, rec: _Recorder, response: _Response):
    """Keeps a city's level in force equal to its plan, waking at each boundary or change."""
    while True:
        level = plan.level_at(env.now)
        if level != rec.level_in_force[city]:
            response.change_level(city, level)
        nxt = plan.next_change_after(env.now)
        wake = [plan.changed] + ([env.timeout(nxt - env.now)] if nxt is not None and nxt < rec.inp.hours else [])
        yield env.any_of(wake)


def _centre(env: simpy.Environment, plan: _Plan, centre: WarningCentre):
    decider = WarningDecider(centre.rule_set, centre.lead_h, centre.lift_after_h, plan.decided)
    for i, t in enumerate(centre.issue_hours):
        yield env.timeout(float(t) - env.now)
        if decider.step(int(t), int(centre.day0_hours[i]), centre.forecast_daily_aqi[i]):
            plan.notify()


def _calendar(env: simpy.Environment, rec: _Recorder, windows: tuple[CalendarWindow, ...], index: int, active: list[bool]):
    window = windows[index]

    def recompute() -> None:
        rec.flush(env.now)
        factor = np.ones_like(rec.calendar_factor)
        for w, on in zip(windows, active):
            if on:
                np.minimum(factor, np.where(w.mask, 1.0 - w.reduction, 1.0), out=factor)
        rec.calendar_factor = factor
        rec.update(np.arange(factor.size))

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
    while t < rec.inp.hours:
        yield env.timeout(t - env.now)
        under = np.flatnonzero(rec.inp.level_reduction[np.arange(response.applied.size), response.applied] > 0)
        if under.size:
            visited = response.rng.choice(under, size=min(spec.per_day, under.size), replace=False)
            caught = visited[~response.complying[visited] & (response.rng.random(visited.size) < spec.catch_probability)]
            rec.res.inspections += int(visited.size)
            if caught.size:
                rec.flush(env.now)
                response.complying[caught] = True
                response.refresh(caught)
                rec.res.caught += int(caught.size)
        t += 24


def run_engine(inp: EngineInputs, rng: np.random.Generator | None = None, centres: WarningCentre | dict[int, WarningCentre] | None = None) -> EngineResult:
    """Run the event simulation over ``inp.hours`` hours and return the integrated result.

    ``rng`` drives compliance draws and inspections (unused when every line complies and there
    are no inspections); ``centres`` adds forecast-driven warnings to the fixed schedule: one
    warning centre, or one per city index.
    """
    env = simpy.Environment()
    rec = _Recorder(inp)
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
    result = rec.finish()
    records = [(r, city) for city, plan in enumerate(plans) for r in plan.records()]
    records.sort(key=lambda rc: (rc[1], rc[0].start_h, rc[0].level))
    result.warnings = [r for r, _ in records]
    result.warning_cities = [c for _, c in records]
    return result


def baseline_run(inp: EngineInputs) -> EngineResult:
    """The same integration with every factor at 1: no warnings, no calendars."""
    return run_engine(EngineInputs(**{**inp.__dict__, "schedule": (), "calendars": (), "inspections": None}))
