"""The one bilingual dictionary of the words the simulator shows: measure texts, reasons,
and every label of the report, charts and the Excel list (``lang`` is ``"en"`` or ``"zh"``).

Core modules (the policy's measure wording) and the report both read it, so it lives below
both of them.
"""

from __future__ import annotations

import re
from typing import Any

LANGS = ("en", "zh")

#: key -> (English, Chinese).
LABELS: dict[str, tuple[str, str]] = {
    # ---- warning levels, grades, pollutant names
    "level.yellow": ("Yellow", "黄色"),
    "level.orange": ("Orange", "橙色"),
    "level.red": ("Red", "红色"),
    "warning.yellow": ("Yellow warning", "黄色预警"),
    "warning.orange": ("Orange warning", "橙色预警"),
    "warning.red": ("Red warning", "红色预警"),
    "grade.A+": ("A+", "A+级"),
    "grade.A": ("A", "A级"),
    "grade.B": ("B", "B级"),
    "grade.B-": ("B-", "B-级"),
    "grade.C": ("C", "C级"),
    "grade.D": ("D", "D级"),
    "grade.leading": ("Leading", "引领性"),
    "grade.non_leading": ("Non-leading", "非引领性"),
    "grade.general": ("General", "其他"),
    "grade.-": ("-", "-"),
    "pollutant.so2": ("SO2", "二氧化硫"),
    "pollutant.nox": ("NOx", "氮氧化物"),
    "pollutant.pm": ("PM (PM10)", "颗粒物"),
    "pollutant.pm10": ("PM10", "颗粒物"),
    "pollutant.pm25": ("PM2.5", "细颗粒物"),
    "pollutant.voc": ("VOCs", "挥发性有机物"),
    "pollutant.nh3": ("NH3", "氨"),
    "other": ("Other", "其他"),
    "flag.livelihood": ("livelihood", "保障类"),
    "flag.ultra_low": ("ultra-low emission", "超低排放"),
    "flag.whitelist": ("white list", "白名单"),
    "flag.restricted": ("restricted", "限制类"),
    "flag.bulk_transport": ("bulk transport", "大宗物料运输"),
    "none": ("none", "无"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "met": ("met", "达标"),
    "not_met": ("not met", "未达标"),
    "n_a": ("n/a", "无数据"),
    # ---- measures and reasons of the reduction list (measures.csv, measures.xlsx), written
    #      "中文 (English)" like the policy files' own measure texts; one minus sign: ASCII "-"
    "measure.stop": ("stop production", "停产"),
    "measure.none": ("no mandatory cut", "不强制减排"),
    "measure.cut": ("production -{pct}", "限产{pct}"),
    "measure.exempt": ("exempt: {x}", "豁免：{x}"),
    "measure.exempt_only": ("exempt", "豁免"),
    "measure.negotiated": ("negotiated: {x}", "协商减排：{x}"),
    "reason.grade": ("grade {x}, self-directed reductions", "{x}企业自主减排"),
    # 自主减排 is the guideline's word for A-grade and leading enterprises; a flag exempts by policy
    "reason.flag": ("{x} enterprise, an exempt class of the policy", "{x}企业（政策豁免类别）"),
    "reason.rule": ("exempt by a policy rule, self-directed reductions", "按政策规则豁免，自主减排"),
    "reason.rule_name": ("policy rule {x}", "政策规则{x}"),
    "reason.list_sep": (", ", "、"),
    "calendar.measure": ("staggered production: {cut} {dates}", "错峰生产{cut} {dates}"),
    "calendar.label": ("calendar {x}", "错峰生产规则{x}"),
    "calendar.stopped": ("stopped", "停产"),
    "calendar.sep": ("; ", "；"),
    # ---- warning reasons (warnings.csv keeps the simulator's English; the zh report translates)
    "reason.warning.scheduled": ("scheduled in the scenario file", "情景文件设定"),
    "reason.warning.regional": ("regional (provincial) warning", "区域（省级）预警"),
    "reason.warning.issued": ("issued: {x}", "发布：{x}"),
    "reason.warning.upgraded": ("upgraded: {x}", "升级：{x}"),
    "reason.warning.downgraded": ("downgraded: {x}", "降级：{x}"),
    "reason.warning.lifted": ("lifted: forecast at or below AQI {aqi} for {hours} h", "解除：预报AQI连续{hours}小时不高于{aqi}"),
    "reason.warning.rule": ("{standard} {level}: {condition}", "{standard}，{level}预警条件：{condition}"),
    "reason.warning.condition": ("AQI {op} {aqi} for {days} day(s)", "日AQI {op} {aqi}持续{days}天"),
    "reason.warning.or": (" or ", "或"),
    "reason.warning.and": (" and ", "且"),
    "reason.warning.sep": ("; ", "；"),
    "standard.mee_2017": ("mee_2017", "2017年预警分级标准"),
    "standard.mee_2019": ("mee_2019", "2019–2020年预警分级标准"),
    "standard.mee_2024": ("mee_2024", "2024年预警分级标准（环大气〔2024〕6号）"),
    "standard.other": ("{x}", "预警分级标准{x}"),
    # ---- compact date axes (matplotlib ConciseDateFormatter: formats | zero_formats | offset_formats)
    "date.formats": ("%Y;%b;%d;%H:%M;%H:%M;%S.%f", "%Y年;%m月;%d日;%H:%M;%H:%M;%S.%f"),
    "date.zero_formats": (";%Y;%b;%d %b;%H:%M;%H:%M", ";%Y年;%m月;%m月%d日;%H:%M;%H:%M"),
    "date.offset_formats": (";%Y;%b %Y;%d %b %Y;%d %b %Y;%d %b %Y %H:%M", ";%Y年;%Y年%m月;%Y年%m月%d日;%Y年%m月%d日;%Y年%m月%d日 %H:%M"),
    # ---- AQI categories of HJ 633-2012 (24 h PM2.5 bands)
    "aqi.1": ("Excellent", "优"),
    "aqi.2": ("Good", "良"),
    "aqi.3": ("Lightly polluted", "轻度污染"),
    "aqi.4": ("Moderately polluted", "中度污染"),
    "aqi.5": ("Heavily polluted", "重度污染"),
    "aqi.6": ("Severely polluted", "严重污染"),
    # ---- charts
    "axis.time": ("Local time", "时间（当地时间）"),
    "chart.pm25.title": ("PM$_{2.5}$: baseline and scenario", "PM$_{2.5}$浓度：基准与情景"),
    "chart.pm25.daily_title": ("PM$_{2.5}$ (daily means): baseline and scenario", "PM$_{2.5}$浓度（日均值）：基准与情景"),
    "chart.pm25.ylabel": ("PM$_{2.5}$ [μg/m³]", "PM$_{2.5}$ [μg/m³]"),
    "chart.pm25.baseline": ("Baseline (no emergency measures)", "基准（无应急措施）"),
    "chart.pm25.scenario": ("Scenario", "情景"),
    "chart.pm25.ensemble": ("Scenario, 5–95 % of ensemble", "情景，集合成员5%–95%区间"),
    "chart.pm25.bands": ("Bands: 24 h PM$_{2.5}$ categories (HJ 633-2012)", "底色：24小时PM$_{2.5}$浓度等级（HJ 633-2012）"),
    "chart.emissions.title": ("Hourly emissions of all sources: baseline and scenario", "全社会逐时排放量：基准与情景"),
    "chart.emissions.daily_title": ("Emissions of all sources (daily means of hourly rates): baseline and scenario", "全社会排放量（逐时排放速率日均值）：基准与情景"),
    "chart.emissions.ylabel": ("Rate [t/h]", "排放速率 [t/h]"),
    "chart.emissions.baseline": ("Baseline", "基准"),
    "chart.emissions.scenario": ("Scenario", "情景"),
    "chart.ratios.title": ("Reduction ratios per warning level against the targets", "各级预警减排比例与目标"),
    "chart.ratios.list": ("Emergency list (listed sources)", "应急减排清单（清单内排放源）"),
    "chart.ratios.society": ("Society-wide (all sources)", "全社会（全部排放源）"),
    "chart.ratios.ylabel": ("Reduction ratio [%]", "减排比例 [%]"),
    "chart.ratios.target": ("{level} target", "{level}目标"),
    "chart.ratios.below": ("Hatched: below target", "斜线：未达目标"),
    "chart.reductions.title.industry": ("Designed reductions of the listed sources by industry (full compliance)", "清单排放源分行业设计减排量（完全落实）"),
    "chart.reductions.title.grade": ("Designed reductions of the listed sources by performance grade (full compliance)", "清单排放源分绩效等级设计减排量（完全落实）"),
    "chart.reductions.ylabel": ("Reduction [t/d]", "减排量 [t/d]"),
    "chart.reductions.legend.industry": ("Industry", "行业"),
    "chart.reductions.legend.grade": ("Performance grade", "绩效等级"),
    "chart.lines.title": ("Production lines under emergency or staggered-production measures", "应急减排与错峰生产措施下的生产线"),
    "chart.lines.title_of": ("Production lines under emergency or staggered-production measures (of {n} lines)", "应急减排与错峰生产措施下的生产线（共{n}条）"),
    "chart.lines.ylabel": ("Production lines [count]", "生产线 [条]"),
    "chart.lines.stopped": ("Stopped", "停产"),
    "chart.lines.limited": ("Limited (running at reduced output)", "限产"),
    "chart.map.title": ("Enterprises of the emergency list", "应急减排清单企业分布"),
    "chart.map.x": ("Longitude [°E]", "经度 [°E]"),
    "chart.map.y": ("Latitude [°N]", "纬度 [°N]"),
    "chart.map.size": ("Baseline emissions\nSO$_2$+NO$_\\mathrm{x}$+PM$_{10}$+VOCs [kg/d]", "基准排放量\nSO$_2$+NO$_\\mathrm{x}$+PM$_{10}$+VOCs [kg/d]"),
    "chart.map.grade": ("Performance grade", "绩效等级"),
    "chart.map.scale": ("{km} km", "{km} km"),
    "chart.compare.cost.title": ("Production loss against PM$_{2.5}$ benefit", "生产损失与PM$_{2.5}$改善"),
    "chart.compare.cost.x": ("Production loss [10$^4$ yuan]", "生产损失 [万元]"),
    "chart.compare.cost.y": ("Mean PM$_{2.5}$ reduction during warnings [μg/m³]", "预警期间PM$_{2.5}$平均降低 [μg/m³]"),
    "chart.compare.ratios.title": ("Reduction ratios per scenario against the targets", "各情景减排比例与目标"),
    "chart.compare.ratios.panel": ("{scope}, {level}", "{scope}，{level}"),
    "chart.compare.ratios.target": (" (target ≥ {target} %)", "（目标 ≥ {target}%）"),
    "chart.compare.target": ("Target", "目标"),
    "scope.list": ("List", "清单"),
    "scope.society": ("Society-wide", "全社会"),
    "scope.list_without": ("List, without negotiated cuts", "清单（不含协商减排）"),
    "scope.society_without": ("Society-wide, without negotiated cuts", "全社会（不含协商减排）"),
    "negotiated.summary": (
        "Negotiated cuts (协商减排): {agreements} agreement(s) and {rank} rank rule(s) on {lines} lines of {enterprises} enterprises ({exempt} of the lines exempt from the grade measures).",
        "协商减排：{agreements}项协议、{rank}条排序规则，涉及{enterprises}家企业的{lines}条生产线（其中{exempt}条为绩效分级豁免生产线）。",
    ),
    "negotiated.met": ("With them the list targets are met at {levels}.", "计入协商减排后，{levels}清单减排比例全部达标。"),
    "negotiated.short": ("With them the list targets are still not met at {levels}: {gaps}: the agreements made so far do not close the gap.",
                         "计入协商减排后，{levels}清单减排比例仍未达标：{gaps}：现有协商减排协议尚不能弥补差距。"),
    "negotiated.gap": ("{level} {pollutant} {value} (without them {without}) < {target}", "{level}{pollutant} {value}（不含协商减排 {without}）< {target}"),
    # ---- HTML report
    "report.title": ("Heavy-pollution emergency response: scenario report", "重污染天气应急响应情景评估报告"),
    "report.summary": ("Scenario", "情景概况"),
    "report.name": ("Name", "名称"),
    "report.description": ("Description", "说明"),
    "report.period": ("Period", "模拟时段"),
    "report.hours": ("{n} h", "{n}小时"),
    "report.list_size": ("Emergency list", "应急减排清单规模"),
    "report.lines": ("Production lines", "生产线"),
    "report.enterprises": ("Enterprises", "企业"),
    "report.exempt_lines": ("Exempt lines (self-directed reductions)", "豁免生产线（自主减排）"),
    "report.derived_rows": ("Derived truck-transport rows", "派生大宗物料运输行"),
    "report.warnings": ("Warnings issued", "预警发布情况"),
    "report.no_warnings": ("No warning in the period.", "模拟时段内未发布预警。"),
    "report.level": ("Level", "级别"),
    "report.issued_at": ("Issued", "发布时间"),
    "report.start": ("Start", "开始"),
    "report.end": ("End", "结束"),
    "report.duration": ("Duration [h]", "持续时长 [h]"),
    "report.reason": ("Reason", "依据"),
    "report.warning_hours": ("Hours in force", "预警生效小时数"),
    "report.warning_hours_line": ("Hours in force: {items}", "预警生效小时数：{items}"),
    "report.list_sep": ("; ", "；"),
    "report.targets": ("Reduction ratios against the targets", "减排比例达标核算"),
    "report.targets_note": (
        "List ratio: 1 − Σ steady emissions of the listed sources at that level (full compliance, no calendars) ÷ their baseline; society-wide ratio adds the other sources to both sums. PM is PM10 (颗粒物).",
        "清单减排比例：1 − 该级别下清单内排放源稳态排放量之和（完全落实、不计错峰）÷ 其基准排放量；全社会减排比例在分子分母中计入其他排放源。颗粒物按PM10计。",
    ),
    "report.scope": ("Scope", "口径"),
    "report.target": ("Target", "目标"),
    "report.verdict": ("All met", "是否全部达标"),
    "report.pm25": ("PM2.5 and heavy pollution", "PM2.5浓度与重污染"),
    "report.pm25_absent": ("PM2.5 was not modelled in this run.", "本次运行未模拟PM2.5浓度。"),
    "report.figure": ("Figure", "指标"),
    "report.baseline": ("Baseline", "基准"),
    "report.scenario": ("Scenario", "情景"),
    "report.change": ("Change", "变化"),
    "report.pm25.peak": ("Peak PM2.5 [μg/m³]", "PM2.5峰值 [μg/m³]"),
    "report.pm25.mean": ("Mean PM2.5 [μg/m³]", "PM2.5平均浓度 [μg/m³]"),
    "report.pm25.reduction": ("Mean PM2.5 reduction during warnings [μg/m³]", "预警期间PM2.5平均降低 [μg/m³]"),
    "report.pm25.peak_reduction": ("Largest hourly PM2.5 reduction during warnings [μg/m³]", "预警期间PM2.5小时最大降幅 [μg/m³]"),
    "report.pm25.heavy_days": ("Heavy-pollution days (daily AQI > 200) [d]", "重污染天数（日AQI > 200）[天]"),
    "report.pm25.heavy_hours": ("Heavy-pollution hours (24 h mean AQI > 200) [h]", "重污染小时数（24小时滑动平均AQI > 200）[h]"),
    "report.calibration": ("Calibration scale of the local contribution", "本地贡献校准系数"),
    "report.regional": ("Where each city's PM2.5 comes from (regional model)", "各城市PM2.5来源（区域模型）"),
    "report.regional.city": ("City", "城市"),
    "report.regional.own": ("Own sources", "本地排放贡献"),
    "report.regional.neighbours": ("Neighbours", "周边城市贡献"),
    "report.regional.own_measures": ("Cut from own measures [μg/m³]", "本地措施降幅 [μg/m³]"),
    "report.regional.all_measures": ("Cut from the region's measures [μg/m³]", "区域措施降幅 [μg/m³]"),
    "report.regional_note": ("Shares of the observed mean PM2.5, from the model: own sources by switching the city's emissions off, "
                             "neighbours as the rest of what the region's sources make; the remainder comes from beyond the region. "
                             "Cuts are means over the city's warning hours (– without any).",
                             "占观测PM2.5均值的比例（模型计算）：本地贡献由关闭该城市排放求得，周边贡献为区域排放贡献的其余部分；剩余部分来自区域以外。"
                             "降幅为该城市预警时段均值（无预警时为–）。"),
    "report.emissions": ("Emissions over the period", "模拟时段排放量"),
    "report.pollutant": ("Pollutant", "污染物"),
    "report.total_t": ("{variant} [t]", "{variant} [t]"),
    "report.change_pct": ("Change [%]", "变化 [%]"),
    "report.economy": ("Production loss and enterprise-days", "生产损失与企业停限产天数"),
    "report.loss": ("Production loss [10⁴ yuan]", "生产损失 [万元]"),
    "report.days_limited": ("Enterprise-days limited", "限产企业·天"),
    "report.days_stopped": ("Enterprise-days stopped", "停产企业·天"),
    "report.economy_note": (
        "Production loss = Σ output value × production cut over the hours it applies. An enterprise-day is limited when some of its lines are cut but not all stopped, stopped when all are stopped.",
        "生产损失 = Σ 日产值 × 限产比例 × 生效时长。企业部分生产线限产但未全部停产计为限产企业·天，全部停产计为停产企业·天。",
    ),
    "report.top_industries": ("Top 10 industries by orange-level reduction", "橙色预警减排贡献前10位行业"),
    "report.top_enterprises": ("Top 10 enterprises by orange-level reduction", "橙色预警减排贡献前10位企业"),
    "report.top_note": (
        "Designed reductions at orange (full compliance) [t/d]; ranked by the mean of their shares of the list's orange reductions of SO2, NOx, PM and VOCs.",
        "橙色预警设计减排量（完全落实）[t/d]；按其占清单橙色预警SO2、氮氧化物、颗粒物、VOCs减排量份额的平均值排序。",
    ),
    "report.rank": ("#", "序号"),
    "report.industry": ("Industry", "行业"),
    "report.enterprise": ("Enterprise", "企业名称"),
    "report.enterprise_id": ("ID", "企业编号"),
    "report.district": ("District", "区县"),
    "report.grade": ("Grade", "绩效等级"),
    "report.share": ("Mean share [%]", "平均份额 [%]"),
    "report.charts": ("Charts", "图表"),
    "report.notes": ("Notes", "提示"),
    "report.no_notes": ("None.", "无。"),
    "report.provenance": ("Provenance", "可追溯信息"),
    "report.seed": ("Random seed", "随机种子"),
    "report.sha256": ("Scenario SHA-256", "情景文件SHA-256"),
    "report.version": ("Simulator version", "模拟器版本"),
    "report.footer": (
        "Generated from the run's results only. The figures are model estimates for planning, not measurements.",
        "本报告仅依据模拟结果生成，数值为规划用模型估算，并非实测。",
    ),
    "caption.ratios": ("Reduction ratios at each warning level; dashed lines are the targets.", "各级预警减排比例，虚线为目标值。"),
    "caption.pm25": ("Hourly PM2.5 with the 24 h category bands of HJ 633-2012; warning periods marked along the top.", "逐时PM2.5浓度，底色为HJ 633-2012的24小时浓度等级，顶部色条为预警时段。"),
    "caption.emissions": ("Emissions of all sources (listed and other) with warning periods shaded.", "全部排放源（清单内及其他）排放量，阴影为预警时段。"),
    "caption.lines": ("Production lines stopped or limited by warnings and staggered production.", "因预警和错峰生产而停产或限产的生产线数量。"),
    "caption.reductions_industry": ("Designed reductions per level by industry.", "各级预警分行业设计减排量。"),
    "caption.reductions_grade": ("Designed reductions per level by performance grade.", "各级预警分绩效等级设计减排量。"),
    "caption.sources_map": ("Enterprises by baseline emissions and performance grade.", "按基准排放量与绩效等级显示的企业分布。"),
    "caption.compare_cost_benefit": ("Production loss against the mean PM2.5 reduction during warnings.", "生产损失与预警期间PM2.5平均降低量。"),
    "caption.compare_ratios": ("Reduction ratios of each scenario; dashed lines are the targets.", "各情景减排比例，虚线为目标值。"),
    # ---- comparison
    "compare.title": ("Heavy-pollution emergency response: scenario comparison", "重污染天气应急响应情景对比"),
    "compare.scenarios": ("Scenarios", "情景"),
    "compare.scenario": ("Scenario", "情景"),
    "compare.targets_met": ("Targets met", "达标情况"),
    "compare.orange_ratio": ("Orange list ratio [%]", "橙色预警清单减排比例 [%]"),
    "compare.no_pm25": ("No scenario carries PM2.5 results: the cost-benefit chart is left out.", "各情景均无PM2.5结果，未绘制成本效益图。"),
    # ---- Excel reduction list (two header rows: Chinese, English)
    "xlsx.title": ("Emergency reduction list for heavy-pollution weather", "重污染天气应急减排清单"),
    "xlsx.sheet.list": ("Reduction list", "应急减排清单"),
    "xlsx.sheet.summary": ("Summary", "汇总"),
    "xlsx.col.index": ("No.", "序号"),
    "xlsx.col.enterprise_name": ("Enterprise", "企业名称"),
    "xlsx.col.enterprise_id": ("Enterprise ID", "企业编号"),
    "xlsx.col.district": ("District", "区县"),
    "xlsx.col.industry": ("Industry", "行业"),
    "xlsx.col.line": ("Line / process", "生产线/工序"),
    "xlsx.col.grade": ("Performance grade", "绩效等级"),
    "xlsx.col.city": ("City", "城市"),
    "xlsx.col.reason": ("Exemption or special regime", "豁免或特殊管控依据"),
    "xlsx.col.calendar": ("Staggered production in the period", "错峰生产（模拟时段内）"),
    "xlsx.col.measure": ("Measures", "减排措施"),
    "xlsx.group.line": ("Enterprise and production line", "企业及生产线"),
    "xlsx.group.baseline": ("Baseline emissions [kg/d]", "基准排放量（kg/d）"),
    "xlsx.group.level": ("{level} warning: reductions [kg/d] and measures", "{level}预警减排量（kg/d）及减排措施"),
    "xlsx.summary.title": ("Reduction ratios against the targets", "减排比例达标核算"),
    "xlsx.summary.level": ("Warning level", "预警级别"),
    "xlsx.summary.scope": ("Scope", "口径"),
    "xlsx.summary.target": ("Target", "目标"),
    "xlsx.summary.met": ("All met", "是否达标"),
    "xlsx.summary.totals": ("Totals of the list [kg/d]", "清单合计（kg/d）"),
    "xlsx.summary.item": ("Item", "项目"),
    "xlsx.summary.baseline": ("Baseline emissions", "基准排放量"),
    "xlsx.summary.reduction": ("{level} warning reduction", "{level}预警减排量"),
    "xlsx.summary.negotiated": ("{level} warning, added by negotiated cuts", "{level}预警协商减排增加的减排量"),
    "xlsx.col.negotiated_measure": ("negotiated measure", "协商减排措施"),
    "xlsx.col.negotiated_kg_d": ("negotiated {p}", "协商减排{p}"),
    "report.negotiated_lines": ("Lines under negotiated cuts", "协商减排生产线数"),
    "report.negotiated_enterprises": ("Enterprises under negotiated cuts", "协商减排企业数"),
    "xlsx.summary.counts": ("List size and effects", "清单规模与影响"),
    "xlsx.summary.value": ("Value", "数值"),
    "xlsx.derived": ("derived from the enterprise's truck trips", "按企业运输车次派生"),
    # ---- notes of a run (metrics.json keeps the English; the zh report shows these)
    "note.rule_unmatched": ("policy rule '{x}' matches no line of the list", "政策规则“{x}”未匹配清单中的任何生产线"),
    "note.rule_shadowed": ("policy rule '{x}' matches only lines that an earlier rule or exemption already settled",
                           "政策规则“{x}”匹配的生产线均已由前面的规则或豁免确定"),
    "note.calendar_outside": ("staggered-production rule '{x}' lies outside the period", "错峰生产规则“{x}”不在模拟时段内"),
    "note.calendar_unmatched": ("staggered-production rule '{x}' matches no line of the list", "错峰生产规则“{x}”未匹配清单中的任何生产线"),
    "note.rank_unmatched": ("negotiated rank rule '{x}' selects no enterprise", "协商减排排序规则“{x}”未选中任何企业"),
    "note.rank_selected": ("negotiated rank rule '{x}' selects {n} enterprise(s): {ids}", "协商减排排序规则“{x}”选中{n}家企业：{ids}"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise ValueError."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def text(key: str, lang: str = "en", **fields: Any) -> str:
    """The label ``key`` in ``lang`` ("en" or "zh"), with ``{fields}`` filled in."""
    words = LABELS[key][LANGS.index(check_lang(lang))]
    return words.format(**fields) if fields else words


def grade_name(grade: str, lang: str = "en") -> str:
    """Display name of a performance grade; unknown grades are shown as given."""
    key = f"grade.{grade}"
    return text(key, lang) if key in LABELS else str(grade)


#: The notes a run writes from labels (in English, as metrics.json keeps them), matched back to
#: their label and field, so the report can translate them and the terminal sum them up.
_NOTE_KEYS = ("note.rule_unmatched", "note.rule_shadowed", "note.calendar_outside", "note.calendar_unmatched")
_NOTE_PATTERNS = tuple((key, re.compile("^" + re.escape(LABELS[key][0]).replace(re.escape("{x}"), "(?P<x>.+)") + "$")) for key in _NOTE_KEYS)


def match_note(note: str) -> tuple[str, str] | None:
    """``(label key, name)`` of a note written from one of the note labels, else None."""
    for key, pattern in _NOTE_PATTERNS:
        if hit := pattern.match(note):
            return key, hit["x"]
    return None
