"""Scenario variants without editing YAML: change one lever, run, compare.

Every function takes a :class:`~sim.config.scenario.Scenario` and returns a new, validated one (the
input is never changed), so calls chain::

    from sim import load_scenario, run, compare, with_exempt_grades, with_grade_upgrades
    base = load_scenario("scenarios/demo_city_orange.yaml")
    upgraded = with_grade_upgrades(base, {"D": "C", "C": "B"}, share={"D": 1.0, "C": 0.2}, seed=1)
    table = compare([base, upgraded], names=["default", "upgrade programme"])

Policy levers (:func:`with_exempt_grades`, :func:`with_rule`, :func:`without_rules`) edit the
scenario's policy in memory. List levers (:func:`with_grade_upgrades`, :func:`with_whitelist`)
change the enterprise list, which the simulator reads from a file: they write an edited copy
of the list into a cache folder, in a sub-folder named by a hash of the source list's bytes and
of the edit, keeping the source file's name, and point ``inventory.enterprises`` at it. The
copy differs from its source only in the edited cells, so a run of the variant is identical to
a run of the same variant written as YAML with that CSV beside it, down to
``metrics["scenario_sha256"]`` (the hash reads the list's file name and bytes, never its
folder). The cache folder is ``$SIM_CACHE_DIR/lists`` or, without that variable,
``<temp dir>/pollution-emergency-sim/lists``; it may be deleted at any time between runs.

Random choices (which enterprises are upgraded or white-listed) use
``numpy.random.default_rng(seed)`` over the sorted enterprise ids: the same seed gives the same
enterprises, and a larger share with the same seed keeps the enterprises of a smaller one.

The examples run from the repository root on the bundled demo data:

>>> from sim import load_scenario
>>> base = load_scenario("scenarios/demo_city_orange.yaml")
>>> strict = with_rule(base, {"name": "grade_D_stop", "grade": ["D"], "reduction": {"yellow": "stop", "orange": "stop", "red": "stop"}})
>>> [r.name for r in strict.resolved_policy.rules][:2]
['grade_D_stop', 'whitelist_low_voc']
>>> [r.name for r in base.resolved_policy.rules][:1]    # the input is unchanged
['whitelist_low_voc']
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.inventory import _read_workbook, _uncached_formulas, industry_names, load_emission_factors
from sim.config.scenario import (
    AtmosphereConfig,
    CalendarRule,
    EnsembleConfig,
    Exemptions,
    Agreement,
    InventoryConfig,
    NegotiatedCuts,
    Policy,
    RankRule,
    Rule,
    Scenario,
    WarningsConfig,
)
from sim.config.vocabulary import header_key, vocabulary

__all__ = [
    "cache_dir",
    "compare",
    "with_exempt_grades",
    "with_grade_upgrades",
    "with_members",
    "with_negotiated",
    "with_rule",
    "with_staggered_days",
    "with_warnings",
    "with_whitelist",
    "without_rules",
]


# --------------------------------------------------------------------------- policy levers


def _policy(scenario: Scenario) -> Policy:
    return scenario.resolved_policy


def _replace_policy(scenario: Scenario, **changes: Any) -> Scenario:
    """A copy of the scenario whose policy has ``changes``, validated again (unique rule
    names ...); the policy keeps the file it was read from, for messages."""
    policy = _policy(scenario)
    data = {name: getattr(policy, name) for name in type(policy).model_fields}
    data.update(changes)
    return scenario.replace(policy=type(policy).model_validate(data))


def with_exempt_grades(scenario: Scenario, grades: Iterable[str], flags: Iterable[str] | None = None) -> Scenario:
    """The scenario with these performance grades (and flags) exempt from emergency measures.

    ``grades`` replaces the policy's ``exempt.grades`` (spellings such as ``A级`` or ``引领性``
    are accepted; ``[]`` exempts no grade). ``flags`` replaces ``exempt.flags`` (e.g.
    ``["ultra_low"]``); ``None`` keeps the policy's flags. Exempt lines take self-directed
    reductions (自主减排): no mandatory cut [-] at any level.

    A rule can never apply to an exempt grade, so the rules are made to agree: a newly exempt
    grade is removed from every reduction rule that names it, a rule left without grades is
    dropped, and so is a reduction rule that requires a newly exempt flag. Rules with
    ``exempt: true`` (such as the white list) stay; remove them with :func:`without_rules`.
    Staggered-production calendars keep their own ``exempt_grades``.

    >>> from sim import load_scenario
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> a_and_b = with_exempt_grades(base, ["A+", "A", "leading", "B", "B-"])
    >>> a_and_b.resolved_policy.exempt.grades, a_and_b.resolved_policy.exempt.flags
    (['A+', 'A', 'leading', 'B', 'B-'], ['ultra_low'])
    >>> "cement_clinker_B" in [r.name for r in a_and_b.resolved_policy.rules]   # B now exempt
    False
    >>> with_exempt_grades(base, [], flags=[]).resolved_policy.exempt
    Exemptions(grades=[], flags=[])
    """
    policy = _policy(scenario)
    exempt = Exemptions.model_validate({"grades": list(grades), "flags": list(policy.exempt.flags if flags is None else flags)})
    rules = []
    for rule in policy.rules:
        if not rule.exempt:
            if any(f in exempt.flags for f in rule.flags):
                continue
            if rule.grade is not None:
                kept = [g for g in rule.grade if g not in exempt.grades]
                if not kept:
                    continue
                if kept != rule.grade:
                    rule = Rule.model_validate({**_fields(rule), "grade": kept})
        rules.append(rule)
    return _replace_policy(scenario, exempt=exempt, rules=rules)


def _fields(model: Any) -> dict[str, Any]:
    return {name: getattr(model, name) for name in type(model).model_fields}


def with_rule(scenario: Scenario, rule: Rule | Mapping[str, Any], position: int = 0) -> Scenario:
    """The scenario with ``rule`` inserted into the policy's ordered rules at ``position``
    (0 = tried first; negative positions count from the end, as :meth:`list.insert`).

    ``rule`` is a :class:`~sim.config.scenario.Rule` or a mapping with the keys of a rule in a policy
    file: ``name`` (unique), conditions ``industry`` / ``process`` / ``grade`` / ``city`` /
    ``flags``, and either ``reduction`` {yellow, orange, red} as production cuts [-] (``stop``
    = 1.0) or ``exempt: true``. The first rule whose conditions all match a line applies.

    Stricter D, stop from yellow, ahead of every other rule:

    >>> from sim import load_scenario
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> strict = with_rule(base, {"name": "grade_D_stop", "grade": ["D"],
    ...                           "reduction": {"yellow": "stop", "orange": "stop", "red": "stop"}})
    >>> strict.resolved_policy.rules[0].reduction
    MonotoneReductions(yellow=1.0, orange=1.0, red=1.0)
    """
    rule = rule if isinstance(rule, Rule) else Rule.model_validate(dict(rule))
    rules = list(_policy(scenario).rules)
    rules.insert(position, rule)
    return _replace_policy(scenario, rules=rules)


def without_rules(scenario: Scenario, *names: str) -> Scenario:
    """The scenario with the named policy rules removed (a ``KeyError`` names any rule the
    policy does not have). Lines they matched fall to later rules or to ``base_ratio``.

    >>> from sim import load_scenario
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> len(base.resolved_policy.rules) - len(without_rules(base, "whitelist_low_voc").resolved_policy.rules)
    1
    """
    rules = _policy(scenario).rules
    unknown = [n for n in names if n not in {r.name for r in rules}]
    if unknown:
        raise KeyError(f"the policy has no rule named {unknown[0]!r} (rules: {', '.join(r.name for r in rules)})")
    return _replace_policy(scenario, rules=[r for r in rules if r.name not in names])


def with_negotiated(
    scenario: Scenario,
    *,
    top_share: float | None = None,
    industries: Iterable[str] | None = None,
    pollutant: str = "nox",
    share_of: str = "selected",
    agreements: Iterable[Agreement | Mapping[str, Any]] = (),
    name: str | None = None,
    **terms: Any,
) -> Scenario:
    """The scenario with negotiated deep cuts (协商减排) with its largest emitters added to the
    policy's own (agreements and rank rules it already has stay).

    ``top_share`` with ``industries``: a rank rule taking, in each city, the largest emitters of
    ``pollutant`` (``so2``, ``nox``, ``pm``, ``voc``) among those industries until they cover
    ``top_share`` of the industries' listed emissions (``share_of="city"``: of the city's whole
    list); ties are taken in ascending ``enterprise_id``. ``agreements``: named agreements
    (mappings with the columns of an agreements file). ``terms``: what the rank rule asks,
    as in a policy file: ``from_level`` (orange by default), ``production_cut``, ``so2_cut``,
    ``nox_cut``, ``pm_cut``, ``voc_cut`` [-], ``measure_zh``, ``measure_en``, ``source``.
    Negotiated cuts apply to exempt lines too, and where a grade measure also applies the
    deeper cut of each pollutant holds.

    >>> from sim import load_scenario
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> top = with_negotiated(base, top_share=0.6, industries=["power_coal", "steel", "cement"], nox_cut=0.3)
    >>> rule = top.resolved_policy.negotiated.rank[0]
    >>> rule.name, rule.pollutant, rule.share, rule.from_level, rule.nox_cut
    ('top_nox_60pct', 'nox', 0.6, 'orange', 0.3)
    """
    current = _policy(scenario).negotiated or NegotiatedCuts()
    rank = list(current.rank)
    if top_share is not None:
        if industries is None:
            raise TypeError("with_negotiated(top_share=...) needs industries=[...] (the industries to rank, e.g. power_coal, steel, cement)")
        rule = {"name": name or f"top_{pollutant}_{round(top_share * 100):d}pct", "industry": list(industries), "pollutant": pollutant,
                "share": top_share, "share_of": share_of, **terms}
        rank.append(RankRule.model_validate(rule))
    elif terms:
        raise TypeError(f"with_negotiated: {', '.join(terms)} describe a rank rule; give top_share and industries too")
    added = [a if isinstance(a, Agreement) else Agreement.model_validate(dict(a)) for a in agreements]
    named = current.resolved_agreements + added
    rows = tuple(current.rows) + tuple(f"key negotiated.agreements[{i}]" for i in range(len(current.resolved_agreements), len(named)))
    negotiated = current.model_copy(update={"agreements": named, "rank": rank, "rows": rows})
    return _replace_policy(scenario, negotiated=NegotiatedCuts.model_validate(_fields(negotiated)).model_copy(update={"file": current.file, "rows": rows}))


# --------------------------------------------------------------------------- scenario levers


def with_staggered_days(
    scenario: Scenario,
    industry: str,
    process: str | None,
    days: int,
    start: str | dt.date | dt.datetime | None = None,
    exempt_grades: Iterable[str] | None = None,
    *,
    reduction: float | str = 1.0,
    grade: Iterable[str] | None = None,
    exempt_flags: Iterable[str] | None = None,
    name: str | None = None,
    source: str | None = None,
    replace: bool = True,
) -> Scenario:
    """The scenario with a staggered-production (错峰生产) calendar of ``days`` whole days for
    ``industry`` (and ``process``; ``None`` = every process of the industry).

    The window runs from ``start`` (default: the period start) for ``days`` × 24 h; within it
    the matching lines cut production by ``reduction`` [-] (``1.0`` or ``"stop"`` = off;
    ``0.5`` = a 50 % cap). ``grade`` limits the rule to these grades. ``exempt_grades`` and
    ``exempt_flags`` do not stagger; by default they are the policy's exempt grades and flags
    (001 八(二十九): enterprises exempt from emergency stops, at ultra-low emission or benchmark
    level, are also exempt from staggered production).

    With ``replace`` (the default) every calendar rule of the scenario for exactly this
    industry and process is removed first, so ``days=0`` leaves the industry without a calendar.
    Where a warning and a calendar both cut a line, the stricter holds.

    >>> from sim import load_scenario
    >>> season = load_scenario("scenarios/demo_city_season.yaml")
    >>> jiangsu = with_staggered_days(season, "cement", "clinker_kiln", 70, start="2023-12-01")
    >>> rule = jiangsu.staggered_production[-1]
    >>> rule.name, str(rule.start.date()), str(rule.end.date()), rule.reduction, rule.exempt_grades
    ('cement_clinker_kiln_70d', '2023-12-01', '2024-02-09', 1.0, ['A+', 'A', 'leading'])
    >>> len(season.staggered_production), len(with_staggered_days(season, "cement", "clinker_kiln", 0).staggered_production)
    (3, 2)
    """
    if days < 0 or int(days) != days:
        raise ValueError(f"days must be a whole number >= 0, not {days!r}")
    processes = None if process is None else [process]
    rules = list(scenario.staggered_production)
    if replace:
        rules = [r for r in rules if not (r.industry == [industry] and r.process == processes)]
    if days:
        policy = _policy(scenario)
        begin = pd.Timestamp(scenario.period.start if start is None else start)
        rule = CalendarRule.model_validate({
            "name": name or f"{industry}_{process or 'all'}_{int(days)}d",
            "industry": [industry],
            "process": processes,
            "grade": None if grade is None else list(grade),
            "start": begin.to_pydatetime(),
            "end": (begin + pd.Timedelta(days=int(days))).to_pydatetime(),
            "reduction": reduction,
            "exempt_grades": list(policy.exempt.grades if exempt_grades is None else exempt_grades),
            "exempt_flags": list(policy.exempt.flags if exempt_flags is None else exempt_flags),
            "source": source,
        })
        rules.append(rule)
    return scenario.replace(staggered_production=rules)


def with_members(scenario: Scenario, n: int, seed: int | None = None) -> Scenario:
    """The scenario run as an ensemble of ``n`` Monte Carlo members (forecast errors,
    compliance draws, inspections), with ``seed`` (``None`` keeps the scenario's seed).

    >>> from sim import load_scenario
    >>> with_members(load_scenario("scenarios/demo_city_forecast.yaml"), 40).ensemble
    EnsembleConfig(members=40, seed=42)
    """
    seed = scenario.ensemble.seed if seed is None else seed
    # numpy integers count as whole numbers here (the strict model takes Python ints only);
    # anything else, a bool included, goes to the model and fails there
    whole = lambda v: int(v) if isinstance(v, np.integer) else v  # noqa: E731
    return scenario.replace(ensemble=EnsembleConfig.model_validate({"members": whole(n), "seed": whole(seed)}))


def with_warnings(scenario: Scenario, **changes: Any) -> Scenario:
    """The scenario with keys of its ``warnings`` block replaced, e.g. ``lead_hours`` [h],
    ``issue_hour``, ``standard`` (``mee_2017`` / ``mee_2019`` / ``mee_2024``) or ``schedule``
    (a list of {level, start, end} mappings), validated as in a scenario file.

    >>> from sim import load_scenario
    >>> forecast = load_scenario("scenarios/demo_city_forecast.yaml")
    >>> with_warnings(forecast, lead_hours=48).warnings.lead_hours
    48
    """
    data = _fields(scenario.warnings)
    data.update(changes)
    return scenario.replace(warnings=WarningsConfig.model_validate(data))


def with_atmosphere(scenario: Scenario, **changes: Any) -> Scenario:
    """The scenario with keys of its ``atmosphere`` block replaced, e.g. ``draw_parameters``
    (members draw the model's uncertain parameters), ``local_share``, ``parameters`` (overrides
    of the parameter file) or ``model``, validated as in a scenario file. Paths stay as they
    were resolved when the scenario was loaded.

    >>> from sim import load_scenario
    >>> forecast = load_scenario("scenarios/demo_city_forecast.yaml")
    >>> with_atmosphere(forecast, draw_parameters=True).atmosphere.draw_parameters
    True
    """
    if scenario.atmosphere is None:
        raise InputError(scenario.source_file, "key atmosphere", "the scenario has no atmosphere block to change.",
                         "add an atmosphere block (model, meteorology) to the scenario file first.")
    data = _fields(scenario.atmosphere)
    data.update(changes)
    return scenario.replace(atmosphere=AtmosphereConfig.model_validate(data))


# --------------------------------------------------------------------------- list levers


def cache_dir() -> Path:
    """Folder of the edited enterprise lists (``$SIM_CACHE_DIR/lists``, else
    ``<temp dir>/pollution-emergency-sim/lists``)."""
    root = os.environ.get("SIM_CACHE_DIR")
    return (Path(root) if root else Path(tempfile.gettempdir()) / "pollution-emergency-sim") / "lists"


class _Table:
    """An enterprise list as text cells, written back unchanged except for edited cells."""

    def __init__(self, path: Path, sheet: str | None, header_row: int | None = None):
        self.path = path
        self.header = (header_row or 1) - 1  # title rows above it are written back as they are
        suffix = path.suffix.lower()
        if suffix in {".xlsx", ".xlsm"}:
            # the list reader's workbook reading: error cells keep their text (#DIV/0!) and a
            # formula without a stored result is an error, not an empty cell in the copy
            self.rows, chosen = _read_workbook(path, sheet)
            if len(self.rows) > self.header:
                named = {j: h for j, h in enumerate(self.rows[self.header]) if h.strip()}
                _uncached_formulas(path, chosen, self.rows, self.header + 1, named)
            self.encoding, self.bom, self.newline, self.name = "utf-8", False, "\n", path.with_suffix(".csv").name
        else:
            raw = path.read_bytes()
            self.bom = raw.startswith(b"\xef\xbb\xbf")
            try:
                text = raw.decode("utf-8-sig")
                self.encoding = "utf-8"
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
                self.encoding = "gb18030"
            first = text.split("\n", 1)[0]
            self.newline = "\r\n" if first.endswith("\r") else "\n"
            self.rows = list(csv.reader(io.StringIO(text, newline="")))
            self.name = path.name
        if len(self.rows) <= self.header:
            raise InputError(path, None, "the enterprise list is empty.", "add the header and at least one production line.")
        aliases = vocabulary().column_aliases
        self.columns = {aliases.get(header_key(c)): i for i, c in enumerate(self.rows[self.header]) if aliases.get(header_key(c))}
        for needed in ("enterprise_id", "grade", "industry"):
            if needed not in self.columns:
                raise InputError(path, "header", f"the enterprise list has no {needed} column.", f"add a {needed} column (or its Chinese alias).")

    def column(self, name: str) -> list[str]:
        i = self.columns[name]
        return [row[i].strip() if i < len(row) else "" for row in self.rows[self.header + 1:]]

    def data_rows(self) -> range:
        """Positions of the rows below the header (as in :meth:`column` and :meth:`set`)."""
        return range(len(self.rows) - self.header - 1)

    def set(self, row: int, name: str, value: str) -> None:
        if name not in self.columns:
            self.columns[name] = len(self.rows[self.header])
            self.rows[self.header].append(name)
            for r in self.rows[self.header + 1:]:
                r.append("0" if any(c.strip() for c in r) else "")
        i = self.columns[name]
        line = self.rows[row + self.header + 1]
        line.extend([""] * (i + 1 - len(line)))
        line[i] = value

    def to_bytes(self) -> bytes:
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator=self.newline).writerows(self.rows)
        return (b"\xef\xbb\xbf" if self.bom else b"") + out.getvalue().encode(self.encoding)


def _edited_list(scenario: Scenario, edit: dict[str, Any], apply: Callable[[_Table], None]) -> Scenario:
    """Write ``apply`` (an edit of the list's cells) into the cache and point the scenario at it."""
    source = Path(scenario.inventory.enterprises)
    sheet = scenario.inventory.sheet
    key = hashlib.sha256()
    key.update(source.read_bytes())
    header_row = scenario.inventory.header_row
    key.update(json.dumps({"sheet": sheet, **({"header_row": header_row} if header_row else {}), **edit}, sort_keys=True, ensure_ascii=False).encode())
    table = _Table(source, sheet, header_row)
    target = cache_dir() / key.hexdigest()[:24] / table.name
    if not target.is_file():
        apply(table)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".csv")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(table.to_bytes())
            os.replace(tmp, target)  # atomic: a parallel run sees the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    inventory = InventoryConfig.model_validate({**_fields(scenario.inventory), "enterprises": target, "sheet": None})
    return scenario.replace(inventory=inventory)


def _pick(rng: np.random.Generator, ids: Sequence[str], share: float) -> list[str]:
    """``share`` of the sorted ``ids`` (rounded half up), drawn by a permutation from ``rng``."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must lie between 0 and 1, not {share!r}")
    ids = sorted(ids)
    k = math.floor(share * len(ids) + 0.5)
    order = rng.permutation(len(ids))
    return sorted(ids[i] for i in order[:k])


def _grade(value: str) -> str:
    grade = vocabulary().canonical_grade(value)
    if grade is None:
        raise ValueError(f"{value!r} is not a performance grade; use one of {', '.join(vocabulary().grades)}")
    return grade


def with_grade_upgrades(
    scenario: Scenario,
    upgrades: Mapping[str, str],
    share: float | Mapping[str, float] = 1.0,
    seed: int = 0,
) -> Scenario:
    """The scenario with enterprises of the list moved to another performance grade, as an
    upgrade programme (绩效升级) would: ``{"D": "C", "C": "B"}`` raises D to C and C to B.

    ``share`` [-] is the fraction of the enterprises of each source grade that are moved, one
    number for all or one per source grade (``{"D": 1.0, "C": 0.2}``: every D, a fifth of the
    C), rounded half up to whole enterprises. Shares are taken of the grades as the list has
    them, so an enterprise moves at most once (a D raised to C is not also raised to B). Which
    enterprises move is drawn with ``numpy.random.default_rng(seed)``: for each source grade,
    in the vocabulary's grade order, a permutation of its sorted enterprise ids. Every line of
    a chosen enterprise that has the source grade changes; the grade is written in its
    canonical spelling. See the module text for where the edited list is written.

    002 七(三) aims to eliminate grade D; 003 三(四)1 to grow the exempt enterprises:

    >>> from sim import load_scenario, run
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> programme = with_grade_upgrades(base, {"D": "C", "C": "B"}, share={"D": 1.0, "C": 0.2}, seed=1)
    >>> programme.inventory.enterprises.name
    'demo_city.csv'
    >>> grades = run(programme).measures.groupby("grade").enterprise_id.nunique()
    >>> grades.reindex(["B", "C", "D"], fill_value=0).tolist()
    [300, 569, 0]
    """
    moves = {_grade(src): _grade(dst) for src, dst in upgrades.items()}
    if len(moves) != len(upgrades):
        raise ValueError("two spellings of the same source grade in 'upgrades'")
    if isinstance(share, Mapping):
        shares = {_grade(g): float(v) for g, v in share.items()}
        missing = [g for g in moves if g not in shares]
        extra = [g for g in shares if g not in moves]
        if missing or extra:
            raise ValueError(f"'share' must give one value per source grade of 'upgrades' ({', '.join(moves)}); "
                             + (f"missing: {', '.join(missing)}" if missing else f"not upgraded: {', '.join(extra)}"))
    else:
        shares = {g: float(share) for g in moves}
    order = [g for g in vocabulary().grades if g in moves]
    edit = {"edit": "grade_upgrades", "upgrades": {g: moves[g] for g in order}, "share": {g: shares[g] for g in order}, "seed": int(seed)}

    def apply(table: _Table) -> None:
        ids = table.column("enterprise_id")
        grades = [vocabulary().canonical_grade(g) for g in table.column("grade")]
        rng = np.random.default_rng(seed)
        chosen = {}
        for src in order:
            candidates = sorted({i for i, g in zip(ids, grades) if g == src and i})
            chosen[src] = set(_pick(rng, candidates, shares[src]))
        for row in table.data_rows():
            src = grades[row]
            if src in chosen and ids[row] in chosen[src]:
                table.set(row, "grade", moves[src])

    return _edited_list(scenario, edit, apply)


def _whitelist_industries(scenario: Scenario) -> list[str]:
    """Industries in which the policy exempts white-listed lines (its ``exempt: true`` rules
    that require the ``whitelist`` flag), else every VOC industry of the emission factors."""
    named = sorted({i for r in _policy(scenario).rules if r.exempt and "whitelist" in r.flags for i in (r.industry or [])})
    if named:
        return named
    table = pd.read_csv(Path(scenario.inventory.emission_factors) / "industries.csv", dtype=str, keep_default_na=False)
    return sorted(set(table.loc[pd.to_numeric(table.voc_industry, errors="coerce") > 0, "industry"].str.strip()))


def with_whitelist(
    scenario: Scenario,
    share: float | None = None,
    *,
    enterprises: Iterable[str] | None = None,
    industries: Iterable[str] | None = None,
    seed: int = 0,
) -> Scenario:
    """The scenario with a wider 白名单 (002 六(一)): more enterprises flagged ``whitelist``,
    i.e. counted as fully switched to low-VOCs materials, so that the policy's white-list rule
    lets them self-reduce during warnings.

    ``share`` [-]: the fraction of the enterprises of ``industries`` that are not yet on the
    white list to add, rounded half up, drawn with ``numpy.random.default_rng(seed)`` over their
    sorted ids. ``enterprises``: ids to add as well (or instead). ``industries`` defaults to
    those in which the policy exempts white-listed lines (in the guideline-default policy:
    coating, printing, furniture, shoes, synthetic leather, wood panels, coating and ink
    manufacture, rubber), else to the VOC industries of ``emission_factors/industries.csv``.
    Every line of a chosen enterprise is flagged. See the module text for where the edited
    list is written.

    >>> from sim import load_scenario, run
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> wider = with_whitelist(base, share=0.5, seed=1)
    >>> [run(s).measures.query("whitelist == 1").enterprise_id.nunique() for s in (base, wider)]
    [74, 442]
    """
    if share is None and enterprises is None:
        raise ValueError("give 'share' (a fraction of the eligible enterprises), 'enterprises' (ids), or both")
    wanted = sorted(set(enterprises or ()))
    sectors = sorted(set(industries)) if industries is not None else _whitelist_industries(scenario)
    edit = {"edit": "whitelist", "share": None if share is None else float(share), "enterprises": wanted, "industries": sectors, "seed": int(seed)}

    def apply(table: _Table) -> None:
        ids = table.column("enterprise_id")
        known = set(ids)
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise ValueError(f"enterprise {unknown[0]!r} is not in the list {table.path}")
        flags = table.column("whitelist") if "whitelist" in table.columns else [""] * len(ids)
        truth = vocabulary().flag_true
        on = [f.strip().lower() in truth for f in flags]
        names = industry_names(load_emission_factors(scenario.inventory.emission_factors))
        inds = [names.get(header_key(i), i) for i in table.column("industry")]  # 水泥 in the list is cement
        listed = {i for i, f in zip(ids, on) if f}
        eligible = sorted({i for i, ind in zip(ids, inds) if i and ind in sectors} - listed)
        chosen = set(wanted)
        if share is not None:
            chosen |= set(_pick(np.random.default_rng(seed), eligible, share))
        for row in table.data_rows():
            if ids[row] in chosen and not on[row]:
                table.set(row, "whitelist", "1")

    return _edited_list(scenario, edit, apply)


# --------------------------------------------------------------------------- comparison


def compare(items: Sequence[Any] | Mapping[str, Any], names: Sequence[str] | None = None) -> pd.DataFrame:
    """One tidy row of key figures per scenario (:func:`sim.report.compare_frame`): list and
    society ratios [-] per level and pollutant with their targets, PM2.5 figures [μg/m³],
    heavy-pollution days [d], production loss [万元], enterprise-days, seed and hash.

    ``items`` are :class:`~sim.api.Result` objects or scenarios (run here, in order), as a
    list or as a mapping {name: item}. ``names`` (or the mapping's keys) replace the
    ``scenario`` column, which the comparison charts use as labels.

    >>> from sim import load_scenario
    >>> base = load_scenario("scenarios/demo_city_orange.yaml")
    >>> table = compare({"default": base, "no exemptions": with_exempt_grades(base, [], flags=[])})
    >>> table[["scenario", "list_ratio_orange_nox", "production_loss_wan_yuan"]].round(3)
            scenario  list_ratio_orange_nox  production_loss_wan_yuan
    0        default                  0.195                 67059.605
    1  no exemptions                  0.340                 89461.668
    """
    from sim.api import Result, run
    from sim.report.compare import compare_frame

    if isinstance(items, Mapping):
        if names is not None:
            raise ValueError("give names either as the mapping's keys or as 'names', not both")
        names, items = list(items.keys()), list(items.values())
    items = list(items)
    if names is not None and len(names) != len(items):
        raise ValueError(f"{len(names)} names for {len(items)} scenarios")
    results = [item if isinstance(item, Result) else run(item) for item in items]
    frame = compare_frame(results)
    if names is not None:
        frame["scenario"] = [str(n) for n in names]
    return frame
