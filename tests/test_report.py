"""Reporting: charts, the HTML report, the Excel reduction list and the scenario comparison.

One demo result is shared by the whole module (the run takes well under a second); the report
is written once. Chart tests count axes and drawn series; file tests check real PNGs, a
self-contained HTML page and an Excel list with one row per reduction-list row.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import openpyxl
import pandas as pd
import pytest
from matplotlib import font_manager

from conftest import ROOT
from sim import load_scenario, run
from sim.physics.aqi import BREAKPOINTS_UG_M3, CATEGORY
from sim.report import LABELS, LEVEL_COLOURS, LEVELS, RATIO_POLLUTANTS, charts, compare, excel, fonts, text
from sim.report import compare_frame, render_report_html, write_comparison, write_measures_xlsx, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ResultView:
    """A result seen with PM2.5 replaced (or removed): reporting only reads attributes."""

    def __init__(self, result, pm25: pd.DataFrame | None, name: str | None = None):
        self._result = result
        self.pm25 = pm25
        self.metrics = {k: v for k, v in result.metrics.items() if k not in ("pm25", "calibration_scale")}
        if name is not None:
            self.scenario = result.scenario.model_copy(update={"name": name})

    def __getattr__(self, name):
        return getattr(self._result, name)


def synthetic_pm25(times: pd.DatetimeIndex, warnings: pd.DataFrame, ensemble: bool) -> pd.DataFrame:
    """An episode peaking at ~240 μg/m³, cut by 15 % while a warning is in force."""
    hours = np.arange(len(times))
    baseline = 40 + 200 * np.exp(-(((hours - 0.5 * len(times)) / (0.15 * len(times))) ** 2))
    active = np.zeros(len(times), bool)
    for w in warnings.itertuples(index=False):
        active |= (times >= w.start) & (times < w.end)
    scenario = baseline * np.where(active, 0.85, 1.0)
    frame = pd.DataFrame({"time": times, "baseline": baseline, "scenario": scenario, "warning_level": np.where(active, "orange", "none")})
    if ensemble:
        frame["scenario_p05"], frame["scenario_p50"], frame["scenario_p95"] = scenario * 0.9, scenario, scenario * 1.1
    return frame


@pytest.fixture(scope="module")
def demo():
    return run(load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml"))


@pytest.fixture(scope="module")
def with_pm25(demo):
    """The demo with PM2.5: its own when the scenario models it, else a synthetic episode."""
    if getattr(demo, "pm25", None) is not None:
        return demo
    return ResultView(demo, synthetic_pm25(demo.times, demo.warnings, ensemble=False))


@pytest.fixture(scope="module")
def without_pm25(demo):
    return ResultView(demo, None, name="Demo city, no PM2.5")


@pytest.fixture(scope="module")
def report(with_pm25, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    return write_report(with_pm25, folder, lang="en")


@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)


# --------------------------------------------------------------------------- labels


def test_every_label_has_both_languages_with_the_same_fields():
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
    for key, (en, zh) in LABELS.items():
        assert en.strip() and zh.strip(), key
        assert fields(en) == fields(zh), key


def test_unknown_language_is_refused(demo):
    with pytest.raises(ValueError, match="lang"):
        charts.ratios_chart(demo.metrics, lang="fr")


# --------------------------------------------------------------------------- charts


def test_pm25_chart_has_bands_warnings_lines_and_ensemble(demo):
    frame = synthetic_pm25(demo.times, demo.warnings, ensemble=True)
    fig = charts.pm25_chart(frame, demo.warnings, lang="en")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == 2  # baseline, scenario
    assert len(ax.collections) == 1  # the 5-95 % band
    top = ax.get_ylim()[1]
    bands = sum(1 for k in range(len(CATEGORY)) if BREAKPOINTS_UG_M3[k] < top)
    assert len(ax.patches) == bands + 2 * len(demo.warnings)  # bands; strip + shade per warning
    orange = tuple(int(LEVEL_COLOURS["orange"][k : k + 2], 16) / 255 for k in (1, 3, 5))
    assert any(np.allclose(p.get_facecolor()[:3], orange) for p in ax.patches)  # the warning shading
    assert "μg/m³" in ax.get_ylabel()
    assert fig.legends and len(fig.legends[0].get_texts()) == 4  # baseline, scenario, band, orange warning


def test_pm25_chart_without_ensemble_has_no_band(demo):
    fig = charts.pm25_chart(synthetic_pm25(demo.times, demo.warnings, ensemble=False), demo.warnings)
    assert len(fig.axes[0].collections) == 0 and len(fig.axes[0].lines) == 2


def test_emissions_chart_has_one_panel_per_pollutant(demo):
    fig = charts.emissions_chart(demo.emissions, demo.warnings)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 6
    for ax in panels:
        assert len(ax.lines) == 2
        assert len(ax.patches) == len(demo.warnings)
        assert ax.get_ylabel().endswith("[t/h]")


def test_ratios_chart_has_grouped_bars_and_a_target_line_per_level(demo):
    fig = charts.ratios_chart(demo.metrics)
    assert len(fig.axes) == 2  # list, society
    for ax in fig.axes:
        assert len(ax.patches) == len(LEVELS) * len(RATIO_POLLUTANTS)
        targets = sorted(line.get_ydata()[0] for line in ax.lines)
        assert len(targets) == len(LEVELS)
    assert sorted(line.get_ydata()[0] for line in fig.axes[0].lines) == pytest.approx([0.3, 0.4, 0.5])
    # bars below their target are hatched
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == sum(1 for lv in LEVELS for p in RATIO_POLLUTANTS if demo.metrics["targets_met"][lv]["list"][p] is False)


@pytest.mark.parametrize("by", ["industry", "grade"])
def test_reductions_chart_stacks_categories_per_level(demo, by):
    fig = charts.reductions_chart(demo.measures, by=by)
    assert len(fig.axes) == len(RATIO_POLLUTANTS)
    categories = len(fig.legends[0].get_texts())
    if by == "industry":
        assert categories == 12  # the 11 largest and "other"
    else:
        grades = demo.measures.groupby("grade")[[c for c in demo.measures.columns if c.endswith("_reduction_kg_d")]].sum().sum(axis=1)
        assert categories == int((grades > 0).sum())
    for ax in fig.axes:
        assert len(ax.patches) == len(LEVELS) * categories
    assert fig.axes[0].get_ylabel() == "Reduction [t/d]"


def test_lines_chart(demo):
    run_ = demo.scenario_run
    fig = charts.lines_chart(demo.times, run_.lines_limited, run_.lines_stopped, demo.warnings, total_lines=10)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.collections) == 2 and len(ax.patches) == len(demo.warnings)
    assert max(ax.collections[1].get_paths()[0].vertices[:, 1]) == pytest.approx((run_.lines_limited + run_.lines_stopped).max())


def test_sources_map_has_one_scatter_per_grade(demo):
    fig = charts.sources_map(charts.source_frame(demo))
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert len(ax.collections) == demo.measures.groupby("enterprise_id")["grade"].first().nunique()
    assert sum(len(c.get_offsets()) for c in ax.collections) == demo.measures["enterprise_id"].nunique()
    assert "°E" in ax.get_xlabel() and "°N" in ax.get_ylabel()


def test_comparison_charts(with_pm25, without_pm25):
    frame = compare_frame([with_pm25, without_pm25])
    fig = charts.cost_benefit_chart(frame)
    assert len(fig.axes) == 1 and len(fig.axes[0].collections) == 1
    assert len(fig.axes[0].collections[0].get_offsets()) == 1  # only the run with PM2.5
    fig = charts.compare_ratios_chart(frame)
    assert len(fig.axes) == 2 * len(LEVELS)
    for ax in fig.axes:
        assert len(ax.patches) == 2 * len(RATIO_POLLUTANTS) and len(ax.lines) == 1


# --------------------------------------------------------------------------- Chinese


def test_zh_without_the_shipped_font_falls_back_to_english_with_a_warning(demo, no_cjk_font):
    with pytest.warns(UserWarning, match="bundled Chinese font is missing"):
        fig = charts.ratios_chart(demo.metrics, lang="zh")
    assert fig._suptitle.get_text() == text("chart.ratios.title", "en")


def test_zh_charts_use_the_cjk_font(demo):
    family = fonts.find_cjk_font()
    assert family is not None
    fig = charts.reductions_chart(demo.measures, by="grade", lang="zh")  # drawn: missing glyphs would warn
    assert fig._suptitle.get_text() == text("chart.reductions.title.grade", "zh")
    labels = [t for ax in fig.axes for t in ax.get_xticklabels()] + [fig._suptitle]
    for label in labels:
        assert label.get_fontfamily()[0] == family
    path = font_manager.findfont(font_manager.FontProperties(family=[family]))
    assert fonts.draws_distinct_glyphs(path, "黄色橙色红色")


def test_save_charts_in_zh_warns_once_and_draws_english_without_font(demo, tmp_path, no_cjk_font, monkeypatch):
    asked = []

    def one_chart(result, lang):
        asked.append(lang)
        return {"ratios": charts._ratios(result.metrics, lang=lang)}

    monkeypatch.setattr(charts, "_result_figures", one_chart)
    with pytest.warns(UserWarning) as record:
        paths = charts.save_charts(demo, tmp_path, lang="zh")
    assert len(record) == 1 and asked == ["en"]
    assert paths == {"ratios": tmp_path / "ratios.png"} and paths["ratios"].read_bytes()[:8] == PNG_SIGNATURE


# --------------------------------------------------------------------------- report


def test_report_charts_are_real_pngs(report):
    pngs = sorted((report.parent / "charts").glob("*.png"))
    assert {p.stem for p in pngs} == set(charts.CHART_NAMES)
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == PNG_SIGNATURE, png.name
        assert len(data) > 5_000, png.name
        image = mpimg.imread(png)
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 600, png.name


def test_report_html_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert 'src="//' not in html
    assert re.findall(r"url\((?!data:font/otf;base64,)", html) == []  # only the embedded font
    assert "<link" not in html and "<script" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == len(charts.CHART_NAMES)
    assert all(s.startswith("data:image/png;base64,") for s in sources)


def test_report_html_has_the_targets_table_and_key_figures(report, with_pm25):
    html = report.read_text(encoding="utf-8")
    table = html[html.index('<table class="targets">') : html.index("</table>", html.index('<table class="targets">'))]
    for level in LEVELS:
        for scope in ("list", "society"):
            assert f'data-level="{level}" data-scope="{scope}"' in table
    for p in RATIO_POLLUTANTS:
        assert table.count(f'data-pollutant="{p}"') == 2 * len(LEVELS)
    m = with_pm25.metrics
    assert ("not-met" in table) == (not all(m["targets_met"][lv]["all"] for lv in LEVELS))
    ratio = m["list_ratio"]["orange"]["nox"]
    assert f"{ratio * 100:.1f} %" in table
    for needle in (with_pm25.scenario.name, "Orange warning", "2023-12-04 00:00", m["scenario_sha256"], f"{m['production_loss_wan_yuan']:,.1f}"):
        assert needle in html
    assert 'class="pm25"' in html and "Peak PM2.5" in html
    assert html.count("<tr><td class=\"num\">") >= 20  # top-10 industries and enterprises


def test_report_without_pm25_says_so(without_pm25):
    html = render_report_html(without_pm25, {}, lang="zh")
    assert text("report.pm25_absent", "zh") in html and 'class="pm25"' not in html
    assert '<html lang="zh-CN">' in html and text("report.targets", "zh") in html


def test_pm25_figures_read_the_metrics(with_pm25):
    figures = compare.pm25_figures(with_pm25)
    block = with_pm25.metrics["pm25"]
    assert figures["peak_baseline"] == block["peak_baseline_ug_m3"]
    assert figures["reduction_warnings"] == block["mean_reduction_during_warnings_ug_m3"]
    assert figures["heavy_days_scenario"] == block["heavy_days_scenario"]


# --------------------------------------------------------------------------- Excel


def test_measures_xlsx_has_both_sheets_and_one_row_per_line(tiny_scenario, write_scenario, tmp_path):
    demo = run(load_scenario(write_scenario(tiny_scenario)))  # small: openpyxl reads ~30k cells/s
    path = write_measures_xlsx(demo, tmp_path / "measures.xlsx")
    again = write_measures_xlsx(demo, tmp_path / "again.xlsx")
    assert path.read_bytes() == again.read_bytes()  # no clock in the file: same result, same bytes
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["应急减排清单", "汇总"]
    ws = wb["应急减排清单"]
    assert ws.max_row - excel.HEADER_ROWS == len(demo.measures)
    assert ws.freeze_panes == f"C{excel.HEADER_ROWS + 1}"
    assert ws.auto_filter.ref.startswith(f"A{excel.HEADER_ROWS}:")
    heads_zh = [c.value for c in ws[excel.HEADER_ROWS - 1]]
    heads_en = [c.value for c in ws[excel.HEADER_ROWS]]
    assert heads_zh[:15] == ["序号", "企业名称", "企业编号", "城市", "区县", "行业", "生产线/工序", "绩效等级", "保障类", "超低排放", "白名单", "限制类", "大宗物料运输",
                             "豁免或特殊管控依据", "错峰生产（模拟时段内）"]
    assert heads_en[:2] == ["No.", "Enterprise"] and heads_zh.count("减排措施") == len(LEVELS)
    first = [c.value for c in ws[excel.HEADER_ROWS + 1]]
    assert first[0] == 1 and first[2] == demo.measures["enterprise_id"].iloc[0]
    column = heads_en.index("NOx", heads_en.index("NOx") + 1)  # yellow NOx reduction
    total = sum(row[0] for row in ws.iter_rows(min_row=excel.HEADER_ROWS + 1, min_col=column + 1, max_col=column + 1, values_only=True))
    assert total == pytest.approx(demo.measures["yellow_nox_reduction_kg_d"].sum())
    summary = [row for row in wb["汇总"].iter_rows(values_only=True)]
    ratio_rows = [r for r in summary if isinstance(r[2], float) and r[1] and "/" in str(r[1])]
    assert len(ratio_rows) == 2 * len(LEVELS)
    assert ratio_rows[2][4] == pytest.approx(demo.metrics["list_ratio"]["orange"]["nox"])


# --------------------------------------------------------------------------- comparison


def test_compare_frame_has_one_row_per_scenario(with_pm25, without_pm25):
    frame = compare_frame([with_pm25, without_pm25])
    assert len(frame) == 2
    assert list(frame["scenario"]) == [with_pm25.scenario.name, "Demo city, no PM2.5"]
    for level in LEVELS:
        assert frame[f"targets_met_{level}"].dtype == bool
        for p in RATIO_POLLUTANTS:
            assert f"list_ratio_{level}_{p}" in frame and f"society_ratio_{level}_{p}" in frame
    assert frame.loc[0, "list_ratio_orange_nox"] == pytest.approx(with_pm25.metrics["list_ratio"]["orange"]["nox"])
    assert frame.loc[0, "pm25_reduction_warnings_ug_m3"] > 0 and np.isnan(frame.loc[1, "pm25_reduction_warnings_ug_m3"])
    assert frame.loc[0, "heavy_days_baseline"] >= frame.loc[0, "heavy_days_scenario"]


def test_write_comparison(with_pm25, without_pm25, tmp_path):
    html_path = write_comparison([with_pm25, without_pm25], tmp_path, lang="en")
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert len(table) == 2
    html = html_path.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2
    with pytest.raises(FileNotFoundError):
        write_comparison([with_pm25], tmp_path / "missing")


def test_a_list_longer_than_a_sheet_continues_on_more_sheets(demo, tmp_path, monkeypatch):
    """Excel opens at most 1,048,576 rows a sheet: a province-size list goes on as
    应急减排清单(2), (3), ... with the same headers and running numbers (shown here with
    1,000 rows a sheet)."""
    monkeypatch.setattr(excel, "MAX_LIST_ROWS", 1000)
    path = write_measures_xlsx(demo, tmp_path / "measures.xlsx")
    book = openpyxl.load_workbook(path, read_only=True)
    rows = len(demo.reduction_list)
    parts = -(-rows // 1000)
    assert book.sheetnames == [f"应急减排清单({k})" for k in range(1, parts + 1)] + ["汇总"]
    numbers = []
    for name in book.sheetnames[:-1]:
        sheet = list(book[name].iter_rows(values_only=True))
        assert sheet[2][0] == "序号" and len(sheet) - excel.HEADER_ROWS <= 1000
        numbers += [r[0] for r in sheet[excel.HEADER_ROWS:]]
    assert numbers == list(range(1, rows + 1))


def test_model_and_evaluation_notes_read_in_chinese():
    """The notes the PM2.5 model and the evaluation write (English in metrics.json) are
    Chinese in a Chinese report, a city's prefix kept; a note no label wrote stays as it is."""
    from sim.config.labels import text
    from sim.report import note_text

    over = "beijing: " + text("note.over_observation.box", "en", n=130, hours=408, time="2016-12-13 07:00", modelled="104.5", observed="23.7")
    zh = note_text(over, "zh")
    assert zh.startswith("beijing：408小时中有130小时") and "104.5" in zh and "local_share与本市不符" in zh
    calib = text("note.calibration_scale", "en", c="0.49", share="0.5", low="0.5", high="2")
    assert note_text(calib, "zh").startswith("校准系数calibration_scale为0.49：模拟的本地PM2.5须乘以0.49")
    for key in ("note.no_power_use", "note.no_power_use_cems", "note.no_forecasts"):
        assert note_text(text(key, "en"), "zh") == text(key, "zh")
    assert note_text(text("note.region_share", "en", share="15%"), "zh") == text("note.region_share", "zh", share="15%")
    assert note_text("a note written by hand", "zh") == "a note written by hand"
    assert note_text(over, "en") == over
