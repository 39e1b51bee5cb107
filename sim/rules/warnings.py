"""Warning rule sets and warning decisions from forecasts (pure functions and a small state).

A rule set (``sim/data/warning_standards.yaml`` or a local file in the same form) decides a
level from the forecast daily AQI. :class:`WarningDecider` is the daily consultation (会商):
given the forecast at an issue time it issues, extends, upgrades, downgrades or lifts
warnings, applying the lead time and merging back-to-back episodes. The SimPy process that
calls it each day lives in :mod:`sim.engine.simulation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.config.vocabulary import LEVELS
from sim.config.yamlio import parse_yaml, read_yaml

LEVEL_NAMES = ("none", *LEVELS)


# --------------------------------------------------------------------------- rule sets


@dataclass(frozen=True)
class Condition:
    """At least ``days`` consecutive days with daily AQI > ``threshold`` (>= when inclusive)."""

    threshold: float
    days: int
    inclusive: bool = False

    def holds(self, aqi: np.ndarray) -> bool:
        above = aqi >= self.threshold if self.inclusive else aqi > self.threshold
        return longest_run(above) >= self.days

    def describe(self) -> str:
        return f"AQI {'>=' if self.inclusive else '>'} {self.threshold:g} for {self.days} day(s)"


@dataclass(frozen=True)
class Combination:
    """``any`` or ``all`` of conditions or nested combinations."""

    mode: str
    items: tuple["Condition | Combination", ...]

    def holds(self, aqi: np.ndarray) -> bool:
        results = (item.holds(aqi) for item in self.items)
        return any(results) if self.mode == "any" else all(results)

    def describe(self) -> str:
        joiner = " or " if self.mode == "any" else " and "
        parts = [item.describe() if isinstance(item, Condition) else f"({item.describe()})" for item in self.items]
        return joiner.join(parts)


@dataclass(frozen=True)
class RuleSet:
    """A named warning standard: per level the condition on forecast daily AQI."""

    key: str
    name: str
    source: str
    start_above: float
    levels: dict[str, Combination]

    def level_of(self, aqi: np.ndarray) -> tuple[int, str]:
        """Highest level [0 none, 1-3] whose condition holds on this run of days, and why."""
        for index in range(len(LEVEL_NAMES) - 1, 0, -1):
            rule = self.levels.get(LEVEL_NAMES[index])
            if rule is not None and rule.holds(aqi):
                return index, f"{self.key} {LEVEL_NAMES[index]}: {rule.describe()}"
        return 0, ""


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True values."""
    best = run = 0
    for value in mask:
        run = run + 1 if value else 0
        best = max(best, run)
    return best


def _parse_rule(raw: object, file: object, where: str) -> Condition | Combination:
    if not isinstance(raw, dict) or len(raw) == 0:
        raise InputError(file, where, "a condition must be a mapping.", "write {aqi_above: 200, days: 2} or any:/all: lists.")
    if set(raw) <= {"any"} or set(raw) <= {"all"}:
        mode = next(iter(raw))
        items = raw[mode]
        if not isinstance(items, list) or not items:
            raise InputError(file, f"{where}.{mode}", "must be a non-empty list.", "list one or more conditions.")
        return Combination(mode, tuple(_parse_rule(item, file, f"{where}.{mode}[{i}]") for i, item in enumerate(items)))
    keys = set(raw)
    if keys not in ({"aqi_above", "days"}, {"aqi_at_least", "days"}):
        raise InputError(file, where, f"unknown condition keys {sorted(keys)}.", "use {aqi_above: X, days: n}, {aqi_at_least: X, days: n}, any: [...] or all: [...].")
    inclusive = "aqi_at_least" in raw
    threshold, days = raw["aqi_at_least" if inclusive else "aqi_above"], raw["days"]
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InputError(file, where, "the threshold must be a number and days a whole number >= 1.", "e.g. {aqi_above: 200, days: 2}.")
    return Condition(float(threshold), days, inclusive)


