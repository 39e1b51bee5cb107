"""Generators of synthetic enterprise lists, provinces and meteorological episodes.

Layer 'synthetic' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
