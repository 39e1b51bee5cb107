"""The font that draws Chinese in charts.

matplotlib's default font (DejaVu Sans) has no CJK glyphs, and since matplotlib 3.10 a missing
glyph falls back to the bundled "Last Resort" font, whose glyph for every code point is a
placeholder box: a font's code-point coverage proves nothing. So the report brings its own
font, a GB 2312 subset of Noto Sans CJK SC shipped in ``sim/data/fonts`` (OFL 1.1, see the
README there), and registers the files with matplotlib explicitly: system fonts and stale
font caches cannot change what a chart looks like.

A user may name another CJK font in the environment variable ``SIM_CJK_FONT`` (a font file or
an installed family name); it is used only if its outlines really are Chinese characters
(:func:`draws_distinct_glyphs`), otherwise a :class:`CjkFontWarning` says why and the bundled
font is used.

Callers read the font through this module (``fonts.chart_font(lang)``) so that tests can
replace it.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from matplotlib import font_manager, ft2font

#: Distinct characters a font must draw as distinct, non-placeholder shapes.
TEST_TEXT = "重污染天气应急减排预警级别浓度黄橙红"

#: The bundled family (both files, Regular and Bold, carry it).
BUNDLED_FAMILY = "Noto Sans CJK SC GB2312"
BUNDLED_FILES = ("NotoSansCJKsc-GB2312-Regular.otf", "NotoSansCJKsc-GB2312-Bold.otf")

#: Environment variable naming a user's own CJK font (file path or family name).
ENV_VAR = "SIM_CJK_FONT"

#: The Latin font charts use; always present, it ships with matplotlib.
LATIN_FAMILY = "DejaVu Sans"

MISSING_MESSAGE = (
    "the bundled Chinese font is missing ({path}); charts are drawn with English labels. "
    "Reinstall the package (`pip install --force-reinstall .`), or name a CJK font file in the "
    "environment variable SIM_CJK_FONT."
)


class CjkFontWarning(UserWarning):
    """A CJK font could not be used: the reason, and what is drawn instead."""


def bundled_font_paths() -> tuple[Path, ...]:
    """Paths of the bundled font files [Regular, Bold]."""
    folder = resources.files("sim") / "data" / "fonts"
    return tuple(Path(str(folder / name)) for name in BUNDLED_FILES)


try:  # matplotlib >= 3.10
    _LOAD_FLAGS = ft2font.LoadFlags.NO_SCALE | ft2font.LoadFlags.NO_HINTING
except AttributeError:
    _LOAD_FLAGS = ft2font.LOAD_NO_SCALE | ft2font.LOAD_NO_HINTING


def _open(path: str | Path, face_index: int = 0) -> ft2font.FT2Font | None:
    try:
        try:
            return ft2font.FT2Font(str(path), face_index=face_index)
        except TypeError:  # matplotlib < 3.10 opens the first face only
            return ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return None


def _outline(font: ft2font.FT2Font, glyph_index: int) -> bytes:
    """The glyph's outline (vertices and path codes, in font units) as bytes: equal bytes mean
    equal shapes. Empty for a glyph with no contours."""
    font.load_glyph(glyph_index, _LOAD_FLAGS)
    vertices, codes = font.get_path()
    if len(codes) == 0:
        return b""
    return np.round(np.asarray(vertices, float), 1).tobytes() + np.asarray(codes, np.uint8).tobytes()


def draws_distinct_glyphs(path: str | Path, text: str = TEST_TEXT, face_index: int = 0) -> bool:
    """Whether the font file draws every character of ``text`` as a shape of its own.

    Each character must map to a glyph with contours, all shapes must differ from each other
    and from the font's .notdef glyph. Placeholder fonts (Last Resort: one box per Unicode
    block) and stubs that map code points to empty or identical glyphs fail; a family name or
    code-point coverage alone proves nothing.
    """
    font = _open(path, face_index)
    if font is None:
        return False
    text = "".join(dict.fromkeys(text))  # distinct characters, in order
    shapes = set()
    for char in text:
        index = font.get_char_index(ord(char))
        if index == 0:
            return False
        shape = _outline(font, index)
        if not shape:
            return False
        shapes.add(shape)
    return len(shapes) == len(text) and _outline(font, 0) not in shapes



def _register(path: Path) -> str | None:
    """Add a font file to matplotlib's font list (once); its family name, or None."""
    manager = font_manager.fontManager
    resolved = os.path.realpath(path)
    for entry in manager.ttflist:
        if os.path.realpath(entry.fname) == resolved:
            return entry.name
    try:
        manager.addfont(str(path))
    except (OSError, RuntimeError, ValueError):
        return None
    return next((e.name for e in reversed(manager.ttflist) if os.path.realpath(e.fname) == resolved), None)


