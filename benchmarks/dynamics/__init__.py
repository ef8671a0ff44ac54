"""Experiments (a)-(h) reproducing the training-dynamics papers, one module each, and the
learning-rate range tuning comparison.

Each module has ``run(out_dir, seed=0) -> dict`` that writes ``<name>.png`` and ``<name>.csv``
into ``out_dir`` and returns the headline numbers, plus smaller functions the tests call at a
reduced size. ``hpo dynamics list`` / ``hpo dynamics run NAME --out DIR`` use :data:`EXPERIMENTS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from hpo.errors import UserError


@dataclass(frozen=True)
class Experiment:
    name: str
    letter: str
    module: str
    claim: str
    paper: str


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment(
            "catapults",
            "a",
            "catapults",
            "SGD loss spikes are catapults in the top NTK eigenspace (GD and SGD spikes measured); "
            "smaller batches give more of them, better AGOP alignment and lower test error",
            "Zhu, Liu, Radhakrishnan, Belkin. Catapults in SGD (arXiv 2306.04815, ICML 2024)",
        ),
        Experiment(
            "lr-phases",
            "b",
            "lr_phases",
            "eta < 2/lam: monotone; 2/lam < eta < ~4/lam: the network and its quadratic model "
            "catapult while the linearisation diverges; beyond: all diverge",
            "Zhu, Liu, Radhakrishnan, Belkin. Quadratic models for understanding catapult "
            "dynamics of neural networks (arXiv 2205.11787, ICLR 2024)",
        ),
        Experiment(
            "label-noise",
            "c",
            "label_noise",
            "from the zero function, under label noise: the clean subset sets the gradient early, "
            "the dominance fades near the bottom of the U-shaped clean-test error, the noise is fitted after",
            "Liu, Abedsoltan, Belkin. On emergence of clean-priority learning in early stopped "
            "neural networks (arXiv 2306.02533)",
        ),
        Experiment(
            "interpolation-sgd",
            "d",
            "interpolation_sgd",
            "off the linear regime (narrow networks) the aiming ratio stays bounded away from 0 and "
            "1-sample SGD converges within its worst-case bound, in about beta_max/lam times GD's iterations",
            "Liu, Drusvyatskiy, Belkin, Davis, Ma. Aiming towards the minimizers (arXiv 2306.02601)",
        ),
        Experiment(
            "relu-conditioning",
            "e",
            "relu_conditioning",
            "ReLU networks have a smaller NTK condition number than linear ones (which inherit "
            "the input Gram's), and deeper ReLU networks smaller still",
            "Liu, Hui. ReLU soothes the NTK condition number (arXiv 2305.08813)",
        ),
        Experiment(
            "dag-linearity",
            "f",
            "dag_linearity",
            "||Hessian|| of DAG networks against the minimum in-degree alone (fixed live width), "
            "against the output's in-degree, and for skip-connection networks",
            "Zhu, Liu, Belkin. Transition to linearity of general neural networks with DAG "
            "architecture (arXiv 2205.11786, NeurIPS 2022)",
        ),
        Experiment(
            "weak-models",
            "g",
            "weak_models",
            "one dominant sub-model stops ||Hessian|| from decaying with width (5 seeds, 95% "
            "intervals): linearity comes from assembling many weak models",
            "Liu, Zhu, Belkin. Transition to linearity of wide neural networks is an emerging "
            "property of assembling weak models (arXiv 2203.05104, ICLR 2022)",
        ),
        Experiment(
            "hessian-width",
            "h",
            "hessian_width",
            "||Hessian|| ~ width^-1/2 with a linear output layer, flat with a non-linear one; "
            "the NTK stays constant in training only in the first case",
            "Liu, Zhu, Belkin. On the linearity of large non-linear models: when and why the "
            "tangent kernel is constant (arXiv 2010.01092, NeurIPS 2020)",
        ),
        Experiment(
            "lr-range-tuning",
            "tuning",
            "lr_range_tuning",
            "tuning the digits MLP's learning rate over the measured range [0.3/s, probed top] vs a wide "
            "default range, same optimizer (TPE), budget and seeds",
            "this project; the critical rate 2/s from Lewkowycz et al. 2020 (arXiv 2003.02218)",
        ),
    )
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise UserError(f"experiment must be one of {', '.join(EXPERIMENTS)} or 'all'; got {name!r}")
    return EXPERIMENTS[name]


def run_experiment(name: str, out_dir: str | Path, *, seed: int = 0) -> dict:
    """Run one experiment; writes ``<name>.png`` and ``<name>.csv`` into ``out_dir``."""
    experiment = get_experiment(name)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out must be a directory, got the existing file {str(out_dir)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(f"benchmarks.dynamics.{experiment.module}")
    return module.run(out_dir, seed=seed)
