"""Output Hessian of a model in its weights, and the linearity measures built on it.

Liu, Zhu & Belkin (2020) show that a wide network is close to linear in its weights because
the spectral norm of the Hessian of its *output*, ``||d^2 f(x) / dw^2||``, shrinks like
``width^-1/2`` while the gradient norm ``||d f(x) / dw||`` stays of order one. Their ratio
``||H|| / ||grad f||^2`` measures how far from linear the model is on the scale that matters for
GD. The spectral norm comes from power iteration on Hessian-vector products
(forward-over-reverse: ``jvp`` of ``grad``), so the Hessian itself is never formed.
"""

from __future__ import annotations

import torch
from torch.func import grad, jvp

from hpo.dynamics._checks import check_inputs, check_module
from hpo.dynamics._functional import (
    dict_norm,
    dict_scale,
    output_function,
    random_like,
    trainable_parameters,
)
from hpo.errors import UserError
from hpo.validation import check_int, check_real


def _scalar_output(model, x, output_index):
    """``w -> f_w(x)`` for a single input ``x`` (shape ``(1, ...)``), as a scalar."""
    check_module(model)
    x = check_inputs(x, "x")
    if x.shape[0] != 1:
        raise UserError(f"x must be a single input of shape (1, ...), got {x.shape[0]} samples; call once per sample")
    f = output_function(model, output_index)

    def scalar(params):
        out = f(params, x)
        if out.numel() != 1:
            raise UserError(f"the model has {out.numel()} outputs; pass output_index to pick one for the Hessian")
        return out.reshape(())

    return scalar


def output_gradient_norm(model: torch.nn.Module, x: torch.Tensor, *, output_index: int | None = None) -> float:
    """``||d f(x) / dw||`` over all trainable parameters, for one input ``x`` of shape ``(1, ...)``."""
    scalar = _scalar_output(model, x, output_index)
    return float(dict_norm(grad(scalar)(trainable_parameters(model))))


def hessian_spectral_norm(
    model: torch.nn.Module,
    x: torch.Tensor,
    *,
    output_index: int | None = None,
    iterations: int = 30,
    tolerance: float = 1e-4,
    seed: int = 0,
) -> float:
    """Spectral norm of the output Hessian ``d^2 f(x) / dw^2`` by HVP power iteration.

    Power iteration converges to the eigenvalue of largest magnitude, which is the spectral norm
    of the symmetric Hessian. Stops after ``iterations`` steps or when the estimate changes by
    less than ``tolerance`` (relative).
    """
    check_int("iterations", iterations, 1)
    check_real("tolerance", tolerance, 0, exclusive_minimum=True)
    scalar = _scalar_output(model, x, output_index)
    params = trainable_parameters(model)
    gradient = grad(scalar)

    def hessian_vector_product(vector):
        return jvp(gradient, (params,), (vector,))[1]

    vector = random_like(params, seed)
    estimate = 0.0
    for _ in range(iterations):
        image = hessian_vector_product(vector)
        norm = float(dict_norm(image))
        if norm == 0.0:
            return 0.0
        vector = dict_scale(image, 1.0 / norm)
        if abs(norm - estimate) <= tolerance * norm:
            return norm
        estimate = norm
    return estimate


def linearity_ratio(
    model: torch.nn.Module,
    x: torch.Tensor,
    *,
    output_index: int | None = None,
    iterations: int = 30,
    seed: int = 0,
) -> float:
    """``||H|| / ||grad f||^2`` at one input: small means the model is nearly linear in its weights."""
    hessian = hessian_spectral_norm(model, x, output_index=output_index, iterations=iterations, seed=seed)
    return hessian / output_gradient_norm(model, x, output_index=output_index) ** 2


__all__ = ["hessian_spectral_norm", "linearity_ratio", "output_gradient_norm"]
