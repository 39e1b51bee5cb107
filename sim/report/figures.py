"""The PM2.5 summary of a result shared by the report page and the scenario comparison, read
from ``result.metrics["pm25"]``. Imports nothing of the report, so both can use it.
"""

from __future__ import annotations

from typing import Any

#: Figure name -> key of ``metrics["pm25"]`` (sim.physics.projection.pm25_metrics).
PM25_FIGURES: dict[str, str] = {
    "peak_baseline": "peak_baseline_ug_m3",
    "peak_scenario": "peak_scenario_ug_m3",
    "mean_baseline": "mean_baseline_ug_m3",
    "mean_scenario": "mean_scenario_ug_m3",
    "reduction_warnings": "mean_reduction_during_warnings_ug_m3",
    "peak_reduction_warnings": "peak_reduction_during_warnings_ug_m3",
    "heavy_days_baseline": "heavy_days_baseline",
    "heavy_days_scenario": "heavy_days_scenario",
    "heavy_hours_baseline": "heavy_hours_baseline",
    "heavy_hours_scenario": "heavy_hours_scenario",
}


def pm25_figures(result: Any) -> dict[str, float | None] | None:
    """PM2.5 summary of a result, or None when it carries no PM2.5: ``peak_*`` and ``mean_*``
    [μg/m³], ``reduction_warnings`` (mean baseline − scenario over warning hours) and
    ``peak_reduction_warnings`` [μg/m³] (None without warnings), ``heavy_days_*`` (daily AQI >
    200) [d], ``heavy_hours_*`` (24-h running mean AQI > 200) [h]."""
    block = result.metrics.get("pm25")
    if not block:
        return None
    return {name: (None if block.get(key) is None else float(block[key])) for name, key in PM25_FIGURES.items()}
