"""Grades, exemptions, measure rules and calendars -> per-line vectors (pure functions).

Rules are evaluated as boolean masks over the whole list, one vectorised step per rule; no
per-line Python loop.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.inventory import Inventory, column_codes
from sim.config.labels import LABELS, grade_name, text
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN
from sim.config.scenario import CalendarRule, Exemptions, MeasureText, NegotiatedCuts, NegotiatedTerms, Policy, RankRule, Rule


@dataclass(frozen=True)
class LineMeasures:
    """The designed emergency measures of every line (full compliance).

    ``reduction`` [-] has shape (lines, levels) in :data:`LEVELS` order: the fraction of the
    line's production (and so of each of its emissions) cut at that level; 0 for exempt lines.
    ``exempt_reason`` and ``rule`` are stable keys (``grade A``, ``flag ultra_low``, ``rule
    whitelist_low_voc``); ``reason`` says the same in words, "中文 (English)", for exempt lines
    and for lines under a rule with its own ``reason`` (such as 保障类), empty elsewhere.
    """

    reduction: np.ndarray
    exempt: np.ndarray
    exempt_reason: np.ndarray
    rule: np.ndarray
    measure_text: np.ndarray  # (lines, levels) of str
    reason: np.ndarray
    notes: tuple[str, ...] = field(default=())
    negotiated: "NegotiatedMeasures | None" = None  # negotiated cuts (协商减排) on top of the grade measures

    @property
    def production_cut(self) -> np.ndarray:
        """The production cut the line carries out [-] (lines, levels): the grade measure's or
        the negotiated one, the deeper."""
        return self.reduction if self.negotiated is None else np.maximum(self.reduction, self.negotiated.production)

    def emission_cut(self, negotiated: bool = True) -> np.ndarray:
        """The cut of each pollutant's emissions [-] (lines, levels, pollutants): the production
        cut, or a negotiated cut of that pollutant where deeper. ``negotiated=False``: the grade
        measures alone."""
        grade = np.repeat(self.reduction[:, :, None], len(POLLUTANTS), axis=2)
        return grade if self.negotiated is None or not negotiated else np.maximum(grade, self.negotiated.pollutant)


@dataclass(frozen=True)
class NegotiatedMeasures:
    """Negotiated cuts (协商减排) per line, apart from the grade measures.

    ``production`` [-] (lines, levels): the negotiated production cut; ``pollutant`` [-]
    (lines, levels, pollutants): the negotiated cut of each pollutant's emissions (at least
    the production cut); ``label``: the agreements of each line as stable keys (``agreement
    row 3``, ``rank top_nox``; ``;`` between several, empty where none); ``text`` (lines,
    levels): the agreed measures in words at each level, "中文 (English)"; ``source``: where
    they come from. Several agreements on one line: the deepest cut of each pollutant holds.
    """

    production: np.ndarray
    pollutant: np.ndarray
    label: np.ndarray
    text: np.ndarray
    source: np.ndarray

    @property
    def lines(self) -> np.ndarray:
        """Lines under a negotiated cut at some level."""
        return self.pollutant.max(axis=(1, 2)) > 0


#: A column of the list coded: the code of each line and the distinct values (Inventory.codes).
Codes = Callable[[str], tuple[np.ndarray, np.ndarray]]


def _match(lines: pd.DataFrame, industry, process, grade, city, flags, codes: Codes | None = None) -> np.ndarray:
    """Lines a rule's selectors name: each column's distinct values compared with the names
    once, each line by its code (``codes``: the inventory's, else the columns are coded here)."""
    code_of = codes or (lambda column: column_codes(lines[column]))
    mask = np.ones(len(lines), dtype=bool)
    for column, wanted in (("industry", industry), ("process", process), ("grade", grade), ("city", city)):
        if wanted is not None:
            mask &= _in(code_of(column), wanted)
    for flag in flags or ():
        mask &= lines[flag].to_numpy(bool)
    return mask


def _in(coded: tuple[np.ndarray, np.ndarray], wanted) -> np.ndarray:
    """Which lines of a coded column hold one of the ``wanted`` values (a missing cell: none)."""
    line_codes, values = coded
    names = set(wanted)
    return np.array([v in names for v in values] + [False], dtype=bool)[line_codes]


def _bilingual(key: str, zh: dict | None = None, en: dict | None = None, en_tail: str = "") -> str:
    """A label as "中文 (English)", the form of the policy files' own measure texts;
    ``en_tail`` is added inside the brackets only (where internal names may appear)."""
    return f"{text(key, 'zh', **(zh or {}))} ({text(key, 'en', **(en or {}))}{en_tail})"


def _percent(fraction: float) -> str:
    """A cut [-] as a percentage to 0.1 %; a cut strictly between 0 and 1 never reads 0 % or 100 %."""
    pct = round(fraction * 100, 1)
    if 0.0 < fraction < 1.0:
        pct = min(max(pct, 0.1), 99.9)
    return f"{pct:g}%"


def describe_reduction(fraction: float) -> str:
    """Measure wording for a production cut [-], e.g. ``限产30% (production -30%)``."""
    if fraction >= 1.0:
        return _bilingual("measure.stop")
    if fraction <= 0.0:
        return _bilingual("measure.none")
    pct = _percent(fraction)
    return _bilingual("measure.cut", {"pct": pct}, {"pct": pct})


def describe_reductions(fractions: np.ndarray) -> np.ndarray:
    """:func:`describe_reduction` of every element (worded once per distinct cut)."""
    values, inverse = np.unique(np.asarray(fractions, dtype=float), return_inverse=True)
    words = np.array([describe_reduction(v) for v in values], dtype=object)
    return words[inverse.reshape(np.shape(fractions))] if values.size else np.empty(np.shape(fractions), dtype=object)


def grade_reason(grade: str) -> str:
    """Why a grade-exempt line is not cut, e.g. ``A级企业自主减排 (grade A, self-directed reductions)``."""
    return _bilingual("reason.grade", {"x": grade_name(grade, "zh")}, {"x": grade_name(grade, "en")})


def flag_name(flag: str, lang: str) -> str:
    """Display name of a line flag (保障类, 超低排放 ...); a flag without a label as given."""
    key = f"flag.{flag}"
    return text(key, lang) if key in LABELS else flag


def flag_reason(flag: str) -> str:
    """Why a flag-exempt line is not cut, e.g. ``超低排放企业自主减排 (ultra-low emission, ...)``."""
    return _bilingual("reason.flag", {"x": flag_name(flag, "zh")}, {"x": flag_name(flag, "en")})


def rule_reason(rule: Rule) -> str:
    """The words for the lines of ``rule``: its own ``reason``; for an exempt rule without one,
    words from its flags, naming the rule only in brackets (a key is not a reason)."""
    if rule.reason:
        return rule.reason
    if not rule.exempt:
        return ""
    tail = "; " + text("reason.rule_name", "en", x=rule.name)
    if rule.flags:
        names = {lang: text("reason.list_sep", lang).join(flag_name(f, lang) for f in rule.flags) for lang in ("zh", "en")}
        return _bilingual("reason.flag", {"x": names["zh"]}, {"x": names["en"]}, tail)
    return _bilingual("reason.rule", en_tail=tail)


def exempt_measure(reason: str) -> str:
    """The measure of an exempt line from its reason: ``豁免：A级企业自主减排 (exempt: grade A, ...)``."""
    zh, bracket, en = reason.partition(" (")
    if not bracket:  # a reason written in Chinese only
        return f"{text('measure.exempt', 'zh', x=reason)} ({text('measure.exempt_only', 'en')})"
    return f"{text('measure.exempt', 'zh', x=zh)} ({text('measure.exempt', 'en', x=en)}"


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


def exemption_mask(lines: pd.DataFrame, exempt: Exemptions, codes: Codes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lines exempt by grade or flag, and the reason for each (empty where not exempt)."""
    is_exempt, reason, _, _ = _exemptions(lines, exempt, codes)
    return is_exempt, reason


def _exemptions(lines: pd.DataFrame, exempt: Exemptions, codes: Codes | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Lines exempt by grade or flag, the reason key of each (``grade A``, ``flag ultra_low``;
    empty where not exempt), and its reason in words as an index into the returned words
    (index 0: no words). Grades are judged once per distinct grade."""
    grade_codes, grades = codes("grade") if codes else column_codes(lines.grade)
    words = [""]
    word_of_grade = np.zeros(len(grades) + 1, dtype=np.int32)  # the last: a missing grade
    reason_of_grade = np.full(len(grades) + 1, "", dtype=object)
    for k, grade in enumerate(grades):
        if grade in exempt.grades:
            reason_of_grade[k] = f"grade {grade}"
            words.append(grade_reason(grade))
            word_of_grade[k] = len(words) - 1
    reason = reason_of_grade[grade_codes]
    word_id = word_of_grade[grade_codes]
    decided = (word_of_grade > 0)[grade_codes]
    for flag in exempt.flags:
        hit = lines[flag].to_numpy(bool) & ~decided
        reason[hit] = f"flag {flag}"
        words.append(flag_reason(flag))
        word_id[hit] = len(words) - 1
        decided |= hit
    return decided, reason, word_id, words


def assign_measures(inventory: Inventory, policy: Policy) -> LineMeasures:
    """Apply the policy to every line: exemptions first, then rules (first match wins), then
    ``base_ratio`` for every non-exempt line that no rule matched.

    Lines are matched on the list's coded columns; each line records which rule (and which
    words) decided it, and the per-line arrays are taken from those at the end."""
    _check_names(policy, inventory)
    lines = inventory.lines
    n = len(lines)
    exempt, reason, word_id, words = _exemptions(lines, policy.exempt, inventory.codes)
    names = ["", "exempt"]
    name_id = exempt.astype(np.int32)
    taken = exempt.copy()  # lines with a rule name: later rules skip them
    measure_id = np.full(n, -1, dtype=np.int32)  # index into cuts and wordings; -1: exempt (no cut)
    cuts: list[tuple[float, float, float]] = []
    wordings: list[list[str]] = []
    notes: list[str] = []

    def settle(mask: np.ndarray, cut: tuple[float, float, float], wording: MeasureText) -> None:
        measure_id[mask] = len(cuts)
        cuts.append(cut)
        wordings.append([getattr(wording, level) or describe_reduction(cut[j]) for j, level in enumerate(LEVELS)])

    for rule in policy.rules:
        hits = _match(lines, rule.industry, rule.process, rule.grade, rule.city, rule.flags, inventory.codes)
        free = hits & ~taken
        if not hits.any():
            notes.append(text("note.rule_unmatched", "en", x=rule.name))
        elif not free.any():
            notes.append(text("note.rule_shadowed", "en", x=rule.name))
        if rule.exempt:
            exempt |= free
            reason[free] = f"rule {rule.name}"
        else:
            settle(free, rule.reduction.as_tuple(), rule.measure)
        names.append(rule.name)
        name_id[free] = len(names) - 1
        words.append(rule_reason(rule))
        word_id[free] = len(words) - 1
        if rule.name:
            taken |= free
    rest = ~taken
    names.append("base_ratio")
    name_id[rest] = len(names) - 1
    settle(rest, policy.base_ratio.as_tuple(), MeasureText())
    reduction = np.vstack([np.array(cuts, dtype=float), np.zeros((1, len(LEVELS)))])[measure_id]
    texts = np.array([*wordings, [None] * len(LEVELS)], dtype=object)[measure_id]
    if exempt.any():  # worded once per distinct reason
        exempt_words = np.array([exempt_measure(w) for w in words], dtype=object)
        texts[exempt] = exempt_words[word_id[exempt]][:, None]
    reduction[exempt] = 0.0
    negotiated = None
    if policy.negotiated is not None:
        negotiated, more = negotiated_measures(inventory, policy.negotiated, policy.file)
        notes += more
    return LineMeasures(reduction, exempt, reason, np.array(names, dtype=object)[name_id], texts, np.array(words, dtype=object)[word_id], tuple(notes), negotiated)


def _terms_cut(terms: NegotiatedTerms) -> tuple[float, np.ndarray, int]:
    """A negotiated cut as (production cut, cut of each pollutant [-], first level index)."""
    return terms.production_cut or 0.0, np.array([terms.pollutant_cut(p) for p in POLLUTANTS]), LEVELS.index(terms.from_level)


def rank_selection(inventory: Inventory, rule: RankRule, file: object = None) -> tuple[np.ndarray, list[str]]:
    """The lines a rank rule reaches and the enterprises it takes, largest first.

    Per city, the production lines the selector matches are summed by enterprise for the
    rule's pollutant (``pm``: PM10) [kg/h]; enterprises are taken in falling order of that sum
    (ties: ``enterprise_id`` in ascending text order) until the taken sum reaches ``share`` of
    the selected lines' sum (``share_of: selected``) or of every listed line of the city
    (``city``). Enterprises that emit none of the pollutant are never taken."""
    try:
        _check_rule_names(file, f"negotiated.rank[{rule.name}]", rule.industry, rule.process, inventory)
    except InputError as exc:
        raise InputError(exc.file, exc.where, exc.problem, exc.fix) from None
    lines = inventory.lines
    production = ~lines.derived.to_numpy(bool)
    hits = _match(lines, rule.industry, rule.process, rule.grade, rule.city, rule.flags, inventory.codes) & production
    j = POLLUTANTS.index(RATIO_COLUMN[rule.pollutant])
    rate = inventory.mean_rate_kg_h[:, j]
    city_codes, cities = inventory.codes("city")
    ent = lines.enterprise_id.astype(str).to_numpy(dtype=object)
    taken_lines = np.zeros(len(lines), dtype=bool)
    taken: list[str] = []
    for c in range(len(cities)):
        in_city = city_codes == c
        chosen = hits & in_city
        if not chosen.any():
            continue
        frame = pd.DataFrame({"enterprise_id": ent[chosen], "rate": rate[chosen]}).groupby("enterprise_id", sort=True)["rate"].sum()
        frame = frame[frame > 0]
        total = float(rate[chosen].sum() if rule.share_of == "selected" else rate[in_city & production].sum())
        # largest first; equal sums in ascending enterprise_id (a stable sort of the id-sorted sums)
        ordered = frame.iloc[np.argsort(-frame.to_numpy(), kind="stable")]
        before = np.concatenate([[0.0], np.cumsum(ordered.to_numpy())])[:len(ordered)]  # emitted by the larger ones [kg/h]
        keep = ordered.index[before < rule.share * total * (1 - 1e-12)]
        taken += list(keep)
        taken_lines |= chosen & np.isin(ent, np.array(keep, dtype=object))
    return taken_lines, taken


def negotiated_measures(inventory: Inventory, negotiated: NegotiatedCuts, policy_file: object = None) -> tuple[NegotiatedMeasures, tuple[str, ...]]:
    """The negotiated cuts of every line: the agreements, checked against the list (an
    unknown enterprise or line is an InputError naming the agreements file and row), and the
    rank rules' candidates. One vectorised step per agreement or rule."""
    lines = inventory.lines
    n, levels, p = len(lines), len(LEVELS), len(POLLUTANTS)
    production_line = ~lines.derived.to_numpy(bool)
    production = np.zeros((n, levels))
    pollutant = np.zeros((n, levels, p))
    label = np.full(n, "", dtype=object)
    text_ = np.full((n, levels), "", dtype=object)
    source = np.full(n, "", dtype=object)
    notes: list[str] = []
    ent_codes, ents = inventory.codes("enterprise_id")
    ent_index = {str(e): k for k, e in enumerate(ents)}
    line_ids = lines.line_id.astype(str).to_numpy(dtype=object)
    file = negotiated.file or policy_file or "policy"

    def add(mask: np.ndarray, terms: NegotiatedTerms, key: str) -> None:
        cut, per_pollutant, first = _terms_cut(terms)
        production[mask, first:] = np.maximum(production[mask, first:], cut)
        pollutant[mask, first:, :] = np.maximum(pollutant[mask, first:, :], per_pollutant)
        words = terms.words() or describe_negotiated(terms)
        for j in range(first, levels):
            text_[mask, j] = np.where(text_[mask, j] == "", words, text_[mask, j] + "；" + words)
        label[mask] = np.where(label[mask] == "", key, label[mask] + ";" + key)
        if terms.source:
            source[mask] = np.where(source[mask] == "", terms.source, source[mask] + "; " + terms.source)

    rows = negotiated.rows or tuple(f"key negotiated.agreements[{i}]" for i in range(len(negotiated.resolved_agreements)))
    for agreement, at in zip(negotiated.resolved_agreements, rows):
        column = f" ({agreement.enterprise_id}), column " if at.startswith("row") else "."
        k = ent_index.get(agreement.enterprise_id)
        if k is None:
            same_letters = [e for e in ent_index if e.strip().lower() == agreement.enterprise_id.strip().lower()]
            close = same_letters or difflib.get_close_matches(agreement.enterprise_id, list(ent_index), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(file, f"{at}{column}enterprise_id", f"enterprise '{agreement.enterprise_id}' is not in the enterprise list.",
                             f"give the enterprise_id of a listed enterprise{hint}, or remove the agreement.")
        mask = (ent_codes == k) & production_line
        if agreement.line_id is not None:
            mask &= line_ids == agreement.line_id
            if not mask.any():
                have = sorted({str(x) for x in line_ids[(ent_codes == k) & production_line]})
                raise InputError(file, f"{at}{column}line_id", f"enterprise '{agreement.enterprise_id}' has no line '{agreement.line_id}'.",
                                 f"use one of its lines ({', '.join(have)}), or leave line_id empty for every line of the enterprise.")
        add(mask, agreement, f"agreement {at.removeprefix('key ').removeprefix('policy.').removeprefix('negotiated.')}")
    for rule in negotiated.rank:
        mask, taken = rank_selection(inventory, rule, policy_file or "policy")
        if not taken:
            notes.append(text("note.rank_unmatched", "en", x=rule.name))
            continue
        notes.append(text("note.rank_selected", "en", x=rule.name, n=len(taken), ids=", ".join(taken[:8]) + (", ..." if len(taken) > 8 else "")))
        add(mask, rule, f"rank {rule.name}")
    return NegotiatedMeasures(production, pollutant, label, text_, source), tuple(notes)


def describe_negotiated(terms: NegotiatedTerms) -> str:
    """A negotiated cut in words when the agreement gives none, e.g. ``协商减排：NOx -30% (negotiated: NOx -30%)``."""
    parts = []
    if terms.production_cut:
        parts.append(("限产" + _percent(terms.production_cut), "production -" + _percent(terms.production_cut)))
    for key, name in (("so2", "SO2"), ("nox", "NOx"), ("pm", "PM"), ("voc", "VOCs")):
        cut = getattr(terms, f"{key}_cut")
        if cut and cut > (terms.production_cut or 0.0):
            parts.append((f"{name}减排{_percent(cut)}", f"{name} -{_percent(cut)}"))
    return _bilingual("measure.negotiated", {"x": "，".join(z for z, _ in parts)}, {"x": ", ".join(e for _, e in parts)})


@dataclass(frozen=True)
class CalendarWindow:
    """A staggered-production rule resolved to the simulation clock [h since start]."""

    label: str
    start_h: int
    end_h: int
    mask: np.ndarray
    reduction: float
    start: pd.Timestamp | None = None  # the rule's own dates (end exclusive), for the list's words
    end: pd.Timestamp | None = None


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
        mask = _match(lines, rule.industry, rule.process, rule.grade, rule.city, None, inventory.codes)
        mask &= ~lines.derived.to_numpy(bool)
        mask &= ~_in(inventory.codes("grade"), rule.exempt_grades)
        for flag in rule.exempt_flags:
            mask &= ~lines[flag].to_numpy(bool)
        s = int(np.ceil((pd.Timestamp(rule.start) - start) / pd.Timedelta(hours=1)))
        e = int(np.ceil((pd.Timestamp(rule.end) - start) / pd.Timedelta(hours=1)))
        s, e = max(s, 0), min(e, hours)
        if e <= s:
            notes.append(text("note.calendar_outside", "en", x=rule.label))
            continue
        if not mask.any():
            notes.append(text("note.calendar_unmatched", "en", x=rule.label))
        windows.append(CalendarWindow(rule.label, s, e, mask, rule.reduction, pd.Timestamp(rule.start), pd.Timestamp(rule.end)))
    return windows, tuple(notes)


def _dates(start: pd.Timestamp | None, end: pd.Timestamp | None, lang: str) -> str:
    """A calendar's dates, end inclusive: ``12-01–03-15`` (zh), ``1 Dec–15 Mar`` (en); times
    only where a bound is not midnight."""
    if start is None or end is None:
        return ""
    whole = start == start.normalize() and end == end.normalize()
    last = end - pd.Timedelta(days=1) if whole else end

    def one(t: pd.Timestamp) -> str:
        day = f"{t:%m-%d}" if lang == "zh" else f"{t.day} {t:%b}"
        return day if whole else f"{day} {t:%H:%M}"

    return one(start) if whole and last == start else f"{one(start)}–{one(last)}"


def _calendar_words(window: CalendarWindow, label: bool) -> str:
    """A calendar in words, "中文 (English)": its cut and dates, with ``label`` the calendar's
    label too (in the brackets: it may be an internal name such as ``cement:clinker_kiln``)."""
    cut = {lang: text("calendar.stopped", lang) if window.reduction >= 1.0 else text("measure.cut", lang, pct=_percent(window.reduction)) for lang in ("zh", "en")}
    return _bilingual("calendar.measure", {"cut": cut["zh"], "dates": _dates(window.start, window.end, "zh")},
                      {"cut": cut["en"], "dates": _dates(window.start, window.end, "en")},
                      "; " + text("calendar.label", "en", x=window.label) if label else "")


@dataclass(frozen=True)
class CalendarCover:
    """Which staggered-production calendars cover each line during the run.

    ``label``: the calendars' labels joined by ``;`` (empty where none); ``reduction`` [-]: the
    largest calendar cut; ``words``: the calendars in words, "中文 (English)"; ``measure_suffix``
    (lines, levels): what the measure text of that level must add, empty where the designed
    cut is at least the calendar's (the stricter holds, see :mod:`sim.engine.simulation`).
    """

    label: np.ndarray
    reduction: np.ndarray
    words: np.ndarray
    measure_suffix: np.ndarray


def calendar_cover(windows: list[CalendarWindow] | tuple[CalendarWindow, ...], reduction: np.ndarray) -> CalendarCover:
    """The calendars of ``windows`` per line, against the designed cuts ``reduction`` [-]
    (lines, levels): a line a calendar stops must not read as running at a level whose
    designed measure cuts less. One vectorised step per calendar."""
    n, levels = reduction.shape
    label = np.full(n, "", dtype=object)
    words = np.full(n, "", dtype=object)
    suffix = np.full((n, levels), "", dtype=object)
    cut = np.zeros(n)
    for w in windows:
        first = label == ""
        label[w.mask] = np.where(first[w.mask], w.label, label[w.mask] + ";" + w.label)
        said = _calendar_words(w, label=True)
        words[w.mask] = np.where(first[w.mask], said, words[w.mask] + text("calendar.sep", "zh") + said)
        cut[w.mask] = np.maximum(cut[w.mask], w.reduction)
        weaker = w.mask[:, None] & (reduction < w.reduction)
        suffix[weaker] = suffix[weaker] + text("calendar.sep", "zh") + _calendar_words(w, label=False)
    return CalendarCover(label, cut, words, suffix)
