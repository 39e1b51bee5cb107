"""Charts of a result, drawn with matplotlib's Agg renderer (no display, no pyplot state).

Every chart function takes plain DataFrames / arrays / metrics plus ``lang`` ("en" or "zh") and
returns a :class:`matplotlib.figure.Figure`. Chinese text, in either language, is drawn with
the bundled CJK font (:mod:`sim.report.fonts`).
:func:`save_charts` draws the set for a :class:`~sim.api.Result` into PNG files.

Units: concentrations [μg/m³], hourly emissions [t/h], designed reductions [t/d], production
loss [万元 = 10⁴ yuan].
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.physics.aqi import BREAKPOINTS_UG_M3, CATEGORY
from sim.report import (
    FORMULA,
    LEVEL_COLOURS,
    LEVEL_DARK,
    LEVELS,
    RATIO_COLUMN,
    RATIO_POLLUTANTS,
    check_lang,
    grade_name,
    industry_names,
    text,
)
from sim.report import fonts

#: Colours of performance grades: green (self-directed) to red (strictest measures).
GRADE_COLOURS = {
    "A+": "#00441b",
    "A": "#1b7837",
    "leading": "#5aae61",
    "B": "#4393c3",
    "B-": "#92c5de",
    "non_leading": "#9970ab",
    "C": "#f4a582",
    "D": "#b2182b",
    "general": "#8c8c8c",
}
GRADE_ORDER = tuple(GRADE_COLOURS)
BASELINE_COLOUR = "#5f5f5f"
SCENARIO_COLOUR = "#1f5fbf"
CATEGORY_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#aec7e8", "#ffbb78")
OTHER_COLOUR = "#c7c7c7"
#: Scenario colours in comparisons: none of them yellow, orange or red (the warning colours).
SCENARIO_PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#393b79", "#637939", "#aec7e8")
PNG_DPI = 150

#: Chart names of :func:`save_charts`, in reading order.
CHART_NAMES = ("ratios", "pm25", "emissions", "lines", "reductions_industry", "reductions_grade", "sources_map")


# --------------------------------------------------------------------------- style and frame


def _rc(lang: str, family: str | None) -> dict[str, Any]:
    return {
        "font.family": fonts.font_families(lang, family),
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.labelsize": 9,
        "figure.titlesize": 11.5,
        "figure.titleweight": "bold",
        "legend.fontsize": 8.5,
        "legend.frameon": False,
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "axes.unicode_minus": True,
        "mathtext.default": "regular",
        "savefig.dpi": PNG_DPI,
        "savefig.facecolor": "white",
    }


def _render(lang: str, build: Callable[..., Figure], *args: Any, **kwargs: Any) -> Figure:
    """Resolve the chart language and font, build the figure inside that style, and draw it
    once there so that every text (ticks included) carries the chosen font."""
    lang, family = fonts.chart_font(check_lang(lang))
    with matplotlib.rc_context(_rc(lang, family)):
        fig = build(*args, lang=lang, **kwargs)
        fig.draw_without_rendering()
    fig.set_layout_engine("none")  # laid out once, in this style; saving needs no second layout pass
    return fig


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


class _DateFormatter(mdates.ConciseDateFormatter):
    """ConciseDateFormatter that drops leading zeros before 月 and 日 (12月3日, not 12月03日);
    strftime has no portable flag for that."""

    _zero = re.compile(r"(?<!\d)0(\d)(?=[月日])")

    def format_ticks(self, values: Any) -> list[str]:
        return [self._zero.sub(r"\1", s) for s in super().format_ticks(values)]

    def get_offset(self) -> str:
        return self._zero.sub(r"\1", super().get_offset())


def _date_axis(ax: Any, lang: str) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    formatter = _DateFormatter(
        locator,
        formats=text("date.formats", lang).split(";"),
        zero_formats=text("date.zero_formats", lang).split(";"),
        offset_formats=text("date.offset_formats", lang).split(";"),
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def _warning_spans(warnings: pd.DataFrame | None, t0: pd.Timestamp, t1: pd.Timestamp) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Warning periods (level, start, end) clipped to [t0, t1]."""
    if warnings is None or len(warnings) == 0:
        return []
    spans = []
    for row in warnings.itertuples(index=False):
        start, end = max(pd.Timestamp(row.start), t0), min(pd.Timestamp(row.end), t1)
        if end > start and row.level in LEVEL_COLOURS:
            spans.append((row.level, start, end))
    return spans


