"""``benchmarks.dynamics.relu_conditioning``: finite-width ReLU networks are better conditioned and
train faster."""


def test_finite_width_relu_networks_are_better_conditioned_and_train_faster():
    """Experiment (e) at width 256: kappa_ReLU(L=4) < kappa_ReLU(L=1) < kappa_linear, GD in the same order."""
    from benchmarks.dynamics.relu_conditioning import clustered_inputs, empirical_conditioning, gd_iterations

    inputs = clustered_inputs(n=16, d=32, seed=0)
    kappa = {
        (r["activation"], r["depth"]): r["condition_number"]
        for r in empirical_conditioning(inputs, depths=(1, 4), width=256, seeds=(0,))
    }
    assert kappa[("relu", 4)] < kappa[("relu", 1)] < kappa[("linear", 1)]
    rows, _ = gd_iterations(inputs, (("linear", 1), ("relu", 1), ("relu", 4)), width=256, max_steps=5000)
    iterations = [r["iterations"] for r in rows]
    assert all(i > 0 for i in iterations)
    assert iterations[0] > iterations[1] > iterations[2]
