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
def _over_observation(fit_en: str, fit_zh: str) -> tuple[str, str]:
    """The note on hours where the modelled local PM2.5 exceeds the observation, naming what
    may not fit the city (``fit_en``, ``fit_zh``)."""
    return ("in {n} of {hours} hours the modelled local PM2.5 exceeds the observed baseline (most at {time}: {modelled} modelled vs {observed} μg/m³ observed); "
            "in those hours the baseline stays the observation, the local part is capped at it (background 0) and the scenario keeps the model's relative "
            f"change of the local part. Many such hours mean that {fit_en} do not fit this city.",
            "{hours}小时中有{n}小时模拟的本地PM2.5超过观测基准（最大出现在{time}：模拟{modelled}，观测{observed} μg/m³）；这些小时基准仍取观测值，本地贡献以观测值为上限"
            f"（背景为0），情景保留模型本地贡献的相对变化。此类小时较多说明{fit_zh}与本市不符。")


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
    # notes of the PM2.5 model and of the evaluation, written in English into metrics.json and
    # translated in the report (match_note_fields); a city's note starts with "CITY: "
    # the three fits differ in what may not fit the city (_over_observation below)
    "note.over_observation.box": _over_observation("the box's area, the mixing heights or local_share", "箱体面积、混合层高度或local_share"),
    "note.over_observation.regional": _over_observation("the cities' areas, the mixing heights or the region's emissions", "各城市面积、混合层高度或区域排放"),
    "note.over_observation.response_surface": _over_observation("the response surface or its region", "响应曲面或其适用区域"),
    "note.calibration_scale": (
        "calibration_scale is {c}: the modelled local PM2.5 had to be multiplied by {c} to make up local_share {share} of the observed baseline "
        "(outside {low}-{high}); check the box's area_km2, the mixing heights and the inventory's totals for this city, or the local share itself.",
        "校准系数calibration_scale为{c}：模拟的本地PM2.5须乘以{c}才占观测基准的local_share {share}（超出{low}-{high}）；请检查本市箱体面积area_km2、混合层高度和清单总量，或本地占比本身。"),
    "note.region_share": (
        "the region's modelled sources make {share} of the observed mean PM2.5; the rest counts as air from beyond the region, which no measure of the "
        "region changes. If the region's emissions (other sources included) are complete, that is what the model says; if not, the effects here are underestimated.",
        "区域内模拟的排放源仅形成观测PM2.5均值的{share}；其余计为区域外输入，区域内任何措施都不改变它。若区域排放（含其他源）完整，这就是模型的结论；否则此处的效果被低估。"),
    "note.own_share": (
        "the regional model makes {share} of the city's observed PM2.5 from its own sources, the scenario's local_share says {given}; "
        "the model's share is the one used (local_share is only a check with model: regional)",
        "区域模型算得本市自身排放形成观测PM2.5的{share}，情景的local_share为{given}；采用模型的占比（model: regional时local_share仅作核对）。"),
    "note.no_output_value": (
        "{n} of {total} lines have no output value (output_value_wan_yuan_per_day blank or 0): the production loss leaves them out, so it is under-counted",
        "{total}条生产线中有{n}条无产值（output_value_wan_yuan_per_day为空或0）：生产损失未计入这些生产线，因此被低估"),
    "note.observed_gaps": (
        "{file}: {n} of {hours} hours have no observed PM2.5 (first {first}); they are left out of the PM2.5 effect figures",
        "{file}：{hours}小时中有{n}小时无PM2.5观测（首个为{first}）；PM2.5效果统计不含这些小时"),
    "note.no_power_use": (
        "no power_use given: no line's production was checked; every line counts as carried out as planned, so no enterprise can be named for inspection",
        "未提供用电监控数据（power_use）：未核查任何生产线的生产情况，各生产线均视为按计划执行，无法列出需核查的企业"),
    "note.no_power_use_cems": (
        "no power_use given: no line's production was checked; every line without CEMS data counts as carried out as planned, so no enterprise can be named for inspection",
        "未提供用电监控数据（power_use）：未核查任何生产线的生产情况，无在线监测（CEMS）数据的生产线均视为按计划执行，无法列出需核查的企业"),
    "note.no_forecasts": ("no forecasts given: there is no forecast skill", "未提供预报数据（forecasts）：不评估预报准确率"),
    "note.rank_unmatched": ("negotiated rank rule '{x}' selects no enterprise", "协商减排排序规则“{x}”未选中任何企业"),
    "note.rank_selected": ("negotiated rank rule '{x}' selects {n} enterprise(s): {ids}", "协商减排排序规则“{x}”选中{n}家企业：{ids}"),
    # ---- after-action evaluation (evaluation.html, its charts)
    "eval.title": ("Heavy-pollution emergency response: after-action evaluation", "重污染天气应急响应效果评估报告"),
    "eval.summary": ("Episode", "过程概况"),
    "eval.baseline_days": ("Normal load from", "正常负荷基准时段"),
    "eval.issued": ("Warnings really issued", "实际发布的预警"),
    "eval.compliance": ("Compliance from electricity monitoring", "基于用电监控的措施落实情况"),
    "eval.compliance_note": ("Per metered line (or enterprise) and warning: the production load against its normal load of the days before the first warning; complied ≥ asked cut − {tol} points, partly ≥ half the asked cut, not complied below that or with the treatment equipment off while production ran, no data with meter data for fewer than {share} of the asked hours.",
                             "按每条计量生产线（或企业）和每次预警：生产用电负荷与首次预警前正常负荷相比；降幅不低于要求减排比例减{tol}个百分点为落实，不低于要求的一半为部分落实，低于一半或生产期间治污设施停运为未落实，计量数据不足要求时段{share}为无数据。"),
    "eval.units": ("Metered units", "计量单元"),
    "eval.verdict.complied": ("Complied", "落实"),
    "eval.verdict.partly": ("Partly", "部分落实"),
    "eval.verdict.not complied": ("Not complied", "未落实"),
    "eval.verdict.no data": ("No data", "无数据"),
    "eval.treatment_off": ("Treatment off while producing", "生产期间治污设施停运"),
    "eval.load_up": ("Load up during a warning", "预警期间负荷上升"),
    "eval.ratios": ("Planned and realised list ratios", "计划与实际清单减排比例"),
    "eval.ratios_note": ("Over the hours each level was really in force, with response delays, temporal profiles and calendars; metered lines at their measured load (CEMS where given), the others as planned.",
                         "按各级预警实际生效时段计算（含响应时间、时间分配系数和错峰生产）；计量生产线按实测负荷（有CEMS时按在线监测），其他按计划。"),
    "eval.planned": ("Planned", "计划"),
    "eval.realised": ("Realised", "实际"),
    "eval.cuts": ("Emission cuts during the warnings [t]", "预警期间减排量 [t]"),
    "eval.metered_share": ("Share of the list's baseline emissions metered", "计量生产线占清单基准排放比例"),
    "eval.effect": ("Effect on PM2.5", "对PM2.5的效果"),
    "eval.effect_note": ("Counterfactual = observation + the modelled effect of the realised cuts (the PM2.5 model with and without them on the episode's weather; the local part is local_share of the counterfactual; a regional_background_cut is undone too); band: 5-95 % of {n} members drawing the model's uncertain parameters.",
                         "反事实浓度 = 观测浓度 + 实际减排的模拟效果（在本次过程气象条件下有、无减排两次模拟之差，本地贡献占反事实浓度的比例为local_share，并还原区域背景削减regional_background_cut）；区间为{n}个抽取模型不确定参数成员的5%-95%。"),
    "eval.no_meters": ("No power_use file was given, so no line's production was checked: every line without CEMS data is taken as carried out as planned, and no enterprise can be named for inspection.",
                       "未提供用电监控数据（power_use），未核查任何生产线的生产情况：无在线监测（CEMS）数据的生产线均视为按计划执行，无法列出需核查的企业。"),
    "eval.no_forecasts": ("No forecasts file was given, so there is no forecast skill; the warnings' timeliness below uses the observed PM2.5.",
                          "未提供预报数据（forecasts），不评估预报准确率；下方预警及时性依据观测PM2.5。"),
    "eval.mean_reduction": ("Mean reduction during the warnings", "预警期间平均降幅"),
    "eval.peak_reduction": ("Peak reduction", "最大降幅"),
    "eval.peak_time": ("Peak reduction at", "最大降幅出现时间"),
    "eval.hours_to_peak": ("Hours from the first warning to the peak", "首次预警至最大降幅小时数"),
    "eval.heavy_days": ("Heavy-pollution days, observed / without measures", "重污染天数（观测/无措施）"),
    "eval.shifts": ("Had the warning started earlier or later", "预警提前或推迟启动的效果"),
    "eval.shift": ("Shift [h]", "启动时间调整 [h]"),
    "eval.shift_reduction": ("Mean reduction on the heavy days without measures [μg/m³]", "无措施重污染日平均降幅 [μg/m³]"),
    "eval.shift_heavy": ("Heavy days observed", "观测重污染天数"),
    "eval.skill": ("Forecast skill by lead day", "分预报时效的预报准确率"),
    "eval.skill_note": ("Daily AQI forecast against the observed daily AQI; a hit is the same HJ 633-2012 category. Target: {target} level accuracy (7-day forecasts).",
                        "预报日AQI与观测日AQI比较；级别相同为准确。目标：级别预报准确率{target}（未来7天预报）。"),
    "eval.lead_day": ("Lead day", "预报时效 [天]"),
    "eval.days": ("Days", "天数"),
    "eval.mean_error": ("Mean error (AQI)", "平均偏差（AQI）"),
    "eval.mae": ("Mean absolute error (AQI)", "平均绝对误差（AQI）"),
    "eval.hit_rate": ("Level accuracy", "级别准确率"),
    "eval.timeliness": ("Warning timeliness", "预警及时性"),
    "eval.first_heavy": ("First heavy day", "首个重污染日"),
    "eval.lead_issue": ("Lead from issue [h]", "发布提前量 [h]"),
    "eval.lead_start": ("Lead from start [h]", "启动提前量 [h]"),
    "eval.covered": ("Heavy days covered", "预警覆盖的重污染日"),
    "eval.missed": ("Missed heavy days", "漏报重污染日"),
    "eval.false_alarms": ("False-alarm days", "空报日"),
    "eval.review": ("What to revise", "清单修订建议"),
    "eval.review_note": ("Enterprises to inspect or regrade, and list lines whose measure no meter can check (measures must be 可操作、可监测、可核查).",
                         "需核查或调整绩效等级的企业，以及措施无法通过用电监控核查的清单生产线（措施须可操作、可监测、可核查）。"),
    "eval.kind": ("Kind", "类别"),
    "eval.kind.enterprise": ("Enterprise", "企业"),
    "eval.kind.list line": ("List line", "清单生产线"),
    "eval.action": ("Action", "建议"),
    "eval.more_rows": ("… and {n} more rows in review.csv.", "……其余{n}行见review.csv。"),
    "eval.none": ("None.", "无。"),
    "eval.grade": ("Grade", "绩效等级"),
    "eval.act.treatment": ("treatment equipment off while production ran: inspect", "生产期间治污设施停运：现场核查"),
    "eval.act.not_complied": ("did not cut as asked: inspect, regrade", "未按要求减排：现场核查，调整绩效等级"),
    "eval.act.no_data": ("no meter data: check the meters", "无计量数据：核查用电监控设备"),
    "eval.act.load_up": ("production load above normal during a warning: inspect", "预警期间生产负荷高于正常：现场核查"),
    "eval.act.partly": ("cut only partly: inspect", "仅部分落实：现场核查"),
    "eval.act.transport": ("transport measure: checked by gate and truck records, not a meter (可监测、可核查)", "运输管控措施：以门禁和车辆记录核查，非用电监控（可监测、可核查）"),
    "eval.act.small_cut": ("cut within the meter tolerance: no meter can tell it from a normal day (可监测、可核查); make it larger or check it otherwise",
                           "减排比例在计量误差范围内，用电监控无法与正常生产区分（可监测、可核查）：提高减排比例或采用其他核查方式"),
    "eval.synthetic": ("Inputs: see the scenario's evaluation block.", "输入：见情景文件evaluation部分。"),
    "chart.eval_pm25.title": ("PM$_{2.5}$: observed and without the measures (counterfactual)", "PM$_{2.5}$浓度：观测与无措施（反事实）"),
    "chart.eval_pm25.observed": ("Observed", "观测"),
    "chart.eval_pm25.counterfactual": ("Without the measures (modelled)", "无措施（模拟）"),
    "chart.eval_pm25.band": ("5-95 % band", "5%-95%区间"),
    "chart.eval_cuts.title": ("Emission cuts during the warnings: planned and realised", "预警期间减排量：计划与实际"),
    "chart.eval_cuts.xlabel": ("Cut [t]", "减排量 [t]"),
    "chart.eval_map.title": ("Metered enterprises by verdict", "计量企业措施落实情况"),
    "chart.eval_skill.title": ("Forecast level accuracy by lead day", "分预报时效级别准确率"),
    "chart.eval_skill.target": ("Target", "目标"),
    "chart.eval_skill.mae": ("Mean absolute error (AQI, right axis)", "平均绝对误差（AQI，右轴）"),
    "caption.eval_pm25": ("Observed PM2.5 and the counterfactual without the realised measures, with its band; warning periods marked along the top.", "观测PM2.5与无实际减排措施的反事实浓度及其区间，顶部色条为预警时段。"),
    "caption.eval_cuts_industry": ("Planned and realised cuts by industry during the warnings (NOx, SO2, PM, VOCs).", "预警期间分行业计划与实际减排量（氮氧化物、二氧化硫、颗粒物、挥发性有机物）。"),
    "caption.eval_cuts_grade": ("Planned and realised cuts by performance grade during the warnings.", "预警期间分绩效等级计划与实际减排量。"),
    "caption.eval_map": ("Metered enterprises and lines by their verdict over the warnings (the worst of their warnings).", "计量企业及生产线在各次预警中的措施落实情况（取最差一次）。"),
    "caption.eval_skill": ("Share of days whose forecast AQI category was the observed one, by lead day, against the 80 % target; mean absolute AQI error on the right axis.", "各预报时效预报级别与观测一致的天数比例及80%目标；右轴为AQI平均绝对误差。"),
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


