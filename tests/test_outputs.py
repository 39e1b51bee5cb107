"""Outputs: written atomically (an interrupted write changes nothing), never over a folder that
is not earlier results, and byte-identical for the same scenario and seed."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import stat
import subprocess
import sys

import pytest

import sim.outputs
from sim import InputError, load_scenario, run
from sim.outputs import MANIFEST, OutputFolder, lock_path, write_atomically, write_csv, write_outputs, write_result, write_tables
from sim.config.scenario import EnsembleConfig

from conftest import FIXTURES, ROOT, TINY_POLICY


@pytest.fixture(scope="module")
def tiny_result():
    from sim.config.scenario import Scenario

    return run(Scenario.model_validate({
        "name": "tiny", "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": str(FIXTURES / "tiny_list.csv"), "emission_factors": str(FIXTURES / "factors")},
        "policy": TINY_POLICY, "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]},
        "output": {"dir": "unused"},
    }))


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("exception", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_leaves_earlier_results_untouched(tiny_result, tmp_path, monkeypatch, exception):
    out = tmp_path / "out"
    write_outputs(tiny_result, out)
    before = _snapshot(out)
    calls = []
    real = sim.outputs.write_csv

    def failing(frame, path, **order):
        calls.append(path.name)
        if len(calls) == 3:  # two files written into the staging folder, then the failure
            raise exception
        real(frame, path, **order)

    monkeypatch.setattr(sim.outputs, "write_csv", failing)
    with pytest.raises(type(exception)):
        write_outputs(tiny_result, out)
    assert len(calls) == 3
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging or retired folder left behind"


def test_interrupted_first_write_leaves_nothing(tiny_result, tmp_path, monkeypatch):
    monkeypatch.setattr(sim.outputs, "write_csv", lambda frame, path, **order: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_outputs(tiny_result, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_earlier_results(tiny_result, tmp_path):
    """Results the tool wrote (all listed in .manifest.json) are replaced whole, files of an
    earlier run that this run does not write included."""
    out = tmp_path / "out"

    def earlier(folder):
        write_result(tiny_result, folder, report=False)
        (folder / "pm25_by_city.csv").write_text("old\n")

    write_atomically(out, earlier)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["written_by"] == "run_scenario.py" and "pm25_by_city.csv" in manifest["files"] and "measures.csv" in manifest["files"]
    assert manifest["files"]["measures.csv"]["bytes"] == (out / "measures.csv").stat().st_size
    write_outputs(tiny_result, out)
    assert not (out / "pm25_by_city.csv").exists() and (out / "measures.csv").is_file()
    assert sorted(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]) == sorted(p for p in _snapshot(out) if p != MANIFEST)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging, retired folder or lock file left behind"


def test_empty_folder_may_be_used(tiny_result, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".DS_Store").write_bytes(b"\0")  # a folder the user looked into
    write_outputs(tiny_result, tmp_path / "out")
    assert (tmp_path / "out" / "measures.csv").is_file()


@pytest.mark.parametrize("change", ["added file", "added empty folder", "changed file", "legacy results", "broken manifest"])
def test_results_with_files_the_tool_did_not_write_are_kept(tiny_result, tmp_path, change):
    out = tmp_path / "out"
    write_outputs(tiny_result, out)
    if change == "added file":
        (out / "my notes.txt").write_text("to the mayor\n")
    elif change == "added empty folder":
        (out / "drafts").mkdir()
    elif change == "changed file":
        (out / "measures.csv").write_text("edited by hand\n")
    elif change == "legacy results":  # written before manifests existed
        (out / MANIFEST).unlink()
    else:
        (out / MANIFEST).write_text("{not json")
    before = _snapshot(tmp_path)
    with pytest.raises(InputError) as err:
        write_outputs(tiny_result, out)
    message = err.value.message
    assert str(out) in message and "Fix:" in message
    expected = {"added file": "my notes.txt", "added empty folder": "drafts/", "changed file": "measures.csv (changed)",
                "legacy results": "earlier version without a .manifest.json", "broken manifest": ".manifest.json: output folder: the manifest of these results cannot be read"}[change]
    assert expected in message, message
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_os_clutter_does_not_block_a_rerun(tiny_result, tmp_path):
    out = tmp_path / "out"
    write_outputs(tiny_result, out)
    (out / ".DS_Store").write_bytes(b"\0")
    write_outputs(tiny_result, out)
    assert not (out / ".DS_Store").exists()


@pytest.mark.parametrize("kind", ["file", "foreign folder", "working folder"])
def test_output_never_replaces_what_is_not_results(tiny_result, tmp_path, monkeypatch, kind):
    target = tmp_path / "target"
    if kind == "file":
        target.write_text("notes\n")
    else:
        target.mkdir()
        (target / "thesis.docx").write_text("years of work\n")
        if kind == "working folder":  # even earlier results are kept when the command runs inside them
            (target / "metrics.json").write_text("{}\n")
            (target / "sub").mkdir()
            monkeypatch.chdir(target / "sub")
    before = _snapshot(tmp_path)
    with pytest.raises(InputError) as err:
        write_outputs(tiny_result, target)
    assert "Fix:" in err.value.message and "target" in err.value.message
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]


# --------------------------------------------------------------------------- concurrent and killed runs

HOLDER = """
import sys, time
from sim.outputs import OutputFolder
with OutputFolder(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(120)
"""


def _hold(out):
    """Another process holding ``out`` as a run does (lock, staging folder), until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "lock file only"])