def _shade(ax: Any, spans: Sequence[tuple[str, pd.Timestamp, pd.Timestamp]], alpha: float = 0.22, ymin: float = 0.0, ymax: float = 1.0) -> None:
    for level, start, end in spans:
        ax.axvspan(start, end, ymin=ymin, ymax=ymax, facecolor=LEVEL_COLOURS[level], alpha=alpha, lw=0, zorder=0)


def _warning_handles(spans: Sequence[tuple[str, Any, Any]], lang: str, alpha: float = 0.35) -> list[Patch]:
    present = {s[0] for s in spans}
    return [Patch(facecolor=LEVEL_COLOURS[lv], alpha=alpha, label=text(f"warning.{lv}", lang)) for lv in LEVELS if lv in present]


def _time_range(times: pd.Series | pd.DatetimeIndex) -> tuple[pd.Timestamp, pd.Timestamp]:
    times = pd.DatetimeIndex(times)
    step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(hours=1)
    return times[0], times[-1] + step


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


# --------------------------------------------------------------------------- PM2.5


def pm25_chart(pm25: pd.DataFrame, warnings: pd.DataFrame | None = None, lang: str = "en") -> Figure:
    """PM2.5 [μg/m³], baseline and scenario, on the HJ 633-2012 24 h category bands, with
    warning periods marked along the top and the ensemble 5-95 % band when present. Hourly
    values; periods longer than 31 days are shown as daily means.

    ``pm25`` has columns ``time``, ``baseline``, ``scenario`` and optionally ``scenario_p05``,
    ``scenario_p95``; ``warnings`` has ``level``, ``start``, ``end``.
    """
    return _render(lang, _pm25, pm25, warnings)


def _pm25(pm25: pd.DataFrame, warnings: pd.DataFrame | None, lang: str) -> Figure:
    fig = _figure(10, 4.6)
    ax = fig.add_subplot()
    t0, t1 = _time_range(pd.DatetimeIndex(pm25["time"]))
    daily = (t1 - t0) > pd.Timedelta(days=31)
    cols = [c for c in ("baseline", "scenario", "scenario_p05", "scenario_p95") if c in pm25.columns]
    data = pm25.set_index(pd.DatetimeIndex(pm25["time"]))[cols].astype(float)
    if daily:  # a season of hourly values is unreadable; daily means also match the 24 h bands
        data = data.resample("D").mean()
        data.loc[t1] = data.iloc[-1]
    times = data.index
    style = {"drawstyle": "steps-post"} if daily else {}
    handles: list[Any] = []
    if {"scenario_p05", "scenario_p95"} <= set(cols):
        handles.append(ax.fill_between(times, data["scenario_p05"], data["scenario_p95"], step="post" if daily else None, color=SCENARIO_COLOUR, alpha=0.22, lw=0, label=text("chart.pm25.ensemble", lang), zorder=2))
    (base,) = ax.plot(times, data["baseline"], color=BASELINE_COLOUR, lw=1.1, label=text("chart.pm25.baseline", lang), zorder=3, **style)
    (scen,) = ax.plot(times, data["scenario"], color=SCENARIO_COLOUR, lw=1.4, label=text("chart.pm25.scenario", lang), zorder=4, **style)
    handles = [base, scen, *handles]

    top = float(np.nanmax(data.to_numpy(float))) if len(data) else 0.0
    top = max(80.0, top * 1.12)
    ax.set_ylim(0, top)
    ax.set_xlim(t0, t1)
    # HJ 633 24 h PM2.5 bands, labelled at the right edge.
    edges = [*BREAKPOINTS_UG_M3[: len(CATEGORY)], math.inf]
    label_axis = ax.get_yaxis_transform()
    for k, cat in enumerate(CATEGORY):
        lo, hi = float(edges[k]), float(edges[k + 1])
        if lo >= top:
            break
        ax.axhspan(lo, min(hi, top), facecolor=cat.colour, alpha=0.13, lw=0, zorder=0)
        visible = min(hi, top) - lo
        if visible > 0.045 * top:
            ax.text(1.008, lo + visible / 2, text(f"aqi.{cat.level}", lang), transform=label_axis, va="center", ha="left", fontsize=7.5, color="#444444")
    spans = _warning_spans(warnings, t0, t1)
    _shade(ax, spans, alpha=0.9, ymin=0.955, ymax=1.0)
    _shade(ax, spans, alpha=0.08)
    ax.set_ylabel(text("chart.pm25.ylabel", lang))
    ax.set_xlabel(text("axis.time", lang))
    ax.set_title(text("chart.pm25.bands", lang), loc="left", fontsize=8, fontweight="normal", color="#555555")
    fig.suptitle(text("chart.pm25.daily_title" if daily else "chart.pm25.title", lang), x=0.01, ha="left")
    _date_axis(ax, lang)
    handles += _warning_handles(spans, lang, alpha=0.9)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6))
    return fig


