"""The transfer benchmark's entries: what tunes each target.

Random, tpe and gp from scratch; the sources' greedy portfolio (``k =
hpo.transfer.DEFAULT_PORTFOLIO_SIZE``) then tpe or gp; CMA-ES warm-started from the source
trials (``CmaEsSampler(source_trials=...)``); ``sac-hmr-pretrained`` (no transfer);
``sac-hmr-transfer`` and its ablations: plain SAC (no HMR), frozen (no online fine-tuning), no
meta-training (the shipped agent after the portfolio), no prior from the sources in the
Gaussian process, and its portfolio followed by random search.
"""

from __future__ import annotations

import optuna

ENTRIES = (
    "random",
    "tpe",
    "gp",
    "portfolio+tpe",
    "portfolio+gp",
    "cmaes-warm",
    "sac-hmr-pretrained",
    "sac-hmr-transfer",
    "sac-transfer",
    "sac-hmr-transfer-frozen",
    "sac-hmr-transfer-no-meta",
    "sac-hmr-transfer-no-prior",
    "sac-hmr-transfer-portfolio-only",
)
# The ablations of sac-hmr-transfer: its options in ``hpo.samplers.sac_hmr_transfer.from_sources``.
_TRANSFER_OPTIONS = {
    "sac-hmr-transfer": {},
    "sac-transfer": {"hmr": False},
    "sac-hmr-transfer-frozen": {"fine_tune": False},
    "sac-hmr-transfer-no-meta": {"meta_train": False},
    "sac-hmr-transfer-no-prior": {"source_prior": False},
    "sac-hmr-transfer-portfolio-only": {"agent": False},
}


def make_entry(entry: str, sources, space, *, seed: int, n_trials: int):
    """The sampler of one entry; its meta-training (if any) happens at its first suggestions."""
    from hpo.optimizers import make_sampler
    from hpo.transfer import DEFAULT_PORTFOLIO_SIZE, PortfolioSampler, portfolio, source_trials

    if entry in ("random", "tpe", "gp", "sac-hmr-pretrained"):
        return make_sampler(entry, seed=seed, n_trials=n_trials)
    if entry.startswith("portfolio+"):
        configs = portfolio(sources, space, DEFAULT_PORTFOLIO_SIZE, seed=seed)
        return PortfolioSampler(make_sampler(entry.split("+", 1)[1], seed=seed, n_trials=n_trials), configs)
    if entry == "cmaes-warm":
        return optuna.samplers.CmaEsSampler(
            seed=seed, source_trials=source_trials(sources, space), warn_independent_sampling=False
        )
    from hpo.samplers.sac_hmr_transfer import from_sources

    return from_sources(sources, space, seed, n_trials=n_trials, **_TRANSFER_OPTIONS[entry])
