"""Reading enterprise lists: what the bad-input corpus cannot hold (a large list, a pipe, a
workbook built in the test) and the limits of the checks (issue #13).

The corpus (tests/bad_inputs/) holds one case per kind of bad list; these tests pin down the
rest: no DtypeWarning on a large list, a FIFO is named as such, a stray quote in a name is not
taken for a short row, a title row in a workbook, and the one note on implausible rates.
"""

from __future__ import annotations

import csv
import io
import os
import threading
import zipfile

import numpy as np
import openpyxl
import pytest

from sim import InputError, load_scenario, run
from sim.inputs.inventory import IMPLAUSIBLE_FACTOR, POLLUTANTS, _cells_per_record, load_emission_factors, load_inventory
from sim.variants import with_grade_upgrades

from conftest import FIXTURES

HEADER, *ROWS = (FIXTURES / "tiny_list.csv").read_text(encoding="utf-8").splitlines()
COLUMNS = HEADER.split(",")


@pytest.fixture(scope="module")
def factors():
    return load_emission_factors(FIXTURES / "factors")


def _write(tmp_path, lines: list[str], name: str = "list.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(base: int, **cells: str) -> str:
    row = ROWS[base].split(",")
    for column, value in cells.items():
        row[COLUMNS.index(column)] = value
    return ",".join(row)


def test_large_list_with_text_far_down_a_number_column(tmp_path, factors):
    """pandas reads a large CSV in chunks and warns (DtypeWarning) when a number column turns
    to text in a later chunk; warnings are errors here, so the list must load without one."""
    lines = [HEADER] + [_row(1, enterprise_id=f"E{i}") for i in range(100_000)]
    lines[-10] = _row(1, enterprise_id="E99990", output_value_wan_yuan_per_day='"1,234"')
    inventory = load_inventory(_write(tmp_path, lines), factors)
    assert inventory.size == 100_000
    assert inventory.lines.output_value_wan_yuan_per_day.iloc[-10] == 1234.0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_pipe_is_not_a_list(tmp_path, factors, tiny_scenario, write_scenario):
    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)  # reading it would block: the reader must not open it
    # should a reader open it after all, a writer that closes at once ends its read (a failure, not a hang)
    threading.Thread(target=lambda: open(fifo, "wb").close(), daemon=True).start()
    with pytest.raises(InputError, match="not a regular file"):
        load_inventory(fifo, factors)
    tiny_scenario["inventory"]["enterprises"] = str(fifo)
    with pytest.raises(InputError, match="not a regular file") as caught:
        load_scenario(write_scenario(tiny_scenario))
    assert caught.value.where == "key inventory.enterprises"


@pytest.mark.parametrize("name", ['甲"水泥', '甲"水"泥', '"甲,水泥\n一厂"'])
def test_quotes_in_names_are_not_short_rows(tmp_path, factors, name):
    """The cell count is made on the bytes; a quote inside an unquoted cell can fool it, and the
    csv module then decides (a quoted cell may hold commas and line ends)."""
    lines = [HEADER, _row(0, enterprise_name=name), *ROWS[1:]]
    inventory = load_inventory(_write(tmp_path, lines), factors)
    assert list(inventory.lines.enterprise_id[:4]) == ["E1", "E2", "E3", "E4"]


def test_short_row_among_quoted_cells(tmp_path, factors):
    cut = ",".join(ROWS[2].split(",")[:12])
    lines = [HEADER, _row(0, enterprise_name='"甲,水泥"'), ROWS[1], cut, ROWS[3]]
    with pytest.raises(InputError, match="has 12 cell") as caught:
        load_inventory(_write(tmp_path, lines), factors)
    assert caught.value.where == "row 4"


def test_a_row_of_empty_cells_is_still_a_blank_row(tmp_path, factors):
    """',,' is short but empty: skipped as a blank row (with a note), not a short row."""
    inventory = load_inventory(_write(tmp_path, [HEADER, ROWS[0], ",,", ROWS[1]]), factors)
    assert inventory.size == 2 and "1 empty row(s) skipped (rows 3)" in inventory.notes[0]


def _workbook(path, rows: list[list[object]]) -> None:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


