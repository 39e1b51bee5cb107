"""Enterprise list + emission factors -> Inventory (columnar arrays, one row per line/process).

Baseline emission rates come from the list's direct ``*_kg_h`` columns where given, otherwise
from activity × emission factor × (1 − control efficiency). Every problem in the input is an
:class:`~sim.errors.InputError` naming file, row and column.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from sim.errors import InputError
from sim.inputs.tables import read_text_csv
from sim.config.vocabulary import POLLUTANTS, header_key, vocabulary

RATE_COLUMNS = tuple(f"{p}_kg_h" for p in POLLUTANTS)
NUMERIC_COLUMNS = ("lat", "lon", "activity", *RATE_COLUMNS, "hours_per_day", "operating_hours_per_year", "output_value_wan_yuan_per_day", "truck_trips_per_day")
VERBATIM_COLUMNS = ("enterprise_id", "enterprise_name", "city", "district", "line_id")
TEXT_COLUMNS = ("enterprise_id", "enterprise_name", "city", "district", "industry", "grade", "line_id", "process", "activity_unit")
#: Text columns with nearly one value per line: read as plain strings, since coding them by a
#: dictionary costs more than it saves (every other text column is read dictionary-coded).
PLAIN_TEXT_COLUMNS = ("enterprise_id", "enterprise_name")
TRANSPORT_INDUSTRY, TRANSPORT_PROCESS, TRANSPORT_LINE = "road_transport", "heavy_truck", "road_transport"
#: Rows searched for the header when row 1 is not it (a title row, notes above the table).
HEADER_SEARCH_ROWS = 10
#: A given rate this many times above (or below 1/this of) the factor-based estimate of the same
#: line is named in a note. Controlled factors stand for an average plant; plants of one process
#: differ from it by up to about an order of magnitude (control efficiency 90 % vs 99.5 %, grade
#: A vs D, load), so a narrower band would flag real plants. 50x still catches the thousandfold
#: slips of units (g/h or kg/a typed as kg/h, t as kg); a t/a number under a kg/h header is only
#: ~9x off (8760 h / 1000) and cannot be told from plant spread by this comparison alone.
IMPLAUSIBLE_FACTOR = 50.0
#: A whole rate column whose median ratio to the factor-based estimate lies above SYSTEMATIC_HIGH
#: or below SYSTEMATIC_LOW is named in a note. Plant-to-plant spread largely cancels in the
#: median over a column, while a unit slip shifts every row alike: a t/a column under a kg/h
#: header reads 8.76x high (8760 h/a / 1000 kg/t), kg/d 24x, t/d 42x; a t/d figure typed where
#: kg/h belongs reads 0.024x. Estimates: measured rates of well-controlled plants sit below the
#: average controlled factor (the bundled Demo City list: medians 0.28-0.63 per column), so the
#: low bound leaves room below; 4x high is under the smallest common slip (8.76x).
SYSTEMATIC_HIGH = 4.0
SYSTEMATIC_LOW = 1 / 20
#: Rows a column needs (with both a given rate and activity) before its median is judged.
SYSTEMATIC_MIN_ROWS = 5
#: Operating hours per year run at most through a leap year.
MAX_HOURS_PER_YEAR = 8784.0
#: Excel's error values, as a workbook stores them and as a CSV export writes them.
EXCEL_ERRORS = {
    "#DIV/0!": "division by zero", "#N/A": "value not available", "#VALUE!": "wrong type of argument", "#REF!": "reference to a deleted cell",
    "#NAME?": "unknown name in a formula", "#NUM!": "invalid number", "#NULL!": "empty intersection", "#SPILL!": "spill range blocked",
    "#CALC!": "calculation error", "#GETTING_DATA": "value still loading",
}
#: Well-formed thousands separators (1,234.5; 12,345,678): any other comma is a decimal comma or a typo.
THOUSANDS = r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?"  # no leading 0: '0,125' is a decimal comma


# --------------------------------------------------------------------------- emission factors


@dataclass(frozen=True)
class EmissionFactors:
    """Industries, processes, factors, units and temporal profiles from ``emission_factors/``.

    ``factor_kg_per_unit`` is the controlled factor [kg per activity unit], one column per
    pollutant, row-aligned with ``processes`` (index: industry, process).
    """

    processes: pd.DataFrame
    factor_kg_per_unit: np.ndarray
    units: dict[str, tuple[str, float]]  # accepted spelling -> (base unit, multiplier)
    hourly_profiles: dict[str, np.ndarray]  # name -> [24], mean 1
    weekly_profiles: dict[str, np.ndarray]  # name -> [7] (Monday first), mean 1
    folder: Path

    @property
    def industries(self) -> list[str]:
        return sorted(self.processes.index.get_level_values("industry").unique())


def _read_table(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise InputError(path, None, "this emission-factor file is missing.", f"restore it; the folder {path.parent} must hold industries.csv, factors.csv, units.csv and profiles.csv.")
    table = read_text_csv(path, f"write the header ({', '.join(required)}) and the rows.")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(path, f"header", f"missing column(s) {', '.join(missing)}.", f"the header must include {', '.join(required)}.")
    return table


def _numbers(table: pd.DataFrame, column: str, path: Path, *, low: float | None = None) -> np.ndarray:
    values = pd.to_numeric(table[column].str.strip(), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(np.isnan(values) | ((values < low) if low is not None else False))
    if bad.size:
        row = int(bad[0])
        raise InputError(path, f"row {row + 2}, column {column}", f"'{table[column].iloc[row]}' is not a valid number{'' if low is None else f' >= {low}'}.", "write a plain number.")
    return values


def load_emission_factors(folder: str | Path) -> EmissionFactors:
    """Read the emission-factor folder (see ``emission_factors/README.md``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "inventory.emission_factors", "this is not a folder.", "point emission_factors at the folder holding industries.csv and factors.csv.")
    ind_path, fac_path = folder / "industries.csv", folder / "factors.csv"
    unit_path, prof_path = folder / "units.csv", folder / "profiles.csv"

    industries = _read_table(ind_path, ("industry", "process", "grading", "voc_industry", "activity_unit", "hourly_profile", "weekly_profile"))
    for col in ("industry", "process", "activity_unit", "hourly_profile", "weekly_profile", "grading"):
        industries[col] = industries[col].str.strip()
    dupes = industries.duplicated(["industry", "process"])
    if dupes.any():
        row = int(np.flatnonzero(dupes)[0])
        raise InputError(ind_path, f"row {row + 2}", f"industry/process '{industries.industry.iloc[row]}/{industries.process.iloc[row]}' appears twice.", "keep one row per industry and process.")
    industries["voc_industry"] = _numbers(industries, "voc_industry", ind_path, low=0) > 0
    processes = industries.set_index(["industry", "process"])

    profiles = _read_table(prof_path, ("profile", "kind", "slot", "weight"))
    slots = _numbers(profiles, "slot", prof_path, low=0).astype(int)
    weights = _numbers(profiles, "weight", prof_path, low=0)
    hourly: dict[str, np.ndarray] = {}
    weekly: dict[str, np.ndarray] = {}
    for (name, kind), idx in profiles.groupby([profiles.profile.str.strip(), profiles.kind.str.strip()]).indices.items():
        size, store = {"hour": (24, hourly), "weekday": (7, weekly)}.get(kind, (None, None))
        if store is None:
            raise InputError(prof_path, f"row {int(idx[0]) + 2}, column kind", f"kind '{kind}' is unknown.", "use 'hour' or 'weekday'.")
        vec = np.zeros(size)
        if sorted(slots[idx]) != list(range(size)):
            raise InputError(prof_path, f"profile {name} ({kind})", f"needs exactly the slots 0..{size - 1} once each.", "add or remove rows.")
        vec[slots[idx]] = weights[idx]
        if vec.sum() <= 0:
            raise InputError(prof_path, f"profile {name} ({kind})", "weights sum to zero.", "give positive weights.")
        store[name] = vec / vec.mean()
    for col, store, kind in (("hourly_profile", hourly, "hour"), ("weekly_profile", weekly, "weekday")):
        unknown = sorted(set(processes[col]) - set(store))
        if unknown:
            raise InputError(ind_path, f"column {col}", f"profile(s) {', '.join(unknown)} not defined in profiles.csv.", f"add them to profiles.csv with kind '{kind}'.")

    units_table = _read_table(unit_path, ("unit", "base_unit", "multiplier"))
    multipliers = _numbers(units_table, "multiplier", unit_path, low=0)
    units = {_unit_key(u): (b.strip(), float(m)) for u, b, m in zip(units_table.unit, units_table.base_unit, multipliers)}

    factors = _read_table(fac_path, ("industry", "process", "pollutant", "factor", "unit", "control_efficiency"))
    values = _numbers(factors, "factor", fac_path, low=0)
    efficiency = _numbers(factors, "control_efficiency", fac_path, low=0)
    if (efficiency >= 1).any():
        row = int(np.flatnonzero(efficiency >= 1)[0])
        raise InputError(fac_path, f"row {row + 2}, column control_efficiency", "must be below 1.", "give the efficiency as a fraction, e.g. 0.95.")
    matrix = np.zeros((len(processes), len(POLLUTANTS)))
    keys = list(zip(factors.industry.str.strip(), factors.process.str.strip()))
    position = processes.index.get_indexer(keys)
    for row, (key, pos, pollutant, unit) in enumerate(zip(keys, position, factors.pollutant.str.strip(), factors.unit.str.strip())):
        if pos < 0:
            raise InputError(fac_path, f"row {row + 2}", f"industry/process '{key[0]}/{key[1]}' is not in industries.csv.", "add it there or correct the name.")
        if pollutant not in POLLUTANTS:
            raise InputError(fac_path, f"row {row + 2}, column pollutant", f"'{pollutant}' is unknown.", f"use one of {', '.join(POLLUTANTS)}.")
        expected = "kg/" + processes.activity_unit.iloc[pos].removesuffix("/d")  # activity is per day
        if unit != expected:
            raise InputError(fac_path, f"row {row + 2}, column unit", f"'{unit}' does not match the process's activity unit.", f"write '{expected}'.")
        matrix[pos, POLLUTANTS.index(pollutant)] += values[row] * (1.0 - efficiency[row])
    return EmissionFactors(processes, matrix, units, hourly, weekly, folder)