def parse_rule_set(key: str, raw: object, file: object) -> RuleSet:
    """Validate one rule set mapping (``name``, ``source``, ``start_above``, ``levels``)."""
    if not isinstance(raw, dict):
        raise InputError(file, key, "a rule set must be a mapping.", "give name, source, start_above and levels.")
    unknown = set(raw) - {"name", "source", "start_above", "levels"}
    if unknown:
        raise InputError(file, f"{key}.{sorted(unknown)[0]}", "unknown key.", "allowed keys: name, source, start_above, levels.")
    levels = raw.get("levels")
    if not isinstance(levels, dict) or not levels:
        raise InputError(file, f"{key}.levels", "missing or empty.", f"give conditions for {', '.join(LEVEL_NAMES[1:])}.")
    parsed = {}
    for name, rule in levels.items():
        if name not in LEVEL_NAMES[1:]:
            raise InputError(file, f"{key}.levels.{name}", "unknown warning level.", f"use {', '.join(LEVEL_NAMES[1:])}.")
        parsed[name] = _parse_rule(rule, file, f"{key}.levels.{name}")
    start = raw.get("start_above")
    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise InputError(file, f"{key}.start_above", "missing or not a number.", "give the AQI above which an episode counts, e.g. 200.")
    return RuleSet(key, str(raw.get("name", key)), str(raw.get("source", "")), float(start), parsed)


def builtin_rule_sets() -> dict[str, RuleSet]:
    """The national rule sets shipped with the package (mee_2017, mee_2019, mee_2024)."""
    text = resources.files("sim.data").joinpath("warning_standards.yaml").read_text("utf-8")
    raw = parse_yaml(text, "sim/data/warning_standards.yaml")
    return {key: parse_rule_set(key, value, "sim/data/warning_standards.yaml") for key, value in raw.items()}


def load_rule_set(standard: str, base_dir: Path | None, scenario_file: object = None) -> RuleSet:
    """A built-in rule set by name, or a local rule-set file (path relative to the scenario)."""
    builtin = builtin_rule_sets()
    if standard in builtin:
        return builtin[standard]
    path = Path(standard)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.suffix.lower() not in {".yaml", ".yml"} or not path.is_file():
        raise InputError(scenario_file, "key warnings.standard", f"'{standard}' is neither a built-in rule set nor a YAML file.", f"use one of {', '.join(builtin)} or the path of a local rule-set file.")
    # the strict reader: encoding, duplicate keys and nesting are checked as for the scenario
    return parse_rule_set(path.stem, read_yaml(path, "warning standard", "warnings.standard"), path)


# --------------------------------------------------------------------------- decisions


@dataclass
class WarningRecord:
    """One warning at one level: in force over [start_h, end_h) [h since period start]."""

    level: int
    issued_h: float | None
    start_h: int
    end_h: int
    reason: str


@dataclass(frozen=True)
class Spell:
    """A forecast episode: days [start_day, end_day) after the issue day, its level and why."""

    start_day: int
    end_day: int
    level: int
    reason: str


def forecast_spells(rule_set: RuleSet, daily_aqi: np.ndarray) -> list[Spell]:
    """Runs of forecast days above the start condition, each with the level it warrants."""
    above = np.r_[False, daily_aqi > rule_set.start_above, False]
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    spells = []
    for start, end in zip(edges[::2], edges[1::2]):
        level, reason = rule_set.level_of(daily_aqi[start:end])
        if level:
            spells.append(Spell(int(start), int(end), level, reason))
    return spells


def _tests(rule: Condition | Combination) -> set[tuple[float, bool]]:
    """Every (threshold, inclusive) comparison a condition makes."""
    if isinstance(rule, Condition):
        return {(rule.threshold, rule.inclusive)}
    return set().union(*(_tests(item) for item in rule.items))


class SpellMemo:
    """:func:`forecast_spells` of many forecasts, each pattern worked out once.

    The spells of a forecast depend on its daily AQI only through the comparisons the rule
    set makes (AQI above the start condition, above or at each threshold): forecasts that
    agree on every comparison on every day have the same spells. Members of an ensemble
    share few patterns, so each is computed once and looked up after (exact, not an
    approximation: the key is every comparison's outcome)."""

    def __init__(self, rule_set: RuleSet):
        self.rule_set = rule_set
        tests = sorted({(rule_set.start_above, False)}.union(*(_tests(rule) for rule in rule_set.levels.values())))
        self.thresholds = np.array([t for t, _ in tests], dtype=float)
        self.inclusive = np.array([inc for _, inc in tests], dtype=bool)
        self.memo: dict[bytes, list[Spell]] = {}

    def rows(self, daily_aqi: np.ndarray) -> list[list[Spell]]:
        """The spells of each row of ``daily_aqi`` (forecasts, days); NaN compares False."""
        aqi = np.asarray(daily_aqi, dtype=float)[..., None]
        outcome = np.where(self.inclusive, aqi >= self.thresholds, aqi > self.thresholds)  # (forecasts, days, tests)
        memo, out = self.memo, []
        for row, key in zip(daily_aqi, (o.tobytes() for o in outcome)):
            spells = memo.get(key)
            if spells is None:
                spells = memo[key] = forecast_spells(self.rule_set, row)
            out.append(spells)
        return out


