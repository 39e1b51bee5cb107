"""The command line: exit status 0/2, one clear message for bad input, no half-written output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, ROOT, TINY_POLICY


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_demo_runs_and_writes_contract_files(tmp_path):
    out = tmp_path / "demo"
    proc = cli(str(ROOT / "scenarios" / "demo_city_orange.yaml"), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    for name in ("emissions.csv", "emissions_by_group.csv", "warnings.csv", "measures.csv", "metrics.json", "pm25.csv",
                 "report.html", "measures.xlsx", "charts/pm25.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    for key in ("list_ratio", "society_ratio", "targets_met", "production_loss_wan_yuan", "enterprise_days_limited", "enterprise_days_stopped", "seed", "scenario_sha256"):
        assert key in metrics
    assert metrics["seed"] == 42
    assert not list(tmp_path.glob(".demo.*")), "no staging directory left behind"


def test_rerun_is_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    scenario = str(ROOT / "scenarios" / "demo_city_orange.yaml")
    assert cli(scenario, "--out", str(a), "--quiet", "--no-report").returncode == 0
    assert cli(scenario, "--out", str(b), "--quiet", "--no-report").returncode == 0
    assert not (a / "report.html").exists()
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_schema_is_json_with_the_top_level_keys():
    proc = cli("--schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert {"name", "period", "inventory", "policy", "warnings", "staggered_production", "response", "ensemble", "output"} <= set(schema["properties"])
    assert "source_file" not in schema["properties"]


def _tiny(tmp_path: Path, **changes) -> Path:
    data = {
        "name": "tiny",
        "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": str(FIXTURES / "tiny_list.csv"), "emission_factors": str(FIXTURES / "factors")},
        "policy": str(ROOT / "scenarios" / "policies" / "guideline_default.yaml"),
        "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]},
        "output": {"dir": str(tmp_path / "out")},
    }
    data.update(changes)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _bad_list(tmp_path: Path, edit) -> str:
    lines = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
    lines = edit(lines)
    path = tmp_path / "bad_list.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


BAD_INPUTS = {
    "unknown grade": (lambda t: {"inventory": {"enterprises": _bad_list(t, lambda l: [l[0], l[1].replace(",B,L1", ",Z,L1")] + l[2:]), "emission_factors": str(FIXTURES / "factors")}},
                      ["bad_list.csv", "row 2", "column grade", "'Z'"]),
    "negative rate": (lambda t: {"inventory": {"enterprises": _bad_list(t, lambda l: [l[0], l[1], l[2].replace(",20,0,", ",-20,0,")] + l[3:]), "emission_factors": str(FIXTURES / "factors")}},
                      ["bad_list.csv", "row 3", "so2_kg_h", "negative"]),
    "missing column": (lambda t: {"inventory": {"enterprises": _bad_list(t, lambda l: [",".join(x.split(",")[:7] + x.split(",")[8:]) for x in l]), "emission_factors": str(FIXTURES / "factors")}},
                       ["bad_list.csv", "header", "grade"]),
    "duplicate line": (lambda t: {"inventory": {"enterprises": _bad_list(t, lambda l: l + [l[1]]), "emission_factors": str(FIXTURES / "factors")}},
                       ["bad_list.csv", "rows 2, 6", "appears more than once"]),
    "misspelled key": (lambda t: {"warnigns": {"schedule": []}},
                       ["s.yaml", "key warnigns", "did you mean 'warnings'"]),
    "missing file": (lambda t: {"inventory": {"enterprises": str(t / "nowhere.csv"), "emission_factors": str(FIXTURES / "factors")}},
                     ["nowhere.csv", "does not exist"]),
    "unknown level": (lambda t: {"warnings": {"schedule": [{"level": "purple", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]}},
                      ["s.yaml", "key warnings.schedule[0].level", "'purple' is not a warning level"]),
    "dates out of order": (lambda t: {"period": {"start": "2023-12-06T00:00", "end": "2023-12-04T00:00"}},
                           ["s.yaml", "key period", "must be after start"]),
    "unknown industry": (lambda t: {"inventory": {"enterprises": _bad_list(t, lambda l: [l[0], l[1].replace("cement", "cemnt")] + l[2:]), "emission_factors": str(FIXTURES / "factors")}},
                         ["bad_list.csv", "row 2", "column industry", "'cemnt'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exit_2_one_message_no_output(tmp_path, case):
    make, expected = BAD_INPUTS[case]
    scenario = _tiny(tmp_path, **make(tmp_path))
    proc = cli(str(scenario))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    message = errors[0]
    assert "Fix:" in message
    for part in expected:
        assert part in message, (part, message)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


def test_failed_run_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("{\"previous\": true}\n")
    scenario = _tiny(tmp_path, warnigns={})
    assert cli(str(scenario)).returncode == 2
    assert (out / "metrics.json").read_text() == "{\"previous\": true}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]


def test_published_schema_is_current():
    """docs/scenario.schema.json is what `--schema` prints (regenerate it when the format changes)."""
    from sim.config.scenario import scenario_json_schema

    published = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(scenario_json_schema(), ensure_ascii=False))


def test_compare_writes_one_folder_per_scenario_and_the_comparison(tmp_path):
    out = tmp_path / "cmp"
    a = ROOT / "scenarios" / "demo_city_orange.yaml"
    proc = cli("--compare", str(a), str(a), "--out", str(out), "--quiet", "--no-report")
    assert proc.returncode == 0, proc.stderr
    assert (out / "demo_city_orange" / "metrics.json").is_file() and (out / "demo_city_orange_2" / "metrics.json").is_file()
    import pandas as pd

    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 2 and (out / "comparison.html").is_file()


# --------------------------------------------------------------------------- what the terminal shows


def test_zh_demo_prints_no_warnings_and_one_line_for_rules_that_change_nothing(tmp_path):
    """A fresh user's run: empty matplotlib config and cache, Chinese report."""
    import os

    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mplconfig")}
    env.pop("SIM_CJK_FONT", None)
    out = tmp_path / "zh"
    proc = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), str(ROOT / "scenarios" / "demo_city_orange.yaml"), "--lang", "zh", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    lowered = proc.stderr.lower()
    assert "warning:" not in lowered and "findfont" not in lowered and "glyph" not in lowered, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: 6 policy rules change no line of this list"), notes
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert sum("matches" in n for n in metrics["notes"]) == 6  # the detail stays in metrics.json
    quiet = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), str(ROOT / "scenarios" / "demo_city_orange.yaml"), "--lang", "zh", "--quiet", "--out", str(tmp_path / "q")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""


