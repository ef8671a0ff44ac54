"""The checks of torch inputs shared by the public functions of :mod:`hpo.dynamics` (numbers
and choices are checked by :mod:`hpo.validation`).

Every message names the parameter, the value received and what is allowed, so that the
command line can print it as one line.
"""

from __future__ import annotations

import torch

from hpo.errors import UserError


def check_module(model, name: str = "model") -> torch.nn.Module:
    if not isinstance(model, torch.nn.Module):
        raise UserError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise UserError(f"{name} has no trainable parameters; the tangent kernel needs some")
    return model


def check_inputs(inputs, name: str = "inputs", min_rows: int = 1) -> torch.Tensor:
    """A batch of inputs: a floating tensor with the samples along dimension 0."""
    if not isinstance(inputs, torch.Tensor):
        raise UserError(f"{name} must be a torch.Tensor of shape (n, ...), got {type(inputs).__name__}")
    if inputs.ndim < 1 or inputs.shape[0] < min_rows:
        raise UserError(
            f"{name} must hold at least {min_rows} sample(s) along dimension 0, got shape {tuple(inputs.shape)}"
        )
    if not inputs.is_floating_point():
        raise UserError(f"{name} must be a floating tensor, got dtype {inputs.dtype}")
    if not torch.isfinite(inputs).all():
        raise UserError(f"{name} contains NaN or infinite values")
    return inputs


def check_square_matrix(matrix, name: str = "gram") -> torch.Tensor:
    matrix = torch.as_tensor(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 1:
        raise UserError(f"{name} must be a square matrix, got shape {tuple(matrix.shape)}")
    return matrix
