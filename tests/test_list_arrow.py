"""The list read by pyarrow (dictionary-coded text, checks once per distinct value) gives what
the pandas reader gives: the same lines, rates, notes and messages (issue #15).

Every list here is read twice, by the reader a run uses and by the pandas reader alone (the one
for irregular files and for wording problems), and the two inventories must be equal to the bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim.inputs.inventory as inventory_module
from sim import InputError
from sim.config.scenario import Exemptions
from sim.inputs.inventory import column_codes, load_emission_factors, load_inventory
from sim.rules.policy import _match, exemption_mask

from conftest import FIXTURES

HEADER, *ROWS = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
COLUMNS = HEADER.split(",")


@pytest.fixture(scope="module")
def factors():
    return load_emission_factors(FIXTURES / "factors")


def _row(base: int, **cells: str) -> str:
    row = ROWS[base].split(",")
    for column, value in cells.items():
        row[COLUMNS.index(column)] = value
    return ",".join(row)


def _loads(path, factors, monkeypatch, **kwargs):
    """The inventory as a run reads it, whether pyarrow read it, and the inventory read by the pandas reader alone."""
    used = []
    arrow_read = inventory_module._read_csv_arrow

    def spy(*args):
        result = arrow_read(*args)
        used.append(result is not None)
        return result

    monkeypatch.setattr(inventory_module, "_read_csv_arrow", spy)
    fast = load_inventory(path, factors, **kwargs)
    monkeypatch.setattr(inventory_module, "_read_csv_arrow", lambda *args: None)
    slow = load_inventory(path, factors, **kwargs)
    return fast, used == [True], slow


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.lines, b.lines, check_exact=True)
    assert a.mean_rate_kg_h.tobytes() == b.mean_rate_kg_h.tobytes()
    assert np.array_equal(a.profile_id, b.profile_id) and a.profiles == b.profiles
    assert a.notes == b.notes


QUIRKS = {
    "plain": ([HEADER, *ROWS], True),
    "thousands separators": ([HEADER, _row(0, output_value_wan_yuan_per_day='"1,234.5"'), *ROWS[1:]], True),
    "full-width digits": ([HEADER, _row(0, hours_per_day="１２"), *ROWS[1:]], True),
    "nan spelled out": ([HEADER, _row(0, so2_kg_h="nan"), *ROWS[1:]], True),
    "whole numbers in a text column": ([HEADER, *(_row(i, livelihood="01" if i == 0 else "1") for i in range(len(ROWS)))], True),
    "TRUE/FALSE flags": ([HEADER, *(_row(i, ultra_low="TRUE" if i % 2 else "FALSE") for i in range(len(ROWS)))], True),
    "spaces, Chinese names and units": ([HEADER, _row(0, grade=" B ", industry="水泥", process="熟料", activity="10", activity_unit="ｔ/ｄ", so2_kg_h=""), *ROWS[1:]], True),
    "row of empty cells": ([HEADER, ROWS[0], "," * (len(COLUMNS) - 1), *ROWS[1:]], True),
    "bulk transport": ([HEADER, _row(0, bulk_transport="1", truck_trips_per_day="40"), _row(1, enterprise_id="E1", line_id="L2", bulk_transport="1", truck_trips_per_day="55"), *ROWS[2:]], True),
    "blank line": ([HEADER, ROWS[0], "", *ROWS[1:]], None),
    "rows without the last cell": ([HEADER + ",remark", *(r + ",x" for r in ROWS[:2]), *ROWS[2:]], False),
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_both_readers_give_the_same_inventory(tmp_path, factors, monkeypatch, quirk):
    lines, by_arrow = QUIRKS[quirk]
    path = tmp_path / "list.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast, used_arrow, slow = _loads(path, factors, monkeypatch)
    assert by_arrow is None or used_arrow == by_arrow
    _same(fast, slow)


def test_gbk_list_with_a_title_row(tmp_path, factors, monkeypatch):
    path = tmp_path / "list.csv"
    path.write_bytes("\n".join(["某市重污染天气应急减排清单", HEADER, *ROWS]).encode("gbk") + b"\n")
    fast, used_arrow, slow = _loads(path, factors, monkeypatch, header_row=2)
    assert used_arrow
    _same(fast, slow)
    assert list(fast.lines.source_row[:2]) == [3, 4] and fast.lines.enterprise_name[0] == "甲水泥"


@pytest.mark.parametrize("cells, problem", [
    ({"hours_per_day": "-5"}, "'-5' is negative"),  # a column of whole numbers: pandas reads -5, not -5.0
    ({"lat": "-5"}, "'-5.0' is negative"),
    ({"grade": "Z"}, "'Z' is not a performance grade"),
    ({"livelihood": "maybe"}, "'maybe' is not a yes/no value"),
    ({"output_value_wan_yuan_per_day": '"26,99"'}, "'26,99' has a comma that is not a thousands separator"),
])
def test_problems_are_worded_as_the_pandas_reader_words_them(tmp_path, factors, cells, problem):
    path = tmp_path / "list.csv"
    path.write_text("\n".join([HEADER, ROWS[0], _row(1, **cells), *ROWS[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_inventory(path, factors)
    assert problem in caught.value.problem and caught.value.where.startswith("row 3, column")


@pytest.mark.parametrize("by_arrow", [True, False])
def test_codes_of_a_column(tmp_path, factors, monkeypatch, by_arrow):
    """The reader's codes (grade B spelled twice, a derived truck row) stand for the lines' text."""
    if not by_arrow:
        monkeypatch.setattr(inventory_module, "_read_csv_arrow", lambda *args: None)
    path = tmp_path / "list.csv"
    path.write_text("\n".join([HEADER, _row(0, grade="B级", bulk_transport="1", truck_trips_per_day="40"), *ROWS[1:]]) + "\n", encoding="utf-8")
    inventory = load_inventory(path, factors)
    assert inventory.lines.derived.any() and list(inventory.lines.grade[:2]) == ["B", "C"]
    for column in ("industry", "process", "grade", "city", "district", "line_id", "activity_unit"):
        codes, values = inventory.codes(column)
        assert codes.dtype == np.int32 and len(set(values)) == len(values)
        assert list(values[codes]) == list(inventory.lines[column])
        assert inventory.codes(column) is inventory._codes[column]  # coded once


def test_selectors_on_codes_as_on_text(tmp_path, factors):
    path = tmp_path / "list.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    inventory = load_inventory(path, factors)
    lines = inventory.lines
    for selectors in (dict(industry=["industrial_coating"]), dict(grade=["A", "D"]), dict(industry=["steel", "cement"], grade=["C"]), dict(city=["elsewhere"])):
        wanted = np.ones(len(lines), dtype=bool)
        for column, names in selectors.items():
            wanted &= lines[column].isin(names).to_numpy()
        args = [selectors.get(c) for c in ("industry", "process", "grade", "city")]
        assert np.array_equal(_match(lines, *args, None, inventory.codes), wanted)
        assert np.array_equal(_match(lines, *args, None), wanted)
    exempt, reason = exemption_mask(lines, Exemptions(grades=["A"], flags=[]), inventory.codes)
    assert list(reason) == ["grade A" if g == "A" else "" for g in lines.grade] and np.array_equal(exempt, (lines.grade == "A").to_numpy())


def test_missing_cells_have_no_code():
    codes, values = column_codes(pd.Series(["a", None, "b", "a"], dtype=object))
    assert list(codes) == [0, -1, 1, 0] and list(values) == ["a", "b"]