def test_title_row_in_a_workbook(tmp_path, factors):
    path = tmp_path / "list.xlsx"
    _workbook(path, [["某市应急减排清单"], [], COLUMNS, *[r.split(",") for r in ROWS]])
    with pytest.raises(InputError, match="stand in row 3") as caught:
        load_inventory(path, factors)
    assert "header_row: 3" in caught.value.fix
    inventory = load_inventory(path, factors, header_row=3)
    assert list(inventory.lines.source_row[:4]) == [4, 5, 6, 7]


def test_header_row_beyond_the_list(tmp_path, factors):
    with pytest.raises(InputError, match="cannot be its header") as caught:
        load_inventory(_write(tmp_path, [HEADER, *ROWS]), factors, header_row=40)
    assert caught.value.where == "key inventory.header_row"


@pytest.mark.parametrize("value", [0, -1, 1.5, "2"])
def test_header_row_must_be_a_row_number(tiny_scenario, write_scenario, value):
    tiny_scenario["inventory"]["header_row"] = value
    with pytest.raises(InputError, match="header_row"):
        load_scenario(write_scenario(tiny_scenario))


def test_variant_edits_a_list_with_a_title_row(tmp_path, tiny_scenario, write_scenario, monkeypatch):
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path / "cache"))
    tiny_scenario["inventory"]["enterprises"] = str(_write(tmp_path, ["清单" + "," * (len(COLUMNS) - 1), HEADER, *ROWS]))
    tiny_scenario["inventory"]["header_row"] = 2
    v = with_grade_upgrades(load_scenario(write_scenario(tiny_scenario)), {"D": "C"})
    assert v.inventory.enterprises.read_text(encoding="utf-8").splitlines()[0].startswith("清单")
    assert run(v).measures.set_index("enterprise_id").loc["E4", "grade"] == "C"


@pytest.mark.parametrize("text, number", [("1,234", 1234.0), ("12,345,678", 12345678.0), ("1,234.5", 1234.5), ("１２", 12.0), (" 7 ", 7.0)])
def test_numbers_accepted(tmp_path, factors, text, number):
    lines = [HEADER, _row(0, output_value_wan_yuan_per_day=f'"{text}"'), *ROWS[1:]]
    assert load_inventory(_write(tmp_path, lines), factors).lines.output_value_wan_yuan_per_day.iloc[0] == number


@pytest.mark.parametrize("text", ["26,99", "1,2345", "12,34.5", "1,,234", ",5", "1.234,5", "0,125", "00,125"])
def test_commas_that_are_not_thousands_separators(tmp_path, factors, text):
    lines = [HEADER, _row(0, output_value_wan_yuan_per_day=f'"{text}"'), *ROWS[1:]]
    with pytest.raises(InputError, match="not a thousands separator") as caught:
        load_inventory(_write(tmp_path, lines), factors)
    assert caught.value.where == "row 2, column output_value_wan_yuan_per_day"


def test_a_remark_missing_at_the_end_of_a_row_is_not_a_short_row(tmp_path, factors):
    """Only the columns the simulator reads must be there: a remark column left out at the
    row's end (no trailing comma) loses nothing."""
    lines = [HEADER + ",备注", ROWS[0] + ",ok", *ROWS[1:]]
    inventory = load_inventory(_write(tmp_path, lines), factors)
    assert len(inventory.lines[~inventory.lines.derived]) == len(ROWS)


def test_one_note_for_many_implausible_rates(tmp_path, factors):
    """Eight steel lines give SO2 in kg per year under the kg/h header; one more is plausible.
    The note names the first five rows and counts the rest."""
    odd = [_row(1, line_id=f"L{i}", activity="1200", activity_unit="t/d", so2_kg_h="438000") for i in range(8)]
    fine = _row(1, line_id="L9", activity="1200", activity_unit="t/d", so2_kg_h=str(50 * IMPLAUSIBLE_FACTOR * 0.9))
    inventory = load_inventory(_write(tmp_path, [HEADER, *odd, fine]), factors)
    notes = [n for n in inventory.notes if "differ from the estimate" in n]
    assert len(notes) == 1
    assert "in 8 row(s): rows 2, 3, 4, 5, 6 and 3 more" in notes[0]


def test_rates_per_day_keep_the_daily_amount(tmp_path, factors):
    """0.072 t/d over a 12-hour day is 6 kg/h while running: 72 kg a day either way."""
    header = HEADER.replace("voc_kg_h", "VOCs（吨/天）")
    inventory = load_inventory(_write(tmp_path, [header, ROWS[0], _row(3, voc_kg_h="0.072")]), factors)
    voc = inventory.baseline_kg_d[:, POLLUTANTS.index("voc")]
    np.testing.assert_allclose(voc, [0.0, 72.0])


