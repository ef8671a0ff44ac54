"""The multi-fidelity benchmark: learning-curve tables of real training runs."""
