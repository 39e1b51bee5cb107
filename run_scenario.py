#!/usr/bin/env python3
"""Run a heavy-pollution emergency response scenario: ``python run_scenario.py SCENARIO.yaml``."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
