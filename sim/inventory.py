"""Enterprise list + emission factors -> Inventory (columnar arrays, one row per line/process).

Baseline emission rates come from the list's direct ``*_kg_h`` columns where given, otherwise
from activity × emission factor × (1 − control efficiency). Every problem in the input is an
:class:`~sim.errors.InputError` naming file, row and column.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.tables import read_text_csv
from sim.vocabulary import vocabulary

POLLUTANTS: tuple[str, ...] = vocabulary().pollutants
RATE_COLUMNS = tuple(f"{p}_kg_h" for p in POLLUTANTS)
NUMERIC_COLUMNS = ("lat", "lon", "activity", *RATE_COLUMNS, "hours_per_day", "output_value_wan_yuan_per_day", "truck_trips_per_day")
VERBATIM_COLUMNS = ("enterprise_id", "enterprise_name", "city", "district", "line_id")
TEXT_COLUMNS = ("enterprise_id", "enterprise_name", "city", "district", "industry", "grade", "line_id", "process", "activity_unit")
TRANSPORT_INDUSTRY, TRANSPORT_PROCESS, TRANSPORT_LINE = "road_transport", "heavy_truck", "road_transport"


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
    return str(unit).strip().replace(" ", "").lower()


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

    @property
    def size(self) -> int:
        return len(self.lines)

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


def _csv_encoding(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 (a superset of GBK) is common in exports from Chinese office software
        try:
            raw.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputError(path, None, "the file is neither UTF-8 nor GBK/GB18030 text.", "save it as 'CSV UTF-8'.")


def _header_mapping(columns: list[str], path: Path) -> tuple[dict[int, str], list[str]]:
    """Position of each column the simulator reads -> its canonical name, and the headers of
    the columns it does not read (contacts, remarks ...).

    Two headers meaning the same column are an error, and so is an unknown header that looks
    like a misspelled column name (it would otherwise be ignored without a word).
    """
    voc = vocabulary()
    mapping: dict[int, str] = {}
    seen: dict[str, int] = {}
    unknown: list[int] = []
    for i, col in enumerate(columns):
        canonical = voc.column_aliases.get(col.lower())
        if canonical is None:
            if col:
                unknown.append(i)
            continue
        if canonical in seen:
            first = columns[seen[canonical]]
            what = f"the column '{col}' appears twice" if first.lower() == col.lower() else f"columns '{first}' and '{col}' both mean {canonical}"
            raise InputError(path, "header", f"{what} (columns {seen[canonical] + 1} and {i + 1}).", "keep one of them.")
        seen[canonical] = i
        mapping[i] = canonical
    names = {alias: canonical for alias, canonical in voc.column_aliases.items() if canonical not in seen}
    for i in unknown:
        close = difflib.get_close_matches(columns[i].lower(), list(names), n=1, cutoff=0.85)
        if close:
            raise InputError(path, "header", f"column '{columns[i]}' (column {i + 1}) is not a column name the simulator knows, so it would be ignored.",
                             f"did you mean '{close[0]}'? Rename the header (names and Chinese aliases: sim/data/vocabulary.yaml).")
    missing = [c for c in voc.required_columns if c not in seen]
    if missing:
        hint = " The header looks separated by tabs or semicolons; save the file as comma-separated CSV." if len(columns) == 1 and any(s in columns[0] for s in "\t;") else ""
        raise InputError(path, "header", f"missing required column(s): {', '.join(missing)}.", f"add them (English names or the Chinese aliases in sim/data/vocabulary.yaml).{hint}")
    if "activity" not in seen and not any(c in seen for c in RATE_COLUMNS):
        raise InputError(path, "header", "neither 'activity' nor any *_kg_h rate column is present.", "give activity with activity_unit, or direct rates such as so2_kg_h.")
    return mapping, [columns[i] for i in unknown]


def _header_cells(values: object) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in values]


def _extra_cells(data: pd.DataFrame, width: int, path: Path) -> None:
    """Cells to the right of the last header: a shifted row (an unquoted comma) or stray data."""
    if data.shape[1] <= width:
        return
    extra = data.iloc[:, width:].astype(str).apply(lambda s: s.str.strip()).ne("").to_numpy() & ~data.iloc[:, width:].isna().to_numpy()
    row = _first_bad(extra.any(axis=1))
    if row is not None:
        raise InputError(path, f"row {row + 2}", f"the row has cells beyond the header's {width} columns (column {width + 1 + int(np.flatnonzero(extra[row])[0])}).",
                         "quote cells that contain commas (or remove the stray cells), so that every row has the header's columns.")


def _read_list(path: Path, sheet: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The list with canonical column names (text and flag columns as strings, numeric ones
    as numbers where the file holds plain numbers, else as strings checked later), its
    spreadsheet row numbers in ``source_row`` (the header is row 1), and notes: empty rows
    skipped, columns not read."""
    if not path.exists():
        raise InputError(path, "inventory.enterprises", "the enterprise list does not exist.", "check the path (relative to the scenario file).")
    if path.is_dir():
        raise InputError(path, "inventory.enterprises", "this is a folder, not a list.", "name the .csv or .xlsx file itself.")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl's remarks on styles and data validation of exported workbooks
                with pd.ExcelFile(path, engine="openpyxl") as book:
                    names = [str(n) for n in book.sheet_names]
                    if sheet is None and len(names) > 1:
                        raise InputError(path, "sheets", f"the workbook has {len(names)} sheets ({', '.join(names)}).", "name the one to read with 'inventory.sheet', or keep a single sheet.")
                    chosen = sheet if sheet is not None else names[0]
                    if chosen not in names:
                        raise InputError(path, "sheets", f"no sheet named '{chosen}' (sheets: {', '.join(names)}).", "correct inventory.sheet.")
                    grid = pd.read_excel(book, sheet_name=chosen, header=None, dtype=str, keep_default_na=False)
        except InputError:
            raise
        except Exception as exc:  # not a zip, a damaged or encrypted workbook: openpyxl and zipfile raise many kinds
            raise InputError(path, None, f"the workbook cannot be read ({type(exc).__name__}: {exc}).", "open it in a spreadsheet program and save it again as .xlsx (or export a CSV UTF-8 file).") from None
        if grid.empty:
            raise InputError(path, None, "the sheet is empty.", "write the header row and at least one production line.")
        header = _header_cells(grid.iloc[0])
        mapping, ignored = _header_mapping(header, path)
        data = grid.iloc[1:].reset_index(drop=True)
        _extra_cells(data, len(header), path)
        table = data[list(mapping)].rename(columns=mapping).astype(str)
    elif suffix in {".csv", ".txt"}:
        if sheet is not None:
            raise InputError(path, "key inventory.sheet", f"a sheet ('{sheet}') is named, but the list is a CSV file, which has no sheets.", "remove inventory.sheet, or point inventory.enterprises at the workbook.")
        encoding = _csv_encoding(path)
        try:
            header = _header_cells(pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding=encoding).iloc[0])
        except pd.errors.EmptyDataError:
            raise InputError(path, None, "the file is empty.", "write the header row and at least one production line.") from None
        except pd.errors.ParserError as exc:
            raise InputError(path, "row 1", f"the header cannot be parsed ({str(exc).strip()}).", "check the quotes in the header row.") from None
        mapping, ignored = _header_mapping(header, path)
        numeric = [i for i, canonical in mapping.items() if canonical in NUMERIC_COLUMNS]
        try:
            # by position, so that a row with one cell too many is an error, not a shifted row
            data = pd.read_csv(
                path, encoding=encoding, header=None, skiprows=1, skip_blank_lines=False, keep_default_na=False,
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
        _extra_cells(data, len(header), path)
        for i in range(data.shape[1], len(header)):  # every row shorter than the header: its last cells are empty
            data[i] = np.nan if i in numeric else ""
        table = data[list(mapping)].rename(columns=mapping)
    else:
        raise InputError(path, None, f"unknown list format '{suffix}'.", "give a .csv or .xlsx file.")
    table["source_row"] = np.arange(len(table)) + 2
    notes = []
    empty = np.zeros(len(table), dtype=bool)
    maybe = np.flatnonzero(table.enterprise_id.fillna("").astype(str).str.strip().eq("").to_numpy())
    if maybe.size:  # rows without an id: skipped if every cell is empty, else an error below
        sub = data.iloc[maybe]
        empty[maybe] = ~(sub.astype(str).apply(lambda s: s.str.strip()).ne("").to_numpy() & ~sub.isna().to_numpy()).any(axis=1)
    if empty.any():
        rows = table.source_row.to_numpy()[empty]
        shown = ", ".join(map(str, rows[:10])) + (", ..." if rows.size > 10 else "")
        notes.append(f"{path.name}: {rows.size} empty row(s) skipped (rows {shown})")
        table = table[~empty]
    if table.empty:
        raise InputError(path, None, "the enterprise list has no rows.", "add at least one production line.")
    if ignored:
        notes.append(f"{path.name}: column(s) not used by the simulator: {', '.join(ignored)}")
    voc = vocabulary()
    for col in (*TEXT_COLUMNS, *voc.flags):
        table[col] = table[col].astype(str).str.strip() if col in table.columns else ""
    for col in NUMERIC_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    return table.reset_index(drop=True), notes


def _by_unique(values: pd.Series, func) -> np.ndarray:
    """``func`` applied once per distinct value (lists repeat grades, units and flags)."""
    codes, uniques = pd.factorize(values)
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    return mapped[codes]


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
    raise InputError(path, f"row {_row_number(table, row)}, column {column}", problem.format(value=value) + more, fix)


def _row_number(table: pd.DataFrame, row: int) -> int:
    """The spreadsheet row (header = row 1) of position ``row`` of the table."""
    return int(table.source_row.iloc[row]) if "source_row" in table.columns else row + 2


def load_inventory(path: str | Path, factors: EmissionFactors, sheet: str | None = None) -> Inventory:
    """Load and validate an enterprise list (CSV or XLSX) into an :class:`Inventory`.

    Row numbers in errors count the header as row 1, as a spreadsheet shows them.
    """
    path = Path(path)
    voc = vocabulary()
    table, notes = _read_list(path, sheet)

    for col in ("enterprise_id", "line_id", "industry", "process", "city", "enterprise_name"):
        _fail(path, (table[col] == "").to_numpy(), col, "is empty.", f"every row needs a {col}.", table)

    numbers = {}
    for col in NUMERIC_COLUMNS:
        column = table[col]
        if pd.api.types.is_numeric_dtype(column.dtype):
            values = column.to_numpy(float)
        else:  # text in a number column (thousands separators, stray spaces, typos): check each cell
            text = column.astype(str).str.strip()
            values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").to_numpy(float)
            _fail(path, ~text.isin(["", "nan"]).to_numpy() & np.isnan(values), col, "'{value}' is not a number.", "write a plain number (or leave the cell empty).", table)
        _fail(path, values < 0, col, "'{value}' is negative.", "emission rates, activity and counts cannot be negative.", table)
        _fail(path, np.isinf(values), col, "'{value}' is not a finite number.", "write a plain number.", table)
        numbers[col] = values

    grade = _by_unique(table.grade, voc.canonical_grade)
    _fail(path, pd.isna(grade), "grade", "'{value}' is not a performance grade.", f"use one of {', '.join(voc.grades)} (or Chinese forms such as A级, 引领性, 其他); write 'general' for ungraded enterprises.", table)

    flags = {}
    for flag in voc.flags:
        state = _by_unique(table[flag], lambda v: True if _unit_key(v) in voc.flag_true else False if _unit_key(v) in voc.flag_false else None)
        _fail(path, pd.isna(state), flag, "'{value}' is not a yes/no value.", "write 1 or 0 (是/否 also accepted).", table)
        flags[flag] = state.astype(bool)

    key_index = factors.processes.index.get_indexer(pd.MultiIndex.from_arrays([table.industry, table.process]))
    known_industry = table.industry.isin(factors.industries).to_numpy()
    _fail(path, ~known_industry, "industry", "industry '{value}' is unknown.", f"use a key of emission_factors/industries.csv ({', '.join(factors.industries)}).", table)
    bad_process = key_index < 0
    row = _first_bad(bad_process)
    if row is not None:
        ind = table.industry.iloc[row]
        allowed = ", ".join(factors.processes.loc[ind].index)
        raise InputError(path, f"row {_row_number(table, row)}, column process", f"process '{table.process.iloc[row]}' is not a process of industry '{ind}'.", f"use one of: {allowed}.")

    activity = numbers["activity"]
    has_activity = ~np.isnan(activity)
    base_unit = _by_unique(table.activity_unit, lambda u: factors.units.get(_unit_key(u), ("", None))[0])
    multiplier = _by_unique(table.activity_unit, lambda u: factors.units.get(_unit_key(u), ("", np.nan))[1]).astype(float)
    _fail(path, has_activity & (table.activity_unit == "").to_numpy(), "activity_unit", "activity is given without a unit.", "fill activity_unit (e.g. t/d).", table)
    known_unit = base_unit != ""
    _fail(path, has_activity & (table.activity_unit != "").to_numpy() & ~known_unit, "activity_unit", "unit '{value}' is unknown.", f"use one of: {', '.join(sorted(factors.units))} (see emission_factors/units.csv).", table)
    expected_unit = factors.processes.activity_unit.to_numpy()[key_index]
    wrong = has_activity & known_unit & (base_unit != expected_unit)
    row = _first_bad(wrong)
    if row is not None:
        raise InputError(path, f"row {_row_number(table, row)}, column activity_unit", f"unit '{table.activity_unit.iloc[row]}' cannot be converted to '{expected_unit[row]}', the activity unit of {table.industry.iloc[row]}/{table.process.iloc[row]}.", f"give the activity in {expected_unit[row]}.")

    hours = numbers["hours_per_day"]
    hours = np.where(np.isnan(hours), 24.0, hours)
    _fail(path, (hours <= 0) | (hours > 24), "hours_per_day", "'{value}' is outside (0, 24].", "give operating hours per day between 0 and 24.", table)

    direct = np.column_stack([numbers[c] for c in RATE_COLUMNS])
    has_direct = ~np.isnan(direct)
    _fail(path, ~has_activity & ~has_direct.any(axis=1), "activity", "the row has neither activity nor any direct emission rate.", "give activity with its unit, or *_kg_h rates.", table)
    pm10, pm25 = direct[:, POLLUTANTS.index("pm10")], direct[:, POLLUTANTS.index("pm25")]
    _fail(path, pm25 > pm10 + 1e-9, "pm25_kg_h", "pm25_kg_h exceeds pm10_kg_h.", "PM2.5 is part of PM10; check the two columns.", table)

    # daily emission [kg/d]: direct rates run for hours_per_day; factor rates follow activity
    factor_kg_d = np.where(has_activity, activity * np.nan_to_num(multiplier), 0.0)[:, None] * factors.factor_kg_per_unit[key_index]
    kg_d = np.where(has_direct, direct * hours[:, None], factor_kg_d)

    trips = numbers["truck_trips_per_day"]
    bulk = flags["bulk_transport"]
    _fail(path, (table.line_id == TRANSPORT_LINE).to_numpy(), "line_id", f"line_id '{{value}}' is reserved for the derived heavy-truck row of bulk-transport enterprises.", "rename the line (e.g. road_transport_1).", table)
    dup = table.duplicated(["enterprise_id", "line_id"], keep=False).to_numpy()
    row = _first_bad(dup & table.duplicated(["enterprise_id", "line_id"], keep="first").to_numpy())
    if row is not None:
        key = (table.enterprise_id.iloc[row], table.line_id.iloc[row])
        rows = table.source_row.to_numpy()[(table.enterprise_id == key[0]).to_numpy() & (table.line_id == key[1]).to_numpy()]
        raise InputError(path, f"rows {', '.join(map(str, rows))}, columns enterprise_id/line_id", f"line '{key[1]}' of enterprise '{key[0]}' appears more than once.", "give each production line its own line_id.")

    lines = pd.DataFrame(
        {
            "enterprise_id": table.enterprise_id,
            "enterprise_name": table.enterprise_name,
            "city": table.city,
            "district": table.district,
            "lat": numbers["lat"],
            "lon": numbers["lon"],
            "industry": table.industry,
            "process": table.process,
            "line_id": table.line_id,
            "grade": pd.Series(grade, dtype=str),
            "activity": activity,
            "activity_unit": table.activity_unit,
            "hours_per_day": hours,
            "output_value_wan_yuan_per_day": np.nan_to_num(numbers["output_value_wan_yuan_per_day"]),
            **flags,
            "truck_trips_per_day": trips,
            "rate_basis": np.where(has_direct.all(axis=1), "direct", np.where(has_direct.any(axis=1), "mixed", "factor")),
            "source_row": table.source_row.to_numpy(),
            "derived": False,
        }
    )
    lines, kg_d = _add_transport_rows(lines, kg_d, bulk, trips, factors, path)
    idx = factors.processes.index.get_indexer(pd.MultiIndex.from_arrays([lines.industry, lines.process]))
    # temporal-profile groups: the distinct (hourly, weekly) pairs of the processes in the list
    pair_of_process, pairs = pd.factorize(pd.MultiIndex.from_arrays([factors.processes.hourly_profile, factors.processes.weekly_profile]))
    codes, used = pd.factorize(pair_of_process[idx], sort=True)
    uniques = [tuple(pairs[k]) for k in used]
    lines["enterprise_code"] = pd.factorize(lines.enterprise_id)[0]
    lines["voc_industry"] = factors.processes.voc_industry.to_numpy()[idx]
    lines = lines.reset_index(drop=True)
    return Inventory(lines, kg_d / 24.0, codes.astype(np.int32), tuple(uniques), factors, path, tuple(notes))


def _add_transport_rows(lines: pd.DataFrame, kg_d: np.ndarray, bulk: np.ndarray, trips: np.ndarray, factors: EmissionFactors, path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """One derived row per bulk-transport enterprise for its heavy-truck traffic (应急运输响应).

    Trips are per enterprise: the largest value given on its rows counts.
    """
    bad = bulk & np.isnan(trips)
    _fail(path, bad, "truck_trips_per_day", "bulk_transport is set but truck_trips_per_day is empty.", "give the enterprise's heavy-truck trips per day.", lines.assign(truck_trips_per_day=""))
    if not bulk.any():
        return lines, kg_d
    key = (TRANSPORT_INDUSTRY, TRANSPORT_PROCESS)
    if key not in factors.processes.index:
        raise InputError(factors.folder / "industries.csv", None, f"the list has bulk-transport enterprises but no '{key[0]}/{key[1]}' process.", "add the heavy-truck process and its factors.")
    firms = lines[bulk].assign(trips=trips[bulk]).groupby("enterprise_id", sort=False).agg(
        first=("source_row", "first"), trips=("trips", "max")
    )
    base = lines.set_index("source_row").loc[firms["first"]].reset_index()
    if (base.line_id == TRANSPORT_LINE).any():
        raise InputError(path, "column line_id", f"line_id '{TRANSPORT_LINE}' is reserved for derived truck traffic.", "rename that line.")
    per_trip = factors.factor_kg_per_unit[factors.processes.index.get_loc(key)]
    derived = base.assign(
        industry=TRANSPORT_INDUSTRY, process=TRANSPORT_PROCESS, line_id=TRANSPORT_LINE,
        activity=firms.trips.to_numpy(), activity_unit="trip/d", hours_per_day=24.0,
        output_value_wan_yuan_per_day=0.0, truck_trips_per_day=firms.trips.to_numpy(),
        rate_basis="factor", derived=True,
    )
    return pd.concat([lines, derived[lines.columns]], ignore_index=True), np.vstack([kg_d, firms.trips.to_numpy()[:, None] * per_trip[None, :]])
