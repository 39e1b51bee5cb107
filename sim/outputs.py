"""Writing a result to its output directory, atomically.

Files are written into a temporary sibling directory and moved into place at the end, so a
failed or interrupted run never leaves a half-written directory, and an existing directory is
replaced only by a complete one. A manifest (``.manifest.json``) lists the files a run wrote: a
later run replaces the folder only when it holds nothing else, and never a folder holding the
run's inputs. A lock file beside the folder keeps a second run from writing to it at the same
time; staging folders left by killed runs are removed by the next run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sim.results import Result
from sim.cell_text import FORMULA_PATTERN, FORMULA_PREFIXES, round_significant
from sim.errors import InputError

try:
    import fcntl
except ImportError:  # Windows: a lock file alone (see _lock)
    fcntl = None  # type: ignore[assignment]

#: Bytes that start a formula (:data:`sim.cell_text.FORMULA_PREFIXES`), as a table over the 256
#: byte values. The prefixes are ASCII, so the first byte of a UTF-8 text tells them apart.
_FORMULA_FIRST_BYTE = np.zeros(256, dtype=bool)
_FORMULA_FIRST_BYTE[[ord(c) for c in FORMULA_PREFIXES]] = True

#: Rows per block when a large CSV is formatted on several threads (Arrow's writer releases the
#: GIL): 16384 was fastest for the 60-column measures.csv of 100k lines (2 cores).
CSV_BLOCK_ROWS = 16384

#: Rows per row group of a Parquet file (readers take a file row group by row group).
PARQUET_BLOCK_ROWS = 131072

#: The table formats of ``--format`` / ``output.format``: which files each writes.
TABLE_FORMATS = {"csv": ("csv",), "parquet": ("parquet",), "both": ("csv", "parquet")}


#: SHA-256 of the files written into a staging folder, by folder, then by file name: (stat
#: signature after writing, hex digest). Recorded as the bytes are written, so that the manifest
#: does not read every file back (435 MB at 1M lines); only folders an :class:`OutputFolder`
#: stages are recorded, and a file whose signature changed since is hashed again. (A file changed
#: after writing within the same tick of the file clock keeps its recorded digest: the manifest
#: then lists the bytes the tool wrote, and a later run refuses the folder as changed, the safe side.)
_WRITTEN_DIGESTS: dict[Path, dict[str, tuple[tuple[int, ...], str]]] = {}


def _signature(info: os.stat_result) -> tuple[int, ...]:
    """What changes whenever a file's bytes change: size, times of change [ns], inode."""
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


class HashingFile:
    """A file opened for binary writing that computes the SHA-256 of the bytes written, so a
    file is hashed as it is written instead of read back. On closing, the digest is recorded
    for the manifest when the file lies in a staging folder (see :data:`_WRITTEN_DIGESTS`).

    >>> with HashingFile(folder / "measures.csv") as fh:   # doctest: +SKIP
    ...     fh.write(b"a,b\n")
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = open(self.path, "wb")
        self._sha256 = hashlib.sha256()

    def write(self, data: Any) -> int:
        self._sha256.update(data)
        return self._file.write(data)

    def tell(self) -> int:
        return self._file.tell()

    def flush(self) -> None:
        self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def writable(self) -> bool:
        return True

    def hexdigest(self) -> str:
        """SHA-256 of the bytes written so far [hex]."""
        return self._sha256.hexdigest()

    def close(self) -> None:
        if self._file.closed:
            return
        self._file.close()
        recorded = _WRITTEN_DIGESTS.get(self.path.parent.resolve())
        if recorded is not None:
            recorded[self.path.name] = (_signature(self.path.stat()), self.hexdigest())

    def __enter__(self) -> "HashingFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _may_hold_formula(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a cell of ``text`` may start like a formula, read from the first byte of each
    value in Arrow's buffers (no per-cell work: a list of 100k lines is checked in about a
    millisecond per column). True when unsure (another string type); null cells may count."""
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else (text,):
        if pa.types.is_large_string(chunk.type):
            offset_type = np.int64
        elif pa.types.is_string(chunk.type):
            offset_type = np.int32
        else:
            return True
        _, offsets_buffer, data_buffer = chunk.buffers()
        if len(chunk) == 0 or data_buffer is None or data_buffer.size == 0:
            continue
        offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[chunk.offset : chunk.offset + len(chunk) + 1]
        starts = offsets[:-1][offsets[1:] > offsets[:-1]]  # empty cells have no first byte
        if _FORMULA_FIRST_BYTE[np.frombuffer(data_buffer, dtype=np.uint8)[starts]].any():
            return True
    return False


