"""Summary indicators: reduction ratios against targets (pure functions).

``list_ratio[level][p]`` = 1 − Σ steady rate of listed lines under that level (full compliance,
no calendars) ÷ Σ their baseline rate; ``society_ratio`` adds the other sources to both sums
(README.md, Outputs: ``metrics.json``). Ratio keys: so2, nox, pm (= PM10, 颗粒物), voc.
"""

from __future__ import annotations

import numpy as np

from sim.config.scenario import Targets
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN


def _ratio(baseline: np.ndarray, reduced: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, pollutant in RATIO_COLUMN.items():
        j = POLLUTANTS.index(pollutant)
        base = float(baseline[j])
        out[key] = None if base <= 0 else float(1.0 - reduced[j] / base)
    return out


def reduction_ratios(
    mean_rate_kg_h: np.ndarray,
    reduction: np.ndarray,
    other_rate_kg_h: np.ndarray,
    other_reduction: np.ndarray,
) -> tuple[dict, dict]:
    """List and society-wide reduction ratios per level and pollutant [-].

    ``mean_rate_kg_h`` [kg/h] (lines, pollutants); ``reduction`` [-] (lines, levels) designed
    production cuts, or (lines, levels, pollutants) designed cuts of each pollutant (negotiated
    cuts of single pollutants); ``other_rate_kg_h`` [kg/h] (categories, pollutants);
    ``other_reduction`` [-] (categories, levels, pollutants).
    """
    list_base = mean_rate_kg_h.sum(axis=0)
    other_base = other_rate_kg_h.sum(axis=0)
    list_ratio, society_ratio = {}, {}
    for j, level in enumerate(LEVELS):
        kept_share = (1.0 - reduction[:, j])[:, None] if reduction.ndim == 2 else 1.0 - reduction[:, j, :]
        kept = (mean_rate_kg_h * kept_share).sum(axis=0)
        other_kept = (other_rate_kg_h * (1.0 - other_reduction[:, j, :])).sum(axis=0)
        list_ratio[level] = _ratio(list_base, kept)
        society_ratio[level] = _ratio(list_base + other_base, kept + other_kept)
    return list_ratio, society_ratio


def targets_met(list_ratio: dict, society_ratio: dict, targets: Targets) -> dict:
    """Per level: whether each ratio reaches its target (None where a pollutant is absent),
    and ``all`` = every present pollutant meets both targets. A 1e-9 slack absorbs rounding."""
    out = {}
    for level in LEVELS:
        entry: dict[str, dict | bool] = {}
        ok = True
        for name, ratios in (("list", list_ratio), ("society", society_ratio)):
            target = getattr(getattr(targets, name), level)
            checks = {p: (None if r is None else bool(r >= target - 1e-9)) for p, r in ratios[level].items()}
            entry[name] = checks
            ok &= all(v for v in checks.values() if v is not None)
        entry["all"] = ok
        out[level] = entry
    return out
