"""The Chinese chart font: what a reader sees, on any machine.

The report ships a GB 2312 subset of Noto Sans CJK SC and registers it with matplotlib itself,
so these tests assume no system CJK font and no font cache: they check the outlines of the
shipped files, the pixels matplotlib renders with them, and that every chart text holding
Chinese resolves to the shipped file. Placeholder fonts (matplotlib's Last Resort, stubs whose
glyphs are all one shape) must be refused.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from conftest import ROOT
from sim import load_scenario, run
from sim.report import charts, fonts

CJK_SAMPLE = "重污染天气黄橙红"


@pytest.fixture(autouse=True)
def _fresh_font_choice(monkeypatch):
    """Each test chooses the font anew, without a user's SIM_CJK_FONT."""
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    fonts.find_cjk_font.cache_clear()
    yield
    fonts.find_cjk_font.cache_clear()


@pytest.fixture(scope="module")
def demo():
    return run(load_scenario(ROOT / "scenarios" / "demo_city_orange.yaml"))


def _make_font(path: Path, family: str, shapes: dict[str, int]) -> Path:
    """A TrueType font mapping each character to a glyph: characters with the same shape number
    share one outline (a rectangle whose width grows with the number)."""
    glyph_names = [".notdef"] + [f"g{n}" for n in sorted(set(shapes.values()))]
    glyphs = {}
    for name in glyph_names:
        pen = TTGlyphPen(None)
        width = 100 if name == ".notdef" else 150 + 40 * int(name[1:])
        pen.moveTo((50, 0)), pen.lineTo((50, 700)), pen.lineTo((50 + width, 700)), pen.lineTo((50 + width, 0)), pen.closePath()
        glyphs[name] = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(glyph_names)
    builder.setupCharacterMap({ord(c): f"g{n}" for c, n in shapes.items()})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (1000, 50) for name in glyph_names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
    return path


def _bitmap(char: str, families: list[str]) -> np.ndarray:
    """The character as matplotlib's Agg renders it in the given font families, cropped to ink."""
    fig = Figure(figsize=(0.6, 0.6), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, char, fontsize=28, family=families, ha="center", va="center")
    fig.canvas.draw()
    ink = 255 - np.asarray(fig.canvas.buffer_rgba())[:, :, 0].astype(int)
    rows, cols = np.nonzero(ink > 40)
    assert rows.size, f"nothing drawn for {char!r}"
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.abs(a - b).max() <= 8)


# --------------------------------------------------------------------------- the outline check


def test_shipped_files_draw_distinct_chinese_outlines():
    for path in fonts.bundled_font_paths():
        assert path.is_file(), path
        assert fonts.draws_distinct_glyphs(path), path
        assert fonts.draws_distinct_glyphs(path, "城市区县企业生产线绩效分级错峰生产协商减排二氧化硫氮氧化物颗粒物挥发性有机物")


def test_fonts_without_chinese_or_with_placeholder_glyphs_are_refused(tmp_path):
    assert not fonts.draws_distinct_glyphs(font_manager.findfont(font_manager.FontProperties(family=["DejaVu Sans"])))
    last_resort = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf"
    if last_resort.is_file():  # matplotlib >= 3.10 ships it: one placeholder box per Unicode block
        assert not fonts.draws_distinct_glyphs(last_resort)
    text = fonts.TEST_TEXT
    one_glyph = _make_font(tmp_path / "one.ttf", "One Glyph", {c: 1 for c in text})
    same_shape = _make_font(tmp_path / "same.ttf", "Same Shape", {c: 1 for c in text})
    half = _make_font(tmp_path / "half.ttf", "Half", {c: i % 2 for i, c in enumerate(text)})
    partial = _make_font(tmp_path / "partial.ttf", "Partial", {c: i for i, c in enumerate(text[:-1])})
    distinct = _make_font(tmp_path / "distinct.ttf", "Distinct", {c: i for i, c in enumerate(text)})
    for path in (one_glyph, same_shape, half, partial):
        assert not fonts.draws_distinct_glyphs(path), path.name
    assert fonts.draws_distinct_glyphs(distinct)  # the check can pass: it is about shapes, not names


def test_unreadable_file_is_refused(tmp_path):
    bad = tmp_path / "bad.otf"
    bad.write_bytes(b"not a font")
    assert not fonts.draws_distinct_glyphs(bad)
    assert not fonts.draws_distinct_glyphs(tmp_path / "missing.ttf")


# --------------------------------------------------------------------------- what a reader sees


def test_rendered_chinese_characters_differ_from_each_other_and_from_a_placeholder():
    family = fonts.find_cjk_font()
    assert family == fonts.BUNDLED_FAMILY
    families = fonts.font_families("zh", family)
    bitmaps = [_bitmap(c, families) for c in CJK_SAMPLE]
    for i in range(len(bitmaps)):
        for j in range(i + 1, len(bitmaps)):
            assert not _same(bitmaps[i], bitmaps[j]), (CJK_SAMPLE[i], CJK_SAMPLE[j])
    with pytest.warns(UserWarning, match="missing from font"):  # DejaVu has no hanzi: a placeholder is drawn
        placeholder = _bitmap(CJK_SAMPLE[0], ["DejaVu Sans"])
    assert all(not _same(b, placeholder) for b in bitmaps)
    # a filled square glyph is more ink than a real character's strokes
    assert all(b.mean() < 0.8 * 255 for b in bitmaps)