def test_second_run_into_the_same_folder_is_refused(tiny_result, tmp_path, monkeypatch, flock):
    if not flock:
        monkeypatch.setattr(sim.outputs, "fcntl", None)
    out = tmp_path / "out"
    with OutputFolder(out):
        with pytest.raises(InputError) as err:
            write_outputs(tiny_result, out)
        assert f"another run is writing to this folder (pid {os.getpid()})" in err.value.message and "Fix:" in err.value.message
        assert lock_path(out).is_file()
    assert list(tmp_path.iterdir()) == [], "the lock file goes with the run"
    write_outputs(tiny_result, out)  # free again


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("signum", [getattr(signal, "SIGKILL", None), signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_run_blocks_while_alive_and_its_leftovers_go_with_the_next_run(tiny_result, tmp_path, signum):
    out = tmp_path / "out"
    holder = _hold(out)
    try:
        with pytest.raises(InputError, match=f"another run is writing to this folder \\(pid {holder.pid}\\)"):
            write_outputs(tiny_result, out)
    finally:
        holder.send_signal(signum)
        holder.wait(timeout=30)
        holder.stdout.close()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.startswith(f".out.partial-{holder.pid}-") for n in left) and ".out.lock" in left, left
    mine = tmp_path / f".out.partial-{os.getpid()}-0123abcd"  # a live run's staging folder stays
    foreign = tmp_path / ".out.partial-notes"  # not the tool's pattern: not touched
    for folder in (mine, foreign):
        folder.mkdir()
        (folder / "x").write_text("x")
    write_outputs(tiny_result, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".out.partial-notes", mine.name, "out"])


