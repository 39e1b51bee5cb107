"""Input readers: the enterprise list and emission factors, meteorology, text tables.

Layer 'inputs' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
