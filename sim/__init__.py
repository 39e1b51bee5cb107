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

from sim._version import __version__
from sim.api import Result, run
from sim.errors import InputError
from sim.config.scenario import Policy, Scenario, load_policy, load_scenario
from sim.variants import (
    compare,
    with_exempt_grades,
    with_grade_upgrades,
    with_members,
    with_rule,
    with_staggered_days,
    with_warnings,
    with_whitelist,
    without_rules,
)

__all__ = [
    "__version__",
    "InputError",
    "Policy",
    "Result",
    "Scenario",
    "compare",
    "load_policy",
    "load_scenario",
    "run",
    "with_exempt_grades",
    "with_grade_upgrades",
    "with_members",
    "with_rule",
    "with_staggered_days",
    "with_warnings",
    "with_whitelist",
    "without_rules",
]