def test_lock_file_of_a_dead_run_is_taken_over_without_flock(tiny_result, tmp_path, monkeypatch):
    monkeypatch.setattr(sim.outputs, "fcntl", None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=60)
    out = tmp_path / "out"
    lock_path(out).write_text(f"{dead.pid}\n")
    write_outputs(tiny_result, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --------------------------------------------------------------------------- where results may go


def test_file_system_without_flock_falls_back_to_the_lock_file(tiny_result, tmp_path, monkeypatch):
    """flock failing with ENOLCK (some network file systems): the lock file alone, run after run."""
    import errno

    real = sim.outputs.fcntl.flock

    def no_flock(fd, op):
        if op & sim.outputs.fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")
        return real(fd, op)

    monkeypatch.setattr(sim.outputs.fcntl, "flock", no_flock)
    out = tmp_path / "out"
    write_outputs(tiny_result, out)
    write_outputs(tiny_result, out)  # the second run is not refused by the first's leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_what_stands_at_the_lock_path_is_never_written_or_deleted(tiny_result, tmp_path, kind):
    victim = tmp_path / "victim.txt"
    victim.write_text("a user's notes\n")
    lock = lock_path(tmp_path / "out")
    if kind == "symlink":
        lock.symlink_to(victim)
    else:
        lock.write_text("my notes, not a pid\n")
    with pytest.raises(InputError, match="stands where the run keeps its lock"):
        write_outputs(tiny_result, tmp_path / "out")
    assert victim.read_text() == "a user's notes\n"
    assert lock.is_symlink() if kind == "symlink" else lock.read_text() == "my notes, not a pid\n"
    assert not (tmp_path / "out").exists()


def test_a_folder_named_like_os_clutter_is_not_clutter(tiny_result, tmp_path):
    out = tmp_path / "out"
    (out / "Thumbs.db").mkdir(parents=True)
    (out / "Thumbs.db" / "thesis.docx").write_text("a user's work")
    with pytest.raises(InputError, match=r"holds other files \(Thumbs.db\)"):
        write_outputs(tiny_result, out)
    assert (out / "Thumbs.db" / "thesis.docx").read_text() == "a user's work"


def test_a_backup_named_like_a_staging_folder_is_kept(tiny_result, tmp_path):
    """Only folders the tool made (they hold its marker file) are removed as a dead run's leftovers."""
    backup = tmp_path / ".out.old-2023-20231201"  # digits are hex: the tool's name pattern, a user's folder
    backup.mkdir()
    (backup / "results.csv").write_text("kept")
    write_outputs(tiny_result, tmp_path / "out")
    assert (backup / "results.csv").read_text() == "kept"
    assert not (tmp_path / "out" / sim.outputs.SIBLING_MARKER).exists()


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_output_folder_permissions_follow_the_umask(tiny_result, tmp_path, umask):
    old = os.umask(umask)
    try:
        write_outputs(tiny_result, tmp_path / "out")
        write_outputs(tiny_result, tmp_path / "out")  # replaced: the same
    finally:
        os.umask(old)
    if os.name != "nt":
        assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask
        assert stat.S_IMODE((tmp_path / "out" / "measures.csv").stat().st_mode) == 0o666 & ~umask


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_folder_is_an_input_error_before_writing(tiny_result, tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write here") as err:
            write_outputs(tiny_result, locked / "out")
        assert "Fix:" in err.value.message
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_unwritable_place_is_an_input_error_before_writing(tiny_result, tmp_path, monkeypatch):
    """As /proc/x or a read-only disk: the staging folder cannot be made."""
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(sim.outputs.os, "mkdir", refuse)
    with pytest.raises(InputError, match="cannot write here: Permission denied") as err:
        write_outputs(tiny_result, tmp_path / "out")
    assert "Fix:" in err.value.message
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- text that looks like a formula


def test_csv_text_that_looks_like_a_formula_is_quoted_numbers_are_not(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-5", "@SUM(A1)", "\tcmd", "\rcmd", "a-b", "ok", None],
        "rate": [-1.5, 1.0, -2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        "count": [-3, 1, 2, 3, 4, 5, 6, 7, 8],
    })
    write_csv(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-5", "'@SUM(A1)", "'\tcmd", "'\rcmd", "a-b", "ok", ""]
    assert rows[1][1:] == ["-1.5", "-3"] and rows[3][1:] == ["-2", "2"]


def test_list_text_is_never_a_formula_in_the_workbook_or_the_csv(tmp_path):
    from openpyxl import load_workbook

    from sim.config.scenario import Scenario

    lines = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
    evil = '=HYPERLINK("http://x","y")'
    lines[1] = lines[1].replace("甲水泥", '"=HYPERLINK(""http://x"",""y"")"').replace(",d1,", ",-5,")
    (tmp_path / "list.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(Scenario.model_validate({
        "name": "=1+1", "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": str(tmp_path / "list.csv"), "emission_factors": str(FIXTURES / "factors")},
        "policy": TINY_POLICY, "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]},
        "output": {"dir": "unused"},
    }))
    assert evil in set(result.measures.enterprise_name)
    out = write_outputs(result, tmp_path / "out", report=True)
    cells = [c for ws in load_workbook(out / "measures.xlsx").worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert [c.data_type for c in cells if c.value == evil] == ["s"]
    assert [c.data_type for c in cells if c.value == "-5"] == ["s"]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "no formula anywhere in the workbook"
    assert any(str(c.value).startswith("=1+1 · ") for c in cells), "the scenario name in the title, as text"
    with open(out / "measures.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first = next(r for r in rows if r["enterprise_id"] == "E1")
    assert first["enterprise_name"] == "'" + evil and first["district"] == "'-5"
    assert float(first["baseline_nox_kg_d"]) == 240.0, "numbers stay numbers"


def test_forecast_ensemble_is_byte_identical(tmp_path):
    """The forecast-driven scenario with a small ensemble: the same seed gives the same bytes,
    and metrics.json holds no wall-clock time."""
    base = load_scenario(ROOT / "scenarios" / "demo_city_forecast.yaml")
    scenario = base.replace(ensemble=EnsembleConfig(members=3, seed=base.ensemble.seed))
    folders = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        write_tables(run(scenario), folder)
        folders.append(folder)
    a, b = (_snapshot(f) for f in folders)
    assert sorted(a) == sorted(b) and "pm25.csv" in a and "warnings.csv" in a
    for name in a:
        assert a[name] == b[name], name
    metrics = json.loads(a["metrics.json"])
    assert metrics["seed"] == base.ensemble.seed and metrics["warning_statistics"]["members"] == 3
    text = a["metrics.json"].decode()
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d", text), "no wall-clock timestamps"
    assert not any(k in text for k in ('"created', '"elapsed', '"runtime', '"duration', '"timestamp', '"wall'))
    other_seed = tmp_path / "c"
    other_seed.mkdir()
    write_tables(run(scenario.replace(ensemble=EnsembleConfig(members=3, seed=base.ensemble.seed + 1))), other_seed)
    assert _snapshot(other_seed)["pm25.csv"] != a["pm25.csv"], "the seed matters"


def test_a_folder_in_use_is_an_input_error_and_earlier_results_stay(tiny_result, tmp_path, monkeypatch):
    """Windows refuses to rename a folder a program has open: a clear answer, nothing lost."""
    out = tmp_path / "out"
    write_outputs(tiny_result, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real = os.replace

    def busy(src, dst):
        if os.fspath(src) == os.fspath(out):
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        return real(src, dst)

    monkeypatch.setattr(sim.outputs.os, "replace", busy)
    with pytest.raises(InputError, match="could not be moved into place"):
        write_outputs(tiny_result, out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_control_characters_in_list_text_do_not_break_the_workbook(tmp_path):
    """A name pasted from Word can hold a vertical tab: xlsx forbids it, the run must not."""
    import openpyxl

    text = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("enterprise_name")] = "甲\x0b水泥\x1a"
    (tmp_path / "list.csv").write_text("\n".join([text[0], ",".join(row), *text[2:]]) + "\n", encoding="utf-8")
    from sim.config.scenario import Scenario

    result = run(Scenario.model_validate({
        "name": "tiny", "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": str(tmp_path / "list.csv"), "emission_factors": str(FIXTURES / "factors")},
        "policy": TINY_POLICY, "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]},
        "output": {"dir": "unused"},
    }))
    out = tmp_path / "out"
    write_outputs(result, out, report=True)
    names = [c.value for r in openpyxl.load_workbook(out / "measures.xlsx").worksheets[0].iter_rows() for c in r if isinstance(c.value, str)]
    assert "甲水泥" in names


# --------------------------------------------------------------------------- CSV at scale, Parquet


def _mixed_frame(rows: int):
    """Every kind of column the tables hold: Arrow-backed and object text (formula-like cells
    among them, missing cells), floats needing rounding, zeros and NaN, whole numbers, booleans,
    times with NaT."""
    import numpy as np
    import pandas as pd

    k = np.arange(rows)
    risky = np.where(k % 97 == 5, "=SUM(A1)", np.where(k % 89 == 3, "-5", "Cement line " + (k % 7).astype(str)))
    return pd.DataFrame({
        "name": pd.array(np.where(k % 50 == 1, None, risky), dtype="str"),
        "plain": pd.array(["甲水泥 " + str(i % 13) for i in k], dtype="str"),
        "objects": pd.Series(["@x" if i % 31 == 0 else ("" if i % 5 == 0 else f"o{i % 4}") for i in k], dtype=object),
        "rate_kg_h": np.where(k % 11 == 0, 0.0, (k + 0.1) / 3.0),
        "gaps": np.where(k % 13 == 0, np.nan, k * 1e9 + 0.123456789),
        "count": k - rows // 2,
        "flag": k % 3 == 0,
        "time": pd.Series(pd.date_range("2023-12-01", periods=rows, freq="h")).where(k % 17 != 2),
    })


def test_csv_written_in_blocks_on_threads_is_the_csv_written_at_once(tmp_path, monkeypatch):
    """Blocks formatted side by side (and reordered per block) give the bytes of one writer."""
    import numpy as np

    frame = _mixed_frame(1000)
    order = np.random.default_rng(0).permutation(len(frame))
    write_csv(frame, tmp_path / "once.csv")
    write_csv(frame.iloc[order].reset_index(drop=True), tmp_path / "once_reordered.csv")
    monkeypatch.setattr(sim.outputs, "CSV_BLOCK_ROWS", 64)
    monkeypatch.setattr(sim.outputs.os, "cpu_count", lambda: 2)
    write_csv(frame, tmp_path / "blocks.csv")
    write_csv(frame, tmp_path / "blocks_reordered.csv", rows=order)
    assert (tmp_path / "blocks.csv").read_bytes() == (tmp_path / "once.csv").read_bytes()
    assert (tmp_path / "blocks_reordered.csv").read_bytes() == (tmp_path / "once_reordered.csv").read_bytes()


def test_formula_check_reads_every_cell_of_sliced_and_chunked_arrow_text():
    """The first-byte check looks at the cells of a slice (not those before it) and at every chunk."""
    import pyarrow as pa

    from sim.outputs import _escape_formulas, _may_hold_formula

    text = pa.array(["=a", "ok", "", None, "b", "-1"], type=pa.large_string())
    assert _may_hold_formula(text)
    assert not _may_hold_formula(text.slice(1, 4))
    assert _may_hold_formula(text.slice(4, 2))
    assert not _may_hold_formula(pa.array(["", None], type=pa.string()))
    chunked = pa.chunked_array([pa.array(["ok", "fine"]), pa.array(["still", "+1"])])
    assert _may_hold_formula(chunked)
    assert _escape_formulas(chunked).to_pylist() == ["ok", "fine", "still", "'+1"]
    assert _escape_formulas(text).to_pylist() == ["'=a", "ok", "", None, "b", "'-1"]


def test_parquet_holds_the_values_of_the_csv(tiny_result, tmp_path):
    """Each table read back from Parquet equals the CSV: the same columns and rows, numbers to
    the CSV's 9 significant digits (Parquet keeps every digit), text without the CSV's formula
    quote, times as times; repeated text is dictionary-coded (read back as categories)."""
    import numpy as np
    import pandas as pd

    written = write_tables(tiny_result, tmp_path, table_format="both")
    stems = [name[:-4] for name in written if name.endswith(".csv")]
    assert sorted(stems) == ["emissions", "emissions_by_group", "measures", "warnings"]
    assert sorted(name[:-8] for name in written if name.endswith(".parquet")) == sorted(stems)
    for stem in stems:
        from_csv = pd.read_csv(tmp_path / f"{stem}.csv", keep_default_na=False, na_values=[""])
        from_parquet = pd.read_parquet(tmp_path / f"{stem}.parquet")
        assert list(from_parquet.columns) == list(from_csv.columns), stem
        assert len(from_parquet) == len(from_csv), stem
        for name in from_csv.columns:
            parquet, csv_values = from_parquet[name], from_csv[name]
            where = f"{stem}.{name}"
            if pd.api.types.is_datetime64_any_dtype(parquet.dtype):
                assert [None if pd.isna(v) else v.strftime("%Y-%m-%dT%H:%M") for v in parquet] == [None if pd.isna(v) else v for v in csv_values], where
            elif pd.api.types.is_float_dtype(parquet.dtype):
                # 9 significant digits: off by at most half a unit of the 9th digit
                np.testing.assert_allclose(parquet.to_numpy(float), csv_values.to_numpy(float), rtol=5.000001e-9, atol=0, err_msg=where)
            elif pd.api.types.is_integer_dtype(parquet.dtype) or pd.api.types.is_bool_dtype(parquet.dtype):
                assert parquet.astype(np.int64).tolist() == csv_values.astype(np.int64).tolist(), where
            else:
                # a CSV cannot tell empty text from missing text: both read back as empty here
                expected = ["" if pd.isna(v) else (str(v)[1:] if str(v).startswith("'") else str(v)) for v in csv_values]
                assert ["" if pd.isna(v) else v for v in parquet.astype(object)] == expected, where
    assert isinstance(pd.read_parquet(tmp_path / "emissions.parquet")["variant"].dtype, pd.CategoricalDtype), "repeated text is dictionary-coded"
    measures = pd.read_parquet(tmp_path / "measures.parquet")
    assert measures["baseline_so2_kg_d"].dtype == np.float64 and measures["source_row"].dtype == np.int64
    assert measures["source_row"].tolist() == tiny_result.reduction_list["source_row"].tolist(), "the published order, as measures.csv"


def test_parquet_keeps_types_and_text_unescaped(tmp_path):
    import pandas as pd

    frame = _mixed_frame(300)
    sim.outputs.write_parquet(frame, tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert back["count"].dtype == "int64" and back["flag"].dtype == bool and back["rate_kg_h"].dtype == "float64"
    assert back["rate_kg_h"].tolist() == frame["rate_kg_h"].tolist(), "every digit kept"
    assert pd.api.types.is_datetime64_any_dtype(back["time"]) and back["time"].isna().tolist() == frame["time"].isna().tolist()
    assert "=SUM(A1)" in set(back["name"].dropna()), "no formula quote in Parquet"
    assert back["name"].isna().tolist() == frame["name"].isna().tolist()


@pytest.mark.parametrize("table_format, suffixes", [("csv", {".csv"}), ("parquet", {".parquet"}), ("both", {".csv", ".parquet"})])
def test_table_format_decides_the_files_and_the_manifest_lists_them(tiny_result, tmp_path, table_format, suffixes):
    out = write_outputs(tiny_result, tmp_path / "out", table_format=table_format)
    tables = {p.name for p in out.iterdir() if p.suffix in (".csv", ".parquet")}
    assert {p[p.rindex("."):] for p in tables} == suffixes
    assert {p[:p.rindex(".")] for p in tables} == {"emissions", "emissions_by_group", "measures", "warnings"}
    listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert set(listed) == tables | {"metrics.json"}
    write_outputs(tiny_result, out, table_format="csv")  # a rerun in another format replaces them
    assert {p.suffix for p in out.iterdir() if p.name != MANIFEST} == {".csv", ".json"}


# --------------------------------------------------------------------------- digests and the manifest


def test_hashing_file_gives_the_digest_of_the_file_it_wrote(tmp_path):
    import hashlib

    import pyarrow as pa

    from sim.outputs import HashingFile

    with HashingFile(tmp_path / "f.bin") as fh:
        fh.write(b"a,b\n")
        fh.write(pa.py_buffer("限产20%,\"x\"\n".encode()))  # Arrow's CSV blocks are Arrow buffers
        fh.write(memoryview(b"\x00" * 70000))
        assert fh.tell() == 4 + len("限产20%,\"x\"\n".encode()) + 70000
    assert fh.hexdigest() == hashlib.sha256((tmp_path / "f.bin").read_bytes()).hexdigest()


@pytest.mark.parametrize("table_format", ["csv", "parquet"])
def test_manifest_digests_taken_while_writing_are_those_of_the_files(tiny_result, tmp_path, monkeypatch, table_format):
    """The tables and metrics.json are hashed as they are written, not read back; the manifest
    lists the digest of every file as it stands."""
    import hashlib

    read_back = []
    real = sim.outputs._sha256
    monkeypatch.setattr(sim.outputs, "_sha256", lambda path: read_back.append(path.name) or real(path))
    out = write_outputs(tiny_result, tmp_path / "out", table_format=table_format)
    listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert sorted(listed) == sorted(p for p in _snapshot(out) if p != MANIFEST)
    for name, entry in listed.items():
        data = (out / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}, name
    assert read_back == [], "no file the writers hashed is read back"
    assert sim.outputs._WRITTEN_DIGESTS == {}, "nothing kept once the folder is in place"


def test_manifest_reads_a_file_changed_after_it_was_written(tiny_result, tmp_path):
    """A digest taken while writing stands only for the file as written: a file rewritten (or
    edited) before the manifest is hashed from its bytes."""
    import hashlib

    def fill(folder):
        write_tables(tiny_result, folder)
        (folder / "warnings.csv").write_bytes(b"rewritten\n")
        (folder / "notes.txt").write_text("written by another writer\n")

    out = write_atomically(tmp_path / "out", fill)
    listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    for name in ("warnings.csv", "notes.txt", "measures.csv"):
        assert listed[name]["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("during_the_run", ["nothing", "same-size edit", "added file"])
def test_second_check_of_earlier_results_reads_only_what_moved(tiny_result, tmp_path, monkeypatch, during_the_run):
    """The folder is checked when the run starts and again before it is replaced: the second
    check hashes only files whose stat signature moved, and still sees an edit that keeps the
    size, so a user's change made during the run is never deleted."""
    out = tmp_path / "out"
    write_outputs(tiny_result, out)
    monkeypatch.setattr(sim.outputs, "_SETTLED_NS", 0)  # the files were written just now: let them count as settled
    hashed = []
    real = sim.outputs._sha256
    monkeypatch.setattr(sim.outputs, "_sha256", lambda path: hashed.append(path.name) or real(path))
    with OutputFolder(out) as target:
        first = sorted(hashed)
        hashed.clear()
        assert "measures.csv" in first and MANIFEST not in first

        def fill(folder):
            write_tables(tiny_result, folder)
            if during_the_run == "same-size edit":
                data = (out / "measures.csv").read_bytes()
                (out / "measures.csv").write_bytes(data[:-2] + (b"X\n" if data[-2:] != b"X\n" else b"Y\n"))
            elif during_the_run == "added file":
                (out / "notes.txt").write_text("mine\n")

        if during_the_run == "nothing":
            target.commit(fill)
            assert [h for h in hashed if (out / h).exists() and h in first] == [], "nothing unchanged hashed twice"
        else:
            with pytest.raises(InputError) as err:
                target.commit(fill)
            assert ("measures.csv (changed)" if during_the_run == "same-size edit" else "notes.txt") in err.value.message
            assert hashed == (["measures.csv"] if during_the_run == "same-size edit" else []), "only the moved file is read again"


def test_rule_words_write_the_csv_bytes_of_plain_text(tmp_path):
    """The rules' words made by Arrow (sim.results.rule_words) are categorical, with the values
    of the plain text column, missing values NaN, and the same CSV bytes, formula escapes
    included; as text again (Result.measures) they are the plain column, dtype included."""
    import numpy as np
    import pandas as pd

    from sim.results import _text_column, rule_words

    shared = "限产30% (production -30%)"
    words = np.array([shared, "", None, "=HYPERLINK(\"x\")", "-5%", shared + "；错峰", "a \"q\", b\nc", shared], dtype=object)
    made = rule_words(words)
    plain = pd.Series(words)  # what assigning the array to a frame gave
    assert isinstance(made.dtype, pd.CategoricalDtype) and made.isna().tolist() == plain.isna().tolist()
    assert list(made[~made.isna()]) == [w for w in words if w is not None]
    assert list(made.categories) == [shared, "", "=HYPERLINK(\"x\")", "-5%", shared + "；错峰", "a \"q\", b\nc"]  # each text once
    pd.testing.assert_series_equal(pd.Series(_text_column(pd.Series(made))), plain.astype("str"))
    assert pd.Series(_text_column(pd.Series(made))).dtype == pd.Series(["x"]).dtype
    write_csv(pd.DataFrame({"measure": made, "n": np.arange(len(words))}), tmp_path / "made.csv")
    write_csv(pd.DataFrame({"measure": plain, "n": np.arange(len(words))}), tmp_path / "plain.csv")
    assert (tmp_path / "made.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert b"'=HYPERLINK" in (tmp_path / "made.csv").read_bytes() and b"'-5%" in (tmp_path / "made.csv").read_bytes()


def test_coded_words_write_the_parquet_bytes_of_plain_text(tmp_path):
    """A categorical column writes the Parquet file its text writes: kept as the dictionary
    when it is Arrow's own coding of the text (rule_words), coded afresh otherwise (unused or
    reordered categories), also when the rows are taken in another order."""
    import numpy as np
    import pandas as pd

    from sim.results import rule_words

    words = np.array(["停产 (stop)", None, "限产 (limit)", "", "停产 (stop)", "=x", "限产 (limit)"] * 5, dtype=object)
    plain = pd.Series(words, dtype="str")
    reordered = pd.Series(pd.Categorical(words, categories=["unused", "限产 (limit)", "=x", "", "停产 (stop)"]))
    order = np.arange(len(words))[::-1].copy()
    for rows in (None, order):
        sim.outputs.write_parquet(pd.DataFrame({"m": plain}), tmp_path / "plain.parquet", rows=rows)
        expected = (tmp_path / "plain.parquet").read_bytes()
        for name, column in (("rule_words", pd.Series(rule_words(words))), ("reordered", reordered)):
            sim.outputs.write_parquet(pd.DataFrame({"m": column}), tmp_path / f"{name}.parquet", rows=rows)
            assert (tmp_path / f"{name}.parquet").read_bytes() == expected, name


def test_public_measures_are_the_coded_ones_as_text(tiny_result):
    """Result.measures is Result.measures_coded with the words as text and the flags int64:
    the same values, the dtypes a modeller had; the coded frame is what the files come from."""
    import numpy as np
    import pandas as pd

    public, coded = tiny_result.measures, tiny_result.measures_coded
    assert list(public.columns) == list(coded.columns) and len(public) == len(coded)
    words = [c for c in coded.columns if isinstance(coded[c].dtype, pd.CategoricalDtype)]
    assert {"rule", "reason", "exempt_reason", "yellow_measure", "red_measure", "calendar_text"} <= set(words)
    for c in words:
        assert public[c].dtype == pd.Series(["x"]).dtype
        assert public[c].isna().tolist() == coded[c].isna().tolist() and public[c].dropna().tolist() == coded[c].dropna().astype(str).tolist()
    flags = ["livelihood", "ultra_low", "whitelist", "restricted", "bulk_transport", "derived"]
    assert all(coded[f].dtype == np.int8 and public[f].dtype == np.int64 for f in flags)
    assert (public[flags].to_numpy() == coded[flags].to_numpy()).all()
    rest = [c for c in coded.columns if c not in words and c not in flags]
    pd.testing.assert_frame_equal(public[rest], coded[rest])


def test_groups_by_integer_codes_are_pandas_groups_of_the_text():
    """emissions_by_group numbers the (city, industry, grade) groups itself: the same groups in
    the same order, and the same sums, as grouping by the text columns, missing keys dropped."""
    import numpy as np
    import pandas as pd

    from sim.results import _group_codes

    rng = np.random.default_rng(1)
    n = 5000
    lines = pd.DataFrame({"city": pd.Series(rng.choice(["b", "a", "Z", "城", None], n), dtype="str"),
                          "industry": pd.Series(rng.choice(["x", "y", "", "x y"], n), dtype="str"),
                          "grade": pd.Series(rng.choice(["A", "B", None, "leading"], n), dtype="str")})
    values = pd.DataFrame(rng.random((n, 3)) * 10.0 ** rng.integers(-3, 6, (n, 1)))
    expected = values.groupby([lines[k] for k in lines.columns], sort=True).sum().reset_index()
    codes, keys = _group_codes(lines, list(lines.columns))
    grouped = codes >= 0
    assert (grouped == lines.notna().all(axis=1).to_numpy()).all()
    sums = values[grouped].groupby(codes[grouped], sort=True).sum()
    got = pd.concat([keys.iloc[sums.index.to_numpy()].reset_index(drop=True), sums.reset_index(drop=True)], axis=1)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)



def test_list_order_is_the_three_key_lexsort():
    """The stable sort by (enterprise, derived) gives the order of a lexsort by enterprise,
    derived and input position, ids in any order, derived rows anywhere."""
    import numpy as np
    import pandas as pd

    from sim.results import list_order

    rng = np.random.default_rng(7)
    lines = pd.DataFrame({"enterprise_id": pd.Series(rng.choice([f"E{k}" for k in range(40)], 3000), dtype="str"), "derived": rng.random(3000) < 0.1})
    first_seen = pd.factorize(lines.enterprise_id)[0]
    expected = np.lexsort((np.arange(len(lines)), lines.derived.to_numpy(bool), first_seen))
    assert (list_order(lines) == expected).all() and (list_order(lines, first_seen) == expected).all()
