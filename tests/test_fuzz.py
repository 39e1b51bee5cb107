"""Fuzzing: random mutations of a valid scenario YAML and of a valid enterprise list only ever
end in an :class:`~sim.errors.InputError` (or a good run), never in another exception.

In-process (``load_scenario`` + ``run`` + the contract tables) for speed. Byte mutations
(deleted, inserted, replaced, duplicated or swapped bytes and lines) find parser and encoding
problems; structure mutations (a key removed, renamed or added, a value of the wrong type or
out of range, a cell emptied or garbled, a row or column duplicated or dropped) reach the
validation and the model behind it.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import sim.api
from sim import InputError, load_scenario, run
from sim.inputs.inventory import load_emission_factors

from conftest import FIXTURES, TINY_POLICY

FUZZ = settings(deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])

LIST_TEXT = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8")
ONE_IN_EIGHT = st.integers(0, 7).map(lambda k: int(k == 0))
#: Bounds on what a fuzzed scenario may cost to run (a mutated date or member count can ask for
#: a century or a million members, which are valid inputs but take minutes).
MAX_FUZZ_HOURS = 24 * 400
MAX_FUZZ_MEMBERS = 3


def _scenario(list_path: str, out: str) -> dict:
    return {
        "name": "fuzz",
        "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": list_path, "emission_factors": str(FIXTURES / "factors"),
                      "other_sources": {"city": "tiny", "categories": [
                          {"name": "traffic", "emissions_t_d": {"nox": 1.0, "pm10": 0.2, "pm25": 0.1},
                           "reduction": {"yellow": {"nox": 0.1}, "orange": {"nox": 0.2, "pm10": 0.2, "pm25": 0.2}, "red": 0.3}}]}},
        "policy": TINY_POLICY,
        "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"},
                                  {"level": "red", "start": "2023-12-05T00:00", "end": "2023-12-05T06:00"}]},
        "staggered_production": [{"industry": "steel", "start": "2023-12-04", "end": "2023-12-05", "reduction": 0.5, "exempt_grades": ["A"]}],
        "response": {"delay_hours": {"default": 2, "cement": 6}, "compliance": {"default": 0.9, "D": 0.5},
                     "inspections": {"per_day": 2, "catch_probability": 0.5}},
        "ensemble": {"members": 1, "seed": 3},
        "output": {"dir": out},
    }


@pytest.fixture(autouse=True)
def _factors_read_once(monkeypatch):
    """The emission-factor folder is not fuzzed: read it once (a quarter of a small run)."""
    factors = load_emission_factors(FIXTURES / "factors")
    real = sim.api.load_emission_factors
    monkeypatch.setattr(sim.api, "load_emission_factors", lambda folder: factors if Path(folder) == FIXTURES / "factors" else real(folder))


def _exercise(path, frames: int) -> None:
    """Load and run, then build the metrics, with ``frames`` >= 1 the reduction list and with
    ``frames`` = 2 every table the command line writes (a tenth of a small run each)."""
    try:
        scenario = load_scenario(path)
        if scenario.period.hours > MAX_FUZZ_HOURS:  # valid but slow: the fuzz checks input handling, not long runs
            event("long period, not run")
            return
        if scenario.ensemble.members > MAX_FUZZ_MEMBERS:  # a mutation may ask for up to 10**6 members
            scenario = scenario.replace(ensemble=scenario.ensemble.model_copy(update={"members": MAX_FUZZ_MEMBERS}))
        result = run(scenario)
        metrics = result.metrics
        tables = [result.measures] * (frames >= 1) + [result.emissions, result.emissions_by_group, result.warnings] * (frames >= 2)
        assert all(isinstance(t, pd.DataFrame) for t in tables)
    except InputError as exc:
        assert exc.message and "Fix:" in exc.message, exc.message
        event("input error")  # shares shown by pytest --hypothesis-show-statistics
        return
    event("ran")
    assert metrics["list"]["lines"] >= 1
    for variant in metrics["emissions_t"].values():
        assert all(math.isfinite(v) and v >= 0 for v in variant.values()), variant


# --------------------------------------------------------------------------- byte mutations


@st.composite
def byte_mutations(draw, data: bytes) -> bytes:
    """Apply 1-3 random edits to ``data``."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line", "drop_line", "swap_lines", "truncate"]))
        pos = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "delete":
            del out[pos:pos + draw(st.integers(1, 8))]
        elif op == "insert":
            out[pos:pos] = draw(st.one_of(st.binary(min_size=1, max_size=6),
                                          st.sampled_from([b"\t", b":", b"- ", b"{", b"]", b",", b"\"", b"'", b"\n", b"\xef\xbb\xbf", b"\xff", b"\xa1", b"&a ", b"*a", b"!!python/object "])))
        elif op == "replace" and out:
            out[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del out[pos:]
        else:
            lines = bytes(out).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "duplicate_line":
                lines.insert(j, lines[i])
            elif op == "drop_line":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            out = bytearray(b"\n".join(lines))
    return bytes(out)


@settings(FUZZ, max_examples=1200)
@given(data=st.data())
def test_scenario_byte_mutations(tmp_path, data):
    text = yaml.safe_dump(_scenario(str(FIXTURES / "tiny_list.csv"), str(tmp_path / "out")), allow_unicode=True, sort_keys=False).encode()
    path = tmp_path / "scenario.yaml"
    path.write_bytes(data.draw(byte_mutations(text)))
    _exercise(path, data.draw(ONE_IN_EIGHT) * 2)


@settings(FUZZ, max_examples=400)
@given(data=st.data())
def test_list_byte_mutations(tmp_path, data):
    raw = data.draw(byte_mutations(LIST_TEXT.encode("utf-8")))
    list_path = tmp_path / "list.csv"
    list_path.write_bytes(raw)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(_scenario(str(list_path), str(tmp_path / "out")), allow_unicode=True), encoding="utf-8")
    _exercise(path, 1 + data.draw(ONE_IN_EIGHT))


