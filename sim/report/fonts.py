"""Finding a font that can draw Chinese chart labels.

matplotlib's default font (DejaVu Sans) has no CJK glyphs, so Chinese labels need an installed
CJK font. :func:`find_cjk_font` looks through the fonts matplotlib knows (and, if none fits, the
font files on the system, in case matplotlib's font cache predates the font), and accepts a font
only if its file really maps every character of :data:`TEST_TEXT` to a glyph: a family name
alone proves nothing (fontconfig aliases, empty stubs).

Callers read the finder through this module (``fonts.find_cjk_font()``) so that tests can
replace it.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

from matplotlib import font_manager, ft2font

#: Characters a font must have to draw the Chinese labels.
TEST_TEXT = "重污染天气应急减排预警级别浓度"

#: Families tried first, best first (Simplified Chinese faces before the others).
PREFERRED_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Sarasa Gothic SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "SimSun",
    "Droid Sans Fallback",
)

FALLBACK_MESSAGE = (
    "no installed font can draw Chinese (tried {families}); charts are drawn with English labels. "
    "Install a CJK font and run again, e.g. on Debian/Ubuntu `sudo apt-get install fonts-noto-cjk` "
    "(or `fonts-wqy-zenhei`), on Fedora `sudo dnf install google-noto-sans-cjk-fonts`; on Windows "
    "and macOS Microsoft YaHei / PingFang SC are found automatically. If matplotlib still does not "
    "see a newly installed font, delete its cache folder ({cache})."
)


class CjkFontWarning(UserWarning):
    """No CJK-capable font: Chinese charts fall back to English labels."""


def font_has_glyphs(path: str, text: str = TEST_TEXT, face_index: int = 0) -> bool:
    """Whether the font file at ``path`` (face ``face_index`` of a collection) maps every
    character of ``text`` to a glyph (FreeType glyph index != 0)."""
    try:
        try:
            font = ft2font.FT2Font(str(path), face_index=face_index)
        except TypeError:  # matplotlib < 3.10 opens the first face only
            font = ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(c)) != 0 for c in text)


def _entry_ok(entry: font_manager.FontEntry) -> bool:
    return font_has_glyphs(entry.fname, TEST_TEXT, getattr(entry, "index", 0))


def _search(entries: list) -> str | None:
    regular = [e for e in entries if e.style == "normal" and str(e.weight) in ("400", "normal", "regular", "book", "medium", "500")] or entries
    by_name: dict[str, list] = {}
    for entry in regular:
        by_name.setdefault(entry.name, []).append(entry)
    for family in PREFERRED_FAMILIES:
        if any(_entry_ok(e) for e in by_name.get(family, [])):
            return family
    for name in sorted(by_name):  # any other font that has the glyphs
        if name not in PREFERRED_FAMILIES and any(_entry_ok(e) for e in by_name[name][:1]):
            return name
    return None


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Family name of an installed font with Chinese glyphs, or None (result cached)."""
    manager = font_manager.fontManager
    found = _search(list(manager.ttflist))
    if found is not None:
        return found
    # matplotlib's font cache may predate a font installed later: look at the files themselves.
    known = {e.fname for e in manager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if path not in known and font_has_glyphs(path):
            try:
                manager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue
    return _search([e for e in manager.ttflist if e.fname not in known]) if added else None


def chart_font(lang: str) -> tuple[str, str | None]:
    """The language charts can really be drawn in and the CJK family to use.

    Returns ``(lang, family)``: ``("zh", family)`` when a CJK font is found, ``("en", None)``
    for English, and ``("en", None)`` with a :class:`CjkFontWarning` (a ``UserWarning``) when
    Chinese was asked for but no font can draw it.
    """
    if lang != "zh":
        return lang, None
    family = find_cjk_font()
    if family is None:
        import matplotlib

        warnings.warn(
            FALLBACK_MESSAGE.format(families=", ".join(PREFERRED_FAMILIES[:6]) + ", ...", cache=matplotlib.get_cachedir()),
            CjkFontWarning,
            stacklevel=3,
        )
        return "en", None
    return "zh", family
