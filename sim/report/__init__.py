"""Reporting: charts, the HTML report, the Excel reduction list and scenario comparisons.

Everything here reads a finished :class:`sim.api.Result` (or the DataFrames and metrics it
holds); nothing here runs the simulation. Text in charts, HTML and Excel comes from the one
bilingual dictionary :data:`sim.config.labels.LABELS` (``lang`` is ``"en"`` or ``"zh"``).

Public functions (imported on first use, so ``import sim.report`` stays light)::

    write_report(result, folder, lang="en") -> Path          report.html + charts/*.png
    render_report_html(result, charts, lang="en") -> str
    save_charts(result, folder, lang="en") -> dict[str, Path]
    write_measures_xlsx(result, path) -> Path                 measures.xlsx (应急减排清单)
    compare_frame(results) -> DataFrame
    write_comparison(results, out_dir, lang="en") -> Path     comparison.csv + comparison.html
    find_cjk_font() -> str | None
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any

from sim.config.labels import LABELS, LANGS, check_lang, grade_name, match_note, match_note_fields, text  # noqa: F401 - re-exported
# defined once in sim/data/vocabulary.yaml; re-exported for the report modules and callers
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN, RATIO_POLLUTANTS  # noqa: F401 - re-exported

#: Warning colours (shading of warning periods, level badges).
LEVEL_COLOURS = {"yellow": "#FFD700", "orange": "#FF8C00", "red": "#DC143C"}
#: Darker companions of the warning colours, for lines and text on white.
LEVEL_DARK = {"yellow": "#B8960C", "orange": "#C25E00", "red": "#8B0A1E"}

#: Chemical formulas: matplotlib mathtext (charts), HTML and plain text (CSV, Excel).
FORMULA = {
    "so2": ("SO$_2$", "SO<sub>2</sub>", "SO2"),
    "nox": ("NO$_\\mathrm{x}$", "NO<sub>x</sub>", "NOx"),
    "pm": ("PM$_{10}$", "PM<sub>10</sub>", "PM10"),
    "pm10": ("PM$_{10}$", "PM<sub>10</sub>", "PM10"),
    "pm25": ("PM$_{2.5}$", "PM<sub>2.5</sub>", "PM2.5"),
    "voc": ("VOCs", "VOCs", "VOCs"),
    "nh3": ("NH$_3$", "NH<sub>3</sub>", "NH3"),
}

_WARNING_CHANGE = re.compile(r"^(issued|upgraded|downgraded): (.*)$")
_WARNING_RULE = re.compile(r"^(\S+) (yellow|orange|red): (.*)$")
_WARNING_LIFT = re.compile(r"^lifted: forecast at or below AQI (\S+) for (\d+) h$")
_AQI_CONDITION = re.compile(r"AQI (>=|>) (\S+) for (\d+) day\(s\)")


def warning_reason(reason: str, lang: str = "en") -> str:
    """A warning's reason in ``lang``. The simulator records it in English (warnings.csv keeps
    that, e.g. ``issued: mee_2019 orange: AQI > 200 for 3 day(s)``); in Chinese every known
    part is translated, an unknown part is kept as written."""
    if check_lang(lang) == "en" or not reason:
        return reason

    def condition(words: str) -> str:
        words = _AQI_CONDITION.sub(lambda m: text("reason.warning.condition", "zh", op="≥" if m[1] == ">=" else ">", aqi=m[2], days=m[3]), words)
        return words.replace(" or ", text("reason.warning.or", "zh")).replace(" and ", text("reason.warning.and", "zh")).replace("(", "（").replace(")", "）")

    def rule(words: str) -> str:
        m = _WARNING_RULE.match(words)
        if not m:
            return words
        key = f"standard.{m[1]}"
        standard = text(key, "zh") if key in LABELS else text("standard.other", "zh", x=m[1])
        return text("reason.warning.rule", "zh", standard=standard, level=text(f"level.{m[2]}", "zh"), condition=condition(m[3]))

    def part(words: str) -> str:
        for key in ("reason.warning.scheduled", "reason.warning.regional"):
            if words == LABELS[key][0]:
                return text(key, "zh")
        if m := _WARNING_CHANGE.match(words):
            return text(f"reason.warning.{m[1]}", "zh", x=rule(m[2]))
        if m := _WARNING_LIFT.match(words):
            return text("reason.warning.lifted", "zh", aqi=m[1], hours=m[2])
        return words

    return text("reason.warning.sep", "zh").join(part(w) for w in reason.split("; "))


def note_text(note: str, lang: str = "en") -> str:
    """A run's note in ``lang``: the notes written from note labels (rules, the PM2.5 model's
    fit, missing evaluation inputs) are translated, others kept as written."""
    if check_lang(lang) == "en":
        return note
    matched = match_note_fields(note)
    if matched is None:
        return note
    key, fields, city = matched
    return (f"{city}：" if city else "") + text(key, "zh", **fields)


def negotiated_verdict(metrics: Mapping[str, Any], lang: str = "en", levels: tuple[str, ...] = ("orange", "red")) -> list[str]:
    """What negotiated cuts (协商减排) achieve, in sentences: how many lines and enterprises
    they reach, and at ``levels`` whether the list targets are met with them or which ratios
    still fall short (with the figure without them). Empty without negotiated cuts."""
    neg = metrics.get("negotiated")
    if not neg:
        return []
    out = [text("negotiated.summary", lang, agreements=neg["agreements"], rank=len(neg["rank_rules"]), lines=neg["lines"],
                 enterprises=neg["enterprises"], exempt=neg["exempt_lines"])]
    sep = text("report.list_sep", lang)
    met, gaps, short = [], [], []
    for level in levels:
        target = metrics["targets"]["list"][level]
        missing = [(p, r) for p, r in metrics["list_ratio"][level].items() if r is not None and not metrics["targets_met"][level]["list"].get(p)]
        name = text(f"level.{level}", lang)
        if not missing:
            met.append(name)
            continue
        short.append(name)
        gaps += [text("negotiated.gap", lang, level=name, pollutant=FORMULA[RATIO_COLUMN.get(p, p)][2] if p != "pm" else "PM10", value=f"{r:.1%}",
                      without=f"{neg['list_ratio_without'][level][p]:.1%}", target=f"{target:.0%}") for p, r in missing]
    and_ = "、" if lang == "zh" else " and "
    if met:
        out.append(text("negotiated.met", lang, levels=and_.join(met)))
    if short:
        out.append(text("negotiated.short", lang, levels=and_.join(short), gaps=sep.join(gaps)))
    return out


def industry_names(result: Any, lang: str = "en") -> dict[str, str]:
    """Industry key -> display name: the ``name_zh`` of ``emission_factors/industries.csv`` in
    Chinese, the key in words in English (``industrial_coating`` -> ``Industrial coating``)."""
    processes = result.inventory.factors.processes
    keys = sorted(set(processes.index.get_level_values("industry")) | set(result.inventory.lines.industry))
    if lang == "zh" and "name_zh" in processes.columns:
        zh = processes["name_zh"].groupby(level="industry").first().to_dict()
        return {k: (zh.get(k) or k) for k in keys}
    return {k: k.replace("_", " ").capitalize() for k in keys}


_EXPORTS = {
    "write_report": "html",
    "render_report_html": "html",
    "save_charts": "charts",
    "pm25_chart": "charts",
    "emissions_chart": "charts",
    "ratios_chart": "charts",
    "reductions_chart": "charts",
    "lines_chart": "charts",
    "sources_map": "charts",
    "cost_benefit_chart": "charts",
    "compare_ratios_chart": "charts",
    "write_measures_xlsx": "excel",
    "compare_frame": "compare",
    "write_comparison": "compare",
    "find_cjk_font": "fonts",
}

__all__ = ["LABELS", "LANGS", "LEVELS", "check_lang", "grade_name", "industry_names", "text", "warning_reason", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"sim.report.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'sim.report' has no attribute {name!r}")
