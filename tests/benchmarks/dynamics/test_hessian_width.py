"""``benchmarks.dynamics.hessian_width``: the Hessian norm decays with width only with a linear
output layer, and the NTK moves less in training for wider networks."""

from benchmarks.dynamics._common import loglog_slope
from benchmarks.dynamics.hessian_width import hessian_vs_width, ntk_change_vs_width


def test_hessian_norm_decays_with_width_only_with_a_linear_output_layer():
    """At small widths: slope in [-0.65, -0.3] (linear output), > -0.15 (softplus output)."""
    rows = hessian_vs_width((64, 256, 1024), activations=("tanh",), n_inputs=2)
    slope = {
        out: loglog_slope(
            [r["width"] for r in rows if r["output"] == out],
            [r["hessian_norm"] for r in rows if r["output"] == out],
        )
        for out in ("linear", "softplus")
    }
    assert -0.65 <= slope["linear"] <= -0.3
    assert slope["softplus"] > -0.15
    gradients = [r["gradient_norm"] for r in rows if r["output"] == "linear"]
    assert 0.7 <= gradients[-1] / gradients[0] <= 1.4


def test_ntk_moves_less_in_training_for_wider_networks_with_linear_output():
    linear = ntk_change_vs_width((64, 1024), output="linear")
    softplus = ntk_change_vs_width((64, 1024), output="softplus")
    assert loglog_slope([64, 1024], [r["relative_ntk_change"] for r in linear]) < -0.4
    assert softplus[-1]["relative_ntk_change"] > 0.3
