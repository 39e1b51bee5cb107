"""The rows of a negotiated-cuts file (协商减排清单) as text, before validation.

A CSV (UTF-8 or GBK, English headers or the Chinese aliases below) or a YAML file with a list
under ``agreements``. Each row comes back with the row number a spreadsheet shows (the header
is row 1) or, for YAML, its index, so that every message can name it. Blank CSV rows are
skipped. Validation of the values is :func:`sim.config.scenario.load_agreements`' job.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sim.config.yamlio import read_yaml
from sim.errors import InputError

#: Columns of the file [-: fractions 0-1 or percentages] and the Chinese headers accepted for them.
AGREEMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprise_id": ("企业编号", "企业id", "企业代码"),
    "line_id": ("生产线编号", "生产线", "产线编号"),
    "from_level": ("起始预警级别", "适用预警级别", "起始级别", "预警级别"),
    "production_cut": ("限产比例", "生产削减比例"),
    "so2_cut": ("二氧化硫减排比例", "so2减排比例"),
    "nox_cut": ("氮氧化物减排比例", "nox减排比例"),
    "pm_cut": ("颗粒物减排比例", "pm减排比例"),
    "voc_cut": ("vocs减排比例", "voc减排比例", "挥发性有机物减排比例"),
    "measure_zh": ("协商减排措施", "减排措施"),
    "measure_en": ("措施英文", "measure"),
    "source": ("来源", "依据"),
}

_ALIASES = {alias.lower(): key for key, aliases in AGREEMENT_COLUMNS.items() for alias in (key, *aliases)}


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(path, None, "the file is neither UTF-8 nor GBK text.", "save it as CSV UTF-8.")


def read_agreement_rows(path: Path, key: str | None = None) -> list[tuple[str, dict[str, object]]]:
    """``(where, row)`` for every agreement of the file at ``path`` (``where``: ``row 3`` of a
    CSV, ``key agreements[2]`` of a YAML file); cells as written, empty cells left out."""
    path = Path(path)
    if not path.is_file():
        where = f"key {key}" if key else None
        raise InputError(path, where, "the negotiated-cuts file does not exist." if not path.exists() else "the negotiated-cuts path is not a file.",
                         "check the path (relative paths start at the policy file's folder).")
    if path.suffix.lower() in {".yaml", ".yml"}:
        data = read_yaml(path, "negotiated-cuts", key)
        rows = data.get("agreements")
        if set(data) - {"agreements", "description", "source"}:
            extra = sorted(set(data) - {"agreements", "description", "source"})[0]
            raise InputError(path, f"key {extra}", f"unknown key '{extra}'.", "allowed keys here: agreements, description, source.")
        if not isinstance(rows, list):
            raise InputError(path, "key agreements", "the file must hold a list of agreements under 'agreements'.", "write 'agreements:' and one '- enterprise_id: ...' mapping per agreement.")
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise InputError(path, f"key agreements[{i}]", "an agreement must be a mapping of keys.", "write 'enterprise_id: ...', 'nox_cut: ...' and the other keys.")
            out.append((f"key agreements[{i}]", dict(row)))
        return out
    if path.suffix.lower() != ".csv":
        raise InputError(path, None, f"'{path.suffix}' is not a format of negotiated-cuts files.", "give a .csv (UTF-8 or GBK) or a .yaml file.")
    lines = list(csv.reader(io.StringIO(_decode(path), newline="")))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise InputError(path, None, "the file is empty.", f"write a header row: {', '.join(AGREEMENT_COLUMNS)}.")
    header = []
    for k, cell in enumerate(lines[0]):
        name = _ALIASES.get(cell.strip().lower())
        if name is None:
            raise InputError(path, f"row 1, column {k + 1}", f"'{cell.strip()}' is not a column of a negotiated-cuts file.",
                             f"use these headers (or their Chinese names): {', '.join(AGREEMENT_COLUMNS)}.")
        if name in header:
            raise InputError(path, f"row 1, column {k + 1}", f"the column '{name}' is given twice.", "keep one of the two columns.")
        header.append(name)
    out = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise InputError(path, f"row {number}", f"the row has {len(cells)} cells but the header {len(header)}.", "quote cells that contain commas.")
        out.append((f"row {number}", {name: c.strip() for name, c in zip(header, cells) if c.strip()}))
    return out
