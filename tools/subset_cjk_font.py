"""Build the Chinese chart font shipped in ``sim/data/fonts/`` (run by hand, not at install).

    python tools/subset_cjk_font.py NotoSansCJK-Regular.ttc NotoSansCJK-Bold.ttc [--face 2]
                                    [--extra-text FILE ...]

The report draws Chinese with Noto Sans CJK SC Regular and Bold (titles) (SIL Open Font
License 1.1). The full
face holds 65,535 glyphs (16 MB as a single OTF); a chart needs the characters planners write,
so the shipped file keeps:

- every character of GB 2312-80 (6,763 hanzi plus its punctuation, full-width forms, Greek,
  Cyrillic, kana and box-drawing rows): the national standard character set that covers
  Chinese place, enterprise and industry names in everyday use;
- ASCII, Latin-1, the general punctuation and the symbols charts use (μ ³ ₂ − – — … ≥ ≤ ± × ·);
- every CJK character found in the project's own text files (scenarios, policies, emission
  factors, vocabulary, templates), so nothing the project itself writes can be missing;
- the characters of any ``--extra-text`` file (a city's own list, say).

Outlines are copied unchanged; hinting and the OpenType layout tables the Agg renderer does not
use are dropped. The family is renamed "Noto Sans CJK SC GB2312" so that matplotlib can never
mistake it for (or be shadowed by) a full Noto Sans CJK SC installed on the system. The source
used for the shipped files is Noto Sans CJK version 2.004, face 2 (SC) of
``NotoSansCJK-Regular.ttc`` and ``NotoSansCJK-Bold.ttc`` as packaged by Debian (``fonts-noto-cjk`` 1:20220127+repack1-1).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "sim" / "data" / "fonts"
FAMILY = "Noto Sans CJK SC GB2312"

#: Symbols the charts and tables use beyond ASCII / Latin-1 / GB 2312.
SYMBOLS = "μ³²₂₃₄ₓ−–—‘’“”…•·≥≤±×÷°‰→←↑↓≈≠∑Δ✓✗①②③④⑤⑥⑦⑧⑨⑩"

CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def gb2312_characters() -> set[str]:
    """Every character encodable in GB 2312 (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    chars = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def project_characters() -> set[str]:
    """CJK characters in the project's own text files."""
    chars: set[str] = set()
    for pattern in ("sim/**/*.py", "sim/**/*.yaml", "sim/**/*.csv", "sim/**/*.j2", "scenarios/**/*.yaml", "emission_factors/**/*.csv", "emission_factors/**/*.yaml", "enterprises/**/*.yaml"):
        for path in ROOT.glob(pattern):
            chars.update(CJK.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return chars


def characters(extra_files: list[Path]) -> set[str]:
    chars = gb2312_characters() | project_characters() | set(SYMBOLS)
    chars |= {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    chars |= {chr(c) for c in range(0x2000, 0x2070)}  # general punctuation
    for path in extra_files:
        chars |= {c for c in path.read_text(encoding="utf-8") if not c.isspace()}
    return chars


def rename(font: TTFont) -> str:
    """Give the subset its own family name (name table and CFF top dict); returns the
    PostScript name, which is also the file's stem."""
    names = font["name"]
    version = names.getDebugName(5) or ""
    style = names.getDebugName(2) or "Regular"
    postscript = f"NotoSansCJKsc-GB2312-{style}"
    full = FAMILY if style == "Regular" else f"{FAMILY} {style}"
    for name_id, value in ((1, FAMILY), (2, style), (3, f"{postscript};subset of Noto Sans CJK SC {version}"), (4, full), (6, postscript), (16, FAMILY), (17, style)):
        names.removeNames(nameID=name_id)
        names.setName(value, name_id, 3, 1, 0x409)
    cff = font["CFF "].cff
    cff.fontNames = [postscript]
    top = cff.topDictIndex[0]
    top.FamilyName, top.FullName = FAMILY, full
    return postscript


def build(source: Path, face: int, extra_files: list[Path], out_dir: Path = OUT_DIR) -> Path:
    font = TTFont(str(source), fontNumber=face, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = []  # Agg draws glyph by glyph; no shaping
    options.drop_tables += ["BASE", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in characters(extra_files)))
    subsetter.subset(font)
    postscript = rename(font)
    out = out_dir / f"{postscript}.otf"
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, nargs="+", help="NotoSansCJK-Regular.ttc, NotoSansCJK-Bold.ttc (or the NotoSansCJKsc-*.otf files with --face 0)")
    parser.add_argument("--face", type=int, default=2, help="face index of Simplified Chinese in the collections (2 in NotoSansCJK-*.ttc)")
    parser.add_argument("--extra-text", type=Path, nargs="*", default=[], help="UTF-8 files whose characters must be kept too")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    for source in args.sources:
        out = build(source, args.face, args.extra_text, args.out_dir)
        font = TTFont(str(out))
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(font.getBestCmap())} characters, {len(font.getGlyphOrder())} glyphs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
