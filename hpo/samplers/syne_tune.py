"""``syne-tune-bo``: Syne Tune's Bayesian optimization searcher (``BoTorchSearcher``, the
searcher of its ``BOTorch`` baseline: a BoTorch GP, log expected improvement optimized by
gradient from 200 raw samples and 20 restarts, 3 random configurations first) as an Optuna
sampler (``hpo.samplers._ask_tell``).

Floats are ``uniform`` / ``loguniform``, integers ``randint`` / ``lograndint``, choices
``choice`` over the choice indices. The searcher refits its GP at every suggestion, and its
run history is ordered by suggestion while its values are ordered by completion, so the
peer is rebuilt from the finished trials at every suggestion: they are its
``points_to_evaluate``, suggested and completed in trial order. It draws from the global
``random``, NumPy and torch generators and seeds torch's at construction: it runs under a
seed drawn from the sampler's, and the caller's generator states are restored after it.

Syne Tune's transfer searchers, built from source studies (``hpo.transfer.load_sources``;
registry entries without a plain factory, like ``sac-hmr-transfer``), each its own method
with no portfolio before it:

* ``syne-tune-quantile``: ``QuantileBasedSurrogateSearcher`` (Salinas et al., ICML 2020,
  copula Thompson sampling), on the sources' quantile scores; it never reads the target's
  trials.
* ``syne-tune-box``: ``syne-tune-bo`` inside ``BoundingBox``'s box (Perrone et al., NeurIPS
  2019): each numerical range cut to the span of the sources' best configurations (one per
  source), each choice to the choices they take.

Both are given the target's search space, so they suggest the first trial too. Syne Tune
0.16's ``ZeroShotTransfer`` is not offered: it uses ``random_state`` before setting it and
its ``suggest`` never calls its own selection.

Syne Tune 0.16 requires ``xgboost`` (with a 350 MB NCCL wheel) for its transfer searchers
only; ``scripts/install_peers.sh`` installs it without its dependencies next to BoTorch, the
CPU build ``xgboost-cpu`` and ``huggingface_hub`` (imported by the quantile searcher's module).
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from hpo.errors import UserError
from hpo.samplers._ask_tell import AskTellSampler, Config, Param, Peer, global_seed, require
from hpo.space import as_space

BoxFunction = Callable[[list[Param]], dict[str, Any]]  # the peer's parameters -> a restricted Syne Tune space
_SCORE = "score"

CONFIGURATION = (
    "syne_tune.optimizer.schedulers.searchers.botorch.BoTorchSearcher(config_space, "
    "points_to_evaluate=finished trials, random_seed=seed) (num_init_random=3, input_warping=False, "
    "num_restarts=20, num_raw_samples=200, optimization_strategy='gradient'), rebuilt at each suggestion"
)


class SyneTuneBOPeer(Peer):
    incremental = False

    def __init__(
        self,
        params: list[Param],
        seed: int,
        budget: int,
        told: list[tuple[Config, float]],
        *,
        box: BoxFunction | None = None,
        **searcher_options: Any,
    ):
        from syne_tune.optimizer.schedulers.searchers.botorch.botorch_searcher import BoTorchSearcher

        self.params, self.seed = params, seed
        points = [_to_syne(params, config) for config, _ in told]
        space = config_space(params) if box is None else box(params)
        with global_seed(seed), _quiet():
            self.searcher = BoTorchSearcher(
                config_space=space,
                points_to_evaluate=points,
                random_seed=seed,
                **searcher_options,
            )
            for trial_id, (point, (_, loss)) in enumerate(zip(points, told)):
                self.searcher.suggest()
                self.searcher.on_trial_complete(trial_id, point, loss)

    def ask(self) -> tuple[Config, Any]:
        with global_seed(self.seed), _quiet():
            config = self.searcher.suggest()
        return {p.name: config[p.name] for p in self.params}, None


class SyneTuneQuantilePeer(Peer):
    """Syne Tune's ``QuantileBasedSurrogateSearcher``: an XGBoost model of the sources'
    Gaussian-copula-transformed scores over the space, Thompson-sampled over 100 000 random
    candidates at each suggestion. The method ignores the target's own trials (Syne Tune ships
    the copula Thompson sampling of the paper, not its copula GP), so ``tell`` does nothing."""

    def __init__(self, params: list[Param], seed: int, budget: int, told: list[tuple[Config, float]], *, sources):
        from syne_tune.optimizer.schedulers.transfer_learning.quantile_based.quantile_based_searcher import (
            QuantileBasedSurrogateSearcher,
        )

        self.params = params
        with _quiet(), contextlib.redirect_stdout(io.StringIO()):  # it prints its fitting times
            self.searcher = QuantileBasedSurrogateSearcher(
                config_space(params), transfer_evaluations(params, sources), random_seed=seed
            )

    def ask(self) -> tuple[Config, Any]:
        config = self.searcher.suggest()
        return {p.name: config[p.name] for p in self.params}, None

    def tell(self, config: Config, loss: float, token: Any) -> None:
        pass


def bounding_box(params: list[Param], sources) -> dict[str, Any]:
    """The space restricted by Syne Tune's ``BoundingBox`` to the sources' best
    configurations (one per source): each numerical range to their minimum and maximum, each
    choice to the choices they take."""
    from syne_tune.optimizer.schedulers.transfer_learning.bounding_box import BoundingBox

    box: dict[str, Any] = {}

    def keep(space, metric, do_minimize, random_seed):
        box.update(space)
        return None

    with contextlib.redirect_stdout(io.StringIO()):  # it prints the box
        BoundingBox(
            keep,
            config_space=config_space(params),
            metric=_SCORE,
            transfer_learning_evaluations=transfer_evaluations(params, sources),
            do_minimize=True,
            num_hyperparameters_per_task=1,
        )
    # its choices come back as NumPy integers, which Syne Tune's searchers refuse
    return {name: _plain_choices(domain) for name, domain in box.items()}


def _plain_choices(domain: Any) -> Any:
    from syne_tune import config_space as cs

    if isinstance(domain, cs.Categorical):
        return cs.choice([int(c) for c in domain.categories])
    return domain


def transfer_evaluations(params: list[Param], sources) -> dict[str, Any]:
    """The sources (``hpo.transfer.Source``) as Syne Tune's offline evaluations: per source,
    its trials that set every parameter, in the peer's terms, with their quantile scores (0
    the best) as the one objective to minimize."""
    import numpy as np
    import pandas as pd
    from syne_tune.optimizer.schedulers.transfer_learning.transfer_learning_task_evaluation import (
        TransferLearningTaskEvaluations,
    )

    space = config_space(params)
    evaluations = {}
    for i, source in enumerate(sources):
        rows = [
            (config, score)
            for config, score in zip(source.params, source.scores)
            if all(p.name in config for p in params)
        ]
        if not rows:
            continue
        frame = pd.DataFrame([{p.name: p.to_peer(config[p.name]) for p in params} for config, _ in rows])
        scores = np.array([score for _, score in rows], dtype=float).reshape(-1, 1, 1, 1)
        evaluations[f"{i}:{source.name}"] = TransferLearningTaskEvaluations(space, frame, [_SCORE], scores)
    if not evaluations:
        raise UserError("transfer_from: no source trial sets every parameter of the search space")
    return evaluations


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without the numerical warnings of GPyTorch and BoTorch (the searcher fits noise-free
    observations, which GPyTorch lifts to a 1e-6 noise with a warning at every fit) and Syne
    Tune's NumPy 2 deprecation warning at every suggestion."""
    with warnings.catch_warnings():
        for module in ("gpytorch", "botorch", "linear_operator"):
            warnings.filterwarnings("ignore", module=module)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="syne_tune")
        yield