def _user_font(value: str) -> tuple[str | None, str]:
    """Family of the font named by SIM_CJK_FONT if it draws Chinese, else (None, why)."""
    if os.sep in value or "/" in value or Path(value).suffix.lower() in (".ttf", ".otf", ".ttc"):
        path = Path(value).expanduser()
        if not path.is_file():
            return None, f"{ENV_VAR}={value!r} is not a font file"
        if not draws_distinct_glyphs(path):
            return None, f"{ENV_VAR}={value!r} does not draw Chinese characters (no glyphs, or placeholder boxes)"
        family = _register(path)
        return (family, "") if family else (None, f"matplotlib cannot read {ENV_VAR}={value!r}")
    entries = [e for e in font_manager.fontManager.ttflist if e.name == value]
    if not entries:
        return None, f"{ENV_VAR}={value!r}: matplotlib knows no font family of that name"
    if not any(draws_distinct_glyphs(e.fname, face_index=getattr(e, "index", 0)) for e in entries):
        return None, f"{ENV_VAR}={value!r} does not draw Chinese characters (no glyphs, or placeholder boxes)"
    return value, ""


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Family name of the CJK font charts use (result cached): the user's ``SIM_CJK_FONT`` if it
    really draws Chinese, else the bundled font, registered with matplotlib. None only if the
    bundled files are missing (a broken install) and no user font works."""
    requested = os.environ.get(ENV_VAR, "").strip()
    if requested:
        family, why = _user_font(requested)
        if family is not None:
            return family
        warnings.warn(f"{why}; using the bundled {BUNDLED_FAMILY} instead.", CjkFontWarning, stacklevel=2)
    families = {_register(path) for path in bundled_font_paths() if path.is_file()}
    if BUNDLED_FAMILY in families:
        return BUNDLED_FAMILY
    return None


def font_families(lang: str, cjk_family: str | None) -> list[str]:
    """The ``font.family`` list for charts: Chinese text first in zh, Latin first in en; the
    other font is matplotlib's per-glyph fallback, so a Chinese enterprise name in an English
    chart (or a Latin unit in a Chinese one) is still drawn from a real font."""
    if cjk_family is None:
        return [LATIN_FAMILY]
    return [cjk_family, LATIN_FAMILY] if lang == "zh" else [LATIN_FAMILY, cjk_family]


def chart_font(lang: str) -> tuple[str, str | None]:
    """The language charts are drawn in and the CJK family to use.

    Returns ``(lang, family)``. The family is always the CJK font (for CJK names in English
    charts too); only a broken install without the bundled font gives ``("en", None)``, with a
    :class:`CjkFontWarning` when Chinese was asked for.
    """
    family = find_cjk_font()
    if family is None and lang == "zh":
        warnings.warn(MISSING_MESSAGE.format(path=bundled_font_paths()[0]), CjkFontWarning, stacklevel=3)
        return "en", None
    return lang, family


#: The family name of the font embedded in HTML pages (see :func:`embedded_font_css`).
HTML_FAMILY = "Report Sans SC"


def embedded_font_css(page_text: str) -> str:
    """``@font-face`` rules that embed the bundled font, Regular and Bold, subset to the
    non-ASCII characters of ``page_text``, as data URIs: a self-contained HTML page then reads in
    Chinese on any machine, with or without a CJK font. A few tens of kB per weight for a report
    page. Empty when the page has no such character or the bundled files are missing."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    characters = sorted({ord(c) for c in page_text if ord(c) > 0x7E and not c.isspace()})
    rules = []
    for path, weight in zip(bundled_font_paths(), (400, 700)):
        if not characters or not path.is_file():
            continue
        font = TTFont(str(path))
        options = subset.Options()
        options.notdef_outline = True
        options.layout_features = []
        options.ignore_missing_unicodes = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=characters)
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        rules.append(f'@font-face {{ font-family: "{HTML_FAMILY}"; font-weight: {weight}; src: url(data:font/otf;base64,{data}) format("opentype"); }}')
    return "\n".join(rules)