def _escape_formulas(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text cells a spreadsheet would read as a formula get a leading ``'`` (see
    :mod:`sim.cell_text`); only text columns come here, so numbers are never touched.
    Dictionary-coded text (a categorical column) is escaped in its distinct values."""
    if isinstance(text, pa.DictionaryArray):
        escaped = _escape_formulas(text.dictionary)
        return text if escaped is text.dictionary else pa.DictionaryArray.from_arrays(text.indices, escaped)
    if not _may_hold_formula(text):  # the usual case: nothing to escape, nothing copied
        return text
    import pyarrow.compute as pc

    risky = pc.match_substring_regex(text, FORMULA_PATTERN)
    quote, nothing = pa.scalar("'", text.type), pa.scalar("", text.type)  # string or large_string, as the column
    return pc.if_else(risky, pc.binary_join_element_wise(quote, text, nothing), text)


def _text_array(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as an Arrow string array, missing cells null: pandas' Arrow-backed
    strings as they are (no copy), a categorical as a dictionary array of its codes (int32, as
    Arrow's ``dictionary_encode`` gives) and its categories, which are turned into text a
    block at a time when written, other columns through Python objects."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int32)
        categories = _text_array(pd.Series(column.cat.categories))
        categories = categories.combine_chunks() if isinstance(categories, pa.ChunkedArray) else categories
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), categories)
    if isinstance(column.dtype, pd.StringDtype) and hasattr(column.array, "__arrow_array__"):
        text = pa.array(column.array)
        if pa.types.is_string(text.type) or pa.types.is_large_string(text.type):
            return text
    return pa.array(column.astype(object).where(column.notna(), None).to_numpy(object), type=pa.string(), from_pandas=True)


def _time_text(column: pd.Series) -> pa.Array:
    """Times as 2023-12-01T00:00, NaT null. Each distinct time is formatted once: the hours
    repeat in every variant and city block."""
    codes, distinct = pd.factorize(column)  # NaT: code -1
    text = pa.array(distinct.strftime("%Y-%m-%dT%H:%M").to_numpy(object), type=pa.string())
    return text.take(pa.array(codes, mask=codes < 0))


def _csv_columns(frame: pd.DataFrame) -> pa.Table:
    """The columns of ``frame`` as :func:`write_csv` writes them: times as text
    (2023-12-01T00:00), booleans as 0/1, text escaped; floats as they are (NaN kept), rounded
    block by block in :func:`_csv_block`, on the writer's threads."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            out[name] = _time_text(column)
        elif pd.api.types.is_float_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy(float), type=pa.float64())
        elif pd.api.types.is_bool_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy().astype(np.int8))
        elif pd.api.types.is_integer_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy())
        else:
            out[name] = _escape_formulas(_text_array(column))
    # one chunk per column: Arrow's take joins a chunked column's pieces on every call, which
    # taking the published order block by block would otherwise pay once per block
    return pa.table(out).combine_chunks()


def _csv_block(table: pa.Table, rows: np.ndarray | None, start: int, header: bool) -> pa.Buffer:
    """Rows ``start`` to ``start + CSV_BLOCK_ROWS`` of ``table`` (of ``table.take(rows)``) as CSV
    bytes, floats rounded to 9 significant digits and NaN empty."""
    part = table.slice(start, CSV_BLOCK_ROWS) if rows is None else table.take(rows[start:start + CSV_BLOCK_ROWS])
    for i, field in enumerate(part.schema):
        if pa.types.is_floating(field.type):
            part = part.set_column(i, field, pa.array(round_significant(part.column(i).to_numpy()), type=field.type, from_pandas=True))
        elif pa.types.is_dictionary(field.type):  # categorical text: this block's cells as text
            part = part.set_column(i, pa.field(field.name, field.type.value_type), part.column(i).cast(field.type.value_type))
    sink = pa.BufferOutputStream()
    pacsv.write_csv(part, sink, write_options=pacsv.WriteOptions(quoting_style="needed", include_header=header))
    return sink.getvalue()


