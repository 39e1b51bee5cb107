"""Shared fixtures: paths of the bundled data and a writer for small scenario files."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

# CI explores the same examples on every run (a red CI must mean a change broke something, not
# that the fuzzer drew a new input today); a developer's runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

TINY_POLICY = {
    "name": "tiny",
    "targets": {"list": {"yellow": 0.3, "orange": 0.4, "red": 0.5}, "society": {"yellow": 0.1, "orange": 0.2, "red": 0.3}},
    "base_ratio": {"yellow": 0.3, "orange": 0.4, "red": 0.5},
    "exempt": {"grades": ["A"]},
    "rules": [
        {"name": "cement_B", "industry": "cement", "grade": ["B"], "reduction": {"yellow": 0.0, "orange": 0.2, "red": "stop"}},
        {"name": "grade_D", "grade": ["D"], "reduction": {"yellow": "stop", "orange": "stop", "red": "stop"}},
    ],
}


def load_script(path: Path):
    """A script of the repository (not a package module, e.g. a case's make script) as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(path.stem, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def write_scenario(tmp_path):
    """Write a scenario YAML into tmp_path from a dict (paths may be absolute); return its path."""

    def write(data: dict, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def tiny_scenario(tmp_path) -> dict:
    """Two days over the 4-line tiny list, an orange warning from hour 12 to 36."""
    return {
        "name": "tiny",
        "period": {"start": "2023-12-04T00:00", "end": "2023-12-06T00:00"},
        "inventory": {"enterprises": str(FIXTURES / "tiny_list.csv"), "emission_factors": str(FIXTURES / "factors")},
        "policy": TINY_POLICY,
        "warnings": {"schedule": [{"level": "orange", "start": "2023-12-04T12:00", "end": "2023-12-05T12:00"}]},
        "response": {"delay_hours": {"default": 6, "cement": 12}, "compliance": 1.0},
        "output": {"dir": str(tmp_path / "out")},
    }
