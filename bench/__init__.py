"""Measurement, never imported by the server: `kb eval` (retrieval quality) and `kb bench`
(speed, memory, scale, embedders)."""
