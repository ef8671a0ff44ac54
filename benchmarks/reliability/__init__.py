"""Reliability experiments: scripts that stress the commands and print what they counted
(``python -m benchmarks.reliability.interrupts --runs N``)."""
