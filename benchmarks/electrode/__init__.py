"""Electrode-pipeline benchmarks: build-once vs rebuild, hypervolume comparisons."""
