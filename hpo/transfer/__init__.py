"""Transfer from earlier studies: loading and normalizing source studies (``sources``), the
greedy portfolio evaluated first by any optimizer (``portfolio``) and the cheap per-source
surrogate tasks the learned tuner is meta-trained on, whose mean is its prior where the
sources agree (``tasks``).
docs/transfer.md has the rules and the benchmark."""

from hpo.transfer.portfolio import DEFAULT_PORTFOLIO_SIZE, PortfolioSampler, encode_configs, nearest_scores, portfolio
from hpo.transfer.sources import Source, load_sources, source_trials
from hpo.transfer.tasks import PRIOR_MIN_AGREEMENT, SourcePrior, SourceTask, prior_agreement

__all__ = [
    "DEFAULT_PORTFOLIO_SIZE",
    "PRIOR_MIN_AGREEMENT",
    "PortfolioSampler",
    "Source",
    "SourcePrior",
    "SourceTask",
    "encode_configs",
    "load_sources",
    "nearest_scores",
    "portfolio",
    "prior_agreement",
    "source_trials",
]