# --------------------------------------------------------------------------- emissions


def emissions_chart(emissions: pd.DataFrame, warnings: pd.DataFrame | None = None, lang: str = "en", pollutants: Sequence[str] | None = None) -> Figure:
    """Emissions of all sources [t/h] per pollutant (one panel each), baseline and scenario,
    warnings shaded. Periods longer than 31 days are shown as daily means of the hourly rates.

    ``emissions`` has columns ``time``, ``variant`` (baseline / scenario) and one per pollutant.
    """
    return _render(lang, _emissions, emissions, warnings, pollutants)


def _emissions(emissions: pd.DataFrame, warnings: pd.DataFrame | None, pollutants: Sequence[str] | None, lang: str) -> Figure:
    from sim.report import POLLUTANTS

    pollutants = [p for p in (pollutants or POLLUTANTS) if p in emissions.columns]
    wide = {v: emissions[emissions["variant"] == v].set_index("time")[pollutants].sort_index() for v in ("baseline", "scenario")}
    t0, t1 = _time_range(wide["baseline"].index)
    daily = (t1 - t0) > pd.Timedelta(days=31)
    if daily:
        wide = {v: f.resample("D").mean() for v, f in wide.items()}
        for f in wide.values():  # the last day's step runs to the end of the period
            f.loc[t1] = f.iloc[-1]
    ncols = 2 if len(pollutants) > 1 else 1
    nrows = math.ceil(len(pollutants) / ncols)
    fig = _figure(10, 1.0 + 2.0 * nrows)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    spans = _warning_spans(warnings, t0, t1)
    drawstyle = "steps-post" if daily else "default"
    for ax, p in zip(axes, pollutants):
        ax.plot(wide["baseline"].index, wide["baseline"][p], color=BASELINE_COLOUR, lw=1.0, drawstyle=drawstyle, label=text("chart.emissions.baseline", lang))
        ax.plot(wide["scenario"].index, wide["scenario"][p], color=SCENARIO_COLOUR, lw=1.2, drawstyle=drawstyle, label=text("chart.emissions.scenario", lang))
        _shade(ax, spans)
        ax.set_title(FORMULA[p][0], loc="left")
        ax.set_ylabel(text("chart.emissions.ylabel", lang))
        ax.set_ylim(bottom=0)
        ax.set_xlim(t0, t1)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        _date_axis(ax, lang)
    for ax in axes[len(pollutants):]:
        ax.set_visible(False)
    handles = [*axes[0].get_lines()[:2], *_warning_handles(spans, lang)]
    fig.suptitle(text("chart.emissions.daily_title" if daily else "chart.emissions.title", lang), x=0.01, ha="left")
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


# --------------------------------------------------------------------------- ratios


def ratios_chart(metrics: Mapping[str, Any], lang: str = "en") -> Figure:
    """List and society-wide reduction ratios [%] per level and pollutant (grouped bars), the
    target of each level as a dashed line; bars below their target are hatched.

    ``metrics`` needs ``list_ratio``, ``society_ratio`` {level: {so2, nox, pm, voc}} and
    ``targets`` {list, society: {level: ratio}}.
    """
    return _render(lang, _ratios, metrics)