def config_space(params: list[Param]) -> dict[str, Any]:
    """The parameters as a Syne Tune configuration space."""
    from syne_tune import config_space as cs

    space = {}
    for p in params:
        if p.kind == "choice":
            space[p.name] = cs.choice(list(range(p.n_choices)))
        elif p.kind == "float":
            space[p.name] = (cs.loguniform if p.log else cs.uniform)(p.low, p.high)
        else:
            space[p.name] = (cs.lograndint if p.log else cs.randint)(int(p.low), int(p.high))
    return space


def _to_syne(params: list[Param], config: Config) -> dict[str, Any]:
    return {p.name: config[p.name] for p in params}


def from_registry(seed: int | None, n_objectives: int, n_trials: int | None, **options: Any) -> AskTellSampler:
    """The registry's ``syne-tune-bo``: ``CONFIGURATION``; ``options``: ``BoTorchSearcher``'s
    other arguments (``num_init_random``, ``input_warping``, ...)."""
    require("syne_tune", optimizer="syne-tune-bo", package="Syne Tune")
    require("botorch", optimizer="syne-tune-bo", package="BoTorch")
    return AskTellSampler(partial(SyneTuneBOPeer, **options), seed=seed, n_trials=n_trials)


def quantile_from_sources(
    sources: Sequence[Any], space: Mapping[str, Any], seed: int | None, n_trials: int | None = None, **_: Any
) -> AskTellSampler:
    """``syne-tune-quantile`` (transfer): ``SyneTuneQuantilePeer`` on ``space``, fitted to
    ``sources`` (``hpo.transfer.load_sources``). It has no portfolio: the portfolio size and
    progress arguments of the transfer factories are ignored."""
    require("syne_tune", optimizer="syne-tune-quantile", package="Syne Tune")
    require("xgboost", optimizer="syne-tune-quantile", package="XGBoost")
    require("huggingface_hub", optimizer="syne-tune-quantile", package="huggingface_hub")
    return AskTellSampler(
        partial(SyneTuneQuantilePeer, sources=list(sources)), seed=seed, n_trials=n_trials, space=as_space(space)
    )


def box_from_sources(
    sources: Sequence[Any], space: Mapping[str, Any], seed: int | None, n_trials: int | None = None, **_: Any
) -> AskTellSampler:
    """``syne-tune-box`` (transfer): ``syne-tune-bo`` inside the bounding box of the
    ``sources``' best configurations (``bounding_box``). It has no portfolio: the portfolio
    size and progress arguments of the transfer factories are ignored."""
    require("syne_tune", optimizer="syne-tune-box", package="Syne Tune")
    require("botorch", optimizer="syne-tune-box", package="BoTorch")
    sources = list(sources)
    # the peer is rebuilt at every suggestion; its box depends on the parameters alone
    boxes = functools.lru_cache(maxsize=4)(lambda params: bounding_box(list(params), sources))
    return AskTellSampler(
        partial(SyneTuneBOPeer, box=lambda params: boxes(tuple(params))),
        seed=seed,
        n_trials=n_trials,
        space=as_space(space),
    )
