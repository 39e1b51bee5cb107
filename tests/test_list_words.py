"""The reduction list as a Chinese planner reads it: measures and reasons "中文 (English)",
no internal key outside brackets, staggered production named where it stops a line, truck
rows under their enterprise, the Excel columns and totals, warning reasons in the zh report.

A seven-row list worked by hand (below) and the orange demo city.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from conftest import FIXTURES, ROOT, TINY_POLICY
from sim import load_scenario, run
from sim.api import list_order
from sim.outputs import write_tables
from sim.rules.policy import describe_reduction
from sim.report import excel, render_report_html, warning_reason, write_measures_xlsx

HEAD = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()[0]
#: E2 (steel, bulk transport) has its second line after E3's: the list must bring them together
#: and put E2's derived truck row right below them.
ROWS = [
    "E1,甲水泥,tiny,d1,32.1,119.4,cement,B,L1,clinker_kiln,,,0,10,2,1,0,0,24,48,0,0,0,0,0,",
    "E2,乙钢铁,tiny,d1,32.1,119.5,steel,C,L1,sinter,,,20,0,0,0,0,0,24,24,0,0,0,0,1,10",
    "E3,丙涂装,tiny,d2,32.2,119.4,industrial_coating,A,L1,spray_coating,,,0,0,0,0,12,0,24,12,0,0,0,0,0,",
    "E2,乙钢铁,tiny,d1,32.1,119.5,steel,C,L2,sinter,,,10,0,0,0,0,0,24,12,0,0,0,0,1,10",
    "E5,戊涂装,tiny,d2,32.2,119.6,industrial_coating,C,L1,spray_coating,,,0,0,0,0,5,0,24,5,0,0,1,0,0,",
    "E6,己钢铁,tiny,d1,32.3,119.5,steel,B,L1,sinter,,,5,0,0,0,0,0,24,30,1,0,0,0,0,",
]
WHITELIST = "白名单企业（全面使用低VOCs原辅材料）自主减排 (white list, low-VOCs materials, self-directed reductions)"
LIVELIHOOD = "保障类企业：以热定产/以量定产 (livelihood: demand-led)"
TRUCKS = "应急运输响应：大宗物料运输车辆 (emergency transport response: bulk-transport trucks)"
KILN_STOP = "错峰生产停产 12-01–03-15 (staggered production: stopped 1 Dec–15 Mar)"
SINTER_HALF = "错峰生产限产50% 12-04 (staggered production: production -50% 4 Dec)"
POLICY = {
    **TINY_POLICY,
    "rules": [
        {"name": "whitelist_low_voc", "industry": "industrial_coating", "flags": ["whitelist"], "exempt": True, "reason": WHITELIST},
        {"name": "livelihood_demand_led", "flags": ["livelihood"], "reduction": {"yellow": 0.1, "orange": 0.1, "red": 0.15}, "reason": LIVELIHOOD},
        {"name": "transport_response", "industry": "road_transport", "reduction": {"yellow": 0.3, "orange": 0.4, "red": 0.5}, "reason": TRUCKS},
        {"name": "cement_B", "industry": "cement", "grade": ["B"], "reduction": {"yellow": 0.0, "orange": 0.2, "red": "stop"},
         "measure": {"yellow": "禁用国四及以下运输车辆 (no China-IV-or-older trucks)"}},
        {"name": "grade_D", "grade": ["D"], "reduction": {"yellow": "stop", "orange": "stop", "red": "stop"}},
    ],
}
CALENDARS = [
    {"industry": "cement", "process": "clinker_kiln", "start": "2023-12-01", "end": "2024-03-16", "reduction": 1.0, "exempt_grades": ["A"]},
    {"industry": "steel", "process": "sinter", "start": "2023-12-04", "end": "2023-12-05", "reduction": 0.5},
]
MEASURES = [f"{level}_measure" for level in ("yellow", "orange", "red")]
#: Chinese first: a Han character, or a grade as Chinese writes it (A级, A+级, B-级)
CJK_FIRST = re.compile(r"^([\u3400-\u9fff]|[A-D][+-]?级)")


@pytest.fixture
def seven(tmp_path, write_scenario, tiny_scenario):
    path = tmp_path / "list.csv"
    path.write_text("\n".join([HEAD, *ROWS]) + "\n", encoding="utf-8")
    data = copy.deepcopy(tiny_scenario)
    data["inventory"]["enterprises"] = str(path)
    data["policy"] = POLICY
    data["staggered_production"] = CALENDARS
    return run(load_scenario(write_scenario(data)))


@pytest.fixture(scope="module")
def demo():
    return run(load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml"))


def _outside_brackets(words: str) -> str:
    """The text with every ASCII-bracketed part removed (where internal names may stand)."""
    return re.sub(r"\([^()]*\)", "", words)


# --------------------------------------------------------------------------- wording


def test_generated_measures_are_chinese_first():
    assert describe_reduction(0.3) == "限产30% (production -30%)"
    assert describe_reduction(0.125) == "限产12.5% (production -12.5%)"
    assert describe_reduction(1.0) == "停产 (stop production)"
    assert describe_reduction(0.0) == "不强制减排 (no mandatory cut)"


def test_each_row_reads_as_worked_by_hand(seven):
    m = seven.reduction_list.set_index(["enterprise_id", "line_id"])
    kiln = m.loc[("E1", "L1")]
    assert kiln.yellow_measure == "禁用国四及以下运输车辆 (no China-IV-or-older trucks)；" + KILN_STOP
    assert kiln.orange_measure == "限产20% (production -20%)；" + KILN_STOP
    assert kiln.red_measure == "停产 (stop production)", "a stop already says all the calendar would"
    assert (kiln.calendar, kiln.calendar_reduction, kiln.calendar_text) == ("cement:clinker_kiln", 1.0, KILN_STOP[:-1] + "; calendar cement:clinker_kiln)")
    sinter = m.loc[("E2", "L1")]  # grade C without a rule: base ratio 30/40/50 %, the calendar halves it on 4 Dec
    assert sinter.yellow_measure == "限产30% (production -30%)；" + SINTER_HALF
    assert sinter.orange_measure == "限产40% (production -40%)；" + SINTER_HALF
    assert sinter.red_measure == "限产50% (production -50%)"
    coated = m.loc[("E3", "L1")]
    assert (coated.exempt_reason, coated.reason) == ("grade A", "A级企业自主减排 (grade A, self-directed reductions)")
    assert coated.red_measure == "豁免：A级企业自主减排 (exempt: grade A, self-directed reductions)"
    white = m.loc[("E5", "L1")]
    assert (white.exempt_reason, white.rule, white.reason) == ("rule whitelist_low_voc", "whitelist_low_voc", WHITELIST)
    assert white.yellow_measure == "豁免：白名单企业（全面使用低VOCs原辅材料）自主减排 (exempt: white list, low-VOCs materials, self-directed reductions)"
    kept = m.loc[("E6", "L1")]  # livelihood: not exempt, yet the list says why it is handled apart
    assert (kept.exempt_reason, kept.rule, kept.reason) == ("", "livelihood_demand_led", LIVELIHOOD)
    assert kept.yellow_measure == "限产10% (production -10%)；" + SINTER_HALF
    truck = m.loc[("E2", "road_transport")]
    assert (truck.derived, truck.reason, truck.calendar) == (1, TRUCKS, ""), "calendars stop production lines, not trucks"


def test_truck_rows_follow_their_enterprise(seven, tmp_path):
    write_tables(seven, tmp_path)
    written = pd.read_csv(tmp_path / "measures.csv", dtype={"enterprise_id": str, "line_id": str}, keep_default_na=False)
    assert list(zip(written.enterprise_id, written.line_id)) == [
        ("E1", "L1"), ("E2", "L1"), ("E2", "L2"), ("E2", "road_transport"), ("E3", "L1"), ("E5", "L1"), ("E6", "L1")]
    assert list(written.source_row) == [2, 3, 5, 3, 4, 6, 7], "each row still names its input row; the truck row its enterprise's first"
    assert written.loc[3, "reason"] == TRUCKS and written.loc[5, "reason"] == WHITELIST
    # the run's own frame keeps the inventory order that its arrays follow
    assert list(seven.measures.enterprise_id) == ["E1", "E2", "E3", "E2", "E5", "E6", "E2"]


def test_list_order_puts_derived_rows_under_their_enterprise():
    lines = pd.DataFrame({"enterprise_id": ["a", "b", "a", "c", "b", "a"], "derived": [False, False, False, False, True, True]})
    assert list_order(lines).tolist() == [0, 2, 5, 1, 4, 3]


def test_exempt_rule_without_words_names_its_key_only_in_brackets(tmp_path, write_scenario, tiny_scenario):
    data = copy.deepcopy(tiny_scenario)
    data["policy"] = {**TINY_POLICY, "rules": [{"name": "coating_d_exempt", "industry": "industrial_coating", "grade": ["D"], "exempt": True}]}
    rows = run(load_scenario(write_scenario(data))).measures.set_index("enterprise_id")
    assert rows.loc["E4", "exempt_reason"] == "rule coating_d_exempt"
    assert rows.loc["E4", "reason"] == "按政策规则豁免，自主减排 (exempt by a policy rule, self-directed reductions; policy rule coating_d_exempt)"
    assert rows.loc["E4", "red_measure"].startswith("豁免：按政策规则豁免")


# --------------------------------------------------------------------------- the demo city


def test_demo_b_clinker_kiln_reads_staggered_production_not_running(demo):
    m = demo.reduction_list
    kilns = m[(m.industry == "cement") & (m.process == "clinker_kiln") & (m.grade == "B")]
    assert len(kilns) >= 1
    for level in ("yellow", "orange"):
        assert kilns[f"{level}_measure"].str.contains("；错峰生产停产 12-01–03-15 (staggered production: stopped 1 Dec–15 Mar)", regex=False).all()
    covered = m[m.calendar != ""]
    assert not covered[MEASURES].stack().str.contains("runs").any()
    # wherever the calendar cuts more than a level's measure, that level's words say so
    for level in ("yellow", "orange", "red"):
        weaker = covered[f"{level}_reduction"] < covered.calendar_reduction
        assert covered.loc[weaker, f"{level}_measure"].str.contains("错峰生产").all()
        assert not covered.loc[~weaker, f"{level}_measure"].str.contains("错峰生产").any()


def test_demo_words_are_chinese_first_and_keys_stay_in_brackets(demo):
    m = demo.reduction_list
    words = pd.concat([m[c] for c in MEASURES] + [m.reason[m.reason != ""], m.calendar_text[m.calendar_text != ""]])
    assert words.str.match(CJK_FIRST).all(), sorted(set(words[~words.str.match(CJK_FIRST)]))[:5]
    keys = [r.name for r in demo.scenario.resolved_policy.rules] + ["base_ratio", "cement:clinker_kiln"]
    shown = words.map(_outside_brackets).drop_duplicates()
    for key in keys:
        assert not shown.str.contains(key, regex=False).any(), key
    assert not shown.str.contains(r"[a-z]+_[a-z]+", regex=True).any()
    # the machine columns keep their stable keys
    assert m.exempt_reason[m.exempt_reason != ""].str.fullmatch(r"(grade|flag|rule) \S+").all()
    assert set(m.loc[m.rule == "livelihood_demand_led", "reason"]) == {LIVELIHOOD}
    assert set(m.loc[m.rule == "whitelist_low_voc", "reason"]) == {WHITELIST}


def test_demo_truck_rows_sit_under_their_enterprise(demo, tmp_path):
    write_tables(demo, tmp_path)
    m = pd.read_csv(tmp_path / "measures.csv", dtype={"enterprise_id": str, "line_id": str}, usecols=["enterprise_id", "line_id", "derived", "source_row"])
    trucks = np.flatnonzero(m.derived.to_numpy() == 1)
    assert len(trucks) == demo.metrics["list"]["derived_transport_rows"] > 0
    above = m.iloc[trucks - 1]
    assert (above.enterprise_id.to_numpy() == m.enterprise_id.to_numpy()[trucks]).all() and (above.derived == 0).all()
    after = trucks + 1 < len(m)  # the next row starts another enterprise
    assert (m.enterprise_id.to_numpy()[trucks[after] + 1] != m.enterprise_id.to_numpy()[trucks[after]]).all()
    runs = (m.enterprise_id != m.enterprise_id.shift()).sum()
    assert runs == m.enterprise_id.nunique(), "each enterprise's rows together"


@pytest.mark.parametrize("name", ["guideline_default.yaml", "a_and_b_exempt_strict_d.yaml"])
def test_policy_words_are_chinese_first_with_english_in_brackets(name):
    policy = yaml.safe_load((ROOT / "scenarios" / "policies" / name).read_text(encoding="utf-8"))
    words = [w for r in policy["rules"] for w in [*(r.get("measure") or {}).values(), r.get("reason")] if w]
    assert words
    for w in words:
        assert CJK_FIRST.match(w) and re.search(r" \([^()]*[A-Za-z][^()]*\)$", w), w
    for rule in policy["rules"]:
        if rule.get("exempt") or rule.get("flags"):
            assert rule.get("reason"), f"{rule['name']}: an exempt or flag rule says why in words"


# --------------------------------------------------------------------------- Excel and HTML


def test_xlsx_has_city_flags_reasons_calendar_and_rounded_totals(seven, tmp_path):
    wb = openpyxl.load_workbook(write_measures_xlsx(seven, tmp_path / "measures.xlsx"))
    ws = wb["应急减排清单"]
    heads = [c.value for c in ws[excel.HEADER_ROWS - 1]]
    rows = [dict(zip(heads, r)) for r in ws.iter_rows(min_row=excel.HEADER_ROWS + 1, values_only=True)]
    assert [r["企业编号"] for r in rows] == ["E1", "E2", "E2", "E2", "E3", "E5", "E6"]
    assert [r["序号"] for r in rows] == list(range(1, 8))
    assert {r["城市"] for r in rows} == {"tiny"} and rows[0]["区县"] == "d1"
    assert [r["大宗物料运输"] for r in rows] == [None, "是", "是", "是", None, None, None]
    assert [r["白名单"] for r in rows] == [None, None, None, None, None, "是", None]
    assert [r["保障类"] for r in rows] == [None] * 6 + ["是"]
    assert all(r["超低排放"] is None and r["限制类"] is None for r in rows)
    assert rows[3]["生产线/工序"] == "重型货车（按企业运输车次派生）", "a truck row reads what it is, not its reserved id"
    assert rows[1]["生产线/工序"] == "L1 / 烧结"
    reasons = [r["豁免或特殊管控依据"] for r in rows]
    assert reasons == [None, None, None, TRUCKS, "A级企业自主减排 (grade A, self-directed reductions)", WHITELIST, LIVELIHOOD]
    assert rows[0]["错峰生产（模拟时段内）"] == "错峰生产停产 12-01–03-15 (staggered production: stopped 1 Dec–15 Mar; calendar cement:clinker_kiln)"
    measures = [v for r in ws.iter_rows(min_row=excel.HEADER_ROWS + 1, values_only=True) for h, v in zip(heads, r) if h == "减排措施"]
    assert measures and all(CJK_FIRST.match(v) for v in measures)
    # 汇总: the totals [kg/d] are rounded to what they show, with a number format
    summary = wb["汇总"]
    totals = [row for row in summary.iter_rows() if isinstance(row[0].value, str) and row[0].value.startswith(("基准排放量", "黄色预警减排量", "橙色预警减排量", "红色预警减排量"))]
    assert len(totals) == 4
    cells = [c for row in totals for c in row[1:7]]
    assert all(c.number_format == excel.KG_FORMAT for c in cells)
    assert all(isinstance(c.value, (int, float)) and c.value == round(c.value, 2) for c in cells), [c.value for c in cells]
    assert totals[0][1].value == pytest.approx(seven.measures.baseline_so2_kg_d.sum(), abs=0.005)


def test_zh_report_gives_warning_reasons_in_chinese(seven):
    html = render_report_html(seven, {}, lang="zh")
    assert "情景文件设定" in html and "scheduled in the scenario file" not in html
    assert "scheduled in the scenario file" in render_report_html(seven, {}, lang="en")


def test_forecast_warning_reasons_in_chinese():
    assert warning_reason("issued: mee_2019 orange: AQI > 200 for 3 day(s)", "zh") == "发布：2019–2020年预警分级标准，橙色预警条件：日AQI > 200持续3天"
    assert warning_reason("upgraded: mee_2019 red: (AQI > 200 for 4 day(s) and AQI > 300 for 2 day(s)) or AQI >= 500 for 1 day(s); lifted: forecast at or below AQI 200 for 36 h", "zh") == (
        "升级：2019–2020年预警分级标准，红色预警条件：（日AQI > 200持续4天且日AQI > 300持续2天）或日AQI ≥ 500持续1天；解除：预报AQI连续36小时不高于200")
    assert warning_reason("downgraded: my_rules yellow: AQI > 150 for 2 day(s)", "zh") == "降级：预警分级标准my_rules，黄色预警条件：日AQI > 150持续2天"
    assert warning_reason("regional (provincial) warning", "zh") == "区域（省级）预警"
    assert warning_reason("issued: mee_2019 orange: AQI > 200 for 3 day(s)", "en") == "issued: mee_2019 orange: AQI > 200 for 3 day(s)"


def test_zh_report_notes_about_rules_are_chinese():
    from sim.report import note_text

    assert note_text("policy rule 'steel_B' matches no line of the list", "zh") == "政策规则“steel_B”未匹配清单中的任何生产线"
    assert note_text("staggered-production rule 'cement: kilns' lies outside the period", "zh") == "错峰生产规则“cement: kilns”不在模拟时段内"
    assert note_text("blank rows 3, 4 skipped", "zh") == "blank rows 3, 4 skipped"  # unknown notes are kept as written
    assert note_text("policy rule 'steel_B' matches no line of the list", "en") == "policy rule 'steel_B' matches no line of the list"


def test_a_cut_between_0_and_1_never_reads_as_none_or_a_stop():
    from sim.rules.policy import describe_reduction

    assert describe_reduction(0.9996) == "限产99.9% (production -99.9%)"
    assert describe_reduction(0.0004) == "限产0.1% (production -0.1%)"
    assert describe_reduction(1.0) == "停产 (stop production)"
    assert describe_reduction(0.3) == "限产30% (production -30%)"


def test_a_flag_exemption_is_not_worded_as_self_directed():
    from sim.rules.policy import flag_reason

    assert flag_reason("ultra_low") == "超低排放企业（政策豁免类别） (ultra-low emission enterprise, an exempt class of the policy)"
