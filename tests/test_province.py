"""Multi-city runs: one box per city, province totals equal the sum of single-city runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import load_scenario, run
from sim.inputs.inventory import POLLUTANTS
from sim.synthetic.synth import write_province


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = tmp_path_factory.mktemp("province")
    path = write_province(folder, cities=3, lines=1500, seed=3)
    return folder, path


def test_synthetic_province_is_deterministic(tmp_path, province):
    folder, _ = province
    again = write_province(tmp_path, cities=3, lines=1500, seed=3)
    for name in ("enterprises.csv", "meteorology/city01.csv", "other_sources/city02.yaml"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    assert len(pd.read_csv(folder / "enterprises.csv")) >= 1500


def test_province_totals_equal_sum_of_single_city_runs(province):
    folder, path = province
    scenario = load_scenario(path)
    whole = run(scenario)
    assert whole.cities == ("city01", "city02", "city03")
    table = pd.read_csv(folder / "enterprises.csv", dtype=str, keep_default_na=False)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    singles = []
    for city in whole.cities:
        part = folder / f"only_{city}.csv"
        table[table.city == city].to_csv(part, index=False)
        own = dict(raw)
        own["inventory"] = {**raw["inventory"], "enterprises": part.name, "other_sources": [f"other_sources/{city}.yaml"]}
        own["atmosphere"] = {**raw["atmosphere"], "cities": {city: raw["atmosphere"]["cities"][city]}}
        own["warnings"] = {"schedule": [w for w in raw["warnings"]["schedule"] if w["city"] == [city]], "regional": raw["warnings"]["regional"]}
        single_path = folder / f"only_{city}.yaml"
        single_path.write_text(yaml.safe_dump(own, allow_unicode=True), encoding="utf-8")
        singles.append(run(load_scenario(single_path)))
    for variant in ("baseline", "scenario"):
        total = whole.emissions[whole.emissions.variant == variant][list(POLLUTANTS)].to_numpy()
        summed = sum(s.emissions[s.emissions.variant == variant][list(POLLUTANTS)].to_numpy() for s in singles)
        np.testing.assert_allclose(total, summed, rtol=1e-9, atol=1e-12)
    assert whole.metrics["production_loss_wan_yuan"] == pytest.approx(sum(s.metrics["production_loss_wan_yuan"] for s in singles), rel=1e-9)
    for k, city in enumerate(whole.cities):
        # each city's box sees only its own emissions: same PM2.5 as the single-city run
        np.testing.assert_allclose(whole.projection_by_city[city].frame.scenario, singles[k].pm25.scenario, rtol=1e-9)
        assert whole.metrics["by_city"][city]["production_loss_wan_yuan"] == pytest.approx(singles[k].metrics["production_loss_wan_yuan"], rel=1e-9)


def test_city_warning_applies_to_its_city_only(province):
    _, path = province
    res = run(load_scenario(path))
    levels = res.scenario_run.level_by_city
    city_rows = res.warnings[res.warnings.reason == "scheduled in the scenario file"]
    assert len(city_rows) > 0
    assert not (levels[:, 0] == levels[:, 1]).all() or not (levels[:, 1] == levels[:, 2]).all()
    assert set(res.pm25_by_city.city) == set(res.cities)


def test_cities_read_meteorology_and_parameters_once_and_share_one_box_model_call(province, monkeypatch):
    """A three-city run with two cities on one meteorology file: each file read once (in
    prepare, none in the projection), the parameter file parsed once, one box-model call."""
    from sim import api
    from sim.physics import atmosphere, projection

    folder, path = province
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["atmosphere"]["cities"]["city03"]["meteorology"] = raw["atmosphere"]["cities"]["city01"]["meteorology"]
    shared = folder / "shared_meteorology.yaml"
    shared.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    reads, parses, calls = [], [], []
    real_read, real_parse, real_box = api.load_meteorology, atmosphere.parse_yaml, projection.box_model
    monkeypatch.setattr(api, "load_meteorology", lambda p: reads.append(p.name) or real_read(p))
    monkeypatch.setattr(projection, "load_meteorology", lambda p: pytest.fail(f"{p} read again"))
    monkeypatch.setattr(atmosphere, "parse_yaml", lambda *a: parses.append(a[1]) or real_parse(*a))
    monkeypatch.setattr(projection, "box_model", lambda emis, *a, **k: calls.append(next(iter(emis.values())).shape) or real_box(emis, *a, **k))
    res = run(load_scenario(shared))
    assert sorted(reads) == ["city01.csv", "city02.csv"]
    assert len(parses) == 1
    assert calls == [(3, 2, len(res.pm25) + 24 * 3)], "cities × (baseline, scenario) × (hours + spin-up) in one call"
    by_city = res.projection_by_city
    assert not np.allclose(by_city["city01"].frame.scenario, by_city["city03"].frame.scenario), "same weather, own emissions and area"


def test_large_ensembles_project_a_few_cities_at_a_time(province, monkeypatch):
    """When cities × members × hours would exceed BOX_MODEL_ELEMENTS, run projects the cities
    in smaller batches (memory of one city at a time at worst), with the same numbers."""
    from sim import api
    from sim.physics import projection

    _, path = province
    scenario = load_scenario(path)
    whole = run(scenario)
    batches, real = [], api.project_boxes
    monkeypatch.setattr(api, "project_boxes", lambda configs, *a, **k: batches.append(len(configs)) or real(configs, *a, **k))
    monkeypatch.setattr(projection, "BOX_MODEL_ELEMENTS", 2 * 2 * (len(whole.pm25) + 24 * scenario.atmosphere.spin_up_days))
    split = run(scenario)
    assert batches == [2, 1]
    for city in whole.cities:
        pd.testing.assert_frame_equal(split.projection_by_city[city].frame, whole.projection_by_city[city].frame, check_exact=False, rtol=1e-12, atol=0)
    assert split.metrics["pm25"] == pytest.approx(whole.metrics["pm25"], rel=1e-12)


def test_city_metrics_are_those_of_a_mask_per_city(province):
    """city_metrics takes each city's lines as a slice of the list sorted by city: the figures
    a boolean mask per city gives, to the last bit, and the lines of each city."""
    from sim.physics.metrics import reduction_ratios

    _, path = province
    res = run(load_scenario(path))
    lines = res.inventory.lines
    got = res.city_metrics()
    assert list(got) == list(res.cities)
    for k, city in enumerate(res.cities):
        mask = (lines.city == city).to_numpy()
        other = res.other.city_id == k
        expected = reduction_ratios(res.inventory.mean_rate_kg_h[mask], res.measures_by_line.reduction[mask],
                                    res.other.rate_kg_h[other], res.other.reduction[other][:, 1:, :])
        assert (got[city]["list_ratio"], got[city]["society_ratio"]) == expected
        assert got[city]["lines"] == int((mask & ~lines.derived.to_numpy(bool)).sum())
