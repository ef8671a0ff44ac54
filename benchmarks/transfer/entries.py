"""The transfer benchmark's entries: what tunes each target.

Random, tpe, gp and our Gaussian-process search (``gp-search``) from scratch; the sources'
greedy portfolio (``k = hpo.transfer.DEFAULT_PORTFOLIO_SIZE``) then tpe, gp or ``gp-search``
(``hpo.optimizers.make_transfer_sampler``: each models from the trial after the portfolio;
``portfolio+gp-search`` uses the sources' prior as ``sac-hmr-transfer`` does, and
``portfolio+gp-search-no-prior`` does not); CMA-ES warm-started from the source trials
(``CmaEsSampler(source_trials=...)``, valued in the target's direction);
``sac-hmr-pretrained`` (no transfer); ``sac-hmr-transfer`` and its ablations: plain SAC (no
HMR), frozen (no online fine-tuning), no meta-training (the shipped agent after the
portfolio), no prior from the sources in the Gaussian process, and its portfolio followed by
random search. Syne Tune's transfer searchers (``syne-tune-quantile``, ``syne-tune-box``: the
peers extra) are entries too, run where named (``--optimizers``), each as its own method,
without the portfolio.
"""

from __future__ import annotations

import optuna

ENTRIES = (
    "random",
    "tpe",
    "gp",
    "gp-search",
    "portfolio+tpe",
    "portfolio+gp",
    "portfolio+gp-search",
    "portfolio+gp-search-no-prior",
    "cmaes-warm",
    "sac-hmr-pretrained",
    "sac-hmr-transfer",
    "sac-transfer",
    "sac-hmr-transfer-frozen",
    "sac-hmr-transfer-no-meta",
    "sac-hmr-transfer-no-prior",
    "sac-hmr-transfer-portfolio-only",
    "syne-tune-quantile",
    "syne-tune-box",
)
# The entries of the peers extra: run where named, never by default.
PEER_ENTRIES = ("syne-tune-quantile", "syne-tune-box")
# The ablations of sac-hmr-transfer: its options in ``hpo.samplers.sac_hmr_transfer.from_sources``.
_TRANSFER_OPTIONS = {
    "sac-hmr-transfer": {},
    "sac-transfer": {"hmr": False},
    "sac-hmr-transfer-frozen": {"fine_tune": False},
    "sac-hmr-transfer-no-meta": {"meta_train": False},
    "sac-hmr-transfer-no-prior": {"source_prior": False},
    "sac-hmr-transfer-portfolio-only": {"agent": False},
}


def make_entry(entry: str, sources, space, *, seed: int, n_trials: int, direction: str):
    """The sampler of one entry for a target studied in ``direction``; its meta-training (if
    any) happens at its first suggestions."""
    from hpo.optimizers import make_sampler, make_transfer_sampler
    from hpo.transfer import source_trials

    if entry in ("random", "tpe", "gp", "gp-search", "sac-hmr-pretrained"):
        return make_sampler(entry, seed=seed, n_trials=n_trials)
    if entry == "portfolio+gp-search-no-prior":
        from hpo.samplers.sac_hmr_transfer import gp_search_from_sources

        return gp_search_from_sources(sources, space, seed, n_trials=n_trials, source_prior=False)
    if entry in PEER_ENTRIES:
        return make_transfer_sampler(entry, sources, space, seed=seed, n_trials=n_trials)
    if entry.startswith("portfolio+"):
        return make_transfer_sampler(entry.split("+", 1)[1], sources, space, seed=seed, n_trials=n_trials)
    if entry == "cmaes-warm":
        return optuna.samplers.CmaEsSampler(
            seed=seed,
            source_trials=source_trials(sources, space, direction=direction),
            warn_independent_sampling=False,
        )
    from hpo.samplers.sac_hmr_transfer import from_sources

    return from_sources(sources, space, seed, n_trials=n_trials, **_TRANSFER_OPTIONS[entry])
