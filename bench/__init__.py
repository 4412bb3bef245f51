"""Benchmarks: city-scale runs of the real pipeline, measured side by side (``make bench``)."""
