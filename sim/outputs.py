"""Writing a result to its output directory, atomically.

Files are written into a temporary sibling directory and moved into place at the end, so a
failed or interrupted run never leaves a half-written directory, and an existing directory is
replaced only by a complete one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sim.api import Result
from sim.errors import InputError

SIGNIFICANT_DIGITS = 9


def _round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Round to ``digits`` significant digits, so files show 4.6128, not 4.612799999999999."""
    x = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(x)))
    shift = np.clip(digits - 1 - np.nan_to_num(exponent, nan=0.0, posinf=0.0, neginf=0.0), -22, 22)
    scale = 10.0 ** np.abs(shift)
    # divide by an exact power of ten: the result is the double nearest the rounded decimal
    rounded = np.where(shift >= 0, np.round(x * scale) / scale, np.round(x / scale) * scale)
    return np.where(np.isfinite(x) & (x != 0), rounded, x)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as UTF-8 CSV: floats to 9 significant digits, times as 2023-12-01T00:00,
    missing values empty. Arrow's writer: about ten times faster than pandas' on large lists."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            out[name] = pa.array(column.dt.strftime("%Y-%m-%dT%H:%M").to_numpy(object), type=pa.string(), from_pandas=True)
        elif pd.api.types.is_float_dtype(column.dtype):
            out[name] = pa.array(_round_significant(column.to_numpy(float)), from_pandas=True)
        elif pd.api.types.is_bool_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy().astype(np.int8))
        elif pd.api.types.is_integer_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy())
        else:
            out[name] = pa.array(column.astype(object).where(column.notna(), None).to_numpy(object), type=pa.string(), from_pandas=True)
    pacsv.write_csv(pa.table(out), path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def write_tables(result: Result, folder: Path) -> list[str]:
    """Write the contract's files into ``folder`` (which exists); return their names."""
    tables = {
        "emissions.csv": result.emissions,
        "emissions_by_group.csv": result.emissions_by_group,
        "warnings.csv": result.warnings,
        "measures.csv": result.reduction_list,  # published order: truck rows under their enterprise
    }
    if result.pm25 is not None:
        tables["pm25.csv"] = result.pm25
    if result.pm25_by_city is not None:
        tables["pm25_by_city.csv"] = result.pm25_by_city
    for name, frame in tables.items():
        write_csv(frame, folder / name)
    (folder / "metrics.json").write_text(json.dumps(result.metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*tables, "metrics.json"]


def write_result(result: Result, folder: Path, *, report: bool = True, lang: str = "en") -> None:
    """Every output of one run into ``folder``: the contract's tables and, with ``report``,
    report.html, charts/*.png and measures.xlsx."""
    write_tables(result, folder)
    if report:
        from sim.report import write_measures_xlsx, write_report

        write_report(result, folder, lang=lang)
        write_measures_xlsx(result, folder / "measures.xlsx")


#: A file that marks a folder as earlier results, which a new run may replace.
RESULT_MARKERS = ("metrics.json", "comparison.csv", "optimisation.json")


def check_replaceable(out_dir: Path) -> None:
    """An existing ``out_dir`` may be replaced only when it is an empty folder or earlier
    results (it holds one of :data:`RESULT_MARKERS`): never a file, a folder of other files,
    or the folder the command runs in (``--out .`` would delete the working folder)."""
    fix = "choose a new or empty folder for --out (or output.dir), or delete this one first."
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "output folder", "this is a file, not a folder, and would be deleted.", fix)
    if out_dir.parent.exists() and not out_dir.parent.is_dir():
        raise InputError(out_dir.parent, "output folder", "this is a file, so no folder can be made inside it.", fix)
    if not out_dir.is_dir():
        return
    if Path.cwd().resolve().is_relative_to(out_dir):
        raise InputError(out_dir, "output folder", "this folder holds the working folder, and would be deleted with it.", fix)
    entries = sorted(p.name for p in out_dir.iterdir())
    if entries and not any(name in entries for name in RESULT_MARKERS):
        raise InputError(out_dir, "output folder", f"the folder exists and holds other files ({', '.join(entries[:3])}{', ...' if len(entries) > 3 else ''}), which replacing it would delete.", fix)


def write_atomically(out_dir: str | Path, fill: Callable[[Path], None]) -> Path:
    """Call ``fill(staging)`` on a temporary sibling folder and move it to ``out_dir`` only
    when it finished; an existing ``out_dir`` is replaced whole or left untouched. An
    ``out_dir`` that is not earlier results is an input error (see :func:`check_replaceable`)."""
    out_dir = Path(out_dir).resolve()
    check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        fill(staging)
        if out_dir.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, retired / out_dir.name)
            os.replace(staging, out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def write_outputs(result: Result, out_dir: str | Path, *, report: bool = False, lang: str = "en") -> Path:
    """Write every output file of ``result`` to ``out_dir`` atomically; return the directory."""
    return write_atomically(out_dir, lambda folder: write_result(result, folder, report=report, lang=lang))
