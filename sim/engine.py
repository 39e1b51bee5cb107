"""The discrete-event layer: SimPy processes that change production-factor vectors.

Events mark only discrete changes: a warning level taking force or ending, a response delay
ending (lines reaching the new level), a staggered-production window opening or closing.
Between two events every factor is constant, so the recorder integrates each segment in closed
form: hourly totals per temporal-profile group, per-line totals, production loss and counts.
Cost is O(events × lines + hours × profile groups); there is no per-line or per-hour process.

Time unit of ``env.now``: hours since the start of the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.policy import CalendarWindow

_EPS = 1e-9


@dataclass(frozen=True)
class ScheduledLevel:
    """A warning level (1 = yellow, 2 = orange, 3 = red) in force over [start_h, end_h)."""

    level: int
    start_h: int
    end_h: int


@dataclass(frozen=True)
class EngineInputs:
    """Everything the engine needs, as arrays.

    Lines: ``mean_rate_kg_h`` [kg/h] (lines, pollutants); ``profile_id`` (lines,) into
    ``profile_weights`` [-] (profiles, hours); ``level_reduction`` [-] (lines, 4) with column 0
    for "no warning" (zeros) and columns 1-3 the realised cut at yellow/orange/red;
    ``delay_h`` [h] per line; ``value_wan_yuan_d`` [万元/d] output value; ``enterprise_code``
    and ``is_production`` (False for derived truck rows) for enterprise-day counts.
    Other sources: ``other_rate_kg_h`` [kg/h] (categories, pollutants), ``other_weights``
    (categories, hours), ``other_reduction`` [-] (categories, 4, pollutants); they respond at once.
    """

    hours: int
    mean_rate_kg_h: np.ndarray
    profile_id: np.ndarray
    profile_weights: np.ndarray
    level_reduction: np.ndarray
    delay_h: np.ndarray
    value_wan_yuan_d: np.ndarray
    enterprise_code: np.ndarray
    is_production: np.ndarray
    schedule: tuple[ScheduledLevel, ...]
    calendars: tuple[CalendarWindow, ...]
    other_rate_kg_h: np.ndarray
    other_weights: np.ndarray
    other_reduction: np.ndarray


@dataclass
class EngineResult:
    """What the recorder integrated. Emissions [kg/h] hourly and [kg] in totals."""

    hourly_kg_h: np.ndarray  # (hours, pollutants), listed lines
    other_hourly_kg_h: np.ndarray  # (hours, pollutants), other sources
    line_total_kg: np.ndarray  # (lines, pollutants)
    other_total_kg: np.ndarray  # (categories, pollutants)
    level_in_force: np.ndarray  # (hours,) 0 none, 1 yellow, 2 orange, 3 red
    lines_limited: np.ndarray  # (hours,) production lines cut but running
    lines_stopped: np.ndarray  # (hours,) production lines stopped
    production_loss_wan_yuan: float
    enterprise_hours_limited: float
    enterprise_hours_stopped: float
    events: list[tuple[float, str]] = field(default_factory=list)


class _Recorder:
    """Holds the factor vectors and integrates each constant segment when time moves on."""

    def __init__(self, inp: EngineInputs):
        self.inp = inp
        n, p = inp.mean_rate_kg_h.shape
        k = inp.other_rate_kg_h.shape[0]
        self.warning_factor = np.ones(n)
        self.calendar_factor = np.ones(n)
        self.other_factor = np.ones((k, p))
        self.level_in_force = 0
        self.last_t = 0
        self.n_profiles = inp.profile_weights.shape[0]
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
        )
        self.line_weight = np.zeros(n)  # Σ over hours of factor × temporal weight [h]
        production = np.flatnonzero(inp.is_production)
        order = production[np.argsort(inp.enterprise_code[production], kind="stable")]
        codes = inp.enterprise_code[order]
        self.ent_order = order
        self.ent_starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if order.size else np.zeros(0, dtype=int)

    def flush(self, now: float) -> None:
        t0, t1 = int(self.last_t), int(now)
        if t1 <= t0:
            return
        inp, res = self.inp, self.res
        f = np.minimum(self.warning_factor, self.calendar_factor)
        w = inp.profile_weights[:, t0:t1]
        scaled = inp.mean_rate_kg_h * f[:, None]
        by_profile = np.stack(
            [np.bincount(inp.profile_id, weights=scaled[:, j], minlength=self.n_profiles) for j in range(scaled.shape[1])],
            axis=1,
        )
        res.hourly_kg_h[t0:t1] += w.T @ by_profile
        self.line_weight += f * w.sum(axis=1)[inp.profile_id]
        ow = inp.other_weights[:, t0:t1]
        other = inp.other_rate_kg_h * self.other_factor
        res.other_hourly_kg_h[t0:t1] += ow.T @ other
        res.other_total_kg += other * ow.sum(axis=1)[:, None]
        res.level_in_force[t0:t1] = self.level_in_force
        hours = t1 - t0
        res.production_loss_wan_yuan += float(np.dot(inp.value_wan_yuan_d, 1.0 - f)) * hours / 24.0
        prod = inp.is_production
        stopped = prod & (f <= _EPS)
        limited = prod & (f < 1.0 - _EPS) & ~stopped
        res.lines_stopped[t0:t1] = int(stopped.sum())
        res.lines_limited[t0:t1] = int(limited.sum())
        if self.ent_order.size:
            fo = f[self.ent_order]
            ent_max = np.maximum.reduceat(fo, self.ent_starts)
            ent_min = np.minimum.reduceat(fo, self.ent_starts)
            ent_stopped = ent_max <= _EPS
            res.enterprise_hours_stopped += float(ent_stopped.sum()) * hours
            res.enterprise_hours_limited += float(((ent_min < 1.0 - _EPS) & ~ent_stopped).sum()) * hours
        self.last_t = t1

    def finish(self) -> EngineResult:
        self.flush(self.inp.hours)
        self.res.line_total_kg = self.inp.mean_rate_kg_h * self.line_weight[:, None]
        return self.res


def _warning_centre(env: simpy.Environment, rec: _Recorder, groups: list[tuple[int, np.ndarray]]):
    """Follows the warning schedule; the higher level wins where warnings overlap.

    On a rise, each response group reaches the new level after its delay; on a fall, lines relax
    at once (a lifted warning frees production immediately).
    """
    inp = rec.inp
    applied = [0] * len(groups)
    boundaries = sorted({b for w in inp.schedule for b in (w.start_h, w.end_h) if 0 <= b < inp.hours} | {0})

    def apply(g: int, level: int) -> None:
        delay, idx = groups[g]
        rec.flush(env.now)
        applied[g] = level
        rec.warning_factor[idx] = 1.0 - inp.level_reduction[idx, level]
        rec.events.append((env.now, f"lines with {delay} h response delay at level {level}"))

    def respond(g: int, level: int):
        yield env.timeout(groups[g][0])
        # a later fall of the warning caps what a pending rise may apply
        target = min(level, rec.level_in_force)
        if target > applied[g]:
            apply(g, target)

    for t in boundaries:
        yield env.timeout(t - env.now)
        level = max((w.level for w in inp.schedule if w.start_h <= t < w.end_h), default=0)
        if level == rec.level_in_force:
            continue
        rec.flush(env.now)
        rec.events.append((env.now, f"warning level {rec.level_in_force} -> {level}"))
        rising = level > rec.level_in_force
        rec.level_in_force = level
        rec.other_factor = 1.0 - inp.other_reduction[:, level, :]
        for g in range(len(groups)):
            if rising:
                env.process(respond(g, level))
            elif applied[g] > level:
                apply(g, level)


def _calendar(env: simpy.Environment, rec: _Recorder, windows: tuple[CalendarWindow, ...], index: int, active: list[bool]):
    window = windows[index]

    def recompute() -> None:
        rec.flush(env.now)
        factor = np.ones_like(rec.calendar_factor)
        for w, on in zip(windows, active):
            if on:
                np.minimum(factor, np.where(w.mask, 1.0 - w.reduction, 1.0), out=factor)
        rec.calendar_factor = factor

    yield env.timeout(window.start_h)
    active[index] = True
    recompute()
    rec.events.append((env.now, f"staggered production '{window.label}' starts"))
    if window.end_h < rec.inp.hours:
        yield env.timeout(window.end_h - env.now)
        active[index] = False
        recompute()
        rec.events.append((env.now, f"staggered production '{window.label}' ends"))


def run_engine(inp: EngineInputs) -> EngineResult:
    """Run the event simulation over ``inp.hours`` hours and return the integrated result."""
    env = simpy.Environment()
    rec = _Recorder(inp)
    rec.events = rec.res.events
    delays = np.unique(inp.delay_h)
    groups = [(int(d), np.flatnonzero(inp.delay_h == d)) for d in delays]
    env.process(_warning_centre(env, rec, groups))
    active = [False] * len(inp.calendars)
    for i in range(len(inp.calendars)):
        env.process(_calendar(env, rec, inp.calendars, i, active))
    env.run(until=inp.hours)
    return rec.finish()


def baseline_run(inp: EngineInputs) -> EngineResult:
    """The same integration with every factor at 1: no warnings, no calendars."""
    return run_engine(EngineInputs(**{**inp.__dict__, "schedule": (), "calendars": ()}))
