"""The emergency reduction list (应急减排清单) as an Excel workbook.

Laid out like a city's published list: one row per production line or process with the
enterprise (each enterprise's derived truck row directly under its lines), city and district,
performance grade, flags (是 where set), why a line is exempt or handled apart, the
staggered-production calendar covering it, the baseline emissions [kg/d] and, for each warning
level, the designed reductions [kg/d] and the measures in words, "中文 (English)"; header rows
in Chinese and English, frozen panes and an autofilter. A second sheet (汇总) checks the list and
society-wide reduction ratios against the targets and gives the totals.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from sim.cell_text import looks_like_formula, round_significant
from sim.report import FORMULA, LEVELS, POLLUTANTS, RATIO_COLUMN, RATIO_POLLUTANTS, grade_name, industry_names, negotiated_verdict, text

#: Rows above the first data row of the list sheet: title, group, Chinese and English headers.
HEADER_ROWS = 4
#: Data rows per list sheet: Excel and WPS open at most 1,048,576 rows.
MAX_LIST_ROWS = 1_048_576 - HEADER_ROWS
KG_FORMAT = "#,##0.00"
PCT_FORMAT = "0.0%"

_THIN = Side(style="thin", color="B8BFCA")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="EEF1F5")
_LEVEL_FILL = {"yellow": PatternFill("solid", fgColor="FFF3B0"), "orange": PatternFill("solid", fgColor="FFD9A8"), "red": PatternFill("solid", fgColor="F7B7C1")}
_OK_FILL = PatternFill("solid", fgColor="E3F3E6")
_BAD_FILL = PatternFill("solid", fgColor="FBE5E7")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _both(key: str, **fields: Any) -> tuple[str, str]:
    """(Chinese, English) forms of a label."""
    return text(key, "zh", **fields), text(key, "en", **fields)


def _pollutant_heads(p: str) -> tuple[str, str]:
    return text(f"pollutant.{p}", "zh"), FORMULA[p][2]


#: Flag columns of the list, shown as 是 where set and left blank where not (是 is also what
#: the list reader accepts as a set flag).
FLAGS = ("livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport")


def _columns(negotiated: bool = False) -> list[dict[str, Any]]:
    """Column specs: field, Chinese and English heads, group, width, number format; with
    ``negotiated``, each level also shows the negotiated measure (协商减排措施) and what it adds
    to the grade measure's reduction [kg/d] of the ratio pollutants, in their own columns."""
    cols: list[dict[str, Any]] = []
    spec = [("index", 6), ("enterprise_name", 30), ("enterprise_id", 11), ("city", 10), ("district", 10), ("industry", 16), ("line", 26), ("grade", 9)]
    spec += [(f"flag.{flag}", 7) for flag in FLAGS] + [("reason", 34), ("calendar", 34)]
    for field, width in spec:
        zh, en = _both(field if field.startswith("flag.") else f"xlsx.col.{field}")
        en = en[:1].upper() + en[1:]
        cols.append({"field": field, "zh": zh, "en": en, "group": "line", "width": width, "format": "0" if field == "index" else None})
    for p in POLLUTANTS:
        zh, en = _pollutant_heads(p)
        cols.append({"field": f"baseline_{p}_kg_d", "zh": zh, "en": en, "group": "baseline", "width": 11, "format": KG_FORMAT})
    for level in LEVELS:
        for p in POLLUTANTS:
            zh, en = _pollutant_heads(p)
            cols.append({"field": f"{level}_{p}_reduction_kg_d", "zh": zh, "en": en, "group": level, "width": 11, "format": KG_FORMAT})
        zh, en = _both("xlsx.col.measure")
        cols.append({"field": f"{level}_measure", "zh": zh, "en": en, "group": level, "width": 34, "format": None})
        if negotiated:
            zh, en = _both("xlsx.col.negotiated_measure")
            cols.append({"field": f"{level}_negotiated_measure", "zh": zh, "en": en[:1].upper() + en[1:], "group": level, "width": 34, "format": None})
            for p in RATIO_POLLUTANTS:
                name = FORMULA[RATIO_COLUMN[p]][2]
                zh, en = _both("xlsx.col.negotiated_kg_d", p=name)
                cols.append({"field": f"{level}_{RATIO_COLUMN[p]}_negotiated_kg_d", "zh": zh, "en": en[:1].upper() + en[1:], "group": level, "width": 11, "format": KG_FORMAT})
    return cols