def test_terminal_notes_sum_up_rules_that_change_no_line():
    from sim.cli import terminal_notes

    notes = ["policy rule 'a' matches no line of the list", "blank rows 3, 4 skipped",
             "policy rule 'b' matches only lines that an earlier rule or exemption already settled", "policy rule 'c' matches no line of the list"]
    assert terminal_notes(notes) == ["blank rows 3, 4 skipped",
                                     "3 policy rules change no line of this list: 2 match no line (a, c); 1 only lines an earlier rule or exemption settled (b) (each in metrics.json notes)"]
    one = ["policy rule 'a' matches no line of the list", "other"]
    assert terminal_notes(one) == one  # a single rule is named as it is


# --------------------------------------------------------------------------- what an output folder may be


def _project(tmp_path: Path) -> Path:
    """A planner's folder: the scenario beside its list (in data/), policy and factors."""
    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    shutil.copy(FIXTURES / "tiny_list.csv", proj / "data" / "list.csv")
    shutil.copytree(FIXTURES / "factors", proj / "factors")
    shutil.copy(ROOT / "tests" / "bad_inputs" / "_shared" / "policy.yaml", proj / "policy.yaml")
    data = {
        "name": "tiny", "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": "data/list.csv", "emission_factors": "factors"}, "policy": "policy.yaml",
        "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]},
        "output": {"dir": "."},
    }
    (proj / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return proj


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


NOT_RESULTS = {  # case: (what to prepare, the command's arguments, its working folder, fragments of the message)
    "scenario folder with a stray metrics.json": (lambda proj: (proj / "metrics.json").write_text("{}\n"), [], ".",
                                                  ["proj: output folder", "holds scenario.yaml, an input of this run"]),
    "results with a user's file": (lambda proj: (proj / "results" / "notes for the mayor.docx").write_text("draft\n"), ["--out", "results"], "proj",
                                   ["results: output folder", "files the tool did not write (notes for the mayor.docx)"]),
    "results with a file edited by hand": (lambda proj: (proj / "results" / "measures.csv").write_text("edited\n"), ["--out", "results"], "proj",
                                           ["results: output folder", "measures.csv (changed)"]),
    "the working folder": (lambda proj: None, ["--out", "."], "proj/results", ["results: output folder", "holds the working folder"]),
    "the folder holding the list": (lambda proj: None, ["--out", "data"], "proj", ["data: output folder", "holds list.csv, an input of this run"]),
    "the factors folder": (lambda proj: None, ["--out", "factors"], "proj", ["factors: output folder", "is an input of this run"]),
}


@pytest.mark.parametrize("case", sorted(NOT_RESULTS))
def test_never_deletes_what_the_tool_did_not_write(tmp_path, case):
    prepare, args, cwd, expected = NOT_RESULTS[case]
    proj = _project(tmp_path)
    first = cli(str(proj / "scenario.yaml"), "--out", "results", "--quiet", "--no-report", cwd=proj)
    assert first.returncode == 0, first.stderr
    prepare(proj)
    before = _files(tmp_path)
    proc = cli(str(proj / "scenario.yaml"), *args, "--no-report", cwd=tmp_path / cwd)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Fix:" in errors[0] and "Traceback" not in proc.stderr, proc.stderr
    for part in expected:
        assert part in errors[0], (part, errors[0])
    assert "running" not in proc.stderr, "refused before the run"
    assert _files(tmp_path) == before, "every file still there, byte-identical"
    assert not [p.name for p in tmp_path.rglob(".*") if p.name != ".manifest.json"], "no lock or staging folder left"


def test_earlier_results_are_replaced_and_the_folder_may_be_empty(tmp_path):
    proj = _project(tmp_path)
    (proj / "results").mkdir()
    for _ in range(2):
        proc = cli(str(proj / "scenario.yaml"), "--out", "results", "--quiet", "--no-report", cwd=proj)
        assert proc.returncode == 0, proc.stderr
    assert (proj / "results" / "measures.csv").is_file() and (proj / "results" / ".manifest.json").is_file()
    assert sorted(p.name for p in proj.iterdir()) == ["data", "factors", "policy.yaml", "results", "scenario.yaml"]


def test_second_run_into_a_folder_being_written_is_refused(tmp_path):
    from test_outputs import _hold

    out = tmp_path / "out"
    holder = _hold(out)
    try:
        proc = cli(str(_tiny(tmp_path)), "--out", str(out))
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()
    assert proc.returncode == 2, proc.stderr
    assert f"error: {out}: output folder: another run is writing to this folder (pid {holder.pid}). Fix:" in proc.stderr
    assert "running" not in proc.stderr
    again = cli(str(_tiny(tmp_path, policy=str(ROOT / "tests" / "bad_inputs" / "_shared" / "policy.yaml"))), "--out", str(out), "--quiet", "--no-report")  # the killed run's leftovers go
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "s.yaml"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_unwritable_output_folder_is_an_input_error_before_the_run(tmp_path):
    proc = cli(str(_tiny(tmp_path)), "--out", "/proc/x")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "running" not in proc.stderr
    assert "error: /proc/x: output folder: cannot write here" in proc.stderr and "Fix: choose a folder you can write to" in proc.stderr


# --------------------------------------------------------------------------- --scheduler


def _closed_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _banner_server():
    """A loopback TCP server that is not Dask: it greets like an SSH server and closes."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed by the test
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return server


@pytest.mark.parametrize("kind", ["closed port", "malformed", "no port", "not dask"])
def test_bad_scheduler_exits_2_in_one_line_within_the_timeout(tmp_path, kind):
    """A closed port, a malformed address or a server that is not Dask: exit 2 with one line,
    well within the 10 s handshake timeout (before: exit 1 with tracebacks, one a MemoryError
    asking for 3 EiB)."""
    import time

    from sim.engine.ensemble import SCHEDULER_TIMEOUT_S

    server = _banner_server() if kind == "not dask" else None
    address = {"closed port": f"tcp://127.0.0.1:{_closed_port()}", "malformed": "tcp://127.0.0.1:eighty", "no port": "127.0.0.1",
               "not dask": f"tcp://127.0.0.1:{server.getsockname()[1] if server else 0}"}[kind]
    started = time.perf_counter()
    try:
        proc = cli(str(_tiny(tmp_path, ensemble={"members": 2})), "--executor", "dask", "--scheduler", address, "--no-report")
    finally:
        if server is not None:
            server.close()
    assert time.perf_counter() - started < SCHEDULER_TIMEOUT_S + 20  # interpreter start-up on a busy machine included
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: --scheduler: ") and "Fix: " in line and "tcp://HOST:PORT" in line, line
    assert {"closed port": "connection refused", "malformed": "not a scheduler address", "no port": "not a scheduler address",
            "not dask": "not a Dask scheduler"}[kind] in line, line
    assert not (tmp_path / "out").exists()


def test_a_real_scheduler_passes_the_check():
    """The handshake check accepts a Dask scheduler (in this process, on loopback)."""
    from distributed import LocalCluster

    from sim.engine.ensemble import check_scheduler

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=":0") as cluster:
        assert check_scheduler(cluster.scheduler_address)[0] == "127.0.0.1"


def test_tls_scheduler_address_is_left_to_dask():
    """tls:// (and ws://) speak their own protocol first: only their form is checked here, and
    Dask's client connects with the same timeout."""
    from sim.engine.ensemble import check_scheduler
    from sim.errors import InputError

    assert check_scheduler(f"tls://127.0.0.1:{_closed_port()}")[0] == "127.0.0.1"
    with pytest.raises(InputError, match="not a scheduler address"):
        check_scheduler("tls://127.0.0.1")


def test_format_on_the_command_line_wins_over_the_scenario(tmp_path):
    """output.format: both writes each table as CSV and Parquet; --format parquet on the command
    line wins: no CSV of the tables then, metrics.json as always."""
    tables = {"emissions", "emissions_by_group", "measures", "warnings"}
    scenario = _tiny(tmp_path, policy=TINY_POLICY, output={"dir": str(tmp_path / "out"), "format": "both"})
    proc = cli(str(scenario), "--no-report", "--quiet")
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {f"{t}.csv" for t in tables} | {f"{t}.parquet" for t in tables} | {"metrics.json", ".manifest.json"}
    proc = cli(str(scenario), "--no-report", "--quiet", "--format", "parquet", "--out", str(tmp_path / "pq"))
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "pq").iterdir()} == {f"{t}.parquet" for t in tables} | {"metrics.json", ".manifest.json"}
    a = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "pq" / "metrics.json").read_text(encoding="utf-8"))
    assert a["scenario_sha256"] == b["scenario_sha256"], "the format changes no result, nor the scenario's hash"
