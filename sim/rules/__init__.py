"""Rules: policy masks and staggered-production calendars, warning rule sets and their
forecast decisions.

Layer 'rules' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
