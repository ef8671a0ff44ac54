"""``benchmarks.dynamics.lr_phases``: the learning-rate phases of a network, its quadratic model
and its linearisation."""

import numpy as np

from benchmarks.dynamics.lr_phases import phase_runs


def test_learning_rate_phases_of_network_quadratic_model_and_linearisation():
    """The phases of gradient descent at m=1024 (seed 0, float64), eta = c / lam."""
    rows, curves = phase_runs((1.5, 3.0, 5.0), width=1024, seed=0)
    by = {(r["model"], r["c"]): r for r in rows}
    for kind in ("network", "quadratic", "linearized"):
        losses = curves[(kind, 1.5)]
        assert losses.max() <= losses[0] * (1 + 1e-9), kind
    linear = curves[("linearized", 3.0)]
    assert linear[:101].max() > 1e8 * linear[0] or not np.isfinite(linear[:101]).all()
    for kind in ("network", "quadratic"):
        row = by[(kind, 3.0)]
        assert row["phase"] == "catapult"
        assert row["peak_over_initial"] > 5
        assert row["final_over_initial"] < 1e-3
        assert row["eta_times_final_lam"] < 2
    network = curves[("network", 5.0)]
    assert by[("network", 5.0)]["phase"] == "diverged" and len(network) <= 51
