"""Scenario variants of the Python API (sim/variants.py): its doctests, the round trip
(a variant built in Python and the same variant written as YAML + CSV give identical results,
``scenario_sha256`` included), determinism of the random choices, and input checks."""

from __future__ import annotations

import doctest
import json

import pandas as pd
import pytest

import sim.variants
from conftest import FIXTURES, ROOT
from sim import (
    compare,
    load_scenario,
    run,
    with_exempt_grades,
    with_grade_upgrades,
    with_members,
    with_rule,
    with_staggered_days,
    with_warnings,
    with_whitelist,
    without_rules,
)
from sim.config.scenario import Rule

STRICT_D = {
    "name": "grade_D_stop_from_yellow",
    "grade": ["D"],
    "reduction": {"yellow": "stop", "orange": "stop", "red": "stop"},
    "source": "环办大气函〔2020〕340号 — D at yellow and above stop; here ahead of the white-list, livelihood and restricted-industry rules",
}


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Edited lists go to this test's folder, not the shared temp folder."""
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def orange():
    return load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml")


@pytest.fixture(scope="module")
def forecast():
    return load_scenario(ROOT / "scenarios" / "demo_city_forecast.yaml")


def test_doctests_run_on_the_demo_data(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples name scenarios/... from the repository root
    failures, tried = doctest.testmod(sim.variants, optionflags=doctest.NORMALIZE_WHITESPACE, report=True)
    assert tried >= 20
    assert failures == 0


def assert_same_results(a, b) -> None:
    """Everything a run reports: reduction list, emissions, warnings, PM2.5 and metrics."""
    pd.testing.assert_frame_equal(a.measures, b.measures, check_exact=True)
    pd.testing.assert_frame_equal(a.emissions, b.emissions, check_exact=True)
    pd.testing.assert_frame_equal(a.emissions_by_group, b.emissions_by_group, check_exact=True)
    pd.testing.assert_frame_equal(a.warnings, b.warnings, check_exact=True)
    pd.testing.assert_frame_equal(a.pm25, b.pm25, check_exact=True)
    assert json.dumps(a.metrics, sort_keys=True) == json.dumps(b.metrics, sort_keys=True)


def test_round_trip_list_levers(orange):
    """Grade upgrades + wider white list + a 70-day cement calendar, in Python and in YAML."""
    v = with_grade_upgrades(orange, {"D": "C", "C": "B"}, share={"D": 1.0, "C": 0.2}, seed=1)
    v = with_whitelist(v, share=0.5, seed=1)
    v = with_staggered_days(v, "cement", "clinker_kiln", 70, start="2023-12-01")
    written = load_scenario(ROOT / "scenarios" / "demo_city_programme.yaml")
    v = v.replace(name=written.name, description=written.description, output=written.output)
    # the edited list is the committed one, byte for byte (regenerate it if numpy's random
    # stream ever changes: see the comment in scenarios/demo_city_programme.yaml)
    assert v.inventory.enterprises.read_bytes() == written.inventory.enterprises.read_bytes()
    a, b = run(v), run(written)
    assert_same_results(a, b)
    assert a.metrics["scenario_sha256"] == b.metrics["scenario_sha256"]
    grades = a.measures.groupby("enterprise_id").grade.first().value_counts()
    assert "D" not in grades.index


def test_round_trip_policy_levers_with_members(forecast):
    """A and B exempt + stricter D + a 5-member ensemble, in Python and in YAML."""
    v = with_exempt_grades(forecast, ["A+", "A", "leading", "B", "B-"])
    v = with_rule(v, STRICT_D, position=0)
    v = with_members(v, 5, seed=11)
    written = load_scenario(ROOT / "scenarios" / "demo_city_forecast_a_and_b_exempt.yaml")
    wp = written.resolved_policy
    # the policy file carries its own name and description; the levers are what must agree
    policy = v.resolved_policy.model_copy(update={"name": wp.name, "description": wp.description})
    v = v.replace(name=written.name, description=written.description, output=written.output, policy=policy)
    assert policy.model_dump() == wp.model_dump()
    a, b = run(v), run(written)
    assert_same_results(a, b)
    assert a.metrics["scenario_sha256"] == b.metrics["scenario_sha256"]
    assert a.metrics["warning_statistics"]["members"] == 5


def test_sha256_differs_when_a_lever_moves(orange):
    upgraded = with_grade_upgrades(orange, {"D": "C"})
    assert run(upgraded).sha256 != run(orange).sha256


def test_upgrades_are_deterministic_and_nested(orange):
    def upgraded_ids(scenario):
        table = pd.read_csv(scenario.inventory.enterprises, dtype=str)
        before = pd.read_csv(orange.inventory.enterprises, dtype=str)
        return set(table.enterprise_id[table.grade != before.grade])

    fifth = with_grade_upgrades(orange, {"C": "B"}, share=0.2, seed=3)
    again = with_grade_upgrades(orange, {"C": "B"}, share=0.2, seed=3)
    assert fifth.inventory.enterprises == again.inventory.enterprises
    two_fifths = with_grade_upgrades(orange, {"C": "B"}, share=0.4, seed=3)
    other_seed = with_grade_upgrades(orange, {"C": "B"}, share=0.2, seed=4)
    ids = upgraded_ids(fifth)
    assert len(ids) == round(0.2 * 522)  # 522 C enterprises in the demo list
    assert ids < upgraded_ids(two_fifths)  # a larger share keeps the smaller one's choice
    assert ids != upgraded_ids(other_seed)
    # the order of the mapping does not matter; shares apply to the grades as listed
    one = with_grade_upgrades(orange, {"D": "C", "C": "B"}, share={"D": 1.0, "C": 0.2}, seed=1)
    other = with_grade_upgrades(orange, {"C": "B", "D": "C"}, share={"C": 0.2, "D": 1.0}, seed=1)
    assert one.inventory.enterprises.read_bytes() == other.inventory.enterprises.read_bytes()
    table = pd.read_csv(one.inventory.enterprises, dtype=str).groupby("enterprise_id").grade.first()
    assert (table == "D").sum() == 0 and (table == "B").sum() == 196 + 104


def test_list_edits_change_only_edited_cells(orange):
    v = with_whitelist(orange, enterprises=["DC0003"])
    before = orange.inventory.enterprises.read_text(encoding="utf-8").splitlines()
    after = v.inventory.enterprises.read_text(encoding="utf-8").splitlines()
    changed = [(x, y) for x, y in zip(before, after) if x != y]
    assert len(before) == len(after) and changed
    assert all(x.startswith("DC0003,") and x.split(",")[22] == "0" and y.split(",")[22] == "1" for x, y in changed)
    assert all(x.split(",")[:22] == y.split(",")[:22] for x, y in changed)


def test_chinese_gb18030_list(tmp_path, tiny_scenario, write_scenario):
    """A list with Chinese headers and grade spellings, in GB18030 with CRLF line ends."""
    source = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
    header = source[0].replace("enterprise_id", "企业编号").replace("grade", "绩效等级").replace("whitelist", "白名单")
    rows = [header] + [r.replace(",D,", ",D级,") for r in source[1:]]
    path = tmp_path / "名单.csv"
    path.write_bytes("\r\n".join(rows + [""]).encode("gb18030"))
    tiny_scenario["inventory"]["enterprises"] = str(path)
    scenario = load_scenario(write_scenario(tiny_scenario))
    v = with_grade_upgrades(scenario, {"D级": "C级"})
    assert v.inventory.enterprises.name == "名单.csv"
    assert v.inventory.enterprises.read_bytes() == path.read_bytes().replace(",D级,".encode("gb18030"), b",C,")
    assert run(v).measures.set_index("enterprise_id").loc["E4", "grade"] == "C"
    assert run(scenario).measures.set_index("enterprise_id").loc["E4", "grade"] == "D"


def test_exempt_grades_reconcile_the_rules(orange):
    v = with_exempt_grades(orange, ["A级", "B", "B-", "leading", "A+"], flags=["ultra_low", "restricted"])
    policy = v.resolved_policy
    assert policy.exempt.grades == ["A", "B", "B-", "leading", "A+"]
    names = [r.name for r in policy.rules]
    assert "grade_B" not in names and "restricted_industry" not in names and "whitelist_low_voc" in names
    assert all(not set(r.grade or ()) & {"B", "B-"} for r in policy.rules)
    result = run(v)  # the run's own check (no rule may target an exempt grade) passes
    m = result.measures
    assert (m.loc[m.grade.isin(["A", "B", "B-"]), "orange_reduction"] == 0).all()
    assert (m.loc[m.restricted == 1, "orange_reduction"] == 0).all()
    assert [r.name for r in orange.resolved_policy.rules].count("grade_B") == 1  # input untouched


def test_no_exemptions_cuts_more(orange):
    none = without_rules(with_exempt_grades(orange, [], flags=[]), "whitelist_low_voc")
    table = compare([orange, none], names=["default", "none"])
    assert table.scenario.tolist() == ["default", "none"]
    assert table.exempt_lines.tolist()[1] == 0
    assert (table.list_ratio_orange_nox.diff().iloc[1]) > 0
    assert table.production_loss_wan_yuan.iloc[1] > table.production_loss_wan_yuan.iloc[0]


def test_rule_position_and_names(orange):
    v = with_rule(orange, Rule(name="last", reduction={"yellow": 0.1, "orange": 0.1, "red": 0.1}), position=len(orange.resolved_policy.rules))
    assert v.resolved_policy.rules[-1].name == "last"
    with pytest.raises(ValueError, match="unique"):
        with_rule(orange, {**STRICT_D, "name": "grade_D"})
    with pytest.raises(KeyError, match="no rule named 'nope'"):
        without_rules(orange, "nope")


def test_staggered_days(orange):
    season = load_scenario(ROOT / "scenarios" / "demo_city_season.yaml")
    off = with_staggered_days(season, "cement", "clinker_kiln", 0)
    assert [r.name for r in off.staggered_production] == ["steel_sinter_cap", "foundry_spring_festival"]
    cap = with_staggered_days(season, "steel", "sinter", 30, reduction=0.5, grade=["C", "D"], exempt_grades=[], exempt_flags=[])
    rule = cap.staggered_production[-1]
    assert (rule.reduction, rule.grade, str(rule.start), str(rule.end)) == (0.5, ["C", "D"], "2023-11-15 00:00:00", "2023-12-15 00:00:00")
    assert len(cap.staggered_production) == 3
    added = with_staggered_days(season, "cement", "clinker_kiln", 10, replace=False)
    assert len(added.staggered_production) == 4
    with pytest.raises(ValueError):
        with_staggered_days(season, "cement", "clinker_kiln", -1)
    with pytest.raises(ValueError, match="both named"):  # a grade that is cut and exempt at once
        with_staggered_days(season, "steel", "sinter", 10, grade=["A"])


def test_members_and_warnings(forecast):
    v = with_members(forecast, 3, seed=5)
    assert (v.ensemble.members, v.ensemble.seed) == (3, 5)
    assert with_members(forecast, 3).ensemble.seed == forecast.ensemble.seed
    with pytest.raises(ValueError):
        with_members(forecast, 0)
    assert with_warnings(forecast, lead_hours=0, standard="mee_2024").warnings.standard == "mee_2024"
    with pytest.raises(ValueError, match="not both"):
        with_warnings(forecast, schedule=[{"level": "orange", "start": "2023-12-04T00:00", "end": "2023-12-05T00:00"}])


def test_compare_runs_scenarios_and_keeps_results(orange):
    result = run(orange)
    table = compare({"result": result, "scenario": orange})
    assert table.scenario.tolist() == ["result", "scenario"]
    row = table.drop(columns="scenario")
    pd.testing.assert_series_equal(row.iloc[0], row.iloc[1], check_names=False)
    assert compare([result]).scenario.tolist() == [orange.name]
    with pytest.raises(ValueError, match="2 names for 1"):
        compare([result], names=["a", "b"])


def test_bad_arguments(orange):
    with pytest.raises(ValueError, match="not a performance grade"):
        with_grade_upgrades(orange, {"E": "C"})
    with pytest.raises(ValueError, match="one value per source grade"):
        with_grade_upgrades(orange, {"D": "C", "C": "B"}, share={"D": 1.0})
    with pytest.raises(ValueError, match="between 0 and 1"):
        with_grade_upgrades(orange, {"D": "C"}, share=1.5)
    with pytest.raises(ValueError, match="give 'share'"):
        with_whitelist(orange)
    with pytest.raises(ValueError, match="not in the list"):
        with_whitelist(orange, enterprises=["XX9999"])


def test_xlsx_list_becomes_an_edited_csv(tmp_path, tiny_scenario, write_scenario):
    path = tmp_path / "tiny.xlsx"
    pd.read_csv(FIXTURES / "tiny_list.csv", dtype=str, keep_default_na=False).to_excel(path, index=False)
    tiny_scenario["inventory"]["enterprises"] = str(path)
    scenario = load_scenario(write_scenario(tiny_scenario))
    v = with_whitelist(with_grade_upgrades(scenario, {"D": "C"}), enterprises=["E3"])
    assert v.inventory.enterprises.name == "tiny.csv"
    before, after = run(scenario).measures, run(v).measures
    assert after.set_index("enterprise_id").loc["E4", "grade"] == "C"
    assert after.set_index("enterprise_id").loc["E3", "whitelist"] == 1
    same = [c for c in before.columns if c not in ("grade", "whitelist", "source_row")]
    pd.testing.assert_frame_equal(before.loc[before.enterprise_id.isin(["E1", "E2"]), same], after.loc[after.enterprise_id.isin(["E1", "E2"]), same])


def test_a_list_without_the_columns_a_variant_edits_is_an_input_error(tmp_path):
    """The list editor answers like the list reader: an InputError naming the file and the fix."""
    from sim.errors import InputError
    from sim.variants import _Table

    path = tmp_path / "list.csv"
    path.write_text("enterprise_id,grade\nE1,B\n", encoding="utf-8")
    with pytest.raises(InputError, match="no industry column") as caught:
        _Table(path, None)
    assert "Fix:" in caught.value.message
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="the enterprise list is empty"):
        _Table(path, None)
