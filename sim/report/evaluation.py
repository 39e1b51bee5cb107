"""The after-action evaluation page (``evaluation.html``, English or Chinese) and its charts
(``charts/eval_*.png``): observed vs counterfactual PM2.5 with the warnings, planned vs realised
cuts by industry and grade, the compliance map, forecast skill by lead day, the review list.

Reads an evaluation result (``sim.evaluation.EvaluationResult``: DataFrames and ``metrics``)
only; self-contained like ``report.html`` (inline CSS, charts as data URIs, the font subset
embedded for the Chinese it shows).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from sim.report import LEVELS, check_lang, grade_name, note_text, text
from sim.report import fonts
from sim.report.charts import (BASELINE_COLOUR, SCENARIO_COLOUR, _date_axis, _figure, _rc, _shade, _time_range, _warning_handles,
                               _warning_spans, figure_png)
from sim.report.html import _render, data_uri

#: Charts of the evaluation page, in reading order.
EVAL_CHARTS = ("eval_pm25", "eval_cuts_industry", "eval_cuts_grade", "eval_map", "eval_skill")
VERDICT_COLOURS = {"complied": "#1b7837", "partly": "#f1a340", "not complied": "#b2182b", "no data": "#9e9e9e"}
#: Pollutants summed in the cut charts (tonnes of each added: the list's ratio pollutants).
CUT_POLLUTANTS = ("so2", "nox", "pm10", "voc")
REVIEW_ROWS = 60


def _pm25(ev: Any, lang: str):
    pm = ev.pm25
    fig = _figure(10, 4.4)
    ax = fig.add_subplot()
    times = pd.DatetimeIndex(pm.time)
    t0, t1 = _time_range(times)
    handles = []
    if {"counterfactual_p05", "counterfactual_p95"} <= set(pm.columns):
        handles.append(ax.fill_between(times, pm.counterfactual_p05, pm.counterfactual_p95, color=BASELINE_COLOUR, alpha=0.22, lw=0, label=text("chart.eval_pm25.band", lang)))
    if "counterfactual" in pm.columns:
        (cf,) = ax.plot(times, pm.counterfactual, color=BASELINE_COLOUR, lw=1.1, label=text("chart.eval_pm25.counterfactual", lang))
        handles.insert(0, cf)
    (obs,) = ax.plot(times, pm.observed, color=SCENARIO_COLOUR, lw=1.4, label=text("chart.eval_pm25.observed", lang))
    handles.insert(0, obs)
    top = float(np.nanmax(pm[[c for c in pm.columns if c.startswith(("observed", "counterfactual"))]].to_numpy(float)))
    ax.set_ylim(0, max(80.0, 1.12 * top))
    ax.set_xlim(t0, t1)
    spans = _warning_spans(ev.issued, t0, t1)
    _shade(ax, spans, alpha=0.9, ymin=0.955, ymax=1.0)
    _shade(ax, spans, alpha=0.08)
    ax.set_ylabel(text("chart.pm25.ylabel", lang))
    ax.set_xlabel(text("axis.time", lang))
    fig.suptitle(text("chart.eval_pm25.title", lang), x=0.01, ha="left")
    _date_axis(ax, lang)
    handles += _warning_handles(spans, lang, alpha=0.9)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5))
    return fig


def _cuts(ev: Any, by: str, lang: str):
    frame = ev.cuts_by_group
    planned = frame[[f"planned_{p}_t" for p in CUT_POLLUTANTS]].sum(axis=1)
    realised = frame[[f"realised_{p}_t" for p in CUT_POLLUTANTS]].sum(axis=1)
    table = pd.DataFrame({by: frame[by], "planned": planned, "realised": realised}).groupby(by).sum()
    table = table[(table.planned > 0) | (table.realised > 0)].sort_values("planned", ascending=False).head(12).iloc[::-1]
    names = [ev.industry_names.get(k, k) if by == "industry" and lang == "zh" else (grade_name(k, lang) if by == "grade" else str(k).replace("_", " ")) for k in table.index]
    fig = _figure(9, 0.6 + 0.42 * max(len(table), 1))
    ax = fig.add_subplot()
    y = np.arange(len(table))
    ax.barh(y + 0.2, table.planned, height=0.38, color=BASELINE_COLOUR, label=text("eval.planned", lang))
    ax.barh(y - 0.2, table.realised, height=0.38, color=SCENARIO_COLOUR, label=text("eval.realised", lang))
    ax.set_yticks(y, names)
    ax.set_xlabel(text("chart.eval_cuts.xlabel", lang))
    fig.suptitle(text("chart.eval_cuts.title", lang), x=0.01, ha="left")
    ax.legend(loc="lower right")
    return fig


def _map(ev: Any, lang: str):
    table = ev.compliance
    order = {v: i for i, v in enumerate(("complied", "no data", "partly", "not complied"))}
    worst = table.assign(rank=table.verdict.map(order)).sort_values("rank").groupby(["enterprise_id", "line_id"], sort=False).last()
    fig = _figure(7.5, 6.2)
    ax = fig.add_subplot()
    handles = []
    for verdict, colour in VERDICT_COLOURS.items():
        pick = worst[worst.verdict == verdict]
        ax.scatter(pick.lon, pick.lat, s=42, color=colour, edgecolor="white", linewidth=0.6, zorder=3)
        handles.append(Line2D([], [], marker="o", ls="", color=colour, label=f"{text('eval.verdict.' + verdict, lang)} ({len(pick)})"))
    violation = worst[worst.treatment_violation.astype(bool)]
    if len(violation):
        ax.scatter(violation.lon, violation.lat, s=130, facecolor="none", edgecolor="black", linewidth=1.0, zorder=4)
        handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="none", markeredgecolor="black", label=text("eval.treatment_off", lang)))
    ax.set_xlabel("lon [°E]")
    ax.set_ylabel("lat [°N]")
    ax.set_aspect(1.0 / np.cos(np.deg2rad(float(np.nanmean(worst.lat)) if len(worst) else 0.0)), adjustable="datalim")
    fig.suptitle(text("chart.eval_map.title", lang), x=0.01, ha="left")
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    return fig


def _skill(ev: Any, lang: str, target: float):
    skill = ev.forecast_skill
    fig = _figure(8, 3.8)
    ax = fig.add_subplot()
    ax.bar(skill.lead_day, skill.level_hit_rate, color=SCENARIO_COLOUR, width=0.6, label=text("eval.hit_rate", lang))
    ax.axhline(target, color="#b2182b", ls="--", lw=1.2, label=text("chart.eval_skill.target", lang))
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(text("eval.lead_day", lang))
    ax.set_xticks(list(skill.lead_day))
    right = ax.twinx()
    right.plot(skill.lead_day, skill.mean_abs_error_aqi, color="#555555", marker="o", lw=1.2, label=text("chart.eval_skill.mae", lang))
    right.set_ylim(0, max(10.0, 1.2 * float(skill.mean_abs_error_aqi.max()) if len(skill) else 10.0))
    right.grid(False)
    right.spines["right"].set_visible(True)
    fig.suptitle(text("chart.eval_skill.title", lang), x=0.01, ha="left")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    return fig


def evaluation_figures(ev: Any, lang: str = "en") -> dict[str, bytes]:
    """The evaluation's charts as PNG bytes by name (:data:`EVAL_CHARTS`; the PM2.5 chart only
    with an effect estimate, the skill chart only with forecasts to score)."""
    lang, family = fonts.chart_font(check_lang(lang))
    out: dict[str, bytes] = {}
    with matplotlib.rc_context(_rc(lang, family)):
        builders = {"eval_pm25": lambda: _pm25(ev, lang), "eval_cuts_industry": lambda: _cuts(ev, "industry", lang),
                    "eval_cuts_grade": lambda: _cuts(ev, "grade", lang), "eval_map": lambda: _map(ev, lang),
                    "eval_skill": lambda: _skill(ev, lang, ev.metrics["forecast_skill"]["target"])}
        for name in EVAL_CHARTS:
            if name == "eval_pm25" and "counterfactual" not in ev.pm25.columns:
                continue
            if name == "eval_skill" and ev.forecast_skill.empty:
                continue
            if name == "eval_map" and ev.compliance.empty:
                continue
            fig = builders[name]()
            fig.draw_without_rendering()
            fig.set_layout_engine("none")
            out[name] = figure_png(fig)
    return out


def _context(ev: Any, charts: dict[str, bytes], lang: str, city: str | None = None) -> dict[str, Any]:
    m = ev.metrics
    verdicts = m["compliance"]["verdicts"]
    review = ev.review
    actions = {text(f"eval.act.{k}", "en"): text(f"eval.act.{k}", lang) for k in ("treatment", "not_complied", "no_data", "load_up", "partly", "transport", "small_cut")}
    rows = []
    for r in review.head(REVIEW_ROWS).to_dict("records"):
        rows.append({**r, "kind": text(f"eval.kind.{r['kind']}", lang), "action": actions.get(r["action"], r["action"]), "industry": ev.industry_names.get(r["industry"], r["industry"]) if lang == "zh" else r["industry"],
                     "grade": grade_name(r["grade"], lang)})
    ratios = []
    for level in LEVELS:
        planned, realised = m["list_ratio_planned"].get(level), m["list_ratio_realised"].get(level)
        if planned and realised:
            ratios.append({"level": level, "planned": planned, "realised": realised})
    skill = ev.forecast_skill.to_dict("records")
    return {
        "scenario": {"name": ev.scenario.name if city is None else f"{ev.scenario.name}: {city}", "start": m["period"]["start"][:16].replace("T", " "), "end": m["period"]["end"][:16].replace("T", " ")},
        "baseline": m["baseline_days"],
        "issued": [{**w, "issued_at": w["issued_at"][:16].replace("T", " "), "start": w["start"][:16].replace("T", " "), "end": w["end"][:16].replace("T", " ")} for w in m["warnings_issued"]],
        "compliance": m["compliance"],
        "verdicts": [(text(f"eval.verdict.{k}", lang), v, k.replace(" ", "-")) for k, v in verdicts.items()],
        "ratios": ratios,
        "ratio_keys": list(next(iter(ratios))["planned"]) if ratios else [],
        "cuts": m["cuts_during_warnings_t"],
        "metered_share": m["metered_share_of_baseline"],
        "effect": m.get("pm25_effect"),
        "skill": skill,
        "skill_summary": m["forecast_skill"],
        "has_meters": ev.scenario.evaluation.power_use is not None,
        "has_forecasts": ev.scenario.evaluation.forecasts is not None,
        "timeliness": m["warning_timeliness"],
        "review": rows,
        "review_more": max(len(review) - REVIEW_ROWS, 0),
        "notes": [note_text(n, lang) for n in m.get("notes", [])],
        "charts": {n: {"caption": text(f"caption.{n}", lang), "src": data_uri(png)} for n, png in charts.items()},
        "tol": f"{100 * m['compliance']['rules']['complied_tolerance']:g}",
        "share": f"{100 * m['compliance']['rules']['min_data_share']:g} %",
    }


def render_evaluation_html(ev: Any, charts: dict[str, bytes], lang: str = "en", city: str | None = None) -> str:
    """The evaluation page with ``charts`` ({name: PNG bytes}) embedded; ``city`` names the city
    of a page of a list of several cities."""
    check_lang(lang)
    return _render("evaluation.html.j2", _context(ev, charts, lang, city), lang)


def file_suffix(city: str) -> str:
    """``_CITY`` for the file names of a city's page and charts (letters, digits, CJK kept)."""
    return "_" + re.sub(r"[^\w-]", "_", city)


def write_evaluation_report(ev: Any, folder: str | Path, lang: str = "en") -> list[str]:
    """Write ``charts/eval_*.png`` and ``evaluation.html`` into ``folder``; return their names.
    A list of several cities (``ev.by_city``): one page per city, ``evaluation_CITY.html`` with
    ``charts/eval_*_CITY.png``, from that city's own result."""
    folder = Path(folder)
    (folder / "charts").mkdir(exist_ok=True)
    pages = [(ev, "", None)] if not ev.by_city else [(own, file_suffix(city), city) for city, own in ev.by_city.items()]
    written = []
    for page, suffix, city in pages:  # one page per city
        charts = evaluation_figures(page, lang)
        for name, png in charts.items():
            (folder / "charts" / f"{name}{suffix}.png").write_bytes(png)
        (folder / f"evaluation{suffix}.html").write_text(render_evaluation_html(page, charts, lang, city), encoding="utf-8")
        written += [*(f"charts/{n}{suffix}.png" for n in charts), f"evaluation{suffix}.html"]
    return written