def _ratio_panel(ax: Any, ratios: Mapping[str, Mapping[str, float | None]], targets: Mapping[str, float], lang: str, top: float) -> None:
    x = np.arange(len(RATIO_POLLUTANTS))
    width = 0.8 / len(LEVELS)
    for k, level in enumerate(LEVELS):
        values = [ratios.get(level, {}).get(p) for p in RATIO_POLLUTANTS]
        heights = [0.0 if v is None else v for v in values]
        target = targets.get(level)
        hatches = ["////" if (v is not None and target is not None and v < target - 1e-9) else "" for v in values]
        bars = ax.bar(x + (k - (len(LEVELS) - 1) / 2) * width, heights, width * 0.92, color=LEVEL_COLOURS[level], edgecolor=LEVEL_DARK[level], linewidth=0.8, hatch=hatches, zorder=2)
        labels = [text("n_a", lang) if v is None else f"{v * 100:.1f}" for v in values]
        texts = ax.bar_label(bars, labels=labels, padding=1.5, fontsize=7, color="#222222")
        for t in texts:
            t.set_bbox({"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 0.6})
        if target is not None:
            ax.axhline(target, color=LEVEL_DARK[level], ls=(0, (5, 3)), lw=1.3, zorder=3)
            ax.text(1.01, target, f"{target * 100:.0f} %", transform=ax.get_yaxis_transform(), color=LEVEL_DARK[level], va="center", ha="left", fontsize=8, fontweight="bold")
    ax.set_xticks(x, [FORMULA[p][0] if lang == "en" else text(f"pollutant.{p}", lang) for p in RATIO_POLLUTANTS])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, top)
    ax.grid(axis="x", visible=False)


def _ratios(metrics: Mapping[str, Any], lang: str) -> Figure:
    fig = _figure(10, 4.4)
    axes = fig.subplots(1, 2, sharey=True)
    targets = metrics.get("targets", {})
    values = [v for scope in ("list_ratio", "society_ratio") for lv in metrics[scope].values() for v in lv.values() if v is not None]
    values += [v for scope in targets.values() for v in scope.values()]
    top = min(1.0, max([0.5, *values]) * 1.18 + 0.02)
    for ax, scope in zip(axes, ("list", "society")):
        _ratio_panel(ax, metrics[f"{scope}_ratio"], targets.get(scope, {}), lang, top)
        ax.set_title(text(f"chart.ratios.{scope}", lang), loc="left")
    axes[1].tick_params(labelleft=True)
    axes[0].set_ylabel(text("chart.ratios.ylabel", lang))
    handles: list[Any] = [Patch(facecolor=LEVEL_COLOURS[lv], edgecolor=LEVEL_DARK[lv], label=text(f"warning.{lv}", lang)) for lv in LEVELS]
    handles.append(Line2D([], [], color="#555555", ls=(0, (5, 3)), lw=1.3, label=text("chart.compare.target", lang)))
    handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="////", label=text("chart.ratios.below", lang)))
    fig.suptitle(text("chart.ratios.title", lang), x=0.01, ha="left")
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


# --------------------------------------------------------------------------- reductions


def reductions_chart(
    measures: pd.DataFrame,
    by: str = "industry",
    lang: str = "en",
    names: Mapping[str, str] | None = None,
    top: int = 11,
) -> Figure:
    """Designed reductions of the listed sources [t/d] at each level, stacked by industry or
    by performance grade, one panel per ratio pollutant (SO2, NOx, PM10, VOCs).

    ``measures`` is the reduction list (columns ``industry``, ``grade`` and
    ``<level>_<pollutant>_reduction_kg_d``); ``names`` maps industry keys to display names; the
    ``top`` industries (by their largest share of a pollutant's reduction at red) are shown, the rest as "other".
    """
    if by not in ("industry", "grade"):
        raise ValueError(f"by must be 'industry' or 'grade', not {by!r}")
    return _render(lang, _reductions, measures, by, names, top)


