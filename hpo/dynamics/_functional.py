"""A torch module seen as a function of its parameters, for ``torch.func`` transforms.

All diagnostics differentiate the model's output with respect to its trainable parameters.
This module builds that function once: the parameters as a dict of detached tensors and
``f(params, inputs) -> flat output vector``.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from hpo.errors import UserError


def trainable_parameters(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's trainable parameters, detached (``torch.func`` tracks them itself)."""
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def select_outputs(outputs: torch.Tensor, n_samples: int, output_index: int | None) -> torch.Tensor:
    """Flatten the model's outputs into one vector, sample-major.

    A scalar-output model (shape ``(n,)`` or ``(n, 1)``) gives ``n`` entries; a model with
    ``k`` outputs gives ``n * k`` entries, or ``n`` when ``output_index`` picks one column.
    """
    if outputs.ndim == 0 or outputs.shape[0] != n_samples:
        raise UserError(
            f"the model's output must have the batch along dimension 0 ({n_samples} samples), got "
            f"shape {tuple(outputs.shape)}"
        )
    if output_index is None:
        return outputs.reshape(-1)
    columns = outputs.reshape(n_samples, -1)
    if (
        isinstance(output_index, bool)
        or not isinstance(output_index, int)
        or not (-columns.shape[1] <= output_index < columns.shape[1])
    ):
        raise UserError(
            f"output_index must be an integer in [0, {columns.shape[1]}) for this model, got {output_index!r}"
        )
    return columns[:, output_index]


def output_function(model: torch.nn.Module, output_index: int | None = None):
    """``f(params, inputs)``: the model's selected outputs on ``inputs`` as a flat vector."""

    def f(params: dict[str, torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
        return select_outputs(functional_call(model, params, (inputs,)), inputs.shape[0], output_index)

    return f


def flatten(tensors: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors.values()])


def dict_dot(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum((a[k] * b[k]).sum() for k in a)


def dict_norm(a: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.sqrt(dict_dot(a, a))


def dict_scale(a: dict[str, torch.Tensor], factor) -> dict[str, torch.Tensor]:
    return {k: v * factor for k, v in a.items()}


def random_like(params: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """A random direction in parameter space, unit norm, reproducible from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    direction = {k: torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) for k, p in params.items()}
    return dict_scale(direction, 1.0 / dict_norm(direction))