# --------------------------------------------------------------------------- structure mutations

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["stop", "50%", "150%", "-5", "A级", "orange", "红色", "2023-12-05", "2023-12-05T12:30", "1e400", "nan", "inf", ""]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.sampled_from(["a", "default", "yellow", "B"]), st.integers(0, 2), max_size=2),
)


def _paths(node, prefix=()):
    """Every key path into a nested structure of dicts and lists."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@st.composite
def structure_mutations(draw, base: dict) -> dict:
    import copy

    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        op = draw(st.sampled_from(["value", "value", "delete", "rename", "add", "wrap"]))
        if op == "value":
            parent[key] = draw(ODD_VALUES)
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(key, str):
            parent[key[:-1] + draw(st.sampled_from(["", "s", "_", "X"]))] = parent.pop(key)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "sheet", "city", "standard", "grade", "flags", "exempt", "members"]))] = draw(ODD_VALUES)
        elif op == "wrap":
            parent[key] = [parent[key]] if not isinstance(parent[key], list) else {"items": parent[key]}
    return doc


@settings(FUZZ, max_examples=600)
@given(data=st.data())
def test_scenario_structure_mutations(tmp_path, data):
    doc = data.draw(structure_mutations(_scenario(str(FIXTURES / "tiny_list.csv"), str(tmp_path / "out"))))
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _exercise(path, data.draw(ONE_IN_EIGHT) * 2)


CELLS = st.one_of(st.sampled_from(["", " ", "0", "-1", "1e9", "inf", "nan", "NaN", "1,200", "abc", "A级", "是", "否", "24", "25", "0.0", "1", "E1", "L1",
                                   "road_transport", "cement", "steel", "t/d", "kt/d", "\"", "x,y", "=SUM(A1)", "１２"]),
                  st.text(max_size=6), st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers(-5, 10**6).map(str))


@settings(FUZZ, max_examples=400)
@given(data=st.data())
def test_list_structure_mutations(tmp_path, data):
    rows = [line.split(",") for line in LIST_TEXT.splitlines()]
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["cell", "cell", "cell", "header", "dup_row", "drop_row", "drop_col", "dup_col", "blank_row", "short_row"]))
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, max(len(rows[0]) - 1, 0)))
        if op == "cell":
            row = rows[max(r, 1) if len(rows) > 1 else r]
            if row:
                row[c % len(row)] = data.draw(CELLS)
        elif op == "header" and c < len(rows[0]):
            rows[0][c] = data.draw(st.sampled_from(["企业编号", "行业", "绩效等级", "so2_kg_hr", "grade", "", "remarks", "PM2.5(kg/h)", "日运行小时", "lat"]))
        elif op == "dup_row":
            rows.insert(r, list(rows[r]))
        elif op == "drop_row" and len(rows) > 1:
            del rows[r]
        elif op == "drop_col":
            rows = [row[:c] + row[c + 1:] for row in rows]
        elif op == "dup_col":
            rows = [row[:c + 1] + row[c:] for row in rows]
        elif op == "blank_row":
            rows.insert(max(r, 1), [""] * data.draw(st.integers(0, 3)))
        elif op == "short_row":
            rows[r] = rows[r][:c]
    list_path = tmp_path / "list.csv"
    list_path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding=data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])))
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(_scenario(str(list_path), str(tmp_path / "out")), allow_unicode=True), encoding="utf-8")
    _exercise(path, 1 + data.draw(ONE_IN_EIGHT))
