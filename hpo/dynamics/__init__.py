"""Training-dynamics diagnostics for torch models (tangent kernel, catapults, linearity, label noise).

Each function takes the user's ``torch.nn.Module`` and a batch of inputs and works with
``torch.func``; see ``docs/dynamics.md`` for the papers behind them and the experiments under
``benchmarks/dynamics`` that reproduce their claims.
"""

from hpo.dynamics.agop import agop, agop_alignment, input_gradients
from hpo.dynamics.analytic import analytic_ntk, input_gram, two_layer_relu_ntk
from hpo.dynamics.catapult import (
    CatapultReport,
    catapult_unrecovered,
    classify_phase,
    detect_catapults,
    diverged,
)
from hpo.dynamics.critical import (
    LOSS_CONVENTIONS,
    CatapultWindow,
    catapult_window,
    critical_learning_rate,
    ntk_sharpness,
    sharpness_from_kernel,
)
from hpo.dynamics.hessian import (
    hessian_spectral_norm,
    linearity_ratio,
    output_gradient_norm,
)
from hpo.dynamics.label_noise import (
    GradientSplit,
    gradient_cosine,
    gradient_cosine_stop,
    half_squared_error,
    split_gradient,
)
from hpo.dynamics.lr_range import LearningRateRange, LrProbe, lr_range, probe_loss
from hpo.dynamics.models import NTKMLP, Antisymmetric, NTKLinear, sphere_inputs, two_layer_relu
from hpo.dynamics.ntk import (
    condition_number,
    empirical_ntk,
    min_gradient_angle,
    ntk_condition_number,
    ntk_min_angle,
    ntk_top_eigenvalue,
    relative_frobenius_error,
    relative_ntk_change,
)
from hpo.dynamics.quadratic import (
    TaylorModel,
    TwoLayerReLUTaylor,
    linearized_model,
    quadratic_model,
)
from hpo.dynamics.training import TrainingRecord, squared_loss, train

__all__ = [
    "LOSS_CONVENTIONS",
    "NTKMLP",
    "Antisymmetric",
    "CatapultReport",
    "CatapultWindow",
    "GradientSplit",
    "LearningRateRange",
    "LrProbe",
    "NTKLinear",
    "TaylorModel",
    "TrainingRecord",
    "TwoLayerReLUTaylor",
    "agop",
    "agop_alignment",
    "analytic_ntk",
    "catapult_unrecovered",
    "catapult_window",
    "classify_phase",
    "condition_number",
    "critical_learning_rate",
    "detect_catapults",
    "diverged",
    "empirical_ntk",
    "gradient_cosine",
    "gradient_cosine_stop",
    "half_squared_error",
    "hessian_spectral_norm",
    "input_gradients",
    "input_gram",
    "linearity_ratio",
    "linearized_model",
    "lr_range",
    "min_gradient_angle",
    "ntk_condition_number",
    "ntk_min_angle",
    "ntk_sharpness",
    "ntk_top_eigenvalue",
    "output_gradient_norm",
    "probe_loss",
    "quadratic_model",
    "relative_frobenius_error",
    "relative_ntk_change",
    "sharpness_from_kernel",
    "sphere_inputs",
    "split_gradient",
    "squared_loss",
    "train",
    "two_layer_relu",
    "two_layer_relu_ntk",
]
