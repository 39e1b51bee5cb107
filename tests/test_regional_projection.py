"""The regional model wired into a run: scenario keys, per-city figures, the neighbours' share."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario, run

from conftest import ROOT


@pytest.fixture(scope="module")
def region():
    return load_scenario(ROOT / "scenarios" / "demo_region.yaml")


@pytest.fixture(scope="module")
def result(region):
    return run(region)


def test_every_city_of_the_region_is_modelled_with_its_shares(result, region):
    assert set(result.cities) == set(region.atmosphere.cities)  # four of them have no listed line
    for city, entry in result.metrics["by_city"].items():
        pm = entry["pm25"]
        assert 0.0 < pm["local_share_modelled"] < 1.0
        assert 0.0 < pm["regional_share_modelled"] < 1.0
        assert pm["local_share_modelled"] + pm["regional_share_modelled"] < 1.0  # the far field is the rest
        assert pm["reduction_all_measures_ug_m3"] > 0.0
        assert "calibration_scale" not in pm  # no calibration: c = 1
    by_city = result.pm25_by_city
    assert set(by_city.city) == set(region.atmosphere.cities)
    assert (by_city.scenario <= by_city.baseline + 1e-9).all()


def test_neighbours_measures_reach_demo_city(result, region):
    """Demo City gains from the regional warning beyond its own measures, and loses that gain when
    only Demo City warns."""
    pm = result.metrics["by_city"]["demo_city"]["pm25"]
    assert pm["reduction_all_measures_ug_m3"] > pm["reduction_own_measures_ug_m3"] > 0.0
    alone_warnings = region.warnings.model_copy(update={
        "regional": [],
        "schedule": [w.model_copy(update={"city": ["demo_city"]}) for w in region.warnings.regional],
    })
    alone = run(region.replace(warnings=alone_warnings))
    own_only = alone.metrics["by_city"]["demo_city"]["pm25"]
    assert own_only["reduction_all_measures_ug_m3"] == pytest.approx(own_only["reduction_own_measures_ug_m3"], rel=1e-9)
    assert own_only["reduction_all_measures_ug_m3"] < pm["reduction_all_measures_ug_m3"]
    # a neighbour without a warning takes no measure: what it gains comes from Demo City's air
    north = alone.metrics["by_city"]["north_city"]["pm25"]
    assert north["reduction_own_measures_ug_m3"] is None and north["reduction_all_measures_ug_m3"] is None  # no warning hours
    gain = lambda r: (lambda f: (f.baseline - f.scenario).mean())(r.pm25_by_city[r.pm25_by_city.city == "north_city"])  # noqa: E731
    assert 0.0 <= gain(alone) < 0.1 * gain(result)


def test_local_share_is_only_a_check(region):
    checked = run(region.replace(atmosphere=region.atmosphere.model_copy(update={"local_share": 0.9})))
    assert any("demo_city: the regional model makes" in n and "local_share says 90%" in n for n in checked.metrics["notes"])
    plain = run(region)
    np.testing.assert_array_equal(checked.pm25_by_city.scenario, plain.pm25_by_city.scenario)


def test_members_may_draw_the_regional_parameters(region):
    """Regional warnings and full compliance: members differ only by their parameter draws."""
    fixed = region.replace(ensemble=region.ensemble.model_copy(update={"members": 6}))
    drawn = fixed.replace(atmosphere=fixed.atmosphere.model_copy(update={"draw_parameters": True}))
    plain, a, b = run(fixed), run(drawn), run(drawn)
    warned = plain.pm25.warning_level.to_numpy() != "none"
    assert np.ptp(plain.projection.members_ug_m3, axis=0).max() < 1e-9
    assert np.ptp(a.projection.members_ug_m3[:, warned], axis=0).min() > 1e-3
    np.testing.assert_array_equal(a.projection.members_ug_m3, b.projection.members_ug_m3)
    np.testing.assert_array_equal(a.pm25_by_city.baseline, plain.pm25_by_city.baseline)
    # the shares are those of the default parameters
    assert a.metrics["by_city"]["demo_city"]["pm25"]["local_share_modelled"] == plain.metrics["by_city"]["demo_city"]["pm25"]["local_share_modelled"]


def test_report_shows_where_each_citys_pm25_comes_from(result):
    from sim.report.html import render_report_html

    for lang, title in (("en", "Where each city"), ("zh", "各城市PM2.5来源")):
        page = render_report_html(result, {}, lang)
        assert title in page and "demo_city" in page
        assert "本地贡献校准系数" not in page and "Calibration scale" not in page  # no calibration in the regional model


def test_large_ensembles_run_in_chunks_of_variants(region, monkeypatch):
    from sim.physics import projection

    members = region.replace(ensemble=region.ensemble.model_copy(update={"members": 3}))
    whole = run(members)
    monkeypatch.setattr(projection, "REGIONAL_ELEMENTS", 5 * 300)  # one variant per call
    chunked = run(members)
    # the same numbers to the last digits (vectorised loops may round differently on other shapes)
    np.testing.assert_allclose(whole.pm25_by_city.scenario, chunked.pm25_by_city.scenario, rtol=1e-13)
    for city, entry in whole.metrics["by_city"].items():
        for key, value in entry["pm25"].items():
            assert chunked.metrics["by_city"][city]["pm25"][key] == pytest.approx(value, rel=1e-12, abs=1e-12), (city, key)


def test_one_city_alone_has_no_neighbours_share(region):
    alone = region.replace(atmosphere=region.atmosphere.model_copy(update={"cities": {"demo_city": region.atmosphere.cities["demo_city"]}}),
                           inventory=region.inventory.model_copy(update={"other_sources": region.inventory.other_sources[:1]}))
    metrics = run(alone).metrics
    pm = metrics["pm25"]
    # the far field's own gases make secondary PM, but that stays with the far field
    assert pm["regional_share_modelled"] == pytest.approx(0.0, abs=1e-12)
    assert pm["local_share_modelled"] == pytest.approx(pm["modelled_share_of_observation"], rel=1e-12)
    assert "calibration_scale" not in metrics


def test_drawn_parameters_are_not_identical_members(region):
    drawn = region.replace(ensemble=region.ensemble.model_copy(update={"members": 2}),
                           atmosphere=region.atmosphere.model_copy(update={"draw_parameters": True}))
    assert not any("members are identical" in n for n in run(drawn).metrics["notes"])
