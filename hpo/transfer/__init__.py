"""Transfer from earlier studies: loading and normalizing source studies (``sources``), the
greedy portfolio evaluated first by any optimizer (``portfolio``) and the cheap per-source
surrogate tasks the learned tuner is meta-trained on (``tasks``). docs/transfer.md has the
rules and the benchmark."""

from hpo.transfer.portfolio import PortfolioSampler, encode_configs, nearest_scores, portfolio
from hpo.transfer.sources import Source, load_sources, source_trials
from hpo.transfer.tasks import SourceTask

__all__ = [
    "PortfolioSampler",
    "Source",
    "SourceTask",
    "encode_configs",
    "load_sources",
    "nearest_scores",
    "portfolio",
    "source_trials",
]
