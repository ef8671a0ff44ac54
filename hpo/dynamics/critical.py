"""Critical learning rate and catapult window from the NTK, for a stated loss convention.

Under gradient descent on a squared loss, the outputs move (to first order) by
``r <- (I - eta * s * K) r`` where ``K`` is the empirical NTK over the N output entries and ``s``
depends on how the loss is normalised. So GD is stable iff ``eta < 2 / sharpness`` with
``sharpness = s * lambda_max(K)``, the top eigenvalue of the loss's Gauss-Newton matrix:

====================  =============================  ==============================
``loss``              loss                            sharpness
====================  =============================  ==============================
``"mse"``             ``mean((f - y)^2)`` (torch)     ``2 * lambda_max(K) / N``
``"half_mse"``        ``mean((f - y)^2) / 2``         ``lambda_max(K) / N``
``"sse"``             ``sum((f - y)^2)``              ``2 * lambda_max(K)``
``"half_sse"``        ``sum((f - y)^2) / 2``          ``lambda_max(K)``
====================  =============================  ==============================

``N`` is the number of output entries averaged over: the batch size for a scalar-output model,
``batch x outputs`` for torch's ``MSELoss`` on a vector output.

Between ``2/sharpness`` and about ``4/sharpness`` shallow ReLU networks (and their quadratic
models) are in the catapult phase: the loss spikes, the kernel shrinks, then training
converges (Lewkowycz et al. 2020; Zhu et al. 2023). The upper end is measured, not proven,
for deep networks (reported near 12/lambda), so :func:`catapult_window` takes it as a factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hpo.dynamics._checks import check_inputs, check_module
from hpo.dynamics.ntk import ntk_top_eigenvalue
from hpo.errors import UserError
from hpo.validation import check_choice, check_int, check_real

# loss convention -> (factor on lambda_max(K), whether the loss averages over the outputs)
LOSS_CONVENTIONS = {
    "mse": (2.0, True),
    "half_mse": (1.0, True),
    "sse": (2.0, False),
    "half_sse": (1.0, False),
}


def sharpness_from_kernel(lambda_max: float, n_outputs: int, loss: str = "mse") -> float:
    """Top Gauss-Newton eigenvalue of ``loss`` given ``lambda_max`` of the NTK over ``n_outputs`` entries."""
    check_choice("loss", loss, tuple(LOSS_CONVENTIONS))
    check_int("n_outputs", n_outputs, 1)
    factor, averaged = LOSS_CONVENTIONS[loss]
    return factor * lambda_max / n_outputs if averaged else factor * lambda_max


def _n_outputs(model, inputs, output_index) -> int:
    if output_index is not None:
        return inputs.shape[0]
    with torch.no_grad():
        return model(inputs).numel()


def ntk_sharpness(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    loss: str = "mse",
    *,
    output_index: int | None = None,
    method: str = "auto",
    seed: int = 0,
) -> float:
    """``sharpness`` of the table above for ``model`` on the probe batch ``inputs``."""
    check_module(model)
    inputs = check_inputs(inputs)
    check_choice("loss", loss, tuple(LOSS_CONVENTIONS))
    top = ntk_top_eigenvalue(model, inputs, output_index=output_index, method=method, seed=seed)
    return sharpness_from_kernel(top, _n_outputs(model, inputs, output_index), loss)


def critical_learning_rate(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    loss: str = "mse",
    *,
    output_index: int | None = None,
    method: str = "auto",
    seed: int = 0,
) -> float:
    """``2 / sharpness``: the largest learning rate at which linearised GD on ``loss`` is stable."""
    return 2.0 / ntk_sharpness(model, inputs, loss, output_index=output_index, method=method, seed=seed)


@dataclass(frozen=True)
class CatapultWindow:
    """Learning rates where a catapult is expected: ``critical < eta < upper``."""

    sharpness: float
    critical: float
    upper: float


def catapult_window(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    loss: str = "mse",
    *,
    upper_factor: float = 4.0,
    output_index: int | None = None,
    method: str = "auto",
) -> CatapultWindow:
    """The catapult window ``(2/sharpness, upper_factor/sharpness)``.

    ``upper_factor=4`` holds for shallow ReLU networks and their quadratic models (measured
    3.8-4.2); deep networks can go further, so measure before relying on it.
    """
    check_real("upper_factor", upper_factor, 0, exclusive_minimum=True)
    if upper_factor <= 2.0:
        raise UserError(f"upper_factor must be > 2 (the critical factor), got {upper_factor!r}")
    sharpness = ntk_sharpness(model, inputs, loss, output_index=output_index, method=method)
    return CatapultWindow(sharpness, 2.0 / sharpness, upper_factor / sharpness)
