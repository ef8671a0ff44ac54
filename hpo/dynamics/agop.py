"""Average gradient outer product (AGOP) of a predictor, and alignment of two AGOPs.

``G_f = (1/n) sum_i grad_x f(x_i) grad_x f(x_i)^T`` (gradients in the *input*) describes which
input directions the predictor uses. Zhu et al. (2023) measure feature learning as the
alignment of the network's AGOP with the AGOP of the true predictor,
``<G_f, G*>_F / (||G_f||_F ||G*||_F)``; catapults raise it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import grad, vmap

from hpo.dynamics._checks import check_inputs, check_square_matrix
from hpo.errors import UserError


def input_gradients(predictor: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """``grad_x f(x_i)`` for every row of ``inputs`` (shape ``(n, d)``): a scalar-output predictor."""
    inputs = check_inputs(inputs)
    if not callable(predictor):
        raise UserError(f"predictor must be a callable (a torch module or a function), got {type(predictor).__name__}")

    def scalar(x):
        out = predictor(x.unsqueeze(0))
        if out.numel() != 1:
            raise UserError(f"predictor must return one value per sample, got shape {tuple(out.shape)} for one sample")
        return out.reshape(())

    return vmap(grad(scalar))(inputs).detach()


def agop(predictor: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """AGOP ``(1/n) sum_i g_i g_i^T`` of ``predictor`` on ``inputs``, a ``(d, d)`` tensor."""
    gradients = input_gradients(predictor, inputs).reshape(inputs.shape[0], -1)
    return gradients.T @ gradients / inputs.shape[0]


def agop_alignment(agop_matrix, reference) -> float:
    """Cosine similarity ``<G, G_ref>_F / (||G||_F ||G_ref||_F)`` of two AGOPs, in [-1, 1]."""
    first = check_square_matrix(agop_matrix, "agop_matrix").to(torch.float64)
    second = check_square_matrix(reference, "reference").to(torch.float64)
    if first.shape != second.shape:
        raise UserError(f"agop_matrix shape {tuple(first.shape)} differs from reference shape {tuple(second.shape)}")
    norms = torch.linalg.norm(first) * torch.linalg.norm(second)
    if norms == 0:
        raise UserError("an AGOP is zero; the alignment is undefined")
    return float((first * second).sum() / norms)
