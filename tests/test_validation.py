"""Validation case APEC 2014, Beijing (docs/validation.md; scenarios/validation/apec_2014.yaml).

Published (Beijing EPB inventory + model, docs/validation.md §1): emission cuts SO2 -39.2 %,
NOx -49.6 %, PM2.5 -61.6 %, VOCs -33.6 %; PM2.5 reduction over 3-12 Nov 2014 of 26.5 μg/m³
against a 69.5 μg/m³ counterfactual, 19.8 of it from local and 6.8 from regional cuts.

Tolerances:
- total emission cuts over the control period: the published ones ±1 percentage point (they
  are inputs of the case);
- local PM2.5 reduction over 3-12 Nov: the published 19.8 μg/m³ ±30 % (13.9-25.7 μg/m³).
  The case models 23.1 μg/m³ (+17 %). ±30 % spans the input uncertainty that the published
  figure does not remove: the local share (0.64-0.72 from the source apportionment, lower in
  heavy episodes), the estimated sector split, and the linear chemistry of the box model
  against a non-linear nitrate response to NOx cuts;
- total reduction (local + regional): the published 26.5 μg/m³ ±30 % (18.6-34.5 μg/m³).
"""

from __future__ import annotations

import pytest

from conftest import ROOT, load_script

from sim import load_scenario, run

CASE_DIR = ROOT / "scenarios" / "validation"
LOCAL_PUBLISHED, TOTAL_PUBLISHED, TOLERANCE = 19.8, 26.5, 0.30




@pytest.fixture(scope="module")
def script():
    return load_script(CASE_DIR / "make_apec_2014.py")


@pytest.fixture(scope="module")
def figures(script):
    return script.control_figures(run(load_scenario(CASE_DIR / "apec_2014.yaml")))


@pytest.mark.parametrize("pollutant, published", [("so2", 0.392), ("nox", 0.496), ("pm25", 0.616), ("voc", 0.336)])
def test_total_emission_cuts_match_published(figures, pollutant, published):
    assert figures["cuts"][pollutant] == pytest.approx(published, abs=0.01)


def test_counterfactual_mean_is_the_published_one(figures):
    assert figures["baseline_ug_m3"] == pytest.approx(69.5, abs=0.1)


def test_local_reduction_within_documented_range(figures):
    """Local PM2.5 reduction over 3-12 Nov within ±30 % of the published 19.8 μg/m³."""
    low, high = LOCAL_PUBLISHED * (1 - TOLERANCE), LOCAL_PUBLISHED * (1 + TOLERANCE)
    assert low <= figures["local_ug_m3"] <= high


def test_total_reduction_within_documented_range(figures):
    """Total PM2.5 reduction over 3-12 Nov within ±30 % of the published 26.5 μg/m³."""
    low, high = TOTAL_PUBLISHED * (1 - TOLERANCE), TOTAL_PUBLISHED * (1 + TOLERANCE)
    assert low <= figures["total_ug_m3"] <= high
    assert figures["regional_ug_m3"] > 0


def test_script_rewrites_data_files_byte_identically(script, tmp_path):
    written = script.main(tmp_path, quiet=True)
    assert sorted(p.name for p in written) == sorted(
        ["apec_2014_enterprises.csv", "apec_2014_other_sources.yaml", "apec_2014_policy.yaml", "apec_2014_meteorology.csv"]
    )
    for path in written:
        assert path.read_bytes() == (CASE_DIR / path.name).read_bytes(), path.name
