"""Output Hessian, linearity and its failure modes (experiments f, g, h at small size)."""

import math

import pytest
import torch

import hpo.dynamics as dyn
from benchmarks.dynamics._common import loglog_slope
from benchmarks.dynamics.dag_linearity import hessian_vs_in_degree
from benchmarks.dynamics.hessian_width import hessian_vs_width, ntk_change_vs_width
from benchmarks.dynamics.weak_models import hessian_with_and_without_dominant_unit, mean_and_interval
from hpo.errors import UserError


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_hvp_power_iteration_matches_dense_hessian_of_a_small_model():
    model = dyn.NTKMLP(3, 6, depth=2, activation="tanh", seed=0)
    x = dyn.sphere_inputs(1, 3, seed=1)
    params = dict(model.named_parameters())
    names = list(params)
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]

    def f(flat):
        chunks = torch.split(flat, sizes)
        return torch.func.functional_call(
            model, {k: c.reshape(s) for k, c, s in zip(names, chunks, shapes)}, (x,)
        ).sum()

    flat = torch.cat([params[k].detach().reshape(-1) for k in names])
    dense = torch.autograd.functional.hessian(f, flat)
    expected = float(torch.linalg.eigvalsh(dense).abs().max())
    assert dyn.hessian_spectral_norm(model, x, iterations=500, tolerance=1e-12) == pytest.approx(expected, rel=1e-4)


def test_two_layer_relu_hessian_is_the_cross_term_norm():
    """ReLU is piecewise linear, so f = m^-1/2 v.relu(W u) has only v-W cross terms in its Hessian."""
    width = 256
    x = dyn.sphere_inputs(1, 10, seed=0)
    model = dyn.two_layer_relu(10, width, seed=0)
    # the v-W block is m^-1/2 * diag(1[w_i.u > 0]) (x) u, whose spectral norm is |u| / sqrt(m) = 1/sqrt(m)
    assert dyn.hessian_spectral_norm(model, x) == pytest.approx(1 / math.sqrt(width), rel=1e-3)


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


def _in_degree_slope(variant):
    rows = hessian_vs_in_degree((16, 256), variants=(variant,), width=512, n_inputs=1)
    return loglog_slope([16, 256], [r["hessian_norm"] for r in rows])


def test_at_a_fixed_number_of_live_units_the_in_degree_alone_barely_moves_the_hessian():
    """The k^-1/2 decay appears only when the output also reads k units, i.e. when the number of
    units that reach the output (the width) shrinks with k."""
    assert _in_degree_slope("hidden in-degree k") > -0.25
    assert _in_degree_slope("all in-degrees k") < -0.3


@pytest.mark.slow
def test_dominant_unit_stops_the_decay():
    """Per seed, over three seeds: the dominant unit's O(1) part varies with its random weights, so
    one seed proves little."""
    rows = hessian_with_and_without_dominant_unit((64, 512), n_inputs=1, seeds=(0, 1, 2))
    dominant_ratios = []
    for seed in (0, 1, 2):
        weak = [r["hessian_norm"] for r in rows if r["seed"] == seed and not r["dominant_unit"]]
        dominant = [r["hessian_norm"] for r in rows if r["seed"] == seed and r["dominant_unit"]]
        assert weak[1] / weak[0] < 0.5  # m^-1/2 would give 0.35
        assert dominant[1] > 3 * weak[1]
        dominant_ratios.append(dominant[1] / dominant[0])
    assert mean_and_interval(dominant_ratios)[0] > 0.7


def test_linearity_ratio_is_hessian_over_squared_gradient():
    model, x = dyn.NTKMLP(5, 64, depth=2, activation="tanh", seed=0), dyn.sphere_inputs(1, 5)
    expected = dyn.hessian_spectral_norm(model, x) / dyn.output_gradient_norm(model, x) ** 2
    assert dyn.linearity_ratio(model, x) == pytest.approx(expected)


def test_hessian_needs_a_single_input():
    with pytest.raises(UserError, match="x must be a single input"):
        dyn.hessian_spectral_norm(dyn.two_layer_relu(4, 8), dyn.sphere_inputs(2, 4))


def test_agop_of_a_linear_predictor_and_alignment():
    direction = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    inputs = dyn.sphere_inputs(20, 3)
    matrix = dyn.agop(lambda x: x @ direction, inputs)
    assert torch.allclose(matrix, torch.outer(direction, direction))
    assert dyn.agop_alignment(matrix, 3 * matrix) == pytest.approx(1.0)
    assert dyn.agop_alignment(torch.diag(torch.tensor([1.0, 0, 0])), torch.diag(torch.tensor([0, 1.0, 0]))) == 0.0


def test_quadratic_and_linearised_closed_forms_match_generic_taylor_models():
    inputs = dyn.sphere_inputs(16, 5, seed=0)
    for order, closed in ((1, dyn.linearized_model), (2, dyn.quadratic_model)):
        fast, generic = closed(dyn.two_layer_relu(5, 32)), dyn.TaylorModel(dyn.two_layer_relu(5, 32), order)
        generator = torch.Generator().manual_seed(order)
        with torch.no_grad():
            for p_fast, p_generic in zip(fast.parameters(), generic.parameters()):
                step = 0.3 * torch.randn(p_fast.shape, generator=generator, dtype=p_fast.dtype)
                p_fast.add_(step)
                p_generic.add_(step)
        assert torch.allclose(fast(inputs), generic(inputs), atol=1e-10)


def test_quadratic_model_of_a_tanh_network_is_exact_to_second_order():
    inputs = dyn.sphere_inputs(5, 4)
    assert isinstance(dyn.quadratic_model(dyn.NTKMLP(4, 16, depth=1, activation="tanh")), dyn.TaylorModel)
    errors = []
    for scale in (1e-2, 5e-3):
        shifted = dyn.NTKMLP(4, 16, depth=1, activation="tanh", seed=0)
        q = dyn.quadratic_model(dyn.NTKMLP(4, 16, depth=1, activation="tanh", seed=0))
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p_net, p_quad in zip(shifted.parameters(), q.parameters()):
                step = scale * torch.randn(p_net.shape, generator=generator, dtype=p_net.dtype)
                p_net.add_(step)
                p_quad.add_(step)
        with torch.no_grad():
            errors.append(float((shifted(inputs) - q(inputs)).abs().max()))
    # third-order remainder: halving the step divides the error by about 8
    assert 6 < errors[0] / errors[1] < 10