def _reduction_table(measures: pd.DataFrame, by: str, top: int) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Per pollutant: a (category x level) table of reductions [t/d]; the category order."""
    tables = {}
    for p in RATIO_POLLUTANTS:
        cols = [f"{lv}_{RATIO_COLUMN[p]}_reduction_kg_d" for lv in LEVELS]
        table = measures.groupby(by)[cols].sum() / 1000.0
        table.columns = list(LEVELS)
        tables[p] = table
    cats = sorted(c for c in set().union(*(t.index for t in tables.values())) if any(c in t.index and t.loc[c].sum() > 0 for t in tables.values()))
    if by == "grade":
        order = [g for g in GRADE_ORDER if g in cats] + [g for g in cats if g not in GRADE_ORDER]
        return tables, order
    share = pd.Series(0.0, index=cats)  # largest share of any pollutant's reduction at red
    for t in tables.values():
        total = t["red"].sum()
        if total > 0:
            share = np.maximum(share, (t["red"] / total).reindex(cats).fillna(0.0))
    ranked = [c for c in share.sort_values(ascending=False).index if share[c] > 0]
    keep = ranked[:top] if len(ranked) > top + 1 else ranked
    if len(keep) < len(ranked):
        for p, t in tables.items():
            rest = t.drop(index=[c for c in keep if c in t.index]).sum()
            tables[p] = pd.concat([t.reindex(keep).fillna(0.0), rest.to_frame("__other__").T])
        keep = [*keep, "__other__"]
    return tables, keep


def _reductions(measures: pd.DataFrame, by: str, names: Mapping[str, str] | None, top: int, lang: str) -> Figure:
    tables, order = _reduction_table(measures, by, top)
    fig = _figure(11, 4.4)
    axes = fig.subplots(1, len(RATIO_POLLUTANTS))
    if by == "grade":
        colours = {c: GRADE_COLOURS.get(c, OTHER_COLOUR) for c in order}
        labels = {c: grade_name(c, lang) for c in order}
    else:
        colours = {c: (OTHER_COLOUR if c == "__other__" else CATEGORY_PALETTE[k % len(CATEGORY_PALETTE)]) for k, c in enumerate(order)}
        labels = {c: text("other", lang) if c == "__other__" else (names or {}).get(c, c) for c in order}
    x = np.arange(len(LEVELS))
    for ax, p in zip(axes, RATIO_POLLUTANTS):
        table = tables[p].reindex(order).fillna(0.0)
        bottom = np.zeros(len(LEVELS))
        for c in order:
            values = table.loc[c, list(LEVELS)].to_numpy(float)
            ax.bar(x, values, 0.62, bottom=bottom, color=colours[c], edgecolor="white", linewidth=0.4, label=labels[c], zorder=2)
            bottom += values
        for k in range(len(LEVELS)):
            ax.text(x[k], bottom[k], f"{bottom[k]:,.1f}", ha="center", va="bottom", fontsize=7.5, color="#333333")
        ax.set_xticks(x, [text(f"level.{lv}", lang) for lv in LEVELS])
        for tick, lv in zip(ax.get_xticklabels(), LEVELS):
            tick.set_color(LEVEL_DARK[lv])
        ax.set_title(FORMULA[p][0] if lang == "en" else f"{text(f'pollutant.{p}', lang)} {FORMULA[p][0]}", loc="left")
        ax.set_ylim(0, max(bottom.max(), 1e-9) * 1.12)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.grid(axis="x", visible=False)
    axes[0].set_ylabel(text("chart.reductions.ylabel", lang))
    handles = axes[0].get_legend_handles_labels()
    fig.suptitle(text(f"chart.reductions.title.{by}", lang), x=0.01, ha="left")
    fig.legend(handles[0][::-1], handles[1][::-1], loc="outside right upper", title=text(f"chart.reductions.legend.{by}", lang), alignment="left")
    return fig


# --------------------------------------------------------------------------- production lines


def lines_chart(
    times: Sequence[Any] | pd.DatetimeIndex,
    lines_limited: Sequence[int] | np.ndarray,
    lines_stopped: Sequence[int] | np.ndarray,
    warnings: pd.DataFrame | None = None,
    lang: str = "en",
    total_lines: int | None = None,
) -> Figure:
    """Production lines stopped and limited per hour [count] (stacked), warnings shaded."""
    return _render(lang, _lines, times, lines_limited, lines_stopped, warnings, total_lines)


def _lines(times: Any, limited: Any, stopped: Any, warnings: pd.DataFrame | None, total_lines: int | None, lang: str) -> Figure:
    times = pd.DatetimeIndex(times)
    t0, t1 = _time_range(times)
    x = times.append(pd.DatetimeIndex([t1]))
    stopped = np.append(np.asarray(stopped, float), float(stopped[-1]))
    limited = np.append(np.asarray(limited, float), float(limited[-1]))
    fig = _figure(10, 3.9)
    ax = fig.add_subplot()
    spans = _warning_spans(warnings, t0, t1)
    _shade(ax, spans, alpha=0.18)
    h_stop = ax.fill_between(x, 0, stopped, step="post", color="#4d4d4d", alpha=0.9, lw=0, label=text("chart.lines.stopped", lang), zorder=2)
    h_lim = ax.fill_between(x, stopped, stopped + limited, step="post", color="#7fa7d4", alpha=0.9, lw=0, label=text("chart.lines.limited", lang), zorder=2)
    ax.set_xlim(t0, t1)
    ax.set_ylim(0, max(1.0, float((stopped + limited).max())) * 1.1)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylabel(text("chart.lines.ylabel", lang))
    ax.set_xlabel(text("axis.time", lang))
    _date_axis(ax, lang)
    title = text("chart.lines.title_of", lang, n=f"{total_lines:,}") if total_lines else text("chart.lines.title", lang)
    fig.suptitle(title, x=0.01, ha="left")
    handles = [h_stop, h_lim, *_warning_handles(spans, lang)]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig


# --------------------------------------------------------------------------- map


def sources_map(sources: pd.DataFrame, lang: str = "en") -> Figure:
    """Enterprises on a lon/lat plane (no basemap): marker area by baseline
    SO2+NOx+PM10+VOCs [kg/d], colour by performance grade.

    ``sources`` has ``lon``, ``lat``, ``grade`` and ``baseline_{so2,nox,pm10,voc}_kg_d`` per
    production line; lines sharing an ``enterprise_id`` are summed into one marker.
    """
    return _render(lang, _map, sources)


def _nice(value: float) -> float:
    """The largest 1-2-5 number not above ``value``."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for m in (5, 2, 1):
        if m * 10**exp <= value:
            return m * 10**exp
    return 10**exp


