"""Negotiated deep cuts (协商减排, 003 item 31), worked by hand.

The tiny list (see test_hand_computed.py) plus E5, a grade-A (exempt) coal power unit:
SO2 10, NOx 20, PM10 2, PM2.5 1 kg/h, 24 h, 100 万元/d, with a negotiated NOx cut of 30 %
from orange (SCR run harder: its SO2 and output are untouched). Warnings: yellow hours 0-24,
orange 24-48, red 48-72; no response delay.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.api import prepare
from sim.config.vocabulary import LEVELS, POLLUTANTS
from sim.errors import InputError
from sim.rules.policy import rank_selection
from sim.config.scenario import RankRule

from conftest import FIXTURES, TINY_POLICY

TOL = 1e-12
E5 = "E5,戊热电,tiny,d1,32.1,119.6,power_coal,A,U1,boiler,,,10,20,2,1,0,0,24,100,0,0,0,0,0,\n"


@pytest.fixture
def files(tmp_path):
    factors = tmp_path / "factors"
    shutil.copytree(FIXTURES / "factors", factors)
    with open(factors / "industries.csv", "a", encoding="utf-8") as f:
        f.write("power_coal,boiler,燃煤电厂,锅炉,AD,0,MWh/d,flat,flat,test fixture\n")
    with open(factors / "factors.csv", "a", encoding="utf-8") as f:
        f.write("power_coal,boiler,nox,1.0,kg/MWh,0.0,test fixture,1\n")
    listing = tmp_path / "list.csv"
    listing.write_text((FIXTURES / "tiny_list.csv").read_text(encoding="utf-8") + E5, encoding="utf-8")
    agreements = tmp_path / "agreements.csv"
    agreements.write_text("企业编号,生产线编号,起始预警级别,氮氧化物减排比例,协商减排措施,措施英文,来源\n"
                          "E5,,,30%,脱硝系统满负荷运行,SCR at full load,test\n", encoding="utf-8")
    return tmp_path


def scenario(files, agreements: str | None = "agreements.csv", **negotiated) -> dict:
    policy = dict(TINY_POLICY)
    if agreements or negotiated:
        policy["negotiated"] = {**({"agreements": str(files / agreements)} if agreements else {}), **negotiated}
    return {
        "name": "negotiated",
        "period": {"start": "2023-12-04T00:00", "end": "2023-12-07T00:00"},
        "inventory": {"enterprises": str(files / "list.csv"), "emission_factors": str(files / "factors")},
        "policy": policy,
        "warnings": {"schedule": [{"level": "yellow", "start": "2023-12-04T00:00", "end": "2023-12-05T00:00"},
                                  {"level": "orange", "start": "2023-12-05T00:00", "end": "2023-12-06T00:00"},
                                  {"level": "red", "start": "2023-12-06T00:00", "end": "2023-12-07T00:00"}]},
        "response": {"delay_hours": {"default": 0}, "compliance": 1.0},
        "output": {"dir": str(files / "out")},
    }


@pytest.fixture
def pair(files, write_scenario):
    with_cuts = run(load_scenario(write_scenario(scenario(files), "with.yaml")))
    without = run(load_scenario(write_scenario(scenario(files, None), "without.yaml")))
    return with_cuts, without


def test_exempt_power_unit_cut_from_orange_only_in_nox(pair):
    result, without = pair
    scen = result.emissions[result.emissions.variant == "scenario"].reset_index(drop=True)
    hours = np.arange(72)
    level = hours // 24  # 0 yellow, 1 orange, 2 red
    # NOx: cement B (10) cut 0 / 20 % / stop; E5 (20) untouched at yellow, -30 % from orange
    nox = np.choose(level, [10.0 + 20.0, 8.0 + 14.0, 0.0 + 14.0]) / 1000
    # SO2: steel C (20) cut 30/40/50 %; E5 (10) never cut: the agreement is on NOx only
    so2 = np.choose(level, [14.0 + 10.0, 12.0 + 10.0, 10.0 + 10.0]) / 1000
    np.testing.assert_allclose(scen.nox, nox, rtol=0, atol=TOL)
    np.testing.assert_allclose(scen.so2, so2, rtol=0, atol=TOL)
    # E5's own totals [kg]: NOx 20 × 24 + 14 × 48, SO2 10 × 72
    e5 = int(np.flatnonzero(result.inventory.lines.enterprise_id.to_numpy() == "E5")[0])
    assert result.scenario_run.line_total_kg[e5, POLLUTANTS.index("nox")] == pytest.approx(20 * 24 + 14 * 48, abs=1e-9)
    assert result.scenario_run.line_total_kg[e5, POLLUTANTS.index("so2")] == pytest.approx(10 * 72, abs=1e-9)
    # a cut of one pollutant's emissions is no production cut: loss and counts as without it
    assert result.metrics["production_loss_wan_yuan"] == pytest.approx(without.metrics["production_loss_wan_yuan"], abs=1e-9)
    assert result.metrics["enterprise_days_limited"] == without.metrics["enterprise_days_limited"]


def test_ratios_with_and_without_by_hand(pair):
    result, without = pair
    m = result.metrics
    # NOx: base 30; grade measures cut 0 / 2 / 10, the agreement adds 0 / 6 / 6
    assert m["list_ratio"]["yellow"]["nox"] == pytest.approx(0.0, abs=TOL)
    assert m["list_ratio"]["orange"]["nox"] == pytest.approx(8 / 30, abs=TOL)
    assert m["list_ratio"]["red"]["nox"] == pytest.approx(16 / 30, abs=TOL)
    assert m["negotiated"]["list_ratio_without"] == without.metrics["list_ratio"]
    assert m["negotiated"]["society_ratio_without"] == without.metrics["society_ratio"]
    assert m["negotiated"]["list_ratio_without"]["orange"]["nox"] == pytest.approx(2 / 30, abs=TOL)
    assert m["list_ratio"]["red"]["so2"] == pytest.approx(10 / 30, abs=TOL)  # SO2 as without
    assert m["negotiated"]["lines"] == 1 and m["negotiated"]["enterprises"] == 1 and m["negotiated"]["exempt_lines"] == 1
    assert m["negotiated"]["output_value_cut_wan_yuan_per_day"] == {"yellow": 0.0, "orange": 0.0, "red": 0.0}
    assert "negotiated" not in without.metrics


def test_ratios_reconcile_line_by_line(pair):
    result, _ = pair
    rows = result.measures
    base = {p: rows[f"baseline_{p}_kg_d"].sum() for p in POLLUTANTS}
    for level in LEVELS:
        for key, p in (("so2", "so2"), ("nox", "nox"), ("pm", "pm10")):
            grade = rows[f"{level}_{p}_reduction_kg_d"].sum()
            added = rows[f"{level}_{p}_negotiated_kg_d"].sum()
            assert result.metrics["negotiated"]["list_ratio_without"][level][key] == pytest.approx(grade / base[p], abs=TOL)
            assert result.metrics["list_ratio"][level][key] == pytest.approx((grade + added) / base[p], abs=TOL)
    e5 = rows.set_index("enterprise_id").loc["E5"]
    assert e5["yellow_nox_negotiated_kg_d"] == 0.0
    assert e5["orange_nox_negotiated_kg_d"] == pytest.approx(20 * 24 * 0.3)
    assert e5["red_so2_negotiated_kg_d"] == 0.0
    assert e5["orange_negotiated_measure"] == "脱硝系统满负荷运行 (SCR at full load)"
    assert e5["yellow_negotiated_measure"] == ""
    assert e5["negotiated"] == "agreement row 2"
    assert e5["exempt_reason"] == "grade A"


def test_deeper_cut_holds_and_production_cut_costs_output(files, write_scenario):
    # E1 (cement B: 0 / 20 % / stop) agrees to a 50 % production cut from yellow: yellow 50 %,
    # orange 50 %, red the grade measure's stop
    (files / "prod.yaml").write_text("agreements:\n  - {enterprise_id: E1, from_level: 黄色, production_cut: 0.5, source: test}\n", encoding="utf-8")
    result = run(load_scenario(write_scenario(scenario(files, "prod.yaml"))))
    assert result.measures_by_line.production_cut[0].tolist() == [0.5, 0.5, 1.0]
    # loss: E1 48 万元/d × 0.5 over 48 h + × 1.0 over 24 h; E2 24 × (0.3 + 0.4 + 0.5) over a day each; E4 6 × 3 days
    assert result.metrics["production_loss_wan_yuan"] == pytest.approx(48 * 0.5 * 2 + 48 + 24 * 1.2 + 6 * 3, abs=1e-9)
    assert result.metrics["negotiated"]["output_value_cut_wan_yuan_per_day"] == pytest.approx({"yellow": 24.0, "orange": 14.4, "red": 0.0}, abs=1e-9)


def test_rank_selection_by_hand(files):
    # NOx of the tiny list + E5: E5 20, E1 10 kg/h. 60 % of the selection's 30 takes E5 (20 >= 18) alone;
    # 70 % takes both; of the city, the same lines (NOx is only in cement and power)
    sc = load_scenario_dict(files, rank=[{"name": "top", "industry": ["power_coal", "cement"], "pollutant": "nox", "share": 0.6, "nox_cut": 0.3}])
    inv = prepare(sc).inventory
    rule = RankRule.model_validate({"name": "top", "industry": ["power_coal", "cement"], "pollutant": "nox", "share": 0.6, "nox_cut": 0.3})
    assert rank_selection(inv, rule)[1] == ["E5"]
    assert rank_selection(inv, rule.model_copy(update={"share": 0.7}))[1] == ["E5", "E1"]
    assert rank_selection(inv, rule.model_copy(update={"share": 2 / 3}))[1] == ["E5"]  # exactly reached: no more
    # ties: equal emissions are taken in ascending enterprise_id
    so2 = RankRule.model_validate({"name": "s", "industry": ["steel", "power_coal"], "pollutant": "so2", "share": 0.5, "so2_cut": 0.3})
    lines = inv.lines.copy()
    assert rank_selection(inv, so2)[1] == ["E2"]  # 20 of 30
    inv.mean_rate_kg_h[lines.enterprise_id.to_numpy() == "E5", POLLUTANTS.index("so2")] = 20.0
    inv._codes.clear()
    assert rank_selection(inv, so2)[1] == ["E2"]  # 20 and 20: E2 before E5, and 20 of 40 reaches half
    measures = prepare(sc).measures
    assert measures.negotiated.label[measures.negotiated.lines].tolist() == ["rank top"]


def test_rank_rule_on_lines_without_the_pollutant_takes_nobody(files):
    # cement emits no VOCs in the tiny list: the rule takes no enterprise and says so
    sc = load_scenario_dict(files, rank=[{"name": "cement_voc", "industry": ["cement"], "pollutant": "voc", "share": 0.5, "voc_cut": 0.3}])
    prepared = prepare(sc)
    assert not prepared.measures.negotiated.lines.any()
    assert "negotiated rank rule 'cement_voc' selects no enterprise" in prepared.notes


def load_scenario_dict(files, **negotiated):
    import yaml
    path = files / "rank.yaml"
    path.write_text(yaml.safe_dump(scenario(files, None, **negotiated), allow_unicode=True), encoding="utf-8")
    return load_scenario(path)


def test_with_negotiated_variant(files, write_scenario):
    from sim import with_negotiated
    base = load_scenario(write_scenario(scenario(files, None)))
    variant = with_negotiated(base, top_share=0.6, industries=["power_coal", "cement"], pollutant="nox", nox_cut=0.3)
    assert run(variant).metrics["negotiated"]["enterprises"] == 1
    assert base.resolved_policy.negotiated is None


@pytest.mark.parametrize("row, where, problem", [
    ("E9,,,30%,,,x", "row 2 (E9), column enterprise_id", "enterprise 'E9' is not in the enterprise list"),
    ("E5,U9,,30%,,,x", "row 2 (E5), column line_id", "has no line 'U9'"),
])
def test_agreement_not_in_list(files, write_scenario, row, where, problem):
    (files / "bad.csv").write_text("enterprise_id,line_id,from_level,nox_cut,measure_zh,measure_en,source\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        prepare(load_scenario(write_scenario(scenario(files, "bad.csv"))))
    assert info.value.where == where and problem in info.value.problem


# --------------------------------------------------------------------------- the bundled demo

ROOT = FIXTURES.parents[1]


def test_negotiated_files_repeat_their_defaults():
    """guideline_negotiated.yaml repeats guideline_default.yaml's measures and adds the
    agreements; optimizer_menu_negotiated.yaml repeats the default menu and adds one entry."""
    from sim.config.scenario import load_policy
    from sim.optimize.optimizer import load_menu

    default = load_policy(ROOT / "scenarios" / "policies" / "guideline_default.yaml")
    negotiated = load_policy(ROOT / "scenarios" / "policies" / "guideline_negotiated.yaml")
    for key in ("targets", "base_ratio", "exempt", "rules"):
        assert getattr(negotiated, key) == getattr(default, key), key
    assert default.negotiated is None and len(negotiated.negotiated.resolved_agreements) == 24
    assert all(a.source for a in negotiated.negotiated.resolved_agreements)
    menu = load_menu(ROOT / "scenarios" / "policies" / "optimizer_menu.yaml")
    with_negotiated_entry = load_menu(ROOT / "scenarios" / "policies" / "optimizer_menu_negotiated.yaml")
    assert with_negotiated_entry.menus[:-1] == menu.menus and with_negotiated_entry.menus[-1].negotiated
    assert with_negotiated_entry.model_dump(exclude={"name", "menus"}) == menu.model_dump(exclude={"name", "menus"})


@pytest.fixture(scope="module")
def demo():
    return run(load_scenario(ROOT / "scenarios" / "demo_city_orange_negotiated.yaml"))


def test_demo_story(demo):
    """The guideline measures leave list NOx at 19.5 % / 27.3 % (orange / red); the agreements
    lift it to 29.5 % / 41.3 % and meet the red SO2, PM and VOCs targets, but not the NOx ones:
    the report says so."""
    from sim.report import negotiated_verdict

    m = demo.metrics
    without = m["negotiated"]["list_ratio_without"]
    assert round(without["orange"]["nox"], 3) == 0.195 and round(without["red"]["nox"], 3) == 0.273
    assert round(m["list_ratio"]["orange"]["nox"], 3) == 0.295 and round(m["list_ratio"]["red"]["nox"], 3) == 0.413
    assert m["targets_met"]["red"]["list"] == {"so2": True, "nox": False, "pm": True, "voc": True}
    assert m["list_ratio"]["yellow"] == without["yellow"]  # the agreements start at orange
    words = " ".join(negotiated_verdict(m))
    assert "still not met at Orange and Red" in words and "Red NOx 41.3% (without them 27.3%) < 50%" in words
    assert m["negotiated"]["enterprises"] == 9 and m["negotiated"]["exempt_lines"] == m["negotiated"]["lines"]


def test_demo_without_agreements_is_the_guideline_demo(demo):
    base = run(load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml"))
    assert demo.metrics["negotiated"]["list_ratio_without"] == base.metrics["list_ratio"]
    assert demo.metrics["negotiated"]["society_ratio_without"] == base.metrics["society_ratio"]
    assert demo.metrics["production_loss_wan_yuan"] > base.metrics["production_loss_wan_yuan"]  # production cuts cost output


def test_optimiser_proposes_negotiated_cuts():
    from sim.optimize.optimizer import assign_measures, load_menu, optimize, override_frame

    scenario = load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml")
    menu = load_menu(ROOT / "scenarios" / "policies" / "optimizer_menu_negotiated.yaml")
    plain = optimize(scenario, ROOT / "scenarios" / "policies" / "optimizer_menu.yaml", simulate=False)
    opt = optimize(scenario, menu, simulate=False)
    for g, lst in opt.lists.items():
        neg = lst.measures.negotiated
        assert neg is not None and (neg.production.max(axis=1) > 0).any()
        agreed = neg.production.max(axis=1) > 0
        assert lst.measures.exempt[agreed].all() and (lst.measures.reduction[agreed] == 0).all()  # negotiated, not grade measures
        assert (neg.production[:, 0] == 0).all()  # proposed from orange only (003 item 31)
        assert not lst.relaxed  # every target reached
        assert lst.solution.objective < plain.lists[g].solution.objective  # cheaper than without them
    assert "negotiated" in override_frame(opt.inventory, opt.lists["line"]).columns
    summary = opt.summary()["lists"]["line"]["negotiated"]
    assert summary["lines"] > 0 and set(summary["enterprise_ids"]) <= {"DC0001", "DC0244", "DC0245", "DC0246", "DC0248", "DC0249", "DC0255", "DC0950", "DC1313"}
    # the rule list writes the negotiated cuts as agreements, and they read back the same
    policy = opt.lists["rule"].policy
    again = assign_measures(opt.inventory, policy)
    np.testing.assert_allclose(again.production_cut, opt.lists["rule"].measures.production_cut, atol=1e-12)


def test_line_totals_match_hourly_with_compliance_draws_and_inspections(files, write_scenario):
    """Lines moving between complying and not (draws, inspections) keep their per-pollutant
    totals: Σ line totals = Σ hourly emissions, pollutant by pollutant."""
    data = scenario(files)
    data["response"] = {"delay_hours": {"default": 3}, "compliance": 0.5, "inspections": {"per_day": 2, "catch_probability": 0.9}}
    data["ensemble"] = {"members": 1, "seed": 3}
    result = run(load_scenario(write_scenario(data)))
    run_ = result.scenario_run
    np.testing.assert_allclose(run_.line_total_kg.sum(axis=0), run_.hourly_kg_h.sum(axis=0), rtol=1e-12)
