"""Outputs: written atomically (an interrupted write changes nothing), never over a folder that
is not earlier results, and byte-identical for the same scenario and seed."""

from __future__ import annotations

import json
import re

import pytest

import sim.outputs
from sim import InputError, load_scenario, run
from sim.outputs import write_outputs, write_tables
from sim.scenario import EnsembleConfig

from conftest import FIXTURES, ROOT, TINY_POLICY


@pytest.fixture(scope="module")
def tiny_result():
    from sim.scenario import Scenario

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

    def failing(frame, path):
        calls.append(path.name)
        if len(calls) == 3:  # two files written into the staging folder, then the failure
            raise exception
        real(frame, path)

    monkeypatch.setattr(sim.outputs, "write_csv", failing)
    with pytest.raises(type(exception)):
        write_outputs(tiny_result, out)
    assert len(calls) == 3
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "no staging or retired folder left behind"


def test_interrupted_first_write_leaves_nothing(tiny_result, tmp_path, monkeypatch):
    monkeypatch.setattr(sim.outputs, "write_csv", lambda frame, path: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_outputs(tiny_result, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_earlier_results(tiny_result, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("{}\n")
    (out / "stale.csv").write_text("old\n")
    write_outputs(tiny_result, out)
    assert not (out / "stale.csv").exists() and (out / "measures.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


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
