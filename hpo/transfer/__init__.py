"""Transfer from earlier studies: loading and normalizing source studies (``sources``), the
greedy portfolio evaluated first by any optimizer (``portfolio``) and the cheap per-source
surrogates of the sources the learned tuner is meta-trained on, whose mean is its prior where
the sources agree (``source_surrogates``).
docs/transfer.md has the rules and the benchmark."""

from hpo.transfer.portfolio import DEFAULT_PORTFOLIO_SIZE, PortfolioSampler, encode_configs, nearest_scores, portfolio
from hpo.transfer.source_surrogates import PRIOR_MIN_AGREEMENT, SourcePrior, SourceSurrogate, prior_agreement
from hpo.transfer.sources import Source, load_sources, source_trials

__all__ = [
    "DEFAULT_PORTFOLIO_SIZE",
    "PRIOR_MIN_AGREEMENT",
    "PortfolioSampler",
    "Source",
    "SourcePrior",
    "SourceSurrogate",
    "encode_configs",
    "load_sources",
    "nearest_scores",
    "portfolio",
    "prior_agreement",
    "source_trials",
]
