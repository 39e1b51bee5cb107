"""Write ``scenarios/data/response_surface_example.csv``: an ESTIMATE, fitted to this project's
own box model, not a published CTM-derived pf-RSM.

What it does (rerun: ``python scenarios/data/fit_response_surface.py``):

1. Runs the baseline (no warning) of ``scenarios/demo_city_orange.yaml`` and takes its hourly
   emissions of the listed lines plus the other sources [kg/h].
2. Scales them by (1 − x_p) for a grid of uniform fractional cuts x_p: nox, so2, voc and pm25
   in {0, 0.25, 0.5, 0.75, 1}, nh3 in {0, 1} (1,250 cases), and runs the box model with that
   scenario's settings (area 4,000 km², the packaged parameters, 3 spin-up days, its
   meteorology file) for every case at once.
3. Calibrates as the scenario does (local_share 0.5: c from the baseline) and takes, for each
   component, the mean change c·(local_case − local_baseline) [μg/m³] over the 72 hours of the
   scenario's orange warning (2023-12-04T00:00 to 12-07T00:00), with the cuts in force over the
   whole run (the steady response, which the lag of the response-surface model then delays).
4. Fits, per component, a polynomial of degree 2 in the five cuts (linear, square and cross
   terms) by least squares and keeps the terms whose coefficient is at least 0.005 μg/m³ in
   magnitude.

The box model with the packaged parameters (full neutralisation, ``nh3_limit: false``) is
linear in the emissions, so the fitted surface is linear in the cuts: its square and cross
terms come out at rounding level and are dropped, and NH3 has no effect. A surface fitted to a
chemical transport model (e.g. the pf-RSM of Xing et al. 2018, Atmos. Chem. Phys. 18:7799) has
real cross terms (NOx-NH3, SO2-NH3 and NOx-VOC interactions); this file only shows the format
and lets the response-surface model be checked against the box model it was fitted to.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.api import prepare  # noqa: E402
from sim.config.scenario import load_scenario  # noqa: E402
from sim.config.vocabulary import POLLUTANTS  # noqa: E402
from sim.engine.simulation import baseline_run  # noqa: E402
from sim.inputs.meteorology import load_meteorology  # noqa: E402
from sim.inputs.response_surface import SURFACE_COMPONENTS, SURFACE_POLLUTANTS  # noqa: E402
from sim.physics.atmosphere import calibration_scale  # noqa: E402
from sim.physics.projection import local_components  # noqa: E402

SCENARIO = ROOT / "scenarios" / "demo_city_orange.yaml"
OUT = ROOT / "scenarios" / "data" / "response_surface_example.csv"
LEVELS = {"nox": (0.0, 0.25, 0.5, 0.75, 1.0), "so2": (0.0, 0.25, 0.5, 0.75, 1.0), "nh3": (0.0, 1.0),
          "voc": (0.0, 0.25, 0.5, 0.75, 1.0), "pm25": (0.0, 0.25, 0.5, 0.75, 1.0)}
WARNING = ("2023-12-04T00:00", "2023-12-07T00:00")
KEEP_UG_M3 = 0.005


def responses() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The grid of cuts (cases, 5) and each component's mean change [μg/m³] (cases,)."""
    scenario = load_scenario(SCENARIO)
    prepared = prepare(scenario)
    base = baseline_run(prepared.shared.engine)
    hourly = base.hourly_kg_h + base.other_hourly_kg_h  # (hours, pollutants) [kg/h]
    grid = np.array(list(itertools.product(*(LEVELS[p] for p in SURFACE_POLLUTANTS))))
    factors = np.vstack([np.zeros(len(SURFACE_POLLUTANTS)), grid])  # the baseline first
    emissions = {p: (hourly[:, j][None, :] * (1.0 - (factors[:, SURFACE_POLLUTANTS.index(p)][:, None] if p in SURFACE_POLLUTANTS else 0.0)))[None]
                 for j, p in enumerate(POLLUTANTS) if p != "pm10"}
    config = scenario.atmosphere
    times = prepared.times
    met = load_meteorology(config.meteorology).slice(times[0], times[-1] + (times[1] - times[0]))
    local = local_components([config], emissions, [met], SCENARIO)
    c = calibration_scale(met.pm25_baseline_ug_m3, local["local"][0, 0], config.local_share)
    hours = (times >= WARNING[0]) & (times < WARNING[1])
    change = {k: c * (local[k][0][1:][:, hours] - local[k][0][:1][:, hours]).mean(axis=-1) for k in SURFACE_COMPONENTS}
    return grid, change


def design(grid: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Columns of every monomial of degree 1 or 2 in the cuts, and their exponent tuples."""
    n = grid.shape[1]
    exps = [tuple(int(i == k) for i in range(n)) for k in range(n)]
    exps += [tuple(int(i == k) + int(i == m) for i in range(n)) for k in range(n) for m in range(k, n)]
    columns = np.column_stack([np.prod(grid ** np.array(e), axis=1) for e in exps])
    return columns, exps


def main() -> None:
    grid, change = responses()
    columns, exps = design(grid)
    rows, worst = [], 0.0
    for component in SURFACE_COMPONENTS:
        coef, *_ = np.linalg.lstsq(columns, change[component], rcond=None)
        keep = np.abs(coef) >= KEEP_UG_M3
        worst = max(worst, float(np.max(np.abs(columns[:, keep] @ coef[keep] - change[component]))))
        rows += [(component, a, e) for a, e, k in zip(coef, exps, keep) if k]
    total = sum(change.values())
    lines = [
        "# source: estimate - fitted to this project's box model (scenarios/data/fit_response_surface.py), not a published CTM pf-RSM;",
        "#   demo_city_orange.yaml settings (area 4000 km2, packaged box parameters, local_share 0.5), mean steady change over its",
        "#   orange-warning hours 2023-12-04 to 12-07, uniform cuts of nox/so2/voc/pm25 in 0..1 (steps 0.25) and nh3 0 or 1;",
        "#   per component a least-squares polynomial of degree 2, terms below 0.005 ug/m3 dropped (the box model is linear",
        "#   in emissions, so only linear terms remain and nh3 has no effect with full neutralisation).",
        f"#   largest misfit over the grid: {'below 0.001' if worst < 1e-3 else f'{worst:.3f}'} ug/m3; surface at all cuts 1: {float(total[-1]):.1f} ug/m3.",
        "# valid_max_cut: nox=1 so2=1 nh3=1 voc=1 pm25=1",
        "# Sign: coefficient_ug_m3 is the change scenario - baseline, negative where a cut lowers PM2.5.",
        ",".join(("component", "coefficient_ug_m3", *SURFACE_POLLUTANTS)),
    ]
    lines += [",".join((component, f"{a:.4g}", *(str(n) for n in e))) for component, a, e in rows]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rows)} terms, largest misfit {worst:.2g} ug/m3")


if __name__ == "__main__":
    main()
