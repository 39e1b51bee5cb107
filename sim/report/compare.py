"""Scenario comparison: one tidy row of key figures per result, written as CSV and HTML.

The PM2.5 summary shared by the report and the comparison, :func:`pm25_figures`, lives in
:mod:`sim.report.figures` (the report page reads it without importing the comparison).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.report import LEVELS, RATIO_POLLUTANTS, check_lang
from sim.report.figures import PM25_FIGURES, pm25_figures  # noqa: F401 - also read from here

def scenario_row(result: Any) -> dict[str, Any]:
    """One result's key figures as a flat mapping (a row of :func:`compare_frame`)."""
    m = result.metrics
    row: dict[str, Any] = {
        "scenario": result.scenario.name,
        "period_start": m["period"]["start"],
        "period_end": m["period"]["end"],
        "hours": m["period"]["hours"],
        "lines": m["list"]["lines"],
        "enterprises": m["list"]["enterprises"],
        "exempt_lines": m["list"]["exempt_lines"],
    }
    for level in LEVELS:
        row[f"warning_hours_{level}"] = m["warning_hours"].get(level, 0)
    for scope in ("list", "society"):
        for level in LEVELS:
            for p in RATIO_POLLUTANTS:
                value = m[f"{scope}_ratio"][level].get(p)
                row[f"{scope}_ratio_{level}_{p}"] = np.nan if value is None else value
    for scope in ("list", "society"):
        for level in LEVELS:
            row[f"target_{scope}_{level}"] = m["targets"][scope][level]
    for level in LEVELS:
        row[f"targets_met_{level}"] = bool(m["targets_met"][level]["all"])
    pm = pm25_figures(result) or {}
    row["pm25_reduction_warnings_ug_m3"] = pm.get("reduction_warnings")
    row["pm25_peak_baseline_ug_m3"] = pm.get("peak_baseline")
    row["pm25_peak_scenario_ug_m3"] = pm.get("peak_scenario")
    row["pm25_mean_baseline_ug_m3"] = pm.get("mean_baseline")
    row["pm25_mean_scenario_ug_m3"] = pm.get("mean_scenario")
    row["heavy_days_baseline"] = pm.get("heavy_days_baseline")
    row["heavy_days_scenario"] = pm.get("heavy_days_scenario")
    row["production_loss_wan_yuan"] = m["production_loss_wan_yuan"]
    row["enterprise_days_limited"] = m["enterprise_days_limited"]
    row["enterprise_days_stopped"] = m["enterprise_days_stopped"]
    row["seed"] = m["seed"]
    row["scenario_sha256"] = m["scenario_sha256"]
    return row


def compare_frame(results: Sequence[Any]) -> pd.DataFrame:
    """One tidy row per result: name, period, list size, warning hours, list and society ratios
    per level and pollutant (``list_ratio_orange_nox`` ...), targets and ``targets_met_<level>``,
    PM2.5 figures (NaN when not modelled), production loss [万元], enterprise-days, seed, sha256."""
    frame = pd.DataFrame([scenario_row(r) for r in results])
    pm_cols = [c for c in frame.columns if c.startswith(("pm25_", "heavy_days_"))]
    frame[pm_cols] = frame[pm_cols].astype(float)
    return frame


def write_comparison(results: Sequence[Any], out_dir: str | Path, lang: str = "en") -> Path:
    """Write ``comparison.csv`` and a self-contained ``comparison.html`` (with the ratio chart
    and, when PM2.5 is present, the cost-benefit chart) into the existing folder ``out_dir``.
    Returns the HTML path."""
    from sim.cell_text import escape_text_columns
    from sim.report.html import render_comparison_html

    check_lang(lang)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"output folder {out_dir} does not exist")
    frame = compare_frame(results)
    escape_text_columns(frame).to_csv(out_dir / "comparison.csv", index=False, float_format="%.9g", lineterminator="\n")  # names never formulas
    path = out_dir / "comparison.html"
    path.write_text(render_comparison_html(frame, lang), encoding="utf-8")
    return path
