"""The optimiser: least-cost emergency reduction lists that meet the targets under a menu
(:mod:`sim.optimize.optimizer`).

Layer 'optimize' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