def _list_frame(result: Any) -> pd.DataFrame:
    """The reduction list in its published order with display columns (Chinese industry,
    line / process, grade, flags as 是, the calendar in words); figures without float noise."""
    m = result.reduction_list
    processes = result.inventory.factors.processes
    out = m.copy()
    out["index"] = np.arange(1, len(m) + 1)
    out["industry"] = m["industry"].map(industry_names(result, "zh")).fillna(m["industry"])
    process_zh = processes["process_zh"] if "process_zh" in processes.columns else pd.Series(index=processes.index, dtype=object)
    zh = process_zh.reindex(pd.MultiIndex.from_frame(m[["industry", "process"]])).to_numpy(object)
    process = pd.Series(zh, index=m.index).replace("", None).fillna(m["process"])
    # a derived truck row has no line of its own: say where it comes from, not its reserved id
    derived = m["derived"].to_numpy(bool)
    out["line"] = np.where(derived, process + "（" + text("xlsx.derived", "zh") + "）", m["line_id"].astype(str) + " / " + process)
    out["grade"] = m["grade"].map({g: grade_name(g, "zh") for g in m["grade"].unique()})
    yes = text("yes", "zh")
    for flag in FLAGS:
        out[f"flag.{flag}"] = np.where(m[flag].to_numpy(bool), yes, None)
    out["calendar"] = m["calendar_text"]
    figures = [c for c in m.columns if c.endswith("_kg_d")]
    out[figures] = round_significant(m[figures].to_numpy(float))
    return out


def _cell(ws: Any, value: Any = None, *, font: Font | None = None, fill: PatternFill | None = None, fmt: str | None = None, align: Alignment | None = None, border: bool = True) -> WriteOnlyCell:
    if isinstance(value, str):  # control characters (a Word line break) are not allowed in xlsx
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):  # text (a list's names, the scenario name) is never a live formula
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if fmt is not None:
        cell.number_format = fmt
    if align is not None:
        cell.alignment = align
    if border:
        cell.border = _BORDER
    return cell


def _head(ws: Any, value: Any, fill: PatternFill = _HEAD_FILL) -> WriteOnlyCell:
    return _cell(ws, value, font=_BOLD, fill=fill, align=_CENTER)


