"""Scenario comparison: one tidy row of key figures per result, written as CSV and HTML.

Also home of :func:`pm25_figures`, the PM2.5 summary shared by the report and the comparison:
figures are taken from ``result.metrics["pm25"]`` when it has them, and computed from the
``result.pm25`` frame (HJ 633 daily AQI, :mod:`sim.aqi`) for whatever it lacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.report import LEVELS, RATIO_POLLUTANTS, check_lang

#: PM2.5 figures [μg/m³, days, hours] and how to find each in ``metrics["pm25"]``: the tokens
#: a (flattened) key must contain, the tokens it must not contain.
PM25_FIGURES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "peak_baseline": (frozenset({"peak", "baseline"}), frozenset({"day", "daily", "p05", "p50", "p95", "member", "warning"})),
    "peak_scenario": (frozenset({"peak", "scenario"}), frozenset({"day", "daily", "p05", "p50", "p95", "member", "warning"})),
    "mean_baseline": (frozenset({"mean", "baseline"}), frozenset({"warning", "reduction", "day", "daily", "p05", "p50", "p95", "member", "peak"})),
    "mean_scenario": (frozenset({"mean", "scenario"}), frozenset({"warning", "reduction", "day", "daily", "p05", "p50", "p95", "member", "peak"})),
    "reduction_warnings": (frozenset({"reduction", "warning"}), frozenset({"pct", "percent", "relative", "share", "ratio", "peak", "max", "p05", "p50", "p95", "member", "hour"})),
    "peak_reduction_warnings": (frozenset({"peak", "reduction", "warning"}), frozenset({"pct", "percent", "relative", "share", "ratio", "p05", "p50", "p95", "member", "hour"})),
    "heavy_days_baseline": (frozenset({"heavy", "day", "baseline"}), frozenset({"hour", "severe"})),
    "heavy_days_scenario": (frozenset({"heavy", "day", "scenario"}), frozenset({"hour", "severe", "p05", "p50", "p95"})),
    "heavy_hours_baseline": (frozenset({"heavy", "hour", "baseline"}), frozenset({"day", "severe"})),
    "heavy_hours_scenario": (frozenset({"heavy", "hour", "scenario"}), frozenset({"day", "severe", "p05", "p50", "p95"})),
}


def _flatten(block: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        name = f"{prefix}_{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _tokens(key: str) -> set[str]:
    words = [w for w in re.split(r"[^0-9a-z]+", key.lower()) if w]
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def _pick(flat: Mapping[str, Any], need: frozenset[str], avoid: frozenset[str]) -> float | None:
    hits = [k for k, v in flat.items() if _number(v) is not None and need <= (t := _tokens(k)) and not (t & avoid)]
    return _number(flat[min(hits, key=len)]) if hits else None


def _warning_mask(frame: pd.DataFrame, warnings: pd.DataFrame | None) -> np.ndarray:
    """Hours with a warning in force: the frame's ``warning_level`` when present, else the
    warning periods."""
    if "warning_level" in frame.columns:
        level = frame["warning_level"]
        inactive = level.isna() | level.astype(str).str.strip().str.lower().isin(["", "0", "0.0", "none", "nan"])
        return ~inactive.to_numpy(bool)
    times = pd.DatetimeIndex(frame["time"])
    mask = np.zeros(len(times), bool)
    if warnings is not None:
        for w in warnings.itertuples(index=False):
            mask |= (times >= pd.Timestamp(w.start)) & (times < pd.Timestamp(w.end))
    return mask


def _from_frame(frame: pd.DataFrame, warnings: pd.DataFrame | None) -> dict[str, float | None]:
    from sim.aqi import daily_aqi, heavy_hours, heavy_pollution_days

    times = pd.DatetimeIndex(frame["time"])
    out: dict[str, float | None] = {}
    for variant in ("baseline", "scenario"):
        values = frame[variant].to_numpy(float)
        out[f"peak_{variant}"] = float(np.nanmax(values)) if len(values) else None
        out[f"mean_{variant}"] = float(np.nanmean(values)) if len(values) else None
        out[f"heavy_days_{variant}"] = float(heavy_pollution_days(daily_aqi(values, times)))
        out[f"heavy_hours_{variant}"] = float(heavy_hours(values))
    mask = _warning_mask(frame, warnings)
    diff = frame["baseline"].to_numpy(float) - frame["scenario"].to_numpy(float)
    out["reduction_warnings"] = float(np.nanmean(diff[mask])) if mask.any() else None
    out["peak_reduction_warnings"] = float(np.nanmax(diff[mask])) if mask.any() else None
    return out


def pm25_figures(result: Any) -> dict[str, float | None] | None:
    """PM2.5 summary of a result, or None when it carries no PM2.5.

    Keys (see :data:`PM25_FIGURES`): ``peak_*`` and ``mean_*`` [μg/m³], ``reduction_warnings``
    (mean baseline − scenario over the hours with a warning in force) [μg/m³],
    ``peak_reduction_warnings`` (the largest hourly one) [μg/m³],
    ``heavy_days_*`` (daily AQI > 200) [d], ``heavy_hours_*`` (24 h running mean AQI > 200) [h].
    """
    frame = getattr(result, "pm25", None)
    block = result.metrics.get("pm25")
    if (frame is None or len(frame) == 0) and not block:
        return None
    flat = _flatten(block) if isinstance(block, Mapping) else {}
    computed: dict[str, float | None] | None = None
    figures: dict[str, float | None] = {}
    for name, (need, avoid) in PM25_FIGURES.items():
        value = _pick(flat, need, avoid)
        if value is None and frame is not None and len(frame):
            if computed is None:
                computed = _from_frame(frame, result.warnings)
            value = computed.get(name)
        figures[name] = value
    return figures


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
    from sim.report.html import render_comparison_html

    check_lang(lang)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"output folder {out_dir} does not exist")
    frame = compare_frame(results)
    frame.to_csv(out_dir / "comparison.csv", index=False, float_format="%.9g", lineterminator="\n")
    path = out_dir / "comparison.html"
    path.write_text(render_comparison_html(frame, lang), encoding="utf-8")
    return path