def _unit_key(unit: str) -> str:
    return header_key(unit)  # 吨／天 typed full-width is t/d


# --------------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class Inventory:
    """The enterprise list as arrays: row i of every array is line i of ``lines``.

    ``mean_rate_kg_h`` [kg/h] is the baseline emission averaged over 24 h (daily emission / 24),
    columns in :data:`POLLUTANTS` order. ``profile_id`` indexes ``profiles`` (hourly, weekly
    profile names), which shape the day and week around that mean.
    """

    lines: pd.DataFrame
    mean_rate_kg_h: np.ndarray
    profile_id: np.ndarray
    profiles: tuple[tuple[str, str], ...]
    factors: EmissionFactors
    source_file: Path
    notes: tuple[str, ...] = ()  # rows skipped and columns not read, for the run's notes
    # column -> (code of each line, distinct values), filled on first use; not an init field,
    # so that dataclasses.replace(lines=...) starts afresh
    _codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(init=False, default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.lines)

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A text column of ``lines`` dictionary-coded: the code of each line (int32) and the
        distinct values (object array). Rules and groupings compare the few distinct values
        and index by the codes instead of comparing text line by line."""
        if column not in self._codes:
            self._codes[column] = column_codes(self.lines[column])
        return self._codes[column]

    @property
    def baseline_kg_d(self) -> np.ndarray:
        """Baseline emissions [kg/d], shape (lines, pollutants)."""
        return self.mean_rate_kg_h * 24.0

    def profile_matrix(self, times: pd.DatetimeIndex) -> np.ndarray:
        """Temporal weights [-] of each profile at each hour, shape (profiles, hours), mean 1 over a week."""
        hod = times.hour.to_numpy()
        dow = times.day_of_week.to_numpy()
        out = np.empty((len(self.profiles), len(times)))
        for g, (hourly, weekly) in enumerate(self.profiles):
            out[g] = self.factors.hourly_profiles[hourly][hod] * self.factors.weekly_profiles[weekly][dow]
        return out


def _csv_encoding(path: Path) -> tuple[str, bytes]:
    raw = path.read_bytes()
    if _utf8(raw):  # with or without a byte-order mark
        return "utf-8-sig", raw
    try:  # GB18030 (a superset of GBK) is common in exports from Chinese office software
        raw.decode("gb18030")
        return "gb18030", raw
    except UnicodeDecodeError:
        pass
    raise InputError(path, None, "the file is neither UTF-8 nor GBK/GB18030 text.", "save it as 'CSV UTF-8'.")


def _script(text: str) -> str:
    return "zh" if re.search(r"[\u3400-\u9fff]", text) else "latin"


def _header_mapping(columns: list[str], path: Path, where: str) -> tuple[dict[int, str], list[str], dict[str, tuple[str, str, str, float]]]:
    """Position of each column the simulator reads -> its canonical name, the headers of the
    columns it does not read (contacts, remarks ...), and the rate columns given in a unit other
    than kg/h (canonical -> (header, unit, per, kg per unit)).

    Two headers meaning the same column are an error, and so is an unknown header that looks
    like a misspelled column name (it would otherwise be ignored without a word). Suggestions
    come from names in the header's own script: a Chinese typo gets the Chinese alias.
    """
    voc = vocabulary()
    mapping: dict[int, str] = {}
    seen: dict[str, int] = {}
    units: dict[str, tuple[str, str, str, float]] = {}
    unknown: list[int] = []
    for i, col in enumerate(columns):
        found = voc.column(col) if col else None
        if found is None:
            if col:
                unknown.append(i)
            continue
        canonical, unit = found
        if canonical in seen:
            first = columns[seen[canonical]]
            what = f"the column '{col}' appears twice" if header_key(first) == header_key(col) else f"columns '{first}' and '{col}' both mean {canonical}"
            raise InputError(path, where, f"{what} (columns {seen[canonical] + 1} and {i + 1}).", "keep one of them.")
        seen[canonical] = i
        mapping[i] = canonical
        if unit is not None:
            units[canonical] = (col, *unit)
    names = {alias: canonical for alias, canonical in voc.column_aliases.items() if canonical not in seen}
    for i in unknown:
        key = header_key(columns[i])
        close = difflib.get_close_matches(key, [n for n in names if _script(n) == _script(key)], n=1, cutoff=0.85)
        if close:
            raise InputError(path, where, f"column '{columns[i]}' (column {i + 1}) is not a column name the simulator knows, so it would be ignored.",
                             f"did you mean '{close[0]}'? Rename the header (names and Chinese aliases: sim/data/vocabulary.yaml).")
    missing = [c for c in voc.required_columns if c not in seen]
    if missing:
        chinese = {c: next((a for a, k in voc.column_aliases.items() if k == c and _script(a) == "zh"), None) for c in missing}
        listed = ", ".join(f"{c} ({chinese[c]})" if chinese[c] else c for c in missing)
        # a misspelt required header (企业名陈): the closest alias of the same script, looser than above
        guesses = []
        for c in missing:
            scored = [(difflib.SequenceMatcher(None, header_key(columns[i]), a).ratio(), i, a) for i in unknown for a, k in voc.column_aliases.items()
                      if k == c and _script(a) == _script(header_key(columns[i]))]
            best = max(scored, default=None)
            if best is not None and best[0] >= 0.6:
                guesses.append(f"'{best[2]}' for the header '{columns[best[1]]}' (column {best[1] + 1})")
        if guesses:
            raise InputError(path, where, f"missing required column(s): {listed}.", f"did you mean {'; '.join(guesses)}? Rename the header (names and Chinese aliases: sim/data/vocabulary.yaml).")
        hint = " The header looks separated by tabs or semicolons; save the file as comma-separated CSV." if len(columns) == 1 and any(s in columns[0] for s in "\t;") else ""
        raise InputError(path, where, f"missing required column(s): {listed}.", f"add them (English names or the Chinese aliases in sim/data/vocabulary.yaml).{hint}")
    if "activity" not in seen and not any(c in seen for c in RATE_COLUMNS):
        raise InputError(path, where, "neither 'activity' nor any *_kg_h rate column is present.", "give activity with activity_unit, or direct rates such as so2_kg_h.")
    return mapping, [columns[i] for i in unknown], units


def _header_cells(values: object) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in values]


def _locate_header(rows: list[list[str]], header_row: int | None, path: Path) -> tuple[int, str]:
    """Index of the header among ``rows`` (the first rows of the list) and how errors name it.

    A title row above the header (市重污染天气应急减排清单) would otherwise read as a header
    missing every column: when row 1 lacks required columns that a row below holds, say so.
    """
    if header_row is not None:
        if header_row > len(rows):
            raise InputError(path, "key inventory.header_row", f"the list has {len(rows)} row(s), so row {header_row} cannot be its header.", "give the row number of the header (the first row is 1), or remove inventory.header_row.")
        return header_row - 1, "header" if header_row == 1 else f"header (row {header_row})"
    voc = vocabulary()
    required = set(voc.required_columns)

    def found(row: list[str]) -> int:
        return len(required & {c[0] for c in map(voc.column, row) if c is not None})

    first = found(_header_cells(rows[0])) if rows else 0
    if first < len(required):
        for k, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=2):
            if found(_header_cells(row)) > max(first, len(required) // 2):
                raise InputError(path, "header", f"row 1 is not the header: the column names stand in row {k} (a title or notes above them?).",
                                 f"delete the row(s) above the header, or set 'header_row: {k}' under inventory in the scenario.")
    return 0, "header"


def _extra_cells(data: pd.DataFrame, width: int, path: Path, first_row: int) -> None:
    """Cells to the right of the last header: a shifted row (an unquoted comma) or stray data."""
    if data.shape[1] <= width:
        return
    extra = data.iloc[:, width:].astype(str).apply(lambda s: s.str.strip()).ne("").to_numpy() & ~data.iloc[:, width:].isna().to_numpy()
    row = _first_bad(extra.any(axis=1))
    if row is not None:
        raise InputError(path, f"row {row + first_row}", f"the row has cells beyond the header's {width} columns (column {width + 1 + int(np.flatnonzero(extra[row])[0])}).",
                         "quote cells that contain commas (or remove the stray cells), so that every row has the header's columns.")


def _cells_per_record(raw: bytes, block: int = 1 << 20) -> np.ndarray:
    """Cells in each record of CSV bytes (UTF-8 or GB18030: no multi-byte character holds a
    comma, quote or line-feed byte), counted with numpy: pandas pads a short row silently.
    Commas and line ends between quotes are data; a quote inside an unquoted cell can fool
    the count, so a short row found here is confirmed with the csv module.

    Counted in blocks of ``block`` bytes: arrays of a whole 1M-row list (150 MB) cost more in
    fresh memory than the counting itself."""
    quoted = b'"' in raw
    counts: list[np.ndarray] = []
    carry = 0  # commas of a record begun in an earlier block
    parity = 0  # quotes before the block, mod 2
    pending = False  # bytes after the last line end
    for lo in range(0, len(raw), block):
        b = np.frombuffer(raw, np.uint8, count=min(block, len(raw) - lo), offset=lo)
        sep, end = b == ord(","), b == ord("\n")
        if quoted:
            quotes = np.cumsum(b == ord('"'), dtype=np.uint8)  # parity survives the uint8 wrap
            outside = ((quotes + parity) & 1) == 0
            parity = (parity + int(quotes[-1])) & 1
            sep &= outside
            end &= outside
        ends = np.flatnonzero(end)
        if not ends.size:
            carry += int(np.count_nonzero(sep))
            pending = True
            continue
        starts = np.concatenate(([0], ends[:-1] + 1))
        # segments end at their line end (never empty); uint16 sums are 5x faster than int64, and a
        # line of more than 65535 commas would wrap: the csv module's confirmation catches that
        c = np.add.reduceat(sep.view(np.uint8), starts, dtype=np.uint16).astype(np.int64)
        tail = int(np.count_nonzero(sep[ends[-1] + 1:]))
        c[-1] -= tail
        c[0] += carry
        counts.append(c)
        carry, pending = tail, bool(ends[-1] + 1 < b.size)
    if pending:  # a last line without a line end
        counts.append(np.array([carry], np.int64))
    return np.concatenate(counts) + 1 if counts else np.zeros(0, np.int64)


def _check_short_rows(path: Path, text_rows: Callable[[], Iterator[list[str]]], cells: np.ndarray | None, first: int, needed: int, skip: np.ndarray, source_row: np.ndarray) -> None:
    """A row with fewer cells than the header (a list cut off in the middle of a row, or a
    cell lost): an error, never a row padded with empty cells. ``cells`` counts the cells of the
    records from index ``first`` on (None if it could not be aligned); ``skip`` marks empty rows."""
    if cells is None:
        return
    short = (cells < needed) & ~skip
    if not short.any():
        return
    flagged = np.flatnonzero(short)
    wanted, last = set(flagged.tolist()), int(flagged[-1])
    for index, record in enumerate(itertools.islice(text_rows(), first, first + last + 1)):
        if index in wanted and len(record) < needed:  # the first short row the csv module confirms
            others = int((flagged > index).sum())  # counted on the bytes: exact unless a quote fooled it
            more = f" ({others} more row(s) alike.)" if others else ""
            raise InputError(path, f"row {int(source_row[index])}", f"the row has {len(record)} cell(s), the columns read need {needed}.{more}",
                             "give every row the header's number of cells (empty cells keep their commas); if the file was cut off, export the list again.")


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if type(value) is float and value.is_integer():
        return str(int(value))  # 24.0 -> '24', as the cell shows it
    return str(value)


@contextlib.contextmanager
def _open_book(path: Path, data_only: bool) -> Iterator[Any]:
    """The workbook, read-only, closed on leaving; openpyxl's remarks on the styles and data
    validation of exported workbooks silenced."""
    import openpyxl  # here: a CSV list, the common case, need not import it (~0.1 s)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
        try:
            yield book
        finally:
            book.close()


def _sheet(book: Any, name: str) -> Any:
    """The named sheet, its stored size reset: it may be wrong, so the rows there are are read."""
    ws = book[name]
    ws.reset_dimensions()
    return ws


def _read_workbook(path: Path, sheet: str | None) -> tuple[list[list[str]], str]:
    """The chosen sheet as rows of text (values as last calculated, error cells as their text
    #DIV/0! ...) and its name."""
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            head = f.read(8)
        what = ("the workbook is password-protected (encrypted), or an old .xls file renamed to .xlsx" if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
                else "the file is not an .xlsx workbook (not a zip archive: a CSV or other file renamed to .xlsx?)")
        raise InputError(path, None, f"{what}.", "save it from Excel/WPS as .xlsx without a password, or as CSV UTF-8, and point inventory.enterprises at that file.")
    try:
        with _open_book(path, data_only=True) as book:
            names = [str(n) for n in book.sheetnames]
            if sheet is None and len(names) > 1:
                raise InputError(path, "sheets", f"the workbook has {len(names)} sheets ({', '.join(names)}).", "name the one to read with 'inventory.sheet', or keep a single sheet.")
            chosen = sheet if sheet is not None else names[0]
            if chosen not in names:
                raise InputError(path, "sheets", f"no sheet named '{chosen}' (sheets: {', '.join(names)}).", "correct inventory.sheet.")
            rows = [[_xlsx_text(v) for v in row] for row in _sheet(book, chosen).iter_rows(values_only=True)]
        while rows and not any(c.strip() for c in rows[-1]):  # formatted but empty rows below the list
            rows.pop()
    except InputError:
        raise
    except Exception as exc:  # a damaged workbook: openpyxl and zipfile raise many kinds
        raise InputError(path, None, f"the workbook cannot be read ({type(exc).__name__}: {exc}).", "open it in a spreadsheet program and save it again as .xlsx (or export a CSV UTF-8 file).") from None
    return rows, chosen


def _has_formulas(path: Path) -> bool:
    """Whether any sheet of the workbook holds a formula (<f> element), read in chunks."""
    pattern = re.compile(rb"<(?:\w+:)?f[\s>/]")
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with book.open(name) as part:
                    tail = b""
                    while chunk := part.read(1 << 20):
                        if pattern.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
    return False


def _uncached_formulas(path: Path, sheet: str, rows: list[list[str]], first: int, columns: dict[int, str]) -> None:
    """A formula without a stored result (a workbook written by a script, e.g. openpyxl, and
    never opened in Excel) reads as an empty cell: an error, not a silent factor-based rate."""
    if not _has_formulas(path):
        return
    found = []
    with _open_book(path, data_only=False) as book:
        for i, row in enumerate(_sheet(book, sheet).iter_rows(values_only=True)):
            if i < first or i >= len(rows):
                continue
            for j, value in enumerate(row):
                if j in columns and value is not None and rows[i][j] == "" and (not isinstance(value, str) or value.startswith("=")):
                    found.append((i, j))
    if found:  # a formula whose stored result is empty text (=IF(..., "", ...)) is marked t="str": not uncached
        lo, hi = found[0][0], found[-1][0]
        with _open_book(path, data_only=True) as book:
            text = {(lo + k, j) for k, row in enumerate(_sheet(book, sheet).iter_rows(min_row=lo + 1, max_row=hi + 1)) for j, cell in enumerate(row) if cell.data_type == "str"}
        found = [cell for cell in found if cell not in text]
    if found:
        from openpyxl.utils import get_column_letter

        i, j = found[0]
        more = f" ({len(found) - 1} more cell(s) alike.)" if len(found) > 1 else ""
        raise InputError(path, f"row {i + 1}, column {columns[j]} (cell {get_column_letter(j + 1)}{i + 1})",
                         f"the cell holds a formula without a stored result (the workbook was written by a program that does not calculate), so it would read as empty.{more}",
                         "open and save the workbook in Excel/WPS so the values are stored (or paste the cells as values).")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(path, "inventory.enterprises", "the enterprise list does not exist.", "check the path (relative to the scenario file).")
    if path.is_dir():
        raise InputError(path, "inventory.enterprises", "this is a folder, not a list.", "name the .csv or .xlsx file itself.")
    if not path.is_file():
        raise InputError(path, "inventory.enterprises", "this is not a regular file (a device, pipe or socket), so it cannot be read as a list.",
                         "point inventory.enterprises at the .csv or .xlsx file itself (save the data to a file first).")


def _utf8(raw: bytes) -> bool:
    """Whether ``raw`` is valid UTF-8, checked by pyarrow on the bytes in place (decoding a
    large list into a Python string costs time and several times its size in memory)."""
    offsets = pa.array([0, len(raw)], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _as_pandas_reads(values: list[str]) -> list[str]:
    """Distinct cells of a text column that is not read verbatim, as the pandas reader typed and
    printed them (a column of whole numbers reads '01' as '1', one of TRUE/FALSE as 'True'), so
    that both readers give the same text. Costs one small read per column, of its distinct values."""
    if not values:
        return []
    cells = io.StringIO()
    csv.writer(cells, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([v] for v in values)
    cells.seek(0)
    return pd.read_csv(cells, header=None, keep_default_na=False, skip_blank_lines=False)[0].astype(str).tolist()


def _coded(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """A dictionary-coded column as one code per row (int32) and its dictionary (distinct values)."""
    whole = column.unify_dictionaries().combine_chunks() if column.num_chunks else pa.array([], column.type)
    return whole.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False), whole.dictionary


def _categorical(codes: np.ndarray, values: list[str]) -> pd.Categorical:
    """Codes into ``values`` (which may repeat a value) as a Categorical of the distinct values."""
    distinct, position = np.unique(np.array(values, dtype=object), return_inverse=True) if values else (np.array([], dtype=object), np.zeros(0, np.int64))
    return pd.Categorical.from_codes(position.astype(np.int32)[codes] if codes.size else codes, categories=pd.Index(distinct, dtype=object))


def _read_csv_arrow(raw: bytes, encoding: str, skip: int, width: int, mapping: dict[int, str]) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The rows below the header, read by pyarrow with explicit types, and which rows are empty
    (every cell blank); None when the file is irregular, for the pandas reader, whose checks
    word the problem: a row with more or fewer cells than the header, an empty line.

    Number columns come as float64; one holding text (1,234.5, #N/A, full-width digits, nan)
    comes as dictionary-coded text, which _to_numbers reads once per distinct spelling. Other
    text columns come dictionary-coded, each distinct value typed as the pandas reader types it
    and stripped once; ids and names (PLAIN_TEXT_COLUMNS) stripped as plain strings."""
    names = [f"c{i}" for i in range(width)]
    coded = pa.dictionary(pa.int32(), pa.string())
    types = {n: pa.float64() if mapping.get(i) in NUMERIC_COLUMNS else pa.string() if mapping.get(i) in PLAIN_TEXT_COLUMNS else coded for i, n in enumerate(names)}
    source = pa.py_buffer(raw if encoding == "utf-8-sig" else raw.decode(encoding).encode("utf-8"))
    irregular: list[int] = []

    def irregular_row(row: Any) -> str:
        irregular.append(row.number)
        return "skip"

    while True:
        try:
            arrow = pa_csv.read_csv(
                pa.BufferReader(source), read_options=pa_csv.ReadOptions(column_names=names, skip_rows=skip),
                parse_options=pa_csv.ParseOptions(newlines_in_values=b'"' in raw, ignore_empty_lines=False, invalid_row_handler=irregular_row),
                convert_options=pa_csv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid as exc:  # text in a number column: read that column as text
            found = re.search(r"In CSV column #(\d+): CSV conversion error to double", str(exc))
            if found is None:
                return None
            types[names[int(found.group(1))]] = coded
            irregular.clear()
            continue
        # pyarrow reads 'nan' as a number; pandas keeps it as text, for _to_numbers to judge
        spelled_nan = [n for n in names if types[n] == pa.float64() and pa.compute.any(pa.compute.is_nan(arrow.column(n))).as_py()]
        if not spelled_nan:
            break
        for n in spelled_nan:
            types[n] = coded
    if irregular or arrow.num_rows == 0:
        return None

    plain = {n: pa.compute.utf8_trim_whitespace(arrow.column(n)) for n, t in types.items() if t == pa.string()}

    # empty rows: no enterprise_id, and every other cell (read or not) blank too
    empty = np.zeros(arrow.num_rows, dtype=bool)
    id_column = names[next(i for i, c in mapping.items() if c == "enterprise_id")]
    maybe = np.flatnonzero(pa.compute.equal(plain[id_column], "").to_numpy(zero_copy_only=False))
    if maybe.size:
        rows = arrow.take(pa.array(maybe))
        blank = np.ones(maybe.size, dtype=bool)
        for n in names:
            if types[n] == pa.float64():
                blank &= rows.column(n).is_null().to_numpy(zero_copy_only=False)
            else:
                blank &= np.array([not str(v).strip() for v in rows.column(n).cast(pa.string()).to_pylist()], dtype=bool)
        empty[maybe] = blank

    # column by column, each arrow column let go once converted: the peak stays near one copy
    table: dict[str, object] = {}
    for i, n in enumerate(names):
        canonical = mapping.get(i)
        column = arrow.column(n)
        arrow = arrow.drop_columns([n])
        if canonical is None:
            continue
        if types[n] == pa.float64():
            table[canonical] = column.to_numpy()
        elif types[n] == pa.string():
            table[canonical] = _arrow_text(plain.pop(n))
        else:
            codes, dictionary = _coded(column)
            if canonical in NUMERIC_COLUMNS:  # numbers keep their spelling, read by _to_numbers; the dictionary is distinct already
                table[canonical] = pd.Categorical.from_codes(codes, categories=pd.Index(dictionary.to_numpy(zero_copy_only=False), dtype=object))
            else:
                typed = dictionary if canonical in VERBATIM_COLUMNS else pa.array(_as_pandas_reads(dictionary.to_pylist()), pa.string())
                table[canonical] = _categorical(codes, pa.compute.utf8_trim_whitespace(typed).to_pylist())
        del column
    table = pd.DataFrame(table, copy=False)  # without copy=False pandas copies each number column into one block
    return table, empty


@dataclass(frozen=True)
class _ListColumns:
    present: frozenset[str]  # canonical columns the list's header has
    units: dict[str, tuple[str, str, str, float]]  # rate column -> (header, unit, per, kg per unit), units other than kg/h
    by_arrow: bool = False  # read by pyarrow (text columns as Categoricals), else by pandas or openpyxl


def _read_list(path: Path, sheet: str | None, header_row: int | None = None, arrow: bool = True) -> tuple[pd.DataFrame, list[str], _ListColumns]:
    """The list with canonical column names (text and flag columns as strings, numeric ones
    as numbers where the file holds plain numbers, else as strings checked later), its
    spreadsheet row numbers in ``source_row``, notes (empty rows skipped, columns not read) and
    what its header holds.

    A CSV file is read by pyarrow (``arrow``; text columns then come as Categoricals) unless it
    is irregular (see _read_csv_arrow), else by pandas (text columns as strings).
    ``_ListColumns.by_arrow`` says which reader read it."""
    _check_file(path)
    suffix = path.suffix.lower()
    fast = None
    if suffix in {".xlsx", ".xlsm"}:
        rows, chosen = _read_workbook(path, sheet)
        if not rows:
            raise InputError(path, None, "the sheet is empty.", "write the header row and at least one production line.")
        h, where = _locate_header(rows, header_row, path)
        header = _header_cells(rows[h])
        mapping, ignored, units = _header_mapping(header, path, where)
        width = max(map(len, rows))
        data = pd.DataFrame([r + [""] * (width - len(r)) for r in rows[h + 1:]], columns=range(width), dtype=object)
        _extra_cells(data, len(header), path, h + 2)
        _uncached_formulas(path, chosen, rows, h + 1, mapping)
        table = data[list(mapping)].rename(columns=mapping).astype(str) if len(data) else pd.DataFrame(columns=list(mapping.values()), dtype=str)
        cells = None
    elif suffix in {".csv", ".txt"}:
        if sheet is not None:
            raise InputError(path, "key inventory.sheet", f"a sheet ('{sheet}') is named, but the list is a CSV file, which has no sheets.", "remove inventory.sheet, or point inventory.enterprises at the workbook.")
        encoding, raw = _csv_encoding(path)

        def text_rows(head: int | None = None) -> Iterator[list[str]]:
            """Records by the csv module, of the whole file or of about its first ``head`` lines
            (cut after a line end: no GB18030 or UTF-8 character holds that byte)."""
            data = raw
            if head is not None:
                cut = -1
                for _ in range(head):
                    cut = raw.find(b"\n", cut + 1)
                    if cut < 0:
                        break
                data = raw if cut < 0 else raw[:cut + 1]
            return csv.reader(io.StringIO(data.decode(encoding), newline=""))

        wanted = max(HEADER_SEARCH_ROWS, header_row or 0)
        try:
            first_rows = list(itertools.islice(text_rows(4 * wanted), wanted))  # room for line ends inside quoted cells
            if len(first_rows) < wanted:
                first_rows = list(itertools.islice(text_rows(), wanted))
        except csv.Error as exc:
            raise InputError(path, None, f"the CSV cannot be parsed ({exc}).", "check the quotes, and save the list as CSV UTF-8.") from None
        if not any(c.strip() for row in first_rows for c in row):
            raise InputError(path, None, "the file is empty.", "write the header row and at least one production line.")
        h, where = _locate_header(first_rows, header_row, path)
        header = _header_cells(first_rows[h])
        mapping, ignored, units = _header_mapping(header, path, where)
        numeric = [i for i, canonical in mapping.items() if canonical in NUMERIC_COLUMNS]
        fast = _read_csv_arrow(raw, encoding, h + 1, len(header), mapping) if arrow else None
    if fast is not None:
        table, empty = fast
        del raw  # the bytes outweigh the table: free them before the checks
        cells = None
    elif suffix in {".csv", ".txt"}:  # irregular, or arrow=False
        try:
            # by position, so that a row with one cell too many is an error, not a shifted row
            with warnings.catch_warnings():
                # A number column with text far down a large list is read in chunks of different
                # types and comes back as object (numbers and strings), which _to_numbers reads
                # cell by cell; pandas' DtypeWarning about it must not reach the planner.
                # (low_memory=False would avoid it too, but turns off pandas' parallel reading.)
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                data = pd.read_csv(
                    path, encoding=encoding, header=None, skiprows=h + 1, skip_blank_lines=False, keep_default_na=False,
                    # text type only where a number-like cell must keep its spelling (id 007, district 0512):
                    # string conversion in the reader costs more than the parse itself on large lists
                    dtype={i: str for i, c in mapping.items() if c in VERBATIM_COLUMNS}, na_values={i: [""] for i in numeric},
                )
        except pd.errors.ParserError as exc:
            # pandas says e.g. "Expected 26 fields in line 14, saw 27" (line = row of the file)
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if found:
                raise InputError(path, f"row {found.group(2)}", f"the row has {found.group(3)} cells, the header {len(header)}.", "quote cells that contain commas, and give every row the header's number of columns.") from None
            raise InputError(path, None, f"the CSV cannot be parsed ({str(exc).strip()}).", "quote fields that contain commas, and give every row the header's number of columns.") from None
        except pd.errors.EmptyDataError:
            raise InputError(path, None, "the enterprise list has no rows.", "add at least one production line.") from None
        _extra_cells(data, len(header), path, h + 2)
        for i in range(data.shape[1], len(header)):  # every row shorter than the header: checked below, then its last cells are empty
            data[i] = np.nan if i in numeric else ""
        table = data[list(mapping)].rename(columns=mapping)
        cells = _cells_per_record(raw)[h + 1:]
        if cells.size != len(data):  # e.g. old Mac line ends: the count does not align, leave the check out
            cells = None
    elif suffix not in {".xlsx", ".xlsm"}:
        raise InputError(path, None, f"unknown list format '{suffix}'.", "give a .csv or .xlsx file.")
    table["source_row"] = np.arange(len(table)) + h + 2
    notes = []
    if fast is None:
        empty = np.zeros(len(table), dtype=bool)
        maybe = np.flatnonzero(table.enterprise_id.fillna("").astype(str).str.strip().eq("").to_numpy()) if len(table) else np.zeros(0, int)
        if maybe.size:  # rows without an id: skipped if every cell is empty, else an error below
            sub = data.iloc[maybe]
            empty[maybe] = ~(sub.astype(str).apply(lambda s: s.str.strip()).ne("").to_numpy() & ~sub.isna().to_numpy()).any(axis=1)
    if cells is not None:
        needed = max(mapping) + 1  # up to the last column read: a missing remark at the row's end loses nothing
        _check_short_rows(path, text_rows, cells, h + 1, needed, empty, table.source_row.to_numpy())
    if empty.any():
        rows_skipped = table.source_row.to_numpy()[empty]
        shown = ", ".join(map(str, rows_skipped[:10])) + (", ..." if rows_skipped.size > 10 else "")
        notes.append(f"{path.name}: {rows_skipped.size} empty row(s) skipped (rows {shown})")
        table = table[~empty]
    if table.empty:
        raise InputError(path, None, "the enterprise list has no rows.", "add at least one production line.")
    if ignored:
        notes.append(f"{path.name}: column(s) not used by the simulator: {', '.join(ignored)}")
    voc = vocabulary()
    for col in (*TEXT_COLUMNS, *voc.flags):
        if col not in table.columns:
            table[col] = pd.Categorical.from_codes(np.zeros(len(table), np.int32), categories=pd.Index([""], dtype=object)) if fast is not None else ""
        elif fast is None:  # the arrow reader strips each distinct value
            table[col] = table[col].fillna("").astype(str).str.strip()
    for col in NUMERIC_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    return table.reset_index(drop=True), notes, _ListColumns(frozenset(mapping.values()), units, fast is not None)


def column_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A text column as the code of each row (int32; -1 for a missing cell) and its distinct
    values (object array): a Categorical's own codes, else codes by pandas.factorize (in order
    of first appearance)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int32, copy=False), values.cat.categories.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int32, copy=False), np.asarray(uniques, dtype=object)


def _per_value(values: pd.Series, func: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray]:
    """``func`` applied once per distinct value (lists repeat grades, units and flags): the
    results (object array, None last for a missing cell) and each row's index into them."""
    codes, uniques = column_codes(values)
    return np.array([func(u) for u in uniques] + [None], dtype=object), codes


def _is_none(results: np.ndarray) -> np.ndarray:
    return np.array([r is None for r in results], dtype=bool)


def _first_bad(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _fail(path: Path, mask: np.ndarray, column: str, problem: str, fix: str, table: pd.DataFrame) -> None:
    row = _first_bad(mask)
    if row is None:
        return
    others = int(mask.sum()) - 1
    more = f" ({others} more row(s) alike.)" if others else ""
    value = table[column].iloc[row] if column in table.columns else ""
    if isinstance(value, str) and value in EXCEL_ERRORS:
        problem, fix = f"'{{value}}' is an Excel error value ({EXCEL_ERRORS[value]}).", "correct the formula (or type the value) in the workbook and save or export the list again."
    raise InputError(path, f"row {_row_number(table, row)}, column {column}", problem.format(value=value) + more, fix)


def _row_number(table: pd.DataFrame, row: int) -> int:
    """The spreadsheet row (header = row 1) of position ``row`` of the table."""
    return int(table.source_row.iloc[row]) if "source_row" in table.columns else row + 2


def _to_numbers(table: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    """The numbers of a number column; a cell that is not one is an error naming it.

    Text is read as written after NFKC (full-width digits); commas only as thousands
    separators (1,234.5): a decimal comma (26,99) would otherwise become 2699. A
    dictionary-coded column is read once per distinct spelling.
    """
    column = table[col]
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(float)
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, spellings = column_codes(column)
        values, bad, decimal_comma = _parse_numbers(pd.Series(spellings, dtype=str))
        values, bad, decimal_comma = values[codes], bad[codes], decimal_comma[codes]
    else:
        values, bad, decimal_comma = _parse_numbers(column)
    row = _first_bad(bad)
    if row is not None:
        others = int(bad.sum()) - 1
        more = f" ({others} more row(s) alike.)" if others else ""
        value = str(column.iloc[row]).strip()
        where = f"row {_row_number(table, row)}, column {col}"
        if value in EXCEL_ERRORS:
            raise InputError(path, where, f"'{value}' is an Excel error value ({EXCEL_ERRORS[value]}), not a number.{more}", "correct the formula (or type the value) in the workbook and save or export the list again.")
        if decimal_comma[row]:
            example = value.replace(",", ".") if value.count(",") == 1 and "." not in value else "26.99"
            raise InputError(path, where, f"'{value}' has a comma that is not a thousands separator.{more}", f"use a point as decimal separator ({example}); commas may only group thousands (1,234.5).")
        raise InputError(path, where, f"'{value}' is not a number.{more}", "write a plain number (or leave the cell empty).")
    return values


def _parse_numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text cells as numbers (NaN where empty), which cells are not numbers, and which of those
    hold a comma that is not a thousands separator."""
    text = column.fillna("").astype(str).str.strip()  # pandas 3 keeps NaN through astype(str): blank cells must not count as text
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)  # a writable copy
    bad = np.zeros(len(text), dtype=bool)
    decimal_comma = np.zeros(len(text), dtype=bool)
    retry = np.isnan(values) & ~text.isin(["", "nan"]).to_numpy()
    if not retry.any():
        return values, bad, decimal_comma
    idx = np.flatnonzero(retry)
    sub = text.iloc[idx].str.normalize("NFKC").str.strip()
    comma = sub.str.contains(",", regex=False).to_numpy()
    decimal_comma[idx] = comma & ~sub.str.fullmatch(THOUSANDS).to_numpy()
    values[idx] = pd.to_numeric(sub.str.replace(",", "", regex=False).where(~decimal_comma[idx], "x"), errors="coerce").to_numpy(float)
    bad[idx] = np.isnan(values[idx])
    return values, bad, decimal_comma


def _excel_errors(table: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    """An Excel error value (#N/A, #REF! ...) in a text column would pass as a name or an id."""
    for col in columns:
        mask = table[col].isin(EXCEL_ERRORS).to_numpy()
        row = _first_bad(mask)
        if row is not None:
            value = table[col].iloc[row]
            more = f" ({int(mask.sum()) - 1} more row(s) alike.)" if mask.sum() > 1 else ""
            raise InputError(path, f"row {_row_number(table, row)}, column {col}", f"'{value}' is an Excel error value ({EXCEL_ERRORS[value]}).{more}",
                             "correct the formula (or type the value) in the workbook and save or export the list again.")


def industry_names(factors: EmissionFactors) -> dict[str, str]:
    """Each industry key and Chinese name (``name_zh`` of industries.csv), as compared
    (:func:`~sim.config.vocabulary.header_key`) -> the industry key."""
    processes = factors.processes
    names = {header_key(n): k for (k, _), n in zip(processes.index, processes.name_zh) if str(n).strip()} if "name_zh" in processes.columns else {}
    names.update({header_key(k): k for k in factors.industries})
    return names


def _industry_keys(table: pd.DataFrame, factors: EmissionFactors) -> tuple[np.ndarray, np.ndarray]:
    """Industry and process names as industries.csv gives them in Chinese (水泥, 熟料烧成(回转窑))
    become their keys, in place; NFKC and spaces do not matter. Returns whether each row's
    industry is known and the row's position in ``factors.processes`` (-1: unknown).

    Names are looked up once per distinct industry and per distinct (industry, process) pair."""
    processes = factors.processes
    industries = set(factors.industries)
    industry_codes, industry = column_codes(table.industry)
    if not all(v in industries for v in industry):
        names = industry_names(factors)
        industry = np.array([v if v in industries else names.get(header_key(v), v) for v in industry], dtype=object)
    known_industry = np.array([v in industries for v in industry], dtype=bool)
    process_codes, process = column_codes(table.process)
    pair_codes, pairs = pd.factorize(industry_codes.astype(np.int64) * (len(process) + 1) + process_codes)
    pair_industry, pair_process = industry[pairs // (len(process) + 1)], process[pairs % (len(process) + 1)]
    pair_key = processes.index.get_indexer(pd.MultiIndex.from_arrays([pair_industry, pair_process]))
    unknown = pair_key < 0
    if unknown.any() and "process_zh" in processes.columns:
        names = {(k, header_key(n)): p for (k, p), n in zip(processes.index, processes.process_zh) if str(n).strip()}
        names.update({(k, header_key(p)): p for k, p in processes.index})
        pair_process = np.array([names.get((k, header_key(p)), p) if bad else p for k, p, bad in zip(pair_industry, pair_process, unknown)], dtype=object)
        pair_key = processes.index.get_indexer(pd.MultiIndex.from_arrays([pair_industry, pair_process]))
    table["industry"] = _categorical(industry_codes, list(industry))
    table["process"] = _categorical(pair_codes.astype(np.int32), list(pair_process))
    return known_industry[industry_codes], pair_key[pair_codes]


def _rates_kg_h(numbers: dict[str, np.ndarray], hours: np.ndarray, columns: _ListColumns, table: pd.DataFrame, path: Path, notes: list[str]) -> None:
    """Rates given per day or per year (SO2(t/d), 二氧化硫（吨/年）) as kg/h while running, in place.

    Per day: over the line's hours_per_day (24 h where empty), so the daily amount is kept. Per
    year: over its operating_hours_per_year, which the list must then give.
    """
    annual = numbers["operating_hours_per_year"]
    _fail(path, (annual <= 0) | (annual > MAX_HOURS_PER_YEAR), "operating_hours_per_year", "'{value}' is outside (0, 8784].", "give the hours the line runs in a year (at most 8784, a leap year).", table)
    for col, (header, unit, per, kg) in columns.units.items():
        values = numbers[col] * kg
        if per == "day":
            values = values / hours
            notes.append(f"{path.name}: rates in '{header}' read as {unit} and converted to kg/h over each line's hours_per_day (24 h where empty)")
        elif per == "year":
            if "operating_hours_per_year" not in columns.present:
                raise InputError(path, f"column {header}", f"the column gives annual amounts ({unit}); a rate in kg/h needs each line's operating hours per year, and the list has no such column.",
                                 "add a column operating_hours_per_year (年运行小时数) with the hours each line runs in a year, or give the rates in kg/h.")
            given = ~np.isnan(values)
            _fail(path, given & np.isnan(annual), "operating_hours_per_year", f"the cell is empty, but the row gives an annual amount under '{header}'.", "fill the hours the line runs in a year (e.g. 7200).", table)
            values = np.divide(values, annual, out=np.full_like(values, np.nan), where=given)
            notes.append(f"{path.name}: rates in '{header}' read as {unit} and converted to kg/h over each line's operating_hours_per_year")
        numbers[col] = values


def _implausible_rates(direct_kg_d: np.ndarray, factor_kg_d: np.ndarray, rows: np.ndarray, table: pd.DataFrame, path: Path) -> str | None:
    """A note naming the rows whose given rate is far from the factor-based estimate (a number
    in the wrong unit), or None. ``rows`` are the positions of the lines with a given rate and
    activity (the arrays hold those rows); only rates above 0 are compared."""
    both = (direct_kg_d > 0) & (factor_kg_d > 0)  # NaN (no rate given) compares False
    odd = both & ((direct_kg_d > IMPLAUSIBLE_FACTOR * factor_kg_d) | (direct_kg_d * IMPLAUSIBLE_FACTOR < factor_kg_d))
    flagged = rows[odd.any(axis=1)]
    if not flagged.size:
        return None
    shown = ", ".join(str(_row_number(table, int(r))) for r in flagged[:5]) + (f" and {flagged.size - 5} more" if flagged.size > 5 else "")
    cols = ", ".join(RATE_COLUMNS[j] for j in np.flatnonzero(odd.any(axis=0)))
    return (f"{path.name}: given rates ({cols}) differ from the estimate by activity and emission factor by more than {IMPLAUSIBLE_FACTOR:g}x "
            f"in {flagged.size} row(s): rows {shown}; check the units (a t/a, kg/a or g/h number under a kg/h header?)")


def _systematic_rates(direct_kg_d: np.ndarray, factor_kg_d: np.ndarray, path: Path) -> str | None:
    """A note naming the rate columns whose given rates sit, on median over the rows with both a
    given rate and activity, above :data:`SYSTEMATIC_HIGH` or below :data:`SYSTEMATIC_LOW` times
    the factor-based estimate: a column typed in another unit (t/a under a kg/h header), or None."""
    both = (direct_kg_d > 0) & (factor_kg_d > 0)
    off = []
    for j in range(direct_kg_d.shape[1]):
        rows = both[:, j]
        if rows.sum() < SYSTEMATIC_MIN_ROWS:
            continue
        ratio = float(np.median(direct_kg_d[rows, j] / factor_kg_d[rows, j]))
        if ratio > SYSTEMATIC_HIGH or ratio < SYSTEMATIC_LOW:
            off.append(f"{RATE_COLUMNS[j]} {ratio:.3g}x over {int(rows.sum())} rows")
    if not off:
        return None
    return (f"{path.name}: given rates are on median far from the estimate by activity and emission factor ({'; '.join(off)}); "
            "check the column's unit (a t/a column under a kg/h header reads about 8.8x high, kg/d 24x)")


def load_inventory(path: str | Path, factors: EmissionFactors, sheet: str | None = None, header_row: int | None = None) -> Inventory:
    """Load and validate an enterprise list (CSV or XLSX) into an :class:`Inventory`.

    Row numbers in errors are those a spreadsheet shows (the first row of the file is row 1);
    ``header_row`` is the 1-based row of the header when title rows stand above it.
    """
    path = Path(path)
    table, notes, columns = _read_list(path, sheet, header_row)
    if not columns.by_arrow:
        return _checked_inventory(path, factors, table, notes, columns)
    try:
        return _checked_inventory(path, factors, table, notes, columns)
    except InputError:
        pass
    # A problem found in a list pyarrow read is worded from the pandas reading: a number in a
    # message is written as pandas typed its column (5 in a column of whole numbers, 5.0 else).
    del table
    table, notes, columns = _read_list(path, sheet, header_row, arrow=False)
    return _checked_inventory(path, factors, table, notes, columns)


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' str dtype, as the pandas reader gives text


def _arrow_text(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Arrow text as a column of pandas' str dtype, without a copy."""
    return pd.Series(array.to_pandas(types_mapper={pa.string(): _STR, pa.large_string(): _STR}.get))


def _text_column(codes: np.ndarray, values: np.ndarray | list[str]) -> pd.Series:
    """Codes into ``values`` as a column of text, decoded by pyarrow."""
    return _arrow_text(pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(list(values), pa.large_string())).dictionary_decode())


def _checked_inventory(path: Path, factors: EmissionFactors, table: pd.DataFrame, notes: list[str], columns: _ListColumns) -> Inventory:
    """The checks of :func:`load_inventory` on a table read by :func:`_read_list`, and the
    Inventory. Text columns (Categoricals or strings) are judged once per distinct value and
    each row by its code."""
    voc = vocabulary()
    _excel_errors(table, VERBATIM_COLUMNS, path)  # the other text columns must match a vocabulary: _fail names an Excel error there

    for col in ("enterprise_id", "line_id", "industry", "process", "city", "enterprise_name"):
        _fail(path, (table[col] == "").to_numpy(), col, "is empty.", f"every row needs a {col}.", table)

    numbers = {}
    for col in NUMERIC_COLUMNS:
        values = _to_numbers(table, col, path)
        _fail(path, values < 0, col, "'{value}' is negative.", "emission rates, activity and counts cannot be negative.", table)
        _fail(path, np.isinf(values), col, "'{value}' is not a finite number.", "write a plain number.", table)
        numbers[col] = values

    grades, grade_codes = _per_value(table.grade, voc.canonical_grade)
    _fail(path, _is_none(grades)[grade_codes], "grade", "'{value}' is not a performance grade.", f"use one of {', '.join(voc.grades)} (or Chinese forms such as A级, 引领性, 其他); write 'general' for ungraded enterprises.", table)

    flags = {}
    for flag in voc.flags:
        states, state_codes = _per_value(table[flag], lambda v: True if _unit_key(v) in voc.flag_true else False if _unit_key(v) in voc.flag_false else None)
        _fail(path, _is_none(states)[state_codes], flag, "'{value}' is not a yes/no value.", "write 1 or 0 (是/否 also accepted).", table)
        flags[flag] = np.array([bool(v) for v in states], dtype=bool)[state_codes]

    known_industry, key_index = _industry_keys(table, factors)
    _fail(path, ~known_industry, "industry", "industry '{value}' is unknown.", f"use a key of emission_factors/industries.csv ({', '.join(factors.industries)}) or its Chinese name (name_zh there).", table)
    bad_process = key_index < 0
    row = _first_bad(bad_process)
    if row is not None:
        ind = table.industry.iloc[row]
        allowed = ", ".join(factors.processes.loc[ind].index)
        raise InputError(path, f"row {_row_number(table, row)}, column process", f"process '{table.process.iloc[row]}' is not a process of industry '{ind}'.", f"use one of: {allowed} (or its Chinese name, process_zh in emission_factors/industries.csv).")

    activity = numbers["activity"]
    has_activity = ~np.isnan(activity)
    unit_of = _per_value(table.activity_unit, lambda u: factors.units.get(_unit_key(u), ("", np.nan)))
    unit_codes = unit_of[1]
    base_units = np.array([u[0] if u is not None else None for u in unit_of[0]], dtype=object)
    multiplier = np.array([u[1] if u is not None else np.nan for u in unit_of[0]], dtype=float)[unit_codes]
    no_unit = (table.activity_unit == "").to_numpy()
    _fail(path, has_activity & no_unit, "activity_unit", "activity is given without a unit.", "fill activity_unit (e.g. t/d).", table)
    known_unit = (base_units != "")[unit_codes]
    _fail(path, has_activity & ~no_unit & ~known_unit, "activity_unit", "unit '{value}' is unknown.", f"use one of: {', '.join(sorted(factors.units))} (see emission_factors/units.csv).", table)
    # units compared as numbers: each distinct unit name once
    unit_names = sorted({str(u) for u in base_units} | set(factors.processes.activity_unit))
    unit_number = {u: k for k, u in enumerate(unit_names)}
    expected_unit = factors.processes.activity_unit.to_numpy()
    given = np.array([unit_number[str(u)] for u in base_units], dtype=np.int32)[unit_codes]
    expected = np.array([unit_number[u] for u in expected_unit], dtype=np.int32)[key_index]
    wrong = has_activity & known_unit & (given != expected)
    row = _first_bad(wrong)
    if row is not None:
        unit = expected_unit[key_index[row]]
        raise InputError(path, f"row {_row_number(table, row)}, column activity_unit", f"unit '{table.activity_unit.iloc[row]}' cannot be converted to '{unit}', the activity unit of {table.industry.iloc[row]}/{table.process.iloc[row]}.", f"give the activity in {unit}.")

    hours = numbers["hours_per_day"]
    hours = np.where(np.isnan(hours), 24.0, hours)
    _fail(path, (hours <= 0) | (hours > 24), "hours_per_day", "'{value}' is outside (0, 24].", "give operating hours per day between 0 and 24.", table)
    _rates_kg_h(numbers, hours, columns, table, path, notes)

    direct = np.column_stack([numbers[c] for c in RATE_COLUMNS])
    has_direct = ~np.isnan(direct)
    _fail(path, ~has_activity & ~has_direct.any(axis=1), "activity", "the row has neither activity nor any direct emission rate.", "give activity with its unit, or *_kg_h rates.", table)
    pm10, pm25 = direct[:, POLLUTANTS.index("pm10")], direct[:, POLLUTANTS.index("pm25")]
    _fail(path, pm25 > pm10 + 1e-9, "pm25_kg_h", "pm25_kg_h exceeds pm10_kg_h.", "PM2.5 is part of PM10; check the two columns.", table)

    trips = numbers["truck_trips_per_day"]
    bulk = flags["bulk_transport"]
    _fail(path, (table.line_id == TRANSPORT_LINE).to_numpy(), "line_id", f"line_id '{{value}}' is reserved for the derived heavy-truck row of bulk-transport enterprises.", "rename the line (e.g. road_transport_1).", table)
    enterprise_codes, _ = column_codes(table.enterprise_id)
    line_codes, line_names = column_codes(table.line_id)
    line_key = pd.Series(enterprise_codes.astype(np.int64) * (len(line_names) + 1) + line_codes)
    row = _first_bad(line_key.duplicated(keep="first").to_numpy())
    if row is not None:
        key = (table.enterprise_id.iloc[row], table.line_id.iloc[row])
        rows = table.source_row.to_numpy()[(line_key == line_key.iloc[row]).to_numpy()]
        raise InputError(path, f"rows {', '.join(map(str, rows))}, columns enterprise_id/line_id", f"line '{key[1]}' of enterprise '{key[0]}' appears more than once.", "give each production line its own line_id.")
    del line_key
    # enterprises numbered in order of first appearance, as pandas.factorize numbers them
    enterprise_code = pd.factorize(enterprise_codes)[0]
    first_rows, firm_trips = _transport_rows(bulk, trips, enterprise_code, factors, path, table)
    n, k = len(table), first_rows.size
    transport = factors.processes.index.get_loc((TRANSPORT_INDUSTRY, TRANSPORT_PROCESS)) if k else -1
    key_index = np.concatenate([key_index, np.full(k, transport)])

    # daily emission [kg/d]: direct rates run for hours_per_day; factor rates follow activity;
    # the rows of derived truck traffic below, per trip
    kg_d = np.empty((n + k, len(POLLUTANTS)))
    np.multiply(np.where(has_activity, activity * np.nan_to_num(multiplier), 0.0)[:, None], factors.factor_kg_per_unit[key_index[:n]], out=kg_d[:n])
    both = np.flatnonzero(has_activity & has_direct.any(axis=1))
    factor_kg_d = kg_d[both]  # the factor-based estimate where a rate is given too, for the notes below
    direct_kg_d = np.multiply(direct, hours[:, None], out=direct)  # the rates are not needed as such any more
    np.copyto(kg_d[:n], direct_kg_d, where=has_direct)
    kg_d[n:] = firm_trips[:, None] * factors.factor_kg_per_unit[transport][None, :] if k else 0.0
    for odd in (_implausible_rates(direct_kg_d[both], factor_kg_d, both, table, path),
                _systematic_rates(direct_kg_d[both], factor_kg_d, path)) if both.size else ():
        if odd:
            notes.append(odd)
    del factor_kg_d, direct, direct_kg_d

    def number(values: np.ndarray, derived: float | np.ndarray | None = None) -> np.ndarray:
        """A column of the rows, then of the derived rows: ``derived``, else a copy of the enterprise's first bulk-transport row."""
        return np.concatenate([values, values[first_rows] if derived is None else np.broadcast_to(np.asarray(derived, dtype=values.dtype), (k,))])

    def text(name: str, column: pd.Series | tuple[np.ndarray, np.ndarray], derived: str | None = None) -> pd.Series:
        """A text column of the rows, then of the derived rows (as :func:`number`); its codes
        kept in ``coded[name]`` where it was coded."""
        if isinstance(column, pd.Series) and not isinstance(column.dtype, pd.CategoricalDtype) and derived is None:  # ids and names: as read
            if not k:
                return column.reset_index(drop=True)
            read = pa.chunked_array(pa.array(column.array))  # the derived rows as one more chunk: the rest is not copied
            return _arrow_text(pa.chunked_array([*read.chunks, read.take(pa.array(first_rows))], type=read.type))
        codes, values = column_codes(column) if isinstance(column, pd.Series) else column
        if derived is not None:
            values = np.append(values, np.array([derived], dtype=object))
        codes = number(codes.astype(np.int32, copy=False), None if derived is None else len(values) - 1)
        decoded = _text_column(codes, values)
        # the values the lines hold (not those of skipped empty rows), each once (B and B级 are both grade B)
        used = np.bincount(codes, minlength=len(values)) > 0
        distinct, position = np.unique(np.asarray(values, dtype=object)[used], return_inverse=True)
        index = np.full(len(values), -1, dtype=np.int32)
        index[used] = position
        coded[name] = (index[codes], distinct)
        return decoded

    coded: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # column -> code of each line, distinct values
    basis = np.where(has_direct.all(axis=1), 0, np.where(has_direct.any(axis=1), 1, 2)).astype(np.int32)
    lines = pd.DataFrame(
        {
            "enterprise_id": text("enterprise_id", table.enterprise_id),
            "enterprise_name": text("enterprise_name", table.enterprise_name),
            "city": text("city", table.city),
            "district": text("district", table.district),
            "lat": number(numbers["lat"]),
            "lon": number(numbers["lon"]),
            "industry": text("industry", table.industry, TRANSPORT_INDUSTRY),
            "process": text("process", table.process, TRANSPORT_PROCESS),
            "line_id": text("line_id", (line_codes, line_names), TRANSPORT_LINE),
            "grade": text("grade", (grade_codes, grades[:-1])),
            "activity": number(activity, firm_trips),
            "activity_unit": text("activity_unit", table.activity_unit, "trip/d"),
            "hours_per_day": number(hours, 24.0),
            "output_value_wan_yuan_per_day": number(np.nan_to_num(numbers["output_value_wan_yuan_per_day"]), 0.0),
            **{flag: number(state) for flag, state in flags.items()},
            "truck_trips_per_day": number(trips, firm_trips),
            "rate_basis": _text_column(number(basis, 2), np.array(["direct", "mixed", "factor"], dtype=object)),
            "source_row": number(table.source_row.to_numpy()),
            "derived": np.arange(n + k) >= n,
            "enterprise_code": number(enterprise_code),
            "voc_industry": factors.processes.voc_industry.to_numpy()[key_index],
        },
        copy=False,  # the columns are fresh arrays: no copy into blocks
    )
    # temporal-profile groups: the distinct (hourly, weekly) pairs of the processes in the list
    pair_of_process, pairs = pd.factorize(pd.MultiIndex.from_arrays([factors.processes.hourly_profile, factors.processes.weekly_profile]))
    codes, used = pd.factorize(pair_of_process[key_index], sort=True)
    uniques = [tuple(pairs[k]) for k in used]
    inventory = Inventory(lines, np.divide(kg_d, 24.0, out=kg_d), codes.astype(np.int32), tuple(uniques), factors, path, tuple(notes))
    inventory._codes.update(coded)  # the reader's codes serve rules and groupings: no second coding of the columns
    return inventory


def _transport_rows(bulk: np.ndarray, trips: np.ndarray, enterprise_code: np.ndarray, factors: EmissionFactors, path: Path, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The derived rows for heavy-truck traffic (应急运输响应), one per bulk-transport
    enterprise in order of its first bulk-transport row: that row (a copy of which the derived
    row is) and the enterprise's trips per day, the largest value given on its rows.
    """
    bad = bulk & np.isnan(trips)
    if bad.any():  # the table for the message only then: a copy of the list
        _fail(path, bad, "truck_trips_per_day", "bulk_transport is set but truck_trips_per_day is empty.", "give the enterprise's heavy-truck trips per day.", table.assign(truck_trips_per_day=""))
    if not bulk.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    key = (TRANSPORT_INDUSTRY, TRANSPORT_PROCESS)
    if key not in factors.processes.index:
        raise InputError(factors.folder / "industries.csv", None, f"the list has bulk-transport enterprises but no '{key[0]}/{key[1]}' process.", "add the heavy-truck process and its factors.")
    rows = np.flatnonzero(bulk)
    firms, first, firm_of_row = np.unique(enterprise_code[rows], return_index=True, return_inverse=True)
    most_trips = np.full(firms.size, -np.inf)
    np.maximum.at(most_trips, firm_of_row, trips[rows])
    order = np.argsort(first, kind="stable")
    return rows[first[order]], most_trips[order]
