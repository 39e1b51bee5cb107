"""The scenario report (``report.html``) and the comparison page, from Jinja2 templates.

Both pages are single self-contained files: the CSS is inline and the charts are embedded as
base64 PNG data URIs, so they open offline and can be mailed as they are.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sim.report import (
    FORMULA,
    LABELS,
    LEVEL_COLOURS,
    LEVEL_DARK,
    LEVELS,
    POLLUTANTS,
    RATIO_COLUMN,
    RATIO_POLLUTANTS,
    check_lang,
    grade_name,
    industry_names,
    negotiated_verdict,
    note_text,
    text,
    warning_reason,
)
from sim.report.fonts import embedded_font_css

TIME_FORMAT = "%Y-%m-%d %H:%M"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("sim.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["formula"] = lambda p: Markup(FORMULA[p][1])
    return env


def _num(value: Any, digits: int = 1) -> str:
    """A number with thousands separators; an en dash for a missing value."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value * 100:.{digits}f} %"


def _time(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else pd.Timestamp(value).strftime(TIME_FORMAT)


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI for an ``<img src>``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --------------------------------------------------------------------------- tables


def _top(measures: pd.DataFrame, keys: list[str], level: str, n: int) -> pd.DataFrame:
    """Rows grouped by ``keys`` with their reductions at ``level`` [t/d] per ratio pollutant and
    their mean share of the list's reductions; the ``n`` largest by that share."""
    cols = {p: f"{level}_{RATIO_COLUMN[p]}_reduction_kg_d" for p in RATIO_POLLUTANTS}
    grouped = measures.groupby(keys, sort=False)[list(cols.values())].sum() / 1000.0
    grouped.columns = list(RATIO_POLLUTANTS)
    totals = grouped.sum()
    shares = [grouped[p] / totals[p] for p in RATIO_POLLUTANTS if totals[p] > 0]
    grouped["share"] = sum(shares) / len(shares) if shares else 0.0
    top = grouped[grouped["share"] > 0].sort_values("share", ascending=False).head(n)
    return top.reset_index()


def top_industries(result: Any, lang: str, level: str = "orange", n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` industries contributing most to the reductions at ``level``."""
    names = industry_names(result, lang)
    table = _top(result.measures, ["industry"], level, n)
    return [{"rank": k + 1, "name": names.get(r.industry, r.industry), **{p: getattr(r, p) for p in RATIO_POLLUTANTS}, "share": r.share} for k, r in enumerate(table.itertuples(index=False))]


def top_enterprises(result: Any, lang: str, level: str = "orange", n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` enterprises contributing most to the reductions at ``level``."""
    measures = result.measures
    names = industry_names(result, lang)
    main = measures[measures["derived"] == 0] if "derived" in measures.columns else measures
    info = main.groupby("enterprise_id", sort=False).agg(name=("enterprise_name", "first"), district=("district", "first"), industry=("industry", "first"), grade=("grade", "first"))
    table = _top(measures, ["enterprise_id"], level, n)
    rows = []
    for k, r in enumerate(table.itertuples(index=False)):
        meta = info.loc[r.enterprise_id] if r.enterprise_id in info.index else None
        rows.append(
            {
                "rank": k + 1,
                "id": r.enterprise_id,
                "name": "" if meta is None else meta["name"],
                "district": "" if meta is None else meta["district"],
                "industry": "" if meta is None else names.get(meta["industry"], meta["industry"]),
                "grade": "" if meta is None else grade_name(meta["grade"], lang),
                **{p: getattr(r, p) for p in RATIO_POLLUTANTS},
                "share": r.share,
            }
        )
    return rows


def _targets(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for level in LEVELS:
        for scope in ("list", "society"):
            met = metrics["targets_met"][level][scope]
            cells = [{"value": metrics[f"{scope}_ratio"][level].get(p), "met": met.get(p)} for p in RATIO_POLLUTANTS]
            present = [c["met"] for c in cells if c["met"] is not None]
            rows.append({"level": level, "scope": scope, "target": metrics["targets"][scope][level], "cells": cells, "all_met": bool(present) and all(present)})
        negotiated = metrics.get("negotiated")
        for scope in ("list", "society") if negotiated else ():  # the same ratios without the negotiated cuts, beside them
            met = negotiated["targets_met_without"][level][scope]
            cells = [{"value": negotiated[f"{scope}_ratio_without"][level].get(p), "met": met.get(p)} for p in RATIO_POLLUTANTS]
            present = [c["met"] for c in cells if c["met"] is not None]
            rows.append({"level": level, "scope": f"{scope}_without", "target": metrics["targets"][scope][level], "cells": cells, "all_met": bool(present) and all(present)})
    return rows


def _warnings(result: Any, lang: str) -> list[dict[str, Any]]:
    rows = []
    for w in result.warnings.itertuples(index=False):
        start, end = pd.Timestamp(w.start), pd.Timestamp(w.end)
        rows.append(
            {
                "level": w.level,
                "issued_at": _time(w.issued_at),
                "start": _time(start),
                "end": _time(end),
                "hours": (end - start) / pd.Timedelta(hours=1),
                "reason": warning_reason(w.reason, lang),
            }
        )
    return rows


def _emissions(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    totals = metrics.get("emissions_t", {})
    rows = []
    for p in POLLUTANTS:
        base = totals.get("baseline", {}).get(p)
        scen = totals.get("scenario", {}).get(p)
        if base is None or scen is None:
            continue
        rows.append({"pollutant": p, "baseline": base, "scenario": scen, "change": scen - base, "change_pct": (scen - base) / base if base else None})
    return rows


def _calibrated_model(result: Any) -> bool:
    """Whether the PM2.5 model scales a local part to a local share (box, linear)."""
    atmosphere = result.scenario.atmosphere
    return atmosphere is not None and atmosphere.model in ("box", "linear")


def _regional(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per city of a regional run: the modelled shares [-] and the reductions [μg/m³]."""
    rows = []
    for city, entry in metrics.get("by_city", {}).items():
        pm = entry.get("pm25", {})
        if "local_share_modelled" in pm:
            rows.append({"city": city, "own": pm["local_share_modelled"], "neighbours": pm["regional_share_modelled"],
                         "own_measures": pm["reduction_own_measures_ug_m3"], "all_measures": pm["reduction_all_measures_ug_m3"]})
    return rows


def report_context(result: Any, charts: Mapping[str, bytes], lang: str) -> dict[str, Any]:
    """Everything the report template shows, as plain values."""
    from sim._version import __version__
    from sim.report.charts import CHART_NAMES
    from sim.report.figures import pm25_figures

    m = result.metrics
    order = [n for n in CHART_NAMES if n in charts] + [n for n in charts if n not in CHART_NAMES]
    return {
        "lang": lang,
        "scenario": {
            "name": result.scenario.name,
            "description": result.scenario.description or "",
            "start": _time(m["period"]["start"]),
            "end": _time(m["period"]["end"]),
            "hours": m["period"]["hours"],
        },
        "list": m["list"],
        "warnings": _warnings(result, lang),
        "warning_hours": m["warning_hours"],
        "targets": _targets(m),
        "negotiated": negotiated_verdict(m, lang),
        "pm25": pm25_figures(result),
        "calibration_scale": m.get("calibration_scale") if _calibrated_model(result) else None,
        "regional": _regional(m),
        "emissions": _emissions(m),
        "economy": {"loss": m["production_loss_wan_yuan"], "limited": m["enterprise_days_limited"], "stopped": m["enterprise_days_stopped"]},
        "top_industries": top_industries(result, lang),
        "top_enterprises": top_enterprises(result, lang),
        "notes": [note_text(n, lang) for n in m.get("notes", [])],
        "seed": m.get("seed"),
        "sha256": m.get("scenario_sha256"),
        "version": __version__,
        "charts": {n: {"caption": _caption(n, lang), "src": data_uri(charts[n])} for n in order},
    }


def _caption(name: str, lang: str) -> str:
    key = f"caption.{name}"
    return text(key, lang) if key in LABELS else name


def _render(template: str, context: Mapping[str, Any], lang: str) -> str:
    """The page, with the bundled font embedded for the Chinese characters it shows (a reader's
    machine may have no CJK font)."""
    env = _environment()
    page = env.get_template(template).render(
        **context,
        t=lambda key, **fields: text(key, lang, **fields),
        levels=LEVELS,
        ratio_pollutants=RATIO_POLLUTANTS,
        level_colours=LEVEL_COLOURS,
        level_dark=LEVEL_DARK,
        html_lang="zh-CN" if lang == "zh" else "en",
    )
    return page.replace("/*EMBEDDED-FONT*/", embedded_font_css(page), 1)


def render_report_html(result: Any, charts: Mapping[str, bytes], lang: str = "en") -> str:
    """The report page for ``result`` with ``charts`` ({name: PNG bytes}) embedded."""
    check_lang(lang)
    return _render("report.html.j2", report_context(result, charts, lang), lang)


def write_report(result: Any, folder: str | Path, lang: str = "en") -> Path:
    """Write ``charts/*.png`` and the self-contained ``report.html`` into ``folder`` (which
    exists); return the path of ``report.html``."""
    from sim.report.charts import save_charts

    check_lang(lang)
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"report folder {folder} does not exist")
    paths = save_charts(result, folder / "charts", lang)
    charts = {name: path.read_bytes() for name, path in paths.items()}
    out = folder / "report.html"
    out.write_text(render_report_html(result, charts, lang), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- comparison


def render_comparison_html(frame: pd.DataFrame, lang: str = "en", charts: Mapping[str, bytes] | None = None) -> str:
    """The comparison page for a :func:`~sim.report.compare.compare_frame`; the two comparison
    charts are drawn here unless given ({name: PNG bytes})."""
    from sim.report.charts import compare_ratios_chart, cost_benefit_chart, figure_png

    check_lang(lang)
    if charts is None:
        charts = {"compare_ratios": figure_png(compare_ratios_chart(frame, lang=lang))}
        if frame["pm25_reduction_warnings_ug_m3"].notna().any():
            charts["compare_cost_benefit"] = figure_png(cost_benefit_chart(frame, lang=lang))
    rows = []
    for r in frame.to_dict("records"):
        rows.append(
            {
                **r,
                "start": _time(r["period_start"]),
                "end": _time(r["period_end"]),
                "met": {lv: r[f"targets_met_{lv}"] for lv in LEVELS},
                "pm": {k: (None if pd.isna(r[k]) else r[k]) for k in r if k.startswith(("pm25_", "heavy_days_"))},
                "ratios": {scope: {lv: [None if pd.isna(r[f"{scope}_ratio_{lv}_{p}"]) else r[f"{scope}_ratio_{lv}_{p}"] for p in RATIO_POLLUTANTS] for lv in LEVELS} for scope in ("list", "society")},
            }
        )
    order = [n for n in ("compare_cost_benefit", "compare_ratios") if n in charts]
    context = {
        "lang": lang,
        "rows": rows,
        "has_pm25": bool(frame["pm25_reduction_warnings_ug_m3"].notna().any()),
        "charts": {n: {"caption": _caption(n, lang), "src": data_uri(charts[n])} for n in order},
    }
    return _render("comparison.html.j2", context, lang)


__all__ = ["data_uri", "render_comparison_html", "render_report_html", "report_context", "top_enterprises", "top_industries", "write_report"]
