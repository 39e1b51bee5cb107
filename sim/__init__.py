"""Heavy-pollution-weather emergency response simulator (重污染天气应急响应).

Load a scenario, run it, and read emissions, the emergency reduction list and its ratio
checks as pandas DataFrames::

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/demo_city_orange.yaml"))
    result.metrics["list_ratio"]
"""

from sim.api import Result, run
from sim.errors import InputError
from sim.scenario import Policy, Scenario, load_policy, load_scenario

__all__ = ["InputError", "Policy", "Result", "Scenario", "load_policy", "load_scenario", "run"]
__version__ = "0.1.0"