@dataclass
class WarningDecider:
    """The daily consultation (会商): turns forecasts into warning records.

    Rules (the 2017 MEP rule set, 环大气〔2017〕86号, and provincial emergency plans; see
    docs/sources.md): a warning takes effect at least ``lead_h`` after issue; the higher
    level wins when the forecast rises (an upgrade also waits for the lead time); a forecast
    episode that starts within ``lift_after_h`` of the end of the current warning extends it
    (back-to-back episodes without a clean-out count as one); a warning in force is lowered at
    once when the forecast falls to a lower level, and lifted when the forecast stays at or
    below the start condition for ``lift_after_h``.
    """

    rule_set: RuleSet
    lead_h: int
    lift_after_h: int
    records: list[WarningRecord] = field(default_factory=list)

    def active(self, now_h: float) -> WarningRecord | None:
        last = self.records[-1] if self.records else None
        return last if last is not None and last.end_h > now_h else None

    def step(self, now_h: int, day0_h: int, daily_aqi: np.ndarray, spells: list[Spell] | None = None) -> bool:
        """Consult at ``now_h`` with the forecast daily AQI of days starting at ``day0_h``
        (day 0 = the issue day); ``spells``: ``forecast_spells`` of that forecast when already
        known. Returns True when the plan changed."""
        if spells is None:
            spells = forecast_spells(self.rule_set, daily_aqi)
        spells = [s for s in spells if day0_h + 24 * s.end_day > now_h]
        hours = [(day0_h + 24 * s.start_day, day0_h + 24 * s.end_day, s) for s in spells]
        earliest = now_h + self.lead_h
        active = self.active(now_h)
        tag = self.rule_set.key
        if active is None:
            for k, (start, end, spell) in enumerate(hours):
                begin = max(start, earliest)
                if begin < end:
                    level, reason = spell.level, spell.reason
                    for s2, e2, sp2 in hours[k + 1:]:  # episodes without a clean-out between them count as one
                        if s2 > end + self.lift_after_h:
                            break
                        end = e2
                        if sp2.level > level:
                            level, reason = sp2.level, sp2.reason
                    self.records.append(WarningRecord(level, now_h, begin, end, f"issued: {reason}"))
                    return True
            return False
        linked = [(s, e, sp) for s, e, sp in hours if s <= active.end_h + self.lift_after_h]
        in_force = active.start_h <= now_h
        if not linked:
            clear_days = int(np.ceil((now_h + self.lift_after_h - day0_h) / 24))
            if in_force and (daily_aqi[:clear_days] <= self.rule_set.start_above).all():
                active.end_h = now_h
                active.reason += f"; lifted: forecast at or below AQI {self.rule_set.start_above:g} for {self.lift_after_h} h"
                return True
            if not in_force:
                self.records.pop()  # the episode it was issued for is no longer forecast
                return True
            return False
        level = max(sp.level for _, _, sp in linked)
        end = max(e for _, e, _ in linked)
        changed = False
        if not in_force:
            # the episode is now forecast to begin earlier: bring the planned start forward
            begin = max(earliest, min(s for s, _, _ in linked))
            if begin < active.start_h:
                active.start_h = begin
                changed = True
        if end > active.end_h:
            active.end_h = end
            changed = True
        if level > active.level:
            begin = max(earliest, min(s for s, _, sp in linked if sp.level == level))
            reason = next(sp.reason for _, _, sp in linked if sp.level == level)
            if not in_force and begin <= active.start_h:
                active.level, active.reason = level, f"issued: {reason}"
            elif begin < active.end_h:
                end_h, active.end_h = active.end_h, begin
                self.records.append(WarningRecord(level, now_h, begin, end_h, f"upgraded: {reason}"))
            return True
        if level < active.level:
            reason = next(sp.reason for _, _, sp in linked if sp.level == level)
            if not in_force:
                active.level, active.reason = level, f"issued: {reason}"
            else:
                end_h, active.end_h = active.end_h, now_h
                self.records.append(WarningRecord(level, now_h, now_h, end_h, f"downgraded: {reason}"))
            return True
        return changed

    def __post_init__(self) -> None:
        if self.lead_h < 0 or self.lift_after_h < 0:
            raise ValueError("lead and lift hours must be >= 0")
