"""Write the corpus files that are not UTF-8 text: the GBK and UTF-16 lists, the GBK warning
standard and the workbooks.

Run from the repository root after changing tests/fixtures/tiny_list.csv:
``python tests/bad_inputs/make_binary_files.py``. The output is deterministic.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
TINY = HERE.parent / "fixtures" / "tiny_list.csv"


def _cell(text: str) -> object:
    """A spreadsheet cell as an export would hold it: numbers as numbers, blanks as empty."""
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text else value


def main() -> None:
    text = TINY.read_text(encoding="utf-8")
    # Exports of Chinese office software: GBK, Windows line ends.
    (HERE / "ok_gbk" / "list.csv").write_bytes(text.replace("\n", "\r\n").encode("gbk"))
    # Excel's "Unicode text": UTF-16 with a byte-order mark.
    (HERE / "list_utf16" / "list.csv").write_bytes(text.encode("utf-16"))
    # A local warning standard saved by the same software: GBK, not UTF-8.
    standard = ("name: 本地重污染天气预警分级标准\nsource: 市生态环境局\nstart_above: 200\nlevels:\n"
                "  yellow: {aqi_above: 200, days: 1}\n  orange: {aqi_above: 200, days: 2}\n  red: {aqi_above: 300, days: 2}\n")
    (HERE / "standard_gbk" / "local_standard.yaml").write_bytes(standard.replace("\n", "\r\n").encode("gbk"))

    rows = [line.split(",") for line in text.splitlines()]
    for case in ("list_xlsx_several_sheets", "ok_xlsx_sheet_given"):
        book = openpyxl.Workbook()
        notes = book.active
        notes.title = "说明"
        notes.append(["填表说明 (instructions): one row per production line; grades A/B/C/D; rates in kg/h."])
        sheet = book.create_sheet("清单")
        sheet.append(rows[0])
        for row in rows[1:]:
            sheet.append([_cell(v) for v in row])
        stamp = dt.datetime(2023, 12, 1)
        book.properties.created = book.properties.modified = stamp
        buffer = io.BytesIO()
        book.save(buffer)
        (HERE / case / "list.xlsx").write_bytes(buffer.getvalue())

    # One-sheet workbooks of the tiny list with one cell changed (row, header, value).
    so2 = rows[0].index("so2_kg_h")
    for case, change in (
        ("list_xlsx_formula_uncached", (3, so2, "=10*2")),  # openpyxl stores no result of a formula
        ("list_xlsx_error_cell", (3, so2, "#DIV/0!")),
    ):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(rows[0])
        for row in rows[1:]:
            sheet.append([_cell(v) for v in row])
        r, c, value = change
        sheet.cell(r, c + 1).value = value
        if value.startswith("#"):
            sheet.cell(r, c + 1).data_type = "e"  # an error value, as Excel stores a failed formula
        book.properties.created = book.properties.modified = dt.datetime(2023, 12, 1)
        buffer = io.BytesIO()
        book.save(buffer)
        (HERE / case / "list.xlsx").write_bytes(buffer.getvalue())

    # An encrypted workbook is an OLE2 compound file, not a zip: its signature and padding are
    # enough for the reader to tell (a real one needs an encryption library to write).
    (HERE / "list_xlsx_encrypted" / "list.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


if __name__ == "__main__":
    main()