def _map(sources: pd.DataFrame, lang: str) -> Figure:
    cols = [f"baseline_{RATIO_COLUMN[p]}_kg_d" for p in RATIO_POLLUTANTS]
    frame = sources.assign(emission=sources[cols].sum(axis=1))
    if "enterprise_id" in frame.columns:
        frame = frame.groupby("enterprise_id", sort=False).agg(lon=("lon", "first"), lat=("lat", "first"), grade=("grade", "first"), emission=("emission", "sum")).reset_index()
    frame = frame.dropna(subset=["lon", "lat"])
    emax = float(frame["emission"].max()) if len(frame) else 1.0
    emax = emax if emax > 0 else 1.0
    smax = 420.0

    def area(e: Any) -> Any:
        return 6.0 + smax * np.asarray(e, float) / emax

    if len(frame):
        lat_mid = math.radians(float(frame["lat"].mean()))
        span_x = (float(frame["lon"].max()) - float(frame["lon"].min())) * math.cos(lat_mid)
        span_y = float(frame["lat"].max()) - float(frame["lat"].min())
        shape = min(max(span_y / span_x, 0.45), 1.6) if span_x > 0 else 1.0
    else:
        shape = 1.0
    fig = _figure(9.6, min(max(6.2 * shape + 1.4, 5.2), 10.5))
    ax = fig.add_subplot()
    present = list(frame["grade"].unique())
    order = [g for g in GRADE_ORDER if g in present] + [g for g in present if g not in GRADE_ORDER]
    grade_handles = []
    for g in order:
        part = frame[frame["grade"] == g].sort_values("emission", ascending=False)
        ax.scatter(part["lon"], part["lat"], s=area(part["emission"]), color=GRADE_COLOURS.get(g, OTHER_COLOUR), alpha=0.7, edgecolors="white", linewidths=0.3, zorder=2)
        grade_handles.append(Line2D([], [], ls="", marker="o", markersize=7, color=GRADE_COLOURS.get(g, OTHER_COLOUR), label=f"{grade_name(g, lang)}  ({len(part):,})"))
    lat0 = float(frame["lat"].mean()) if len(frame) else 0.0
    ax.set_aspect(1.0 / max(math.cos(math.radians(lat0)), 0.1), adjustable="datalim")  # box fills its slot: no clipped labels
    ax.set_xlabel(text("chart.map.x", lang))
    ax.set_ylabel(text("chart.map.y", lang))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.2f}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.2f}"))
    ax.margins(0.05)
    # scale bar, about a fifth of the width, lower left
    if len(frame):
        lon_lo, lon_hi = float(frame["lon"].min()), float(frame["lon"].max())
        lat_lo, lat_hi = float(frame["lat"].min()), float(frame["lat"].max())
        km_per_deg = 111.32 * math.cos(math.radians(lat0))
        km = _nice(max((lon_hi - lon_lo) * km_per_deg / 5.0, 1e-3))
        x0 = lon_lo
        y0 = lat_lo - 0.035 * max(lat_hi - lat_lo, 1e-3)
        ax.plot([x0, x0 + km / km_per_deg], [y0, y0], color="#222222", lw=2.5, solid_capstyle="butt", zorder=3)
        ax.annotate(text("chart.map.scale", lang, km=f"{km:g}"), (x0 + km / (2 * km_per_deg), y0), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom", fontsize=8, zorder=3)
    refs = sorted({_nice(emax), _nice(emax / 10.0), _nice(emax / 100.0)}, reverse=True)
    size_handles = [Line2D([], [], ls="", marker="o", markersize=math.sqrt(float(area(r))), markerfacecolor="#bbbbbb", markeredgecolor="#666666", label=f"{r:,.0f}") for r in refs if r > 0]
    fig.suptitle(text("chart.map.title", lang), x=0.01, ha="left")
    fig.legend(handles=grade_handles, loc="outside right upper", title=text("chart.map.grade", lang), alignment="left")
    fig.legend(handles=size_handles, loc="outside right lower", title=text("chart.map.size", lang), alignment="left", labelspacing=1.6, borderpad=1.0)
    return fig


# --------------------------------------------------------------------------- comparison


def cost_benefit_chart(frame: pd.DataFrame, lang: str = "en") -> Figure:
    """Production loss [万元] against the mean PM2.5 reduction during warnings [μg/m³], one
    labelled point per scenario. ``frame`` is :func:`sim.report.compare.compare_frame` output
    (columns ``scenario``, ``production_loss_wan_yuan``, ``pm25_reduction_warnings_ug_m3``)."""
    return _render(lang, _cost_benefit, frame)


def _labels_unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _cost_benefit(frame: pd.DataFrame, lang: str) -> Figure:
    data = frame.assign(label=_labels_unique(list(frame["scenario"].astype(str))))
    data = data.dropna(subset=["production_loss_wan_yuan", "pm25_reduction_warnings_ug_m3"])
    fig = _figure(8, 5.2)
    ax = fig.add_subplot()
    ax.scatter(data["production_loss_wan_yuan"], data["pm25_reduction_warnings_ug_m3"], s=55, color=SCENARIO_COLOUR, edgecolors="white", linewidths=0.8, zorder=3)
    xmax = float(data["production_loss_wan_yuan"].max()) if len(data) else 1.0
    for k, row in enumerate(data.itertuples(index=False)):
        right_half = row.production_loss_wan_yuan > 0.6 * xmax
        ax.annotate(
            textwrap.fill(row.label, 30),
            (row.production_loss_wan_yuan, row.pm25_reduction_warnings_ug_m3),
            xytext=(-8 if right_half else 8, 8 if k % 2 == 0 else -8),
            textcoords="offset points",
            ha="right" if right_half else "left",
            va="bottom" if k % 2 == 0 else "top",
            fontsize=8,
        )
    ax.set_xlabel(text("chart.compare.cost.x", lang))
    ax.set_ylabel(text("chart.compare.cost.y", lang))
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=min(0.0, float(data["pm25_reduction_warnings_ug_m3"].min()) if len(data) else 0.0))
    ax.margins(x=0.15, y=0.15)
    ax.set_xlim(left=0)
    fig.suptitle(text("chart.compare.cost.title", lang), x=0.01, ha="left")
    return fig


