"""The bad-input corpus (tests/bad_inputs/): every case through the real command line.

One folder per case holds the files a planner might have written and ``expected.yaml``: the exit
status and, for exit 2, the fragments the single ``error:`` line must contain (the file, the
row/column or key, the problem, and the fix after ``Fix:``); for exit 0, the ``note:`` lines
expected and an optional named check of the results. See tests/bad_inputs/README.md.

The cases run in a module fixture (one process each, two at a time); each case is then its own
test.
"""

from __future__ import annotations

import json

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cli_runner import run_all
from conftest import FIXTURES, ROOT

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.yaml").is_file())


def _job(case: str, tmp: Path) -> dict:
    out = tmp / case / "out"
    out.parent.mkdir(parents=True)
    # a case may add command-line options (``args: [--evaluate]`` in its expected.yaml)
    extra = yaml.safe_load((CORPUS / case / "expected.yaml").read_text(encoding="utf-8")).get("args") or []
    return {"cwd": str(CORPUS / case), "args": [str(CORPUS / case / "scenario.yaml"), "--out", str(out), "--no-report", *extra]}


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """Every case through run_scenario.py, each in its own process (forked from a warm
    interpreter by tests/cli_runner.py, so that the corpus runs in seconds)."""
    tmp = tmp_path_factory.mktemp("bad_inputs")
    jobs = [_job(case, tmp) for case in CASES]
    results = run_all(jobs)
    return {
        case: (subprocess.CompletedProcess(job["args"], r["returncode"], r["stdout"], r["stderr"]), Path(job["args"][2]))
        for case, job, r in zip(CASES, jobs, results)
    }


@pytest.mark.parametrize("case", ["list_unknown_grade", "yaml_duplicate_key", "ok_rule_matches_nothing"])
def test_forked_runs_match_a_fresh_interpreter(case, corpus_runs, tmp_path):
    """The fast runner gives what `python run_scenario.py` gives in a new interpreter."""
    job = _job(case, tmp_path)
    proc = subprocess.run([sys.executable, str(ROOT / "run_scenario.py"), *job["args"]], cwd=job["cwd"], capture_output=True, text=True, timeout=300)
    forked = corpus_runs[case][0]
    assert proc.returncode == forked.returncode
    strip = lambda text: [line for line in text.splitlines() if not line.startswith("done in")]  # noqa: E731
    assert strip(proc.stderr.replace(str(tmp_path), "TMP")) == strip(forked.stderr.replace(str(corpus_runs[case][1].parent.parent), "TMP"))


def test_corpus_is_large_enough():
    failing = [c for c in CASES if yaml.safe_load((CORPUS / c / "expected.yaml").read_text(encoding="utf-8"))["exit"] == 2]
    assert len(failing) >= 30, len(failing)


@pytest.mark.parametrize("case", CASES)
def test_case(case, corpus_runs):
    expected = yaml.safe_load((CORPUS / case / "expected.yaml").read_text(encoding="utf-8"))
    proc, out = corpus_runs[case]
    stderr = proc.stderr
    assert "Traceback" not in stderr and "internal error" not in stderr and "Warning" not in stderr, stderr
    assert proc.returncode == expected["exit"], stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    if expected["exit"] == 2:
        assert len(errors) == 1, stderr
        assert len([line for line in stderr.splitlines() if "error" in line.lower()]) == 1, stderr
        message = errors[0][len("error: "):]
        assert "Fix: " in message, message
        problem, fix = message.split("Fix: ", 1)
        want = expected["error"]
        assert Path(message.split(": ", 1)[0]).name == want["file"], (want["file"], message)
        if want["where"] is not None:
            assert f": {want['where']}: " in problem, (want["where"], message)
        assert want["problem"] in problem, (want["problem"], message)
        assert want["fix"] in fix, (want["fix"], message)
        assert not out.exists(), "no output directory after an input error"
        assert [p.name for p in out.parent.iterdir()] == [], "no staging directory left behind"
        assert sorted(p.name for p in (CORPUS / case).iterdir()) == sorted(p.name for p in (CORPUS / case).iterdir() if p.name != "out")
    else:
        assert errors == [], stderr
        assert (out / "measures.csv").is_file() and (out / "metrics.json").is_file()
        notes = [line for line in stderr.splitlines() if line.startswith("note: ")]
        for fragment in expected.get("notes") or []:
            assert any(fragment in n for n in notes), (fragment, stderr)
        if expected.get("check"):
            CHECKS[expected["check"]](out)
    assert not (CORPUS / case / "out").exists(), "nothing is written next to the case files"


