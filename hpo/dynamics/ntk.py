"""Empirical neural tangent kernel (NTK) of a torch model and its spectrum.

The empirical NTK on a batch is the Gram matrix ``K = J J^T`` of the Jacobian ``J`` of the
model's outputs with respect to its trainable parameters. Its top eigenvalue sets the critical
learning rate (:mod:`hpo.dynamics.critical`), its condition number the speed of gradient
descent, and the angles between the rows of ``J`` (the "gradient features") how similar the
network finds two inputs.

Two paths: :func:`empirical_ntk` forms ``J`` with ``torch.func.jacrev`` (exact, memory ``n x P``);
:func:`ntk_top_eigenvalue` can instead run a matrix-free power iteration with one VJP and one
JVP per step, never storing ``J``, for models too large for the exact path.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.func import jacrev, jvp, vjp

from hpo.dynamics._checks import check_inputs, check_module, check_square_matrix
from hpo.dynamics._functional import output_function, trainable_parameters
from hpo.errors import UserError
from hpo.validation import check_choice, check_int, check_real

# The exact path holds the Jacobian (n x P numbers); above this many it switches to power iteration.
EXACT_JACOBIAN_LIMIT = 50_000_000


def empirical_ntk(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    *,
    output_index: int | None = None,
    as_numpy: bool = False,
    chunk_size: int | None = None,
):
    """Empirical NTK Gram matrix ``K[i, j] = <d f(x_i)/dw, d f(x_j)/dw>`` of ``model`` on ``inputs``.

    For a scalar-output model this is ``n x n``. For a model with ``k`` outputs it is
    ``nk x nk`` over the flattened outputs (sample-major), or ``n x n`` for the column picked by
    ``output_index``. Returns a torch tensor in the parameters' dtype (a numpy array with
    ``as_numpy=True``). ``chunk_size`` bounds how many output rows are differentiated at once.
    The model is called as it is: put it in ``eval()`` mode first if it has dropout or batch norm,
    so that the kernel is that of a deterministic, per-sample function.
    """
    check_module(model)
    inputs = check_inputs(inputs)
    if chunk_size is not None:
        check_int("chunk_size", chunk_size, 1)
    params = trainable_parameters(model)
    f = output_function(model, output_index)
    jacobian = jacrev(lambda p: f(p, inputs), chunk_size=chunk_size)(params)
    # Sum J_p J_p^T over parameter tensors instead of concatenating J: same result, less memory.
    gram = None
    for block in jacobian.values():
        rows = block.reshape(block.shape[0], -1)
        gram = rows @ rows.T if gram is None else gram + rows @ rows.T
    gram = gram.detach()
    return gram.cpu().numpy() if as_numpy else gram


def _kernel_vector_product(model, inputs, output_index):
    """``v -> K v = J (J^T v)`` without forming ``J``: one VJP and one JVP per call."""
    params = trainable_parameters(model)
    f = output_function(model, output_index)
    outputs, pullback = vjp(lambda p: f(p, inputs), params)

    def product(vector: torch.Tensor) -> torch.Tensor:
        (cotangent,) = pullback(vector)
        return jvp(lambda p: f(p, inputs), (params,), (cotangent,))[1]

    return product, outputs.shape[0], outputs.dtype


def ntk_top_eigenvalue(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    *,
    output_index: int | None = None,
    method: str = "auto",
    iterations: int = 200,
    tolerance: float = 1e-7,
    seed: int = 0,
) -> float:
    """Largest eigenvalue of the empirical NTK Gram matrix (not divided by n).

    ``method``: ``"exact"`` (eigenvalues of :func:`empirical_ntk`), ``"power"`` (matrix-free
    power iteration, stops when the Rayleigh quotient changes by less than ``tolerance``
    relative, or after ``iterations`` steps) or ``"auto"`` (exact unless the Jacobian would
    hold more than ``EXACT_JACOBIAN_LIMIT`` numbers).
    """
    check_module(model)
    inputs = check_inputs(inputs)
    check_choice("method", method, ("auto", "exact", "power"))
    check_int("iterations", iterations, 1)
    check_real("tolerance", tolerance, 0, exclusive_minimum=True)
    if method == "auto":
        n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
        with torch.no_grad():
            n_outputs = model(inputs[:1]).numel() if output_index is None else 1
        size = inputs.shape[0] * n_outputs * n_params
        method = "exact" if size <= EXACT_JACOBIAN_LIMIT else "power"
    if method == "exact":
        gram = empirical_ntk(model, inputs, output_index=output_index)
        return float(torch.linalg.eigvalsh(gram)[-1])
    product, size, dtype = _kernel_vector_product(model, inputs, output_index)
    generator = torch.Generator().manual_seed(seed)
    vector = torch.randn(size, generator=generator, dtype=dtype)
    vector /= vector.norm()
    estimate = 0.0
    for _ in range(iterations):
        image = product(vector).detach()
        new_estimate = float(vector @ image)  # Rayleigh quotient; K is PSD so it rises to lambda_max
        norm = image.norm()
        if norm == 0:
            return 0.0
        vector = image / norm
        if abs(new_estimate - estimate) <= tolerance * abs(new_estimate):
            return new_estimate
        estimate = new_estimate
    return estimate


def condition_number(gram) -> float:
    """``lambda_max / lambda_min`` of a symmetric PSD Gram matrix (inf when singular)."""
    gram = check_square_matrix(gram)
    eigenvalues = torch.linalg.eigvalsh(gram.to(torch.float64))
    smallest, largest = float(eigenvalues[0]), float(eigenvalues[-1])
    return math.inf if smallest <= largest * 1e-15 else largest / smallest


def min_gradient_angle(gram) -> float:
    """Smallest angle, in degrees, between two distinct gradient features (rows of ``J``).

    ``cos(angle_ij) = K_ij / sqrt(K_ii K_jj)``; larger minimum angles mean better conditioning.
    """
    gram = check_square_matrix(gram).to(torch.float64)
    if gram.shape[0] < 2:
        raise UserError(f"gram must be at least 2 x 2 to have an angle, got shape {tuple(gram.shape)}")
    diagonal = torch.sqrt(torch.clamp(torch.diagonal(gram), min=1e-300))
    cosines = gram / torch.outer(diagonal, diagonal)
    cosines.fill_diagonal_(-1.0)
    return math.degrees(math.acos(min(1.0, float(cosines.max()))))


def ntk_condition_number(model: torch.nn.Module, inputs: torch.Tensor, *, output_index=None) -> float:
    """Condition number of the empirical NTK of ``model`` on ``inputs``."""
    return condition_number(empirical_ntk(model, inputs, output_index=output_index))


def ntk_min_angle(model: torch.nn.Module, inputs: torch.Tensor, *, output_index=None) -> float:
    """Minimum angle (degrees) between the gradient features of ``model`` on ``inputs``."""
    return min_gradient_angle(empirical_ntk(model, inputs, output_index=output_index))


def relative_ntk_change(
    model_before: torch.nn.Module, model_after: torch.nn.Module, inputs: torch.Tensor, *, output_index=None
) -> float:
    """``||K_after - K_before||_F / ||K_before||_F`` on ``inputs``: how far training left the lazy regime."""
    before = empirical_ntk(model_before, inputs, output_index=output_index)
    after = empirical_ntk(model_after, inputs, output_index=output_index)
    if before.shape != after.shape:
        raise UserError(
            f"model_before and model_after give NTKs of different shapes {tuple(before.shape)} and "
            f"{tuple(after.shape)}; they must have the same outputs"
        )
    return float(torch.linalg.norm(after - before) / torch.linalg.norm(before))


def relative_frobenius_error(estimate, reference) -> float:
    """``||estimate - reference||_F / ||reference||_F`` for two matrices (tensors or arrays)."""
    estimate = torch.as_tensor(np.asarray(estimate) if not isinstance(estimate, torch.Tensor) else estimate)
    reference = torch.as_tensor(np.asarray(reference) if not isinstance(reference, torch.Tensor) else reference)
    if estimate.shape != reference.shape:
        raise UserError(f"estimate shape {tuple(estimate.shape)} differs from reference shape {tuple(reference.shape)}")
    difference = estimate.to(torch.float64) - reference.to(torch.float64)
    return float(torch.linalg.norm(difference) / torch.linalg.norm(reference.to(torch.float64)))
