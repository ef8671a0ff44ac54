"""``hpo.dynamics.ntk``: the empirical NTK, its top eigenvalue and its change in training."""

import numpy as np
import pytest
import torch

import hpo.dynamics as dyn
from hpo.errors import UserError


def test_empirical_ntk_error_shrinks_like_inverse_sqrt_width():
    inputs = dyn.sphere_inputs(32, 10, seed=3)
    analytic = dyn.two_layer_relu_ntk(inputs)
    errors = [
        np.mean(
            [
                dyn.relative_frobenius_error(dyn.empirical_ntk(dyn.two_layer_relu(10, m, seed=s), inputs), analytic)
                for s in range(3)
            ]
        )
        for m in (64, 1024)
    ]
    # 16x the width: the O(m^-1/2) fluctuation should drop about 4x
    assert 2.5 < errors[0] / errors[1] < 6.5


def test_power_iteration_agrees_with_exact_top_eigenvalue():
    inputs = dyn.sphere_inputs(48, 10, seed=2)
    model = dyn.two_layer_relu(10, 512, seed=0)
    exact = dyn.ntk_top_eigenvalue(model, inputs, method="exact")
    power = dyn.ntk_top_eigenvalue(model, inputs, method="power", tolerance=1e-10, iterations=500)
    assert power == pytest.approx(exact, rel=1e-6)


def test_ntk_of_vector_output_flattens_and_selects():
    model = dyn.NTKMLP(5, 64, out_features=3, seed=0)
    inputs = dyn.sphere_inputs(4, 5)
    full = dyn.empirical_ntk(model, inputs)
    column = dyn.empirical_ntk(model, inputs, output_index=1)
    assert full.shape == (12, 12) and column.shape == (4, 4)
    assert torch.allclose(full[1::3, 1::3], column)
    assert isinstance(dyn.empirical_ntk(model, inputs, output_index=1, as_numpy=True), np.ndarray)


def test_relative_ntk_change_is_zero_for_identical_models_and_positive_after_a_step():
    inputs = dyn.sphere_inputs(8, 4)
    before, after = dyn.two_layer_relu(4, 32, seed=0), dyn.two_layer_relu(4, 32, seed=0)
    assert dyn.relative_ntk_change(before, after, inputs) == 0.0
    dyn.train(after, inputs, torch.sign(inputs[:, 0]), lr=1.0, steps=5)
    assert dyn.relative_ntk_change(before, after, inputs) > 0.0


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda m, x: dyn.empirical_ntk("not a model", x), "model must be a torch.nn.Module"),
        (lambda m, x: dyn.empirical_ntk(m, x.numpy()), "inputs must be a torch.Tensor"),
        (lambda m, x: dyn.empirical_ntk(m, x, output_index=5), "output_index must be an integer"),
        (lambda m, x: dyn.ntk_top_eigenvalue(m, x, method="lanczos"), "method is 'lanczos'; allowed"),
        (lambda m, x: dyn.critical_learning_rate(m, x, loss="cross_entropy"), "loss is 'cross_entropy'; allowed"),
    ],
)
def test_bad_input_names_the_parameter(call, fragment):
    model, inputs = dyn.two_layer_relu(4, 8), dyn.sphere_inputs(3, 4)
    with pytest.raises(UserError, match=fragment):
        call(model, inputs)