def compare_ratios_chart(frame: pd.DataFrame, lang: str = "en") -> Figure:
    """Reduction ratios [%] side by side per scenario: one panel per scope (list, society) and
    level, bars per pollutant and scenario, the target as a dashed line.
    ``frame`` is :func:`sim.report.compare.compare_frame` output."""
    return _render(lang, _compare_ratios, frame)


def _compare_ratios(frame: pd.DataFrame, lang: str) -> Figure:
    labels = _labels_unique(list(frame["scenario"].astype(str)))
    n = len(labels)
    fig = _figure(11, 6.6)
    axes = fig.subplots(2, len(LEVELS), sharey=True)
    x = np.arange(len(RATIO_POLLUTANTS))
    width = 0.82 / max(n, 1)
    ratio_cols = [c for c in frame.columns if c.startswith(("list_ratio_", "society_ratio_"))]
    vmax = float(np.nanmax(frame[ratio_cols].to_numpy(float))) if ratio_cols and len(frame) else 0.5
    top = min(1.0, max(0.55, vmax * 1.15 + 0.02))
    for r, scope in enumerate(("list", "society")):
        for c, level in enumerate(LEVELS):
            ax = axes[r, c]
            for k, label in enumerate(labels):
                values = [frame.iloc[k].get(f"{scope}_ratio_{level}_{p}") for p in RATIO_POLLUTANTS]
                values = [0.0 if v is None or pd.isna(v) else float(v) for v in values]
                ax.bar(x + (k - (n - 1) / 2) * width, values, width * 0.92, color=SCENARIO_PALETTE[k % len(SCENARIO_PALETTE)], label=label, zorder=2)
            title = text("chart.compare.ratios.panel", lang, scope=text(f"scope.{scope}", lang), level=text(f"level.{level}" if lang == "en" else f"warning.{level}", lang))
            target_col = f"target_{scope}_{level}"
            if target_col in frame.columns and frame[target_col].notna().any():
                target = float(frame[target_col].dropna().iloc[0])
                ax.axhline(target, color=LEVEL_DARK[level], ls=(0, (5, 3)), lw=1.3, zorder=3)
                title += text("chart.compare.ratios.target", lang, target=f"{target * 100:.0f}")
            ax.set_xticks(x, [FORMULA[p][0] if lang == "en" else text(f"pollutant.{p}", lang) for p in RATIO_POLLUTANTS])
            ax.set_title(title, loc="left", color=LEVEL_DARK[level], fontsize=9)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_ylim(0, top)
            ax.grid(axis="x", visible=False)
            ax.tick_params(labelleft=True)
        axes[r, 0].set_ylabel(text("chart.ratios.ylabel", lang))
    handles, names = axes[0, 0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="#555555", ls=(0, (5, 3)), lw=1.3))
    names.append(text("chart.compare.target", lang))
    fig.suptitle(text("chart.compare.ratios.title", lang), x=0.01, ha="left")
    fig.legend(handles, names, loc="outside lower center", ncols=min(len(handles), 4))
    return fig


