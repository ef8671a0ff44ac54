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

Syne Tune 0.16 requires ``xgboost`` (with a 350 MB NCCL wheel) for its transfer searchers
only; ``scripts/install_peers.sh`` installs it without its dependencies next to BoTorch and
the CPU build ``xgboost-cpu``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from functools import partial
from typing import Any

from hpo.samplers._ask_tell import AskTellSampler, Config, Param, Peer, global_seed, require

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
        **searcher_options: Any,
    ):
        from syne_tune.optimizer.schedulers.searchers.botorch.botorch_searcher import BoTorchSearcher

        self.params, self.seed = params, seed
        points = [_to_syne(params, config) for config, _ in told]
        with global_seed(seed), _quiet():
            self.searcher = BoTorchSearcher(
                config_space=config_space(params),
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


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without the numerical warnings of GPyTorch and BoTorch: the searcher fits noise-free
    observations, which GPyTorch lifts to a 1e-6 noise with a warning at every fit."""
    with warnings.catch_warnings():
        for module in ("gpytorch", "botorch", "linear_operator"):
            warnings.filterwarnings("ignore", module=module)
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
