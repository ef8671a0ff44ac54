"""``hpo.dynamics.quadratic``: the closed-form quadratic and linearised models against generic
Taylor models."""

import torch

import hpo.dynamics as dyn


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