def test_chart_font_is_the_shipped_file_with_an_empty_font_cache(tmp_path):
    """A new process with an empty MPLCONFIGDIR (no cache) and no SIM_CJK_FONT resolves the
    chart font, regular and bold, to the files in the package."""
    code = textwrap.dedent(
        """
        from matplotlib import font_manager
        from sim.report import fonts
        family = fonts.find_cjk_font()
        for weight in ("normal", "bold"):
            print(font_manager.findfont(font_manager.FontProperties(family=[family], weight=weight), fallback_to_default=False))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != fonts.ENV_VAR}
    env["MPLCONFIGDIR"] = str(tmp_path / "mplconfig")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    regular, bold = (Path(line).resolve() for line in out.stdout.split())
    assert (regular, bold) == tuple(p.resolve() for p in fonts.bundled_font_paths())
    assert "findfont" not in out.stderr and "Warning" not in out.stderr, out.stderr


def _cjk_texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if any("\u4e00" <= ch <= "\u9fff" for ch in t.get_text())]


def test_zh_demo_charts_draw_every_chinese_text_with_the_shipped_font(demo, caplog):
    family = fonts.find_cjk_font()
    regular, bold = (p.resolve() for p in fonts.bundled_font_paths())
    with caplog.at_level(logging.WARNING, logger="matplotlib"), matplotlib.rc_context(charts._rc("zh", family)):
        figures = charts._result_figures(demo, "zh")
        assert set(figures) == set(charts.CHART_NAMES)
        for name, fig in figures.items():
            texts = _cjk_texts(fig)
            assert texts, name
            assert fig._suptitle is not None and fig._suptitle in texts, name
            for t in texts:
                assert t.get_fontfamily()[0] == family, (name, t.get_text())
                path = Path(font_manager.findfont(t.get_fontproperties(), fallback_to_default=False)).resolve()
                assert path == (bold if t.get_fontweight() in ("bold", 700) else regular), (name, t.get_text(), path)
            charts.figure_png(fig)  # drawn: a missing glyph would warn, and warnings are errors here
    assert not [r for r in caplog.records if "findfont" in r.getMessage()], [r.getMessage() for r in caplog.records]


def test_english_chart_draws_chinese_names_from_the_cjk_font(demo, caplog):
    from sim.report import compare_frame

    class Named:
        def __init__(self, result, name):
            self._result, self.scenario = result, result.scenario.model_copy(update={"name": name})

        def __getattr__(self, attr):
            return getattr(self._result, attr)

    frame = compare_frame([demo, Named(demo, "示范城市·协商减排")])
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        fig = charts.compare_ratios_chart(frame, lang="en")
        charts.figure_png(fig)  # a glyph missing from DejaVu Sans and the CJK font would warn
    texts = _cjk_texts(fig)
    assert texts
    assert all(t.get_fontfamily() == ["DejaVu Sans", fonts.BUNDLED_FAMILY] for t in texts)
    assert not caplog.records, [r.getMessage() for r in caplog.records]


# --------------------------------------------------------------------------- a user's own font


def test_user_font_that_draws_chinese_takes_precedence(tmp_path, monkeypatch):
    path = _make_font(tmp_path / "user.ttf", "User Test CJK", {c: i for i, c in enumerate(fonts.TEST_TEXT)})
    monkeypatch.setenv(fonts.ENV_VAR, str(path))
    assert fonts.find_cjk_font() == "User Test CJK"


@pytest.mark.parametrize("value", ["DejaVu Sans", "No Such Family", "/nonexistent/font.ttf", "LASTRESORT"])
def test_user_font_that_cannot_draw_chinese_falls_back_to_the_shipped_font(value, monkeypatch):
    if value == "LASTRESORT":
        value = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf")
        if not Path(value).is_file():
            pytest.skip("this matplotlib ships no Last Resort font")
    monkeypatch.setenv(fonts.ENV_VAR, value)
    with pytest.warns(fonts.CjkFontWarning, match="SIM_CJK_FONT") as record:
        assert fonts.find_cjk_font() == fonts.BUNDLED_FAMILY
    assert fonts.BUNDLED_FAMILY in str(record[0].message)


# --------------------------------------------------------------------------- the HTML report


def test_zh_report_embeds_a_font_with_every_chinese_character_of_the_page(demo, tmp_path):
    """report.html reads on a machine with no CJK font: the page carries the bundled font,
    subset to its own characters, and the page's CSS asks for it."""
    import base64
    import io
    import re

    from fontTools.ttLib import TTFont

    from sim.report import render_report_html

    html = render_report_html(demo, {}, lang="zh")
    faces = re.findall(r'@font-face \{ font-family: "([^"]+)"; font-weight: (\d+); src: url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)', html)
    assert [(f, w) for f, w, _ in faces] == [(fonts.HTML_FAMILY, "400"), (fonts.HTML_FAMILY, "700")]
    page_cjk = {c for c in re.sub(r"<style>.*?</style>", "", html, flags=re.S) if "\u4e00" <= c <= "\u9fff"}
    assert len(page_cjk) > 100
    for _, _, data in faces:
        font = TTFont(io.BytesIO(base64.b64decode(data)))
        assert page_cjk <= {chr(c) for c in font.getBestCmap()}
        assert len(data) < 200_000  # a subset, not the whole 1.5 MB face
    assert f'"{fonts.HTML_FAMILY}"' in html.split("body {", 1)[1].split("}", 1)[0]


def test_font_is_embedded_only_for_pages_that_show_chinese(demo):
    from sim.report import render_report_html

    assert fonts.embedded_font_css("Demo city, orange warning 2023-12-04") == ""
    html = render_report_html(demo, {}, lang="en")  # English, but the enterprises have Chinese names
    assert "示范市" in html and html.count("@font-face") == 2