def _write_list(ws: Any, result: Any, frame: pd.DataFrame) -> None:
    """One list sheet: the header rows, then ``frame`` (a part of :func:`_list_frame`)."""
    cols = _columns(f"{LEVELS[0]}_negotiated_measure" in frame.columns)
    last = get_column_letter(len(cols))
    for j, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(j)].width = col["width"]
    ws.freeze_panes = f"C{HEADER_ROWS + 1}"
    ws.print_title_rows = f"3:{HEADER_ROWS}"
    ws.page_setup.orientation = "landscape"
    zh_title, en_title = _both("xlsx.title")
    ws.append([_cell(ws, f"{result.scenario.name} · {zh_title} / {en_title}", font=_TITLE, border=False)])
    ws.merged_cells.add(f"A1:{last}1")
    ws.row_dimensions[1].height = 24
    # row 2: groups (merged across their columns); rows 3-4: Chinese and English column names
    spans: dict[str, list[int]] = {}
    for j, col in enumerate(cols, start=1):
        spans.setdefault(col["group"], []).append(j)
    titles = {}
    for group, idx in spans.items():
        if group in ("line", "baseline"):
            zh, en = _both(f"xlsx.group.{group}")
        else:
            zh, en = (text("xlsx.group.level", lang, level=text(f"level.{group}", lang)) for lang in ("zh", "en"))
        titles[idx[0]] = f"{zh} / {en}"
        ws.merged_cells.add(f"{get_column_letter(idx[0])}2:{get_column_letter(idx[-1])}2")
    ws.append([_head(ws, titles.get(j), _LEVEL_FILL.get(col["group"], _HEAD_FILL)) for j, col in enumerate(cols, start=1)])
    ws.append([_head(ws, col["zh"], _LEVEL_FILL.get(col["group"], _HEAD_FILL)) for col in cols])
    ws.append([_head(ws, col["en"], _LEVEL_FILL.get(col["group"], _HEAD_FILL)) for col in cols])
    ws.row_dimensions[2].height = 20
    ws.row_dimensions[4].height = 30
    fields = [c["field"] for c in cols]
    formats = [c["format"] for c in cols]
    shown = frame[fields].copy()
    for name in shown.columns:  # xlsx forbids control characters (a Word line break): drop them, once per column
        column = shown[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            cleaned = column.str.replace(ILLEGAL_CHARACTERS_RE.pattern, "", regex=True)
            shown[name] = cleaned.where(cleaned.notna() | column.isna(), column)  # non-text cells as they were
    data = shown.astype(object).where(shown.notna(), None).to_numpy()
    for row in data:
        ws.append([_cell(ws, v.item() if hasattr(v, "item") else v, fmt=f, border=False) if f or looks_like_formula(v) else (v.item() if hasattr(v, "item") else v) for v, f in zip(row, formats)])
    ws.auto_filter.ref = f"A{HEADER_ROWS}:{last}{HEADER_ROWS + len(frame)}"


def _write_summary(ws: Any, result: Any) -> None:
    m = result.metrics
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 12
    for j in range(4, 9):
        ws.column_dimensions[get_column_letter(j)].width = 14
    ws.freeze_panes = "A5"
    zh, en = _both("xlsx.summary.title")
    ws.append([_cell(ws, f"{zh} / {en}", font=_TITLE, border=False)])
    ws.append([])
    heads = [_both("xlsx.summary.level"), _both("xlsx.summary.scope"), _both("xlsx.summary.target")]
    heads += [(text(f"pollutant.{p}", "zh"), FORMULA[p][2]) for p in RATIO_POLLUTANTS]
    heads.append(_both("xlsx.summary.met"))
    ws.append([_head(ws, h[0]) for h in heads])
    ws.append([_head(ws, h[1]) for h in heads])
    negotiated = m.get("negotiated")
    # with negotiated cuts: each level's ratios with them (list, society) and without them
    scopes = [("list", m["targets_met"], m, ""), ("society", m["targets_met"], m, "")]
    if negotiated:
        scopes += [("list", negotiated["targets_met_without"], negotiated, "_without"), ("society", negotiated["targets_met_without"], negotiated, "_without")]
    for level in LEVELS:
        for scope, checks, source, tail in scopes:
            met = checks[level][scope]
            present = [v for v in met.values() if v is not None]
            ok = bool(present) and all(present)
            row = [
                _cell(ws, f"{text(f'warning.{level}', 'zh')} / {text(f'warning.{level}', 'en')}", fill=_LEVEL_FILL[level]),
                _cell(ws, f"{text(f'scope.{scope}{tail}', 'zh')} / {text(f'scope.{scope}{tail}', 'en')}"),
                _cell(ws, m["targets"][scope][level], fmt=PCT_FORMAT),
            ]
            for p in RATIO_POLLUTANTS:
                p_met = met.get(p)
                row.append(_cell(ws, source[f"{scope}_ratio{tail}"][level].get(p), fmt=PCT_FORMAT, fill=None if p_met is None else (_OK_FILL if p_met else _BAD_FILL)))
            row.append(_cell(ws, f"{text('yes' if ok else 'no', 'zh')} / {text('met' if ok else 'not_met', 'en')}", font=_BOLD, fill=_OK_FILL if ok else _BAD_FILL))
            ws.append(row)
    for lang in ("zh", "en") if negotiated else ():  # what the negotiated cuts achieve, in words
        for sentence in negotiated_verdict(m, lang):
            ws.append([_cell(ws, sentence, border=False)])
    # totals of the list [kg/d]
    ws.append([])
    zh, en = _both("xlsx.summary.totals")
    ws.append([_cell(ws, f"{zh} / {en}", font=_BOLD, border=False)])
    heads = [_both("xlsx.summary.item")] + [_pollutant_heads(p) for p in POLLUTANTS]
    ws.append([_head(ws, h[0]) for h in heads])
    ws.append([_head(ws, h[1]) for h in heads])
    measures = result.measures
    items = [(_both("xlsx.summary.baseline"), [measures[f"baseline_{p}_kg_d"].sum() for p in POLLUTANTS], None)]
    for level in LEVELS:
        names = tuple(text("xlsx.summary.reduction", lang, level=text(f"level.{level}", lang)) for lang in ("zh", "en"))
        items.append((names, [measures[f"{level}_{p}_reduction_kg_d"].sum() for p in POLLUTANTS], level))
        if negotiated:  # the grade measures' reduction and what the negotiated cuts add sum to the list's
            names = tuple(text("xlsx.summary.negotiated", lang, level=text(f"level.{level}", lang)) for lang in ("zh", "en"))
            items.append((names, [measures[f"{level}_{p}_negotiated_kg_d"].sum() for p in POLLUTANTS], level))
    for (zh_i, en_i), sums, level in items:  # rounded as shown: a reader copying a total gets what they see
        ws.append([_cell(ws, f"{zh_i} / {en_i}", fill=_LEVEL_FILL.get(level))] + [_cell(ws, round(float(v), 2), fmt=KG_FORMAT) for v in sums])
    # list size and effects
    ws.append([])
    zh, en = _both("xlsx.summary.counts")
    ws.append([_cell(ws, f"{zh} / {en}", font=_BOLD, border=False)])
    ws.append([_head(ws, "{} / {}".format(*_both("xlsx.summary.item"))), _head(ws, "{} / {}".format(*_both("xlsx.summary.value")))])
    period = f"{pd.Timestamp(m['period']['start']):%Y-%m-%d %H:%M} – {pd.Timestamp(m['period']['end']):%Y-%m-%d %H:%M}"
    facts = [
        ("report.name", result.scenario.name, None),
        ("report.period", period, None),
        ("report.lines", m["list"]["lines"], "#,##0"),
        ("report.enterprises", m["list"]["enterprises"], "#,##0"),
        ("report.exempt_lines", m["list"]["exempt_lines"], "#,##0"),
        *((("report.negotiated_lines", negotiated["lines"], "#,##0"), ("report.negotiated_enterprises", negotiated["enterprises"], "#,##0")) if negotiated else ()),
        ("report.loss", m["production_loss_wan_yuan"], "#,##0.0"),
        ("report.days_limited", m["enterprise_days_limited"], "#,##0.0"),
        ("report.days_stopped", m["enterprise_days_stopped"], "#,##0.0"),
        ("report.seed", m["seed"], None),
        ("report.sha256", m["scenario_sha256"], None),
    ]
    for key, value, fmt in facts:
        ws.append([_cell(ws, "{} / {}".format(*_both(key))), _cell(ws, value, fmt=fmt, align=Alignment(horizontal="left"))])


def write_measures_xlsx(result: Any, path: str | Path) -> Path:
    """Write the emergency reduction list of ``result`` to ``path`` (e.g. ``measures.xlsx``):
    sheet 应急减排清单 (one row per row of ``result.reduction_list``, in that order, below
    :data:`HEADER_ROWS` header rows; a list longer than a sheet can hold continues on sheets
    应急减排清单(2), (3), ... with the same headers and running 序号) and sheet 汇总 (ratios
    against targets, totals). Returns the path."""
    path = Path(path)
    wb = Workbook(write_only=True)  # streamed: a province-size list stays fast and small in memory
    frame = _list_frame(result)
    parts = max(1, -(-len(frame) // MAX_LIST_ROWS))  # Excel opens at most 1,048,576 rows a sheet
    for k in range(parts):
        name = text("xlsx.sheet.list", "zh") + (f"({k + 1})" if parts > 1 else "")
        _write_list(wb.create_sheet(name), result, frame.iloc[k * MAX_LIST_ROWS:(k + 1) * MAX_LIST_ROWS])
    _write_summary(wb.create_sheet(text("xlsx.sheet.summary", "zh")), result)
    wb.properties.title = f"{result.scenario.name} · {text('xlsx.title', 'zh')}"
    wb.save(path)
    _freeze_timestamps(path)
    return path


#: Timestamp written into the workbook (file properties, zip entries), so that the same result
#: gives the same bytes: the reduction list is an output of the run, not of the clock.
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def _freeze_timestamps(path: Path) -> None:
    """Rewrite the saved workbook with fixed zip-entry times and created/modified properties,
    one entry at a time (a province list's sheet is gigabytes of XML: never all in memory)."""
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*FIXED_TIMESTAMP).encode()
    staging = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(staging, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", source.read(info.filename))
                archive.writestr(fixed, data)
                continue
            with source.open(info) as reader, archive.open(fixed, "w", force_zip64=info.file_size > 2**31) as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
    os.replace(staging, path)
