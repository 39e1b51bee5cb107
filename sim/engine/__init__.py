"""The SimPy event engine, forecasts for its warning centre, and ensembles of members on
executors.

Layer 'engine' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
