"""Grades, exemptions, measure rules and calendars -> per-line vectors (pure functions).

Rules are evaluated as boolean masks over the whole list, one vectorised step per rule; no
per-line Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inventory import Inventory
from sim.scenario import LEVELS, CalendarRule, Exemptions, MeasureText, Policy, Rule


@dataclass(frozen=True)
class LineMeasures:
    """The designed emergency measures of every line (full compliance).

    ``reduction`` [-] has shape (lines, levels) in :data:`LEVELS` order: the fraction of the
    line's production (and so of each of its emissions) cut at that level; 0 for exempt lines.
    """

    reduction: np.ndarray
    exempt: np.ndarray
    exempt_reason: np.ndarray
    rule: np.ndarray
    measure_text: np.ndarray  # (lines, levels) of str
    notes: tuple[str, ...] = field(default=())


def _match(lines: pd.DataFrame, industry, process, grade, city, flags) -> np.ndarray:
    mask = np.ones(len(lines), dtype=bool)
    for column, wanted in (("industry", industry), ("process", process), ("grade", grade), ("city", city)):
        if wanted is not None:
            mask &= lines[column].isin(wanted).to_numpy()
    for flag in flags or ():
        mask &= lines[flag].to_numpy(bool)
    return mask


def describe_reduction(fraction: float) -> str:
    """Measure wording for a production cut [-]."""
    if fraction >= 1.0:
        return "stop production (停产)"
    if fraction <= 0.0:
        return "no mandatory cut (不强制减排)"
    return f"production -{fraction:.0%} (限产{fraction:.0%})"


def _check_rule_names(file: object, key: str, industry: list[str] | None, process: list[str] | None, inventory: Inventory) -> None:
    """The industries and processes a rule names exist in the emission factors."""
    known = inventory.factors.processes.index
    industries = set(known.get_level_values("industry"))
    for name in industry or ():
        if name not in industries:
            raise InputError(file, f"key {key}.industry", f"industry '{name}' is unknown.", f"use a key of emission_factors/industries.csv ({', '.join(sorted(industries))}).")
    processes = set(known[known.get_level_values("industry").isin(industry)].get_level_values("process")) if industry else set(known.get_level_values("process"))
    for name in process or ():
        if name not in processes:
            raise InputError(file, f"key {key}.process", f"process '{name}' is not a process of {', '.join(industry or ['any industry'])}.", f"use one of: {', '.join(sorted(processes))}.")


def _check_names(policy: Policy, inventory: Inventory) -> None:
    """Names in rules exist, and no reduction rule targets what ``exempt`` exempts: the
    exemption would win silently, so the rule (or part of it) could never apply."""
    file = policy.file or "policy"
    for i, rule in enumerate(policy.rules):
        label = f"rules[{i}]"
        try:
            _check_rule_names(file, label, rule.industry, rule.process, inventory)
        except InputError as exc:  # name the rule too
            raise InputError(exc.file, f"{exc.where} ({rule.name})", exc.problem, exc.fix) from None
        if rule.exempt:
            continue
        for grade in rule.grade or ():
            if grade in policy.exempt.grades:
                raise InputError(file, f"key {label}.grade ({rule.name})", f"grade '{grade}' is exempt (exempt.grades), so this rule's reduction would never apply to it.",
                                 f"remove '{grade}' from the rule's grade, or from exempt.grades if {grade} lines must cut.")
        for flag in rule.flags:
            if flag in policy.exempt.flags:
                raise InputError(file, f"key {label}.flags ({rule.name})", f"flag '{flag}' is exempt (exempt.flags), so this rule could never apply.",
                                 f"remove '{flag}' from the rule's flags, or from exempt.flags if those lines must cut.")


def exemption_mask(lines: pd.DataFrame, exempt: Exemptions) -> tuple[np.ndarray, np.ndarray]:
    """Lines exempt by grade or flag, and the reason for each (empty where not exempt)."""
    reason = np.full(len(lines), "", dtype=object)
    by_grade = lines.grade.isin(exempt.grades).to_numpy()
    reason[by_grade] = "grade " + lines.grade.to_numpy()[by_grade].astype(str)
    for flag in exempt.flags:
        hit = lines[flag].to_numpy(bool) & (reason == "")
        reason[hit] = f"flag {flag}"
    return reason != "", reason


def assign_measures(inventory: Inventory, policy: Policy) -> LineMeasures:
    """Apply the policy to every line: exemptions first, then rules (first match wins), then
    ``base_ratio`` for every non-exempt line that no rule matched."""
    _check_names(policy, inventory)
    lines = inventory.lines
    n = len(lines)
    exempt, reason = exemption_mask(lines, policy.exempt)
    rule_name = np.where(exempt, "exempt", "").astype(object)
    reduction = np.zeros((n, len(LEVELS)))
    text = np.empty((n, len(LEVELS)), dtype=object)
    notes: list[str] = []

    def settle(mask: np.ndarray, name: str, rule: Rule | None, cut: tuple[float, float, float], wording: MeasureText) -> None:
        rule_name[mask] = name
        reduction[mask] = cut
        for j, level in enumerate(LEVELS):
            given = getattr(wording, level)
            text[mask, j] = given if given else describe_reduction(cut[j])

    for rule in policy.rules:
        hits = _match(lines, rule.industry, rule.process, rule.grade, rule.city, rule.flags)
        free = hits & (rule_name == "")
        if not hits.any():
            notes.append(f"policy rule '{rule.name}' matches no line of the list")
        elif not free.any():
            notes.append(f"policy rule '{rule.name}' matches only lines that an earlier rule or exemption already settled")
        if rule.exempt:
            exempt |= free
            reason[free] = f"rule {rule.name}"
            rule_name[free] = rule.name
        else:
            settle(free, rule.name, rule, rule.reduction.as_tuple(), rule.measure)
    rest = rule_name == ""
    settle(rest, "base_ratio", None, policy.base_ratio.as_tuple(), MeasureText())
    for j in range(len(LEVELS)):
        text[exempt, j] = "exempt: " + reason[exempt].astype(str) + " (自主减排)"
    reduction[exempt] = 0.0
    return LineMeasures(reduction, exempt, reason, rule_name, text, tuple(notes))


@dataclass(frozen=True)
class CalendarWindow:
    """A staggered-production rule resolved to the simulation clock [h since start]."""

    label: str
    start_h: int
    end_h: int
    mask: np.ndarray
    reduction: float


def calendar_windows(inventory: Inventory, rules: list[CalendarRule], start: pd.Timestamp, hours: int, file: object = None) -> tuple[list[CalendarWindow], tuple[str, ...]]:
    """Resolve staggered-production rules to hour windows and line masks.

    Windows are clipped to the period; a rule outside it, or matching no line, yields a note.
    An unknown industry or process is an error naming ``file`` (the scenario).
    """
    lines = inventory.lines
    windows: list[CalendarWindow] = []
    notes: list[str] = []
    for i, rule in enumerate(rules):
        try:
            _check_rule_names(file, f"staggered_production[{i}]", rule.industry, rule.process, inventory)
        except InputError as exc:
            raise InputError(exc.file, f"{exc.where} ({rule.label})", exc.problem, exc.fix) from None
        mask = _match(lines, rule.industry, rule.process, rule.grade, rule.city, None)
        mask &= ~lines.derived.to_numpy(bool)
        mask &= ~lines.grade.isin(rule.exempt_grades).to_numpy()
        for flag in rule.exempt_flags:
            mask &= ~lines[flag].to_numpy(bool)
        s = int(np.ceil((pd.Timestamp(rule.start) - start) / pd.Timedelta(hours=1)))
        e = int(np.ceil((pd.Timestamp(rule.end) - start) / pd.Timedelta(hours=1)))
        s, e = max(s, 0), min(e, hours)
        if e <= s:
            notes.append(f"staggered-production rule '{rule.label}' lies outside the period")
            continue
        if not mask.any():
            notes.append(f"staggered-production rule '{rule.label}' matches no line of the list")
        windows.append(CalendarWindow(rule.label, s, e, mask, rule.reduction))
    return windows, tuple(notes)
