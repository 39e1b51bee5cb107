"""Configuration: the scenario schema, the one strict YAML reader, loading and hashing, the
vocabulary of list words and the bilingual labels (the words every layer above may show).

Layer 'config' of docs/architecture.md; tests/test_layers.py keeps its imports one-way.
"""