def write_csv(frame: pd.DataFrame, path: Path, *, rows: np.ndarray | None = None) -> None:
    """Write a table as UTF-8 CSV: floats to 9 significant digits, times as 2023-12-01T00:00,
    missing values empty, text that looks like a formula (``=...``, ``-5``) behind a ``'``.
    ``rows``: positions of ``frame``'s rows in the order to write (all of them), so that a
    reordered copy of a large frame is never made.

    Arrow's writer, about ten times faster than pandas'. A large table is rounded and
    formatted in blocks of :data:`CSV_BLOCK_ROWS` rows on several threads (numpy and Arrow
    release the GIL) and written in order: CSV rows stand alone, so the bytes are those of one
    writer. A few blocks are in memory at a time."""
    table = _csv_columns(frame)
    workers = min(4, os.cpu_count() or 1)
    starts = range(0, max(table.num_rows, 1), CSV_BLOCK_ROWS)  # an empty table: its header
    with HashingFile(path) as fh:
        if len(starts) == 1 or workers == 1:
            for start in starts:
                fh.write(_csv_block(table, rows, start, start == 0))
            return
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            pending: deque = deque()
            for start in starts:
                pending.append(pool.submit(_csv_block, table, rows, start, start == 0))
                if len(pending) > workers:  # a block formatting per thread, one waiting: the peak stays low
                    fh.write(pending.popleft().result())
            while pending:
                fh.write(pending.popleft().result())


def _coded_as_text_is(coded: pa.DictionaryArray) -> bool:
    """Whether ``coded`` is what Arrow's ``dictionary_encode`` makes of its text: int32 codes,
    and every value of the dictionary used, in order of first appearance (as
    :func:`sim.results.rule_words` codes the rules' words)."""
    import pyarrow.compute as pc

    first_seen = pc.unique(coded.indices.drop_null()).to_numpy(zero_copy_only=False)
    return pa.types.is_int32(coded.type.index_type) and np.array_equal(first_seen, np.arange(len(coded.dictionary)))