def test_formula_with_an_empty_text_result_is_not_uncached(tmp_path, factors):
    """Excel stores =IF(..., "", ...) as t="str" with an empty value: a result, and an empty cell;
    a formula written by openpyxl has no type and no value: no result, an error."""
    path = tmp_path / "list.xlsx"
    rows = [r.split(",") for r in ROWS]
    rows[1][COLUMNS.index("truck_trips_per_day")] = '=IF(1,"","")'
    _workbook(path, [COLUMNS, *rows])
    with pytest.raises(InputError, match="formula without a stored result") as caught:
        load_inventory(path, factors)
    assert caught.value.where == "row 3, column truck_trips_per_day (cell Z3)"
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(saved, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="Z3"><f>', b'<c r="Z3" t="str"><f>')  # as Excel saves it
            dst.writestr(item, data)
    assert load_inventory(saved, factors).size == 4


def test_whitelist_lever_sees_chinese_industry_names(tmp_path, tiny_scenario, write_scenario, monkeypatch):
    """工业涂装 in the list is industrial_coating for the white-list lever as for the reader."""
    from sim.variants import with_whitelist

    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path / "cache"))
    rows = [_row(i, industry="工业涂装") if i >= 2 else ROWS[i] for i in range(4)]
    tiny_scenario["inventory"]["enterprises"] = str(_write(tmp_path, [HEADER, *rows]))
    v = with_whitelist(load_scenario(write_scenario(tiny_scenario)), share=1.0, industries=["industrial_coating"])
    measures = run(v).measures.set_index("enterprise_id")
    assert list(measures.loc[["E3", "E4"], "whitelist"]) == [1, 1]
    assert list(measures.loc[["E1", "E2"], "whitelist"]) == [0, 0]


@pytest.mark.parametrize("block", [1, 2, 5, 64])
def test_cells_counted_across_blocks(block):
    """The byte count of cells per record agrees with the csv module wherever the blocks end:
    quoted commas and line ends, a blank line, a last line without a line end."""
    raw = '甲,"b,c",d\n\n"x\ny",2\n,,\n"q""q",1,2,3'.encode("gb18030")
    want = [max(len(r), 1) for r in csv.reader(io.StringIO(raw.decode("gb18030"), newline=""))]
    assert list(_cells_per_record(raw, block)) == want == [3, 1, 2, 3, 4]


def test_many_short_rows_are_counted(tmp_path, factors):
    cut = ",".join(ROWS[1].split(",")[:20])
    lines = [HEADER, ROWS[0], *[cut.replace("E2", f"E{i}", 1) for i in range(5, 505)]]
    with pytest.raises(InputError, match=r"has 20 cell\(s\), the columns read need 26. \(499 more row\(s\) alike.\)") as caught:
        load_inventory(_write(tmp_path, lines), factors)
    assert caught.value.where == "row 3"


@pytest.mark.parametrize("header, column, unit", [
    ("二氧化硫（kg/h）", "so2_kg_h", None), ("VOCs（kg/h）", "voc_kg_h", None), ("二氧化硫(千克/小时)", "so2_kg_h", None),
    ("ＮＯｘ （ ｋｇ／ｈ ）", "nox_kg_h", None), ("so2_t_d", "so2_kg_h", ("t/d", "day", 1000.0)), ("PM2.5(t/a)", "pm25_kg_h", ("t/a", "year", 1000.0)),
    ("二氧化硫排放量（吨/年）", "so2_kg_h", ("吨/年", "year", 1000.0)), ("颗粒物排放速率(kg/h)", "pm10_kg_h", None),
    ("氨（千克/天）", "nh3_kg_h", ("千克/天", "day", 1.0)), ("年运行小时数", "operating_hours_per_year", None),
])
def test_rate_and_unit_headers(header, column, unit):
    from sim.config.vocabulary import vocabulary

    assert vocabulary().column(header) == (column, unit)


@pytest.mark.parametrize("header", ["so2_kg_hr", "二氧化硫(mg/m3)", "SO2(t/h)", "二氧化硫浓度(kg/h)"])
def test_headers_not_taken_for_rates(header):
    from sim.config.vocabulary import vocabulary

    assert vocabulary().column(header) is None