# --------------------------------------------------------------------------- checks of positive cases


def _tiny_reference() -> pd.DataFrame:
    from sim import load_scenario, run

    scenario = load_scenario(CORPUS / "ok_mixed_headers" / "scenario.yaml")
    inventory = scenario.inventory.model_copy(update={"enterprises": FIXTURES / "tiny_list.csv"})
    return run(scenario.replace(inventory=inventory)).measures


def same_as_tiny(out: Path) -> None:
    """The list was read as tests/fixtures/tiny_list.csv: the same reduction list."""
    got = pd.read_csv(out / "measures.csv", dtype={"enterprise_id": str, "line_id": str})
    ref = _tiny_reference()
    assert list(got.enterprise_id) == list(ref.enterprise_id)
    assert list(got.enterprise_name) == list(ref.enterprise_name)
    assert list(got.grade) == list(ref.grade)
    for column in [c for c in ref.columns if c.endswith("_kg_d") or c.endswith("_reduction")]:
        np.testing.assert_allclose(got[column].to_numpy(float), ref[column].to_numpy(float), rtol=1e-9, err_msg=column)


def stricter_calendar_holds(out: Path) -> None:
    """Steel (the only SO2 source, 20 kg/h) runs at half on 4 Dec and is stopped on 5 Dec; on
    the morning of 5 Dec both rules apply and the stop holds."""
    e = pd.read_csv(out / "emissions.csv")
    so2 = e[e.variant == "scenario"].so2.to_numpy()
    np.testing.assert_allclose(so2[:24], 0.010, rtol=1e-9)
    np.testing.assert_allclose(so2[24:], 0.0, atol=1e-15)
    np.testing.assert_allclose(e[e.variant == "baseline"].so2.to_numpy(), 0.020, rtol=1e-9)


def blank_rows(out: Path) -> None:
    """Rows 3 and 5 of the file are empty: the lines keep the row numbers of the file."""
    m = pd.read_csv(out / "measures.csv")
    assert list(m[m.derived == 0].source_row) == [2, 4, 6, 7]


def negotiated_exempt_line(out: Path) -> None:
    """E3 (grade A, exempt, VOC 12 kg/h) agreed to a 50 % production cut from orange (left
    empty: the default): cut in the warning (hours 12-36, no delay given), exempt all the same."""
    m = pd.read_csv(out / "measures.csv").set_index("enterprise_id")
    assert m.loc["E3", "exempt_reason"] == "grade A"
    assert m.loc["E3", "yellow_negotiated_production_cut"] == 0.0 and m.loc["E3", "orange_negotiated_production_cut"] == 0.5
    assert m.loc["E3", "orange_voc_negotiated_kg_d"] == 12 * 24 * 0.5 and m.loc["E3", "orange_voc_reduction_kg_d"] == 0.0
    e = pd.read_csv(out / "emissions.csv")
    voc = e[e.variant == "scenario"].voc.to_numpy()
    np.testing.assert_allclose(voc[12:36], (6.0 + 0.0) / 1000, rtol=1e-9)  # E3 at half, E4 (D) stopped: its 12 h/d average 3 kg/h
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["negotiated"]["exempt_lines"] == 1


CHECKS = {f.__name__: f for f in (same_as_tiny, stricter_calendar_holds, blank_rows, negotiated_exempt_line)}
