"""Example adapters written in Python (see doc/bindings.md)."""
