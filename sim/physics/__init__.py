"""Physics and figures: the box model of PM2.5, AQI, reduction ratios, the PM2.5 projection.

Layer 'physics' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
