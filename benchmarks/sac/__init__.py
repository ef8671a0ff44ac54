"""Benchmark of the SAC-HMR sampler against SAC, random search and TPE (issue 3, acceptance 4).

Run ``python -m benchmarks.sac.run --help``; docs/sac-hmr.md holds the table it printed.
"""
