"""One definition of the warning levels and the pollutants.

``sim/data/vocabulary.yaml`` defines them; :mod:`sim.config.vocabulary` exposes them as
``LEVELS``, ``POLLUTANTS``, ``RATIO_POLLUTANTS`` and ``RATIO_COLUMN``, and every other module
imports them from there. Pydantic models must spell their field names out, so these tests hold
those names to the one definition, and keep copies of the lists from creeping back into ``sim/``.
"""

from __future__ import annotations

import ast
import typing
from importlib import resources
from pathlib import Path

import pytest

from sim.config import scenario
from sim.config.vocabulary import LEVELS, POLLUTANTS, RATIO_COLUMN, RATIO_POLLUTANTS, vocabulary
from sim.config.yamlio import parse_yaml

PACKAGE = Path(__file__).resolve().parents[1] / "sim"


def raw_vocabulary() -> dict:
    return parse_yaml(resources.files("sim.data").joinpath("vocabulary.yaml").read_text("utf-8"), "sim/data/vocabulary.yaml")


def test_constants_are_the_yaml_lists():
    raw = raw_vocabulary()
    assert LEVELS == ("yellow", "orange", "red")  # lowest first: array level axes rely on it
    assert tuple(raw["levels"]) == LEVELS
    assert tuple(raw["pollutants"]) == POLLUTANTS
    assert tuple(raw["ratio_pollutants"]) == RATIO_POLLUTANTS
    assert dict(raw["ratio_pollutants"]) == RATIO_COLUMN
    assert set(RATIO_COLUMN.values()) <= set(POLLUTANTS)
    assert RATIO_COLUMN["pm"] == "pm10"  # 颗粒物 is computed on PM10
    voc = vocabulary()
    assert (voc.levels, voc.pollutants, voc.ratio_pollutants) == (LEVELS, POLLUTANTS, RATIO_COLUMN)


@pytest.mark.parametrize("model", [scenario.LevelFractions, scenario.MonotoneReductions, scenario.MeasureText, scenario.CategoryReductions],
                         ids=lambda m: m.__name__)
def test_level_models_have_one_field_per_level_in_order(model):
    assert tuple(model.model_fields) == LEVELS


def test_level_tuple_and_weights_follow_levels():
    fractions = scenario.LevelFractions(**{lv: k / 10 for k, lv in enumerate(LEVELS, start=1)})
    assert fractions.as_tuple() == tuple(k / 10 for k in range(1, len(LEVELS) + 1))
    from sim.optimize.optimizer import LevelWeights

    assert tuple(LevelWeights.model_fields) == LEVELS
    weights = LevelWeights(**{lv: float(k) for k, lv in enumerate(LEVELS, start=1)})
    assert weights.as_array().tolist() == [float(k) for k in range(1, len(LEVELS) + 1)]


@pytest.mark.parametrize("model", [scenario.PollutantValues, scenario.PollutantFractions], ids=lambda m: m.__name__)
def test_pollutant_models_have_one_field_per_pollutant_in_order(model):
    assert tuple(model.model_fields) == POLLUTANTS


def test_linear_sensitivities_accept_exactly_the_pollutants():
    annotation = scenario.LinearSettings.model_fields["sensitivities_ug_m3_per_t_h"].annotation
    key, _ = typing.get_args(annotation)
    assert typing.get_args(key) == POLLUTANTS


def test_other_modules_reexport_the_one_definition():
    import sim.report as report
    from sim.inputs import inventory
    from sim.rules.warnings import LEVEL_NAMES

    assert report.LEVELS is LEVELS and scenario.LEVELS is LEVELS
    assert report.POLLUTANTS is POLLUTANTS and inventory.POLLUTANTS is POLLUTANTS
    assert report.RATIO_POLLUTANTS is RATIO_POLLUTANTS and report.RATIO_COLUMN is RATIO_COLUMN
    assert inventory.RATE_COLUMNS == tuple(f"{p}_kg_h" for p in POLLUTANTS)
    assert LEVEL_NAMES == ("none", *LEVELS)
    assert tuple(report.LEVEL_COLOURS) == LEVELS and tuple(report.LEVEL_DARK) == LEVELS


def _copies(tree: ast.AST) -> list[tuple[int, object]]:
    """Tuple and list literals of ``tree`` spelling out a whole list of levels or pollutants,
    and dict literals copying ``RATIO_COLUMN``. ``typing.Literal[...]`` subscripts, which must be
    written out, and per-level data such as colours (dicts keyed by level) are left out."""
    literal_slices = {id(node.slice) for node in ast.walk(tree)
                      if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal"}
    wanted = {LEVELS, POLLUTANTS, RATIO_POLLUTANTS, tuple(f"{p}_kg_h" for p in POLLUTANTS)}
    found: list[tuple[int, object]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List)) and id(node) not in literal_slices:
            if node.elts and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                words = tuple(e.value for e in node.elts)
                if words in wanted:
                    found.append((node.lineno, words))
        elif isinstance(node, ast.Dict):
            try:
                value = ast.literal_eval(node)
            except ValueError:
                continue
            if value == RATIO_COLUMN:
                found.append((node.lineno, value))
    return found


def test_no_copies_of_the_lists_in_the_package():
    copies = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found = _copies(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if found:
            copies[str(path.relative_to(PACKAGE.parent))] = found
    assert not copies, f"import LEVELS / POLLUTANTS / RATIO_POLLUTANTS from sim.config.vocabulary instead: {copies}"


def test_copy_detector_sees_copies():
    assert _copies(ast.parse('A = ("yellow", "orange", "red")\nB = ["so2", "nox", "pm10", "pm25", "voc", "nh3"]\nC = {"so2": "so2", "nox": "nox", "pm": "pm10", "voc": "voc"}')) == [
        (1, LEVELS), (2, POLLUTANTS), (3, RATIO_COLUMN)]
    assert not _copies(ast.parse('x: dict[Literal["so2", "nox", "pm10", "pm25", "voc", "nh3"], float]\nCOLOURS = {"yellow": "#FFD700", "orange": "#FF8C00", "red": "#DC143C"}'))