#: The notes about rules a run writes from labels (in English, as metrics.json keeps them),
#: matched back to their label and name, so the terminal can sum them up.
_NOTE_KEYS = ("note.rule_unmatched", "note.rule_shadowed", "note.calendar_outside", "note.calendar_unmatched")


def match_note(note: str) -> tuple[str, str] | None:
    """``(label key, name)`` of a note written from one of the rule note labels, else None."""
    for key, pattern in _FIELD_PATTERNS[:len(_NOTE_KEYS)]:
        if hit := pattern.match(note):
            return key, hit["x"]
    return None


def _fields_pattern(template: str) -> re.Pattern:
    """The regex of an English note label: each ``{field}`` a named group, a repeated field a
    back-reference to its first place."""
    out, seen, last = [], set(), 0
    for hit in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[last:hit.start()]))
        name = hit.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        last = hit.end()
    out.append(re.escape(template[last:]))
    return re.compile("^" + "".join(out) + "$", re.S)


#: Notes with any fields, translated by :func:`match_note_fields` (the four rule notes above too).
_FIELD_NOTE_KEYS = (*_NOTE_KEYS, "note.over_observation.box", "note.over_observation.regional", "note.over_observation.response_surface",
                    "note.calibration_scale", "note.region_share", "note.own_share", "note.no_output_value", "note.observed_gaps",
                    "note.no_power_use", "note.no_power_use_cems", "note.no_forecasts")
_FIELD_PATTERNS = tuple((key, _fields_pattern(LABELS[key][0])) for key in _FIELD_NOTE_KEYS)


def match_note_fields(note: str) -> tuple[str, dict[str, str], str] | None:
    """``(label key, fields, city)`` of a note written from a note label, else None; ``city``
    is the "CITY: " a city's note starts with ('' when none)."""
    candidates = [("", note)]
    if ": " in note:
        city, rest = note.split(": ", 1)
        candidates.append((city, rest))
    for city, body in candidates:
        for key, pattern in _FIELD_PATTERNS:
            if hit := pattern.match(body):
                return key, hit.groupdict(), city
    return None
