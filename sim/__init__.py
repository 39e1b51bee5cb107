"""Heavy-pollution-weather emergency response simulator (重污染天气应急响应).

Load a scenario, run it, and read emissions, the emergency reduction list and its ratio
checks as pandas DataFrames::

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/demo_city_orange.yaml"))
    result.metrics["list_ratio"]

Derive variants without editing YAML (:mod:`sim.variants`) and compare them::

    from sim import compare, with_exempt_grades
    base = load_scenario("scenarios/demo_city_orange.yaml")
    compare({"default": base, "A and B exempt": with_exempt_grades(base, ["A+", "A", "leading", "B", "B-"])})
"""

from __future__ import annotations

import importlib
from typing import Any

from sim._version import __version__
from sim.errors import InputError

#: Public names and the module each comes from, imported on first use: ``import sim`` (and
#: ``run_scenario.py --help``) does not pay for pandas, pydantic models and the engine.
_EXPORTS = {
    "Result": "sim.api",
    "run": "sim.api",
    "Policy": "sim.config.scenario",
    "Scenario": "sim.config.scenario",
    "load_policy": "sim.config.scenario",
    "load_scenario": "sim.config.scenario",
    "compare": "sim.variants",
    "with_atmosphere": "sim.variants",
    "EvaluationResult": "sim.evaluation",
    "evaluate": "sim.evaluation",
    "with_exempt_grades": "sim.variants",
    "with_grade_upgrades": "sim.variants",
    "with_members": "sim.variants",
    "with_negotiated": "sim.variants",
    "with_rule": "sim.variants",
    "with_staggered_days": "sim.variants",
    "with_warnings": "sim.variants",
    "with_whitelist": "sim.variants",
    "without_rules": "sim.variants",
}

__all__ = ["__version__", "InputError", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