def parquet_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` with explicit Arrow types for Parquet: floats float64 (unrounded), whole numbers
    int64, booleans bool, times timestamps, text as strings; text whose distinct values are
    at most half the rows (industry, grade, measures) dictionary-coded, read back as pandas
    categoricals. Not escaped: spreadsheet programs do not open Parquet."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            out[name] = pa.array(column)
        elif pd.api.types.is_float_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy(float), type=pa.float64())
        elif pd.api.types.is_bool_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy(bool), type=pa.bool_())
        elif pd.api.types.is_integer_dtype(column.dtype):
            out[name] = pa.array(column.to_numpy(np.int64), type=pa.int64())
        else:
            text = _text_array(column)
            text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
            if pa.types.is_dictionary(text.type) and not _coded_as_text_is(text):
                text = text.cast(text.type.value_type)  # coded afresh below, as text is
            coded = text if pa.types.is_dictionary(text.type) else text.dictionary_encode()
            out[name] = coded if 2 * len(coded.dictionary) <= len(coded) else text
    return pa.table(out).combine_chunks()  # see _csv_columns


def write_parquet(frame: pd.DataFrame, path: Path, *, rows: np.ndarray | None = None) -> None:
    """Write a table as Parquet (:func:`parquet_table`), read with ``pandas.read_parquet``;
    ``rows`` as in :func:`write_csv`. Written as row groups of :data:`PARQUET_BLOCK_ROWS`
    rows, each taken in order as it is written (reordering a 1M-line list at once took 1.2 s).
    Snappy-compressed, Parquet's default that every reader knows: for measures of 100k lines
    11 MB written in 0.17 s, where zstd gives 9.5 MB in 0.21-0.26 s and reads back two to three
    times slower."""
    import pyarrow.parquet as pq

    table = parquet_table(frame)
    with HashingFile(path) as fh, pq.ParquetWriter(pa.PythonFile(fh, mode="w"), table.schema, compression="snappy") as writer:
        for start in range(0, max(table.num_rows, 1), PARQUET_BLOCK_ROWS):
            writer.write_table(table.slice(start, PARQUET_BLOCK_ROWS) if rows is None else table.take(rows[start:start + PARQUET_BLOCK_ROWS]))


def result_tables(result: Result) -> dict[str, tuple[pd.DataFrame, np.ndarray | None]]:
    """The contract's tables of ``result`` by file stem (``measures`` for measures.csv), each
    with the order of its rows as written (None: as they stand)."""
    tables = {
        "emissions": (result.emissions, None),
        "emissions_by_group": (result.emissions_by_group, None),
        "warnings": (result.warnings, None),
        # Result.reduction_list, the published order (truck rows under their enterprise), taken
        # while writing: Arrow's take per block is far cheaper than a reordered pandas copy
        "measures": (result.measures_coded, result.list_order),
    }
    if result.pm25 is not None:
        tables["pm25"] = (result.pm25, None)
    if result.pm25_by_city is not None:
        tables["pm25_by_city"] = (result.pm25_by_city, None)
    return tables


def write_tables(result: Result, folder: Path, *, table_format: str = "csv") -> list[str]:
    """Write the contract's files into ``folder`` (which exists) as CSV, Parquet or both
    (``table_format``, a key of :data:`TABLE_FORMATS`), and metrics.json; return their names."""
    written = []
    for stem, (frame, rows) in result_tables(result).items():
        for suffix in TABLE_FORMATS[table_format]:
            (write_csv if suffix == "csv" else write_parquet)(frame, folder / f"{stem}.{suffix}", rows=rows)
            written.append(f"{stem}.{suffix}")
    with HashingFile(folder / "metrics.json") as fh:
        fh.write((json.dumps(result.metrics, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [*written, "metrics.json"]


def write_result(result: Result, folder: Path, *, report: bool = True, lang: str = "en", table_format: str = "csv") -> None:
    """Every output of one run into ``folder``: the contract's tables (``table_format``: csv,
    parquet or both) and, with ``report``, report.html, charts/*.png and measures.xlsx."""
    write_tables(result, folder, table_format=table_format)
    if report:
        from sim.report import write_measures_xlsx, write_report

        write_report(result, folder, lang=lang)
        write_measures_xlsx(result, folder / "measures.xlsx")


#: The list of the files a run wrote (relative path, size, SHA-256), kept in the output folder.
#: A later run replaces the folder only when every entry in it is listed there, unchanged: never
#: a file the tool did not write (a user's notes, the scenario's inputs).
MANIFEST = ".manifest.json"
_WRITTEN_BY = "run_scenario.py"

#: Files that marked earlier results before manifests existed. Such a folder is refused (it may
#: hold a user's files that nothing tells apart); the message says so.
RESULT_MARKERS = ("metrics.json", "comparison.csv", "optimisation.json")

#: Files the operating system drops into folders a user browsed: not a user's work, replaced.
OS_CLUTTER = (".DS_Store", "Thumbs.db", "desktop.ini")

_FIX = "choose a new or empty folder for --out (or output.dir)"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_each(paths: list[Path]) -> list[str]:
    """:func:`_sha256` of each file, several at a time (hashlib and reads release the GIL)."""
    if len(paths) < 2:
        return [_sha256(p) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(4, os.cpu_count() or 1, len(paths))) as pool:
        return list(pool.map(_sha256, paths))


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """Regular files of ``folder`` (relative POSIX paths) and the other entries: empty folders
    (``name/``), links and special files, which the tool never writes."""
    files: list[str] = []
    other: list[str] = []
    for root, dirnames, filenames in os.walk(folder):
        base = Path(root)
        rel = base.relative_to(folder)
        for name in list(dirnames):
            if (base / name).is_symlink():  # never followed: what it points to is not ours
                dirnames.remove(name)
                other.append((rel / name).as_posix())
        if not dirnames and not filenames and base != folder:
            other.append(rel.as_posix() + "/")
        for name in filenames:
            path = base / name
            (files if path.is_file() and not path.is_symlink() else other).append((rel / name).as_posix())
    return sorted(files), sorted(other)


def write_manifest(folder: Path) -> None:
    """List every file of ``folder`` in ``folder/.manifest.json`` (sorted, so that the same
    outputs give the same bytes)."""
    files, _ = _entries(folder)
    recorded = _WRITTEN_DIGESTS.get(folder.resolve(), {})
    infos = {rel: (folder / rel).stat() for rel in files if rel != MANIFEST}
    # a digest taken while writing stands only for a file unchanged since; the others are read
    digests = {rel: recorded[rel][1] for rel, info in infos.items() if rel in recorded and recorded[rel][0] == _signature(info)}
    unknown = [rel for rel in infos if rel not in digests]
    digests.update(zip(unknown, _sha256_each([folder / rel for rel in unknown])))
    listed = {rel: {"bytes": info.st_size, "sha256": digests[rel]} for rel, info in infos.items()}
    text = json.dumps({"written_by": _WRITTEN_BY, "format": 1, "files": listed}, indent=1, sort_keys=True)
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != _WRITTEN_BY or not isinstance(data.get("files"), dict):
        return None
    return data["files"]


#: How long a file must have stood unchanged [ns] before the check of a results folder may
#: vouch for it by its stat signature alone: the coarsest file time of common file systems
#: (FAT: 2 s), so that a change just after the check never shares the time of the one before.
_SETTLED_NS = 2_000_000_000


def foreign_entries(folder: Path, verified: dict[str, tuple[tuple[int, ...], str]] | None = None) -> list[str] | None:
    """Entries of the results folder ``folder`` that the tool did not write, or that changed
    since (``name (changed)``); None when ``folder`` has no manifest.

    ``verified`` (kept by the caller between checks of the same folder) holds the files this
    check found unchanged, by their stat signature: a later check reads again only files whose
    signature moved (a run checks its output folder when it starts and again before replacing
    it: hashing the 435 MB of earlier results of a 1M-line list twice took 0.7 s). Files
    changed within :data:`_SETTLED_NS` of the check are never vouched for by signature."""
    listed = _read_manifest(folder)
    if listed is None:
        return None
    files, other = _entries(folder)
    foreign = list(other)
    started_ns = time.time_ns()  # before the stats: a change after them bears a later time
    to_hash: list[tuple[str, os.stat_result]] = []
    for rel in files:
        entry = listed.get(rel)
        if rel == MANIFEST or Path(rel).name in OS_CLUTTER:
            continue
        if not isinstance(entry, dict):
            foreign.append(rel)
            continue
        info = (folder / rel).stat()
        if info.st_size != entry.get("bytes"):
            foreign.append(f"{rel} (changed)")
        elif verified is None or verified.get(rel) != (_signature(info), entry.get("sha256")):
            to_hash.append((rel, info))
    for (rel, info), digest in zip(to_hash, _sha256_each([folder / rel for rel, _ in to_hash])):
        if digest != listed[rel].get("sha256"):
            foreign.append(f"{rel} (changed)")
        elif verified is not None and info.st_ctime_ns < started_ns - _SETTLED_NS:
            verified[rel] = (_signature(info), digest)
    return sorted(foreign)


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f", ... ({len(names)} in all)" if len(names) > 3 else "")


def scenario_inputs(scenario: Any) -> list[Path]:
    """Every file and folder a scenario reads: its YAML, the list, the emission factors folder,
    the policy, other-sources and meteorology files... (each path field but output.dir)."""
    from pydantic import BaseModel

    found: list[Path] = []

    def walk(value: Any) -> None:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                if not (value is scenario and name == "output"):
                    walk(getattr(value, name))
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, Path):
            found.append(value)

    walk(scenario)
    first = [scenario.source_file] if getattr(scenario, "source_file", None) is not None else []
    return list(dict.fromkeys(first + found))  # the scenario file first: messages name it


def check_replaceable(out_dir: Path, inputs: Iterable[str | Path] = (), verified: dict[str, tuple[tuple[int, ...], str]] | None = None) -> None:
    """An existing ``out_dir`` may be replaced only when it is an empty folder or results this
    tool wrote (every entry listed, unchanged, in its manifest): never a file, a folder with
    anything else in it, a folder holding an input of the run (``inputs``), or the folder the
    command runs in (``--out .`` would delete the working folder). ``verified``: see
    :func:`foreign_entries`."""
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "output folder", "this is a file, not a folder, and would be deleted.", _FIX + ".")
    if out_dir.parent.exists() and not out_dir.parent.is_dir():
        raise InputError(out_dir.parent, "output folder", "this is a file, so no folder can be made inside it.", _FIX + ".")
    if not out_dir.is_dir():
        return
    if Path.cwd().resolve().is_relative_to(out_dir):
        raise InputError(out_dir, "output folder", "this folder holds the working folder, and would be deleted with it.", _FIX + ", not the folder the command runs in.")
    for item in inputs:
        path = Path(item).resolve()
        if path.is_relative_to(out_dir):
            what = "is" if path == out_dir else f"holds {path.relative_to(out_dir).as_posix()},"
            raise InputError(out_dir, "output folder", f"this folder {what} an input of this run, which replacing it would delete.",
                             _FIX + " apart from the run's inputs, e.g. a results/ folder beside the scenario.")
    if all(p.name in OS_CLUTTER and p.is_file() and not p.is_symlink() for p in out_dir.iterdir()):  # empty, as far as a user is concerned
        return
    foreign = foreign_entries(out_dir, verified)
    if foreign is None:
        names = sorted(p.name for p in out_dir.iterdir())
        if MANIFEST in names:
            raise InputError(out_dir / MANIFEST, "output folder", "the manifest of these results cannot be read (or was not written by run_scenario.py), "
                             "so the files the tool wrote cannot be told from others, which replacing the folder would delete.",
                             f"keep what you need and delete the folder yourself, or {_FIX}.")
        if any(name in names for name in RESULT_MARKERS):
            raise InputError(out_dir, "output folder", f"the folder holds results of an earlier version without a {MANIFEST} ({_some(names)}), "
                             "so the files the tool wrote cannot be told from others, which replacing it would delete.",
                             f"keep what you need and delete the folder yourself, or {_FIX}.")
        raise InputError(out_dir, "output folder", f"the folder exists and holds other files ({_some(names)}), which replacing it would delete.",
                         f"{_FIX}, or move those files elsewhere.")
    if foreign:
        raise InputError(out_dir, "output folder", f"the folder holds earlier results and files the tool did not write ({_some(foreign)}), which replacing it would delete.",
                         f"move those files elsewhere, or {_FIX}.")


# --------------------------------------------------------------------------- lock and staging


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (when unsure: yes, so nothing is removed)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C there
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            return not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


#: Staging (``partial``) and retired (``old``) folders beside the output folder ``out``:
#: ``.out.partial-<pid>-<8 hex>``; the pid tells a dead run's leftovers.
_SIBLING = re.compile(r"(?:partial|old)-(\d+)-[0-9a-f]{8}")


#: A file inside every staging and retired folder: only folders holding it are ever removed as
#: a dead run's leftovers (a user's backup named like them is not).
SIBLING_MARKER = ".run_scenario-staging"


def _make_sibling(out_dir: Path, kind: str) -> Path:
    """A new folder ``.<name>.<kind>-<pid>-<hex>`` beside ``out_dir``, made by mkdir so that
    its permissions follow the umask (tempfile.mkdtemp would make it 0700), holding
    :data:`SIBLING_MARKER`."""
    while True:
        path = out_dir.parent / f".{out_dir.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        (path / SIBLING_MARKER).touch()
        return path


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Remove the staging and retired folders of ``out_dir`` that runs no longer alive left
    (killed with SIGKILL or SIGTERM); only folders named like the tool's own. Returns them."""
    prefix = f".{out_dir.name}."
    removed = []
    for entry in out_dir.parent.iterdir():
        hit = _SIBLING.fullmatch(entry.name[len(prefix):]) if entry.name.startswith(prefix) else None
        if hit and entry.is_dir() and not entry.is_symlink() and (entry / SIBLING_MARKER).is_file() and not _pid_alive(int(hit[1])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def lock_path(out_dir: Path) -> Path:
    """The lock file of ``out_dir``: ``.<name>.lock`` beside it, removed when the run ends."""
    return out_dir.parent / f".{out_dir.name}.lock"


def _holder(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _busy(out_dir: Path, pid: int | None) -> InputError:
    return InputError(out_dir, "output folder", f"another run is writing to this folder (pid {pid if pid is not None else 'unknown'}).",
                      f"wait for it to end, or choose another --out; if no run is going, delete {lock_path(out_dir)}.")


def _open_lock_file(path: Path, flags: int) -> int:
    """Open the lock file without following a symlink; a lock path that is not a regular file,
    or a regular file that does not hold a pid, is not the tool's and is never written to."""
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and (not stat.S_ISREG(info.st_mode) or (info.st_size and _holder(path) is None)):
        raise InputError(path, "output folder", "a file of this name stands where the run keeps its lock, and the tool did not write it.",
                         f"move or rename {path.name}, or choose another --out.")
    return os.open(path, flags | nofollow, 0o666)


def _lock(out_dir: Path) -> int:
    """Hold the lock of ``out_dir`` (non-blocking: a second run is refused, not queued, as it
    would only replace the first one's results); return the open lock file."""
    path = lock_path(out_dir)
    if fcntl is not None:
        for _ in range(20):
            fd = _open_lock_file(path, os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise _busy(out_dir, _holder(path)) from None
                # a file system without flock: the lock file alone; remove the empty file this
                # open created, or the O_EXCL scheme below would find it and refuse every run
                if os.fstat(fd).st_size == 0:
                    path.unlink(missing_ok=True)
                os.close(fd)
                break
            try:
                ours = os.fstat(fd).st_ino == os.lstat(path).st_ino
            except FileNotFoundError:
                ours = False
            if ours:  # not a file the previous holder removed as we opened it
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return fd
            os.close(fd)
        else:
            raise _busy(out_dir, _holder(path))
    for _ in range(3):  # no flock (Windows): the lock file exists while a run holds it
        try:
            fd = _open_lock_file(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            pid = _holder(path)
            if pid is None or _pid_alive(pid):
                raise _busy(out_dir, pid) from None
            path.unlink(missing_ok=True)  # left by a run that died
            continue
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd
    raise _busy(out_dir, _holder(path))


def _unlock(out_dir: Path, fd: int) -> None:
    """Release the lock: close first (Windows cannot delete an open file), then remove the lock
    file if it is still the one this run held."""
    path = lock_path(out_dir)
    try:
        ours = os.fstat(fd).st_ino == os.lstat(path).st_ino
    except OSError:
        ours = False
    os.close(fd)
    if ours:
        try:
            path.unlink()
        except OSError:
            pass


class OutputFolder:
    """One run's hold on its output folder, taken before the run so that a bad ``--out``
    costs nothing: the folder is checked (:func:`check_replaceable`), locked against a
    concurrent run (:func:`lock_path`), dead runs' staging folders are removed, and the
    staging folder is made (which shows the place is writable). :meth:`commit` fills it and
    swaps it into place; leaving the ``with`` block without it removes every trace.

    >>> with OutputFolder("out", inputs) as target:   # doctest: +SKIP
    ...     result = run(scenario)
    ...     target.commit(lambda folder: write_result(result, folder))
    """

    def __init__(self, out_dir: str | Path, inputs: Iterable[str | Path] = ()):
        self.path = Path(out_dir).resolve()
        self.inputs = [Path(p) for p in inputs]
        self._fd: int | None = None
        self._staging: Path | None = None
        self._created: list[Path] = []
        self._committed = False
        self._verified: dict[str, tuple[tuple[int, ...], str]] = {}  # earlier results found unchanged (foreign_entries)

    def __enter__(self) -> "OutputFolder":
        check_replaceable(self.path, self.inputs, self._verified)
        try:
            missing = [p for p in (self.path.parent, *self.path.parent.parents) if not p.exists()]
            for folder in reversed(missing):
                folder.mkdir()
                self._created.append(folder)
            self._fd = _lock(self.path)
            remove_stale_staging(self.path)
            self._staging = _make_sibling(self.path, "partial")
            _WRITTEN_DIGESTS[self._staging.resolve()] = {}
        except OSError as exc:
            self._release()
            where = f" ({exc.filename})" if exc.filename is not None else ""
            raise InputError(self.path, "output folder", f"cannot write here: {exc.strerror or exc}{where}.",
                             "choose a folder you can write to for --out (or output.dir).") from None
        except BaseException:
            self._release()
            raise
        return self

    def commit(self, fill: Callable[[Path], Any]) -> Path:
        """Call ``fill(staging)``, list the files in the manifest and move the staging folder
        to the output folder, replacing earlier results whole (checked again: files may have
        been added during the run). Returns the output folder."""
        assert self._staging is not None, "commit once, inside the with block"
        fill(self._staging)
        (self._staging / SIBLING_MARKER).unlink(missing_ok=True)  # from here on it is the results folder
        write_manifest(self._staging)
        _WRITTEN_DIGESTS.pop(self._staging.resolve(), None)
        check_replaceable(self.path, self.inputs, self._verified)
        try:
            if self.path.exists():
                retired = _make_sibling(self.path, "old")
                try:
                    os.replace(self.path, retired / self.path.name)
                except BaseException:
                    shutil.rmtree(retired, ignore_errors=True)
                    raise
                try:
                    os.replace(self._staging, self.path)
                except BaseException:
                    os.replace(retired / self.path.name, self.path)  # the earlier results back
                    shutil.rmtree(retired, ignore_errors=True)
                    raise
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.replace(self._staging, self.path)
        except OSError as exc:  # a folder in use (Windows, a mount point): say so, keep what was there
            raise InputError(self.path, "output folder", f"the results could not be moved into place ({exc.strerror or exc}); "
                             "the folder is left as it was.", "close programs using the folder (a terminal or file window in it), "
                             "or choose another --out, and run again.") from None
        self._staging = None
        self._committed = True
        return self.path

    def __exit__(self, *exc: Any) -> None:
        self._release()

    def _release(self) -> None:
        if self._staging is not None:
            _WRITTEN_DIGESTS.pop(self._staging.resolve(), None)
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        if self._fd is not None:
            _unlock(self.path, self._fd)
            self._fd = None
        if not self._committed:  # folders made for a run that wrote nothing
            for folder in reversed(self._created):
                try:
                    folder.rmdir()
                except OSError:
                    break
        self._created = []


def write_atomically(out_dir: str | Path, fill: Callable[[Path], Any], inputs: Iterable[str | Path] = ()) -> Path:
    """Call ``fill(staging)`` on a temporary sibling folder and move it to ``out_dir`` only
    when it finished; an existing ``out_dir`` is replaced whole or left untouched. See
    :class:`OutputFolder` (which a run holds from its start) and :func:`check_replaceable`."""
    with OutputFolder(out_dir, inputs) as target:
        return target.commit(fill)


def write_outputs(result: Result, out_dir: str | Path, *, report: bool = False, lang: str = "en", table_format: str = "csv") -> Path:
    """Write every output file of ``result`` to ``out_dir`` atomically; return the directory.
    A folder holding an input of the run, or anything the tool did not write, is refused."""
    return write_atomically(out_dir, lambda folder: write_result(result, folder, report=report, lang=lang, table_format=table_format),
                            scenario_inputs(result.scenario))
