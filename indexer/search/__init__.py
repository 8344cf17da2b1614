"""Hybrid search: the engine, score fusion and query expansion."""