# --------------------------------------------------------------------------- a result's charts


def source_frame(result: Any) -> pd.DataFrame:
    """The reduction list with each line's ``lon`` and ``lat`` (for :func:`sources_map`)."""
    lines = result.inventory.lines
    return result.measures.assign(lon=lines["lon"].to_numpy(float), lat=lines["lat"].to_numpy(float))


def _result_figures(result: Any, lang: str) -> dict[str, Figure]:
    """Every chart of a result, by name (see :data:`CHART_NAMES`), built in the current style
    (the caller's ``rc_context``); ``pm25`` only when the result carries PM2.5."""
    charts: dict[str, Figure] = {"ratios": _ratios(result.metrics, lang=lang)}
    pm25 = getattr(result, "pm25", None)
    if pm25 is not None and len(pm25):
        charts["pm25"] = _pm25(pm25, result.warnings, lang=lang)
    charts["emissions"] = _emissions(result.emissions, result.warnings, None, lang=lang)
    run = result.scenario_run
    charts["lines"] = _lines(result.times, run.lines_limited, run.lines_stopped, result.warnings, int(result.metrics["list"]["lines"]), lang=lang)
    charts["reductions_industry"] = _reductions(result.measures, "industry", industry_names(result, lang), 11, lang=lang)
    charts["reductions_grade"] = _reductions(result.measures, "grade", None, 11, lang=lang)
    charts["sources_map"] = _map(source_frame(result), lang=lang)
    return charts


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no timestamps: same figure, same bytes)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def save_charts(result: Any, folder: str | Path, lang: str = "en") -> dict[str, Path]:
    """Draw the charts of ``result`` and write them as ``<name>.png`` into ``folder`` (created
    if missing). Returns {name: path}. Chinese falls back to English, with one warning, only
    when the bundled CJK font is missing (a broken install)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lang, family = fonts.chart_font(check_lang(lang))
    paths: dict[str, Path] = {}
    with matplotlib.rc_context(_rc(lang, family)):
        for name, fig in _result_figures(result, lang).items():
            path = folder / f"{name}.png"
            path.write_bytes(figure_png(fig))
            paths[name] = path
    for name in CHART_NAMES:  # a chart this result has not (e.g. PM2.5) must not linger from an earlier run
        if name not in paths:
            (folder / f"{name}.png").unlink(missing_ok=True)
    return paths
