"""``hpo.dynamics.hessian``: the output Hessian's spectral norm by HVP power iteration and the
linearity ratio."""

import math

import pytest
import torch

import hpo.dynamics as dyn
from hpo.errors import UserError


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


def test_linearity_ratio_is_hessian_over_squared_gradient():
    model, x = dyn.NTKMLP(5, 64, depth=2, activation="tanh", seed=0), dyn.sphere_inputs(1, 5)
    expected = dyn.hessian_spectral_norm(model, x) / dyn.output_gradient_norm(model, x) ** 2
    assert dyn.linearity_ratio(model, x) == pytest.approx(expected)


def test_hessian_needs_a_single_input():
    with pytest.raises(UserError, match="x must be a single input"):
        dyn.hessian_spectral_norm(dyn.two_layer_relu(4, 8), dyn.sphere_inputs(2, 4))
