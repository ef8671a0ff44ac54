"""``ngopt``: Nevergrad's NGOpt, the wizard that picks an optimizer for the budget, the
dimension and the variable types, as an Optuna sampler (``hpo.samplers._ask_tell``).

Floats are ``ng.p.Scalar`` (``ng.p.Log`` on a log scale), integers the same with integer
casting, choices ``ng.p.Choice`` over the choice indices. The optimizer is told the trials it
did not ask as children of its parametrization (Nevergrad's "tell not asked"); its random
state is seeded with the parametrization's.

Some of the optimizers NGOpt picks (COBYLA and others recast from SciPy) run in a thread that
waits for the next value; the threads left waiting are stopped when the process exits, which
would otherwise wait for them forever.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

import numpy as np

from hpo.errors import UserError
from hpo.samplers._ask_tell import AskTellSampler, Config, Param, Peer, require

CONFIGURATION = "nevergrad.optimizers.NGOpt(parametrization, budget=n_trials or 100, num_workers=1)"


class NevergradPeer(Peer):
    def __init__(
        self,
        params: list[Param],
        seed: int,
        budget: int,
        told: list[tuple[Config, float]],
        *,
        optimizer: str = "NGOpt",
    ):
        import nevergrad as ng

        _stop_threads_at_exit()
        self.parametrization = ng.p.Dict(**{p.name: _variable(ng, p) for p in params})
        self.parametrization.random_state = np.random.RandomState(seed)
        self.optimizer = ng.optimizers.registry[optimizer](
            parametrization=self.parametrization, budget=budget, num_workers=1
        )
        for config, loss in told:
            self.tell(config, loss, None)

    def ask(self) -> tuple[Config, Any]:
        candidate = self.optimizer.ask()
        return dict(candidate.value), candidate

    def tell(self, config: Config, loss: float, token: Any) -> None:
        candidate = token if token is not None else self.parametrization.spawn_child(new_value=config)
        self.optimizer.tell(candidate, loss)


_exit_hook = threading.Lock()
_exit_hook_set = False


def _stop_threads_at_exit() -> None:
    """Stop Nevergrad's waiting optimizer threads before the interpreter joins its threads."""
    global _exit_hook_set
    with _exit_hook:
        if not _exit_hook_set:
            threading._register_atexit(_stop_messaging_threads)  # runs before the threads are joined
            _exit_hook_set = True


def _stop_messaging_threads() -> None:
    from nevergrad.optimization.recaster import _MessagingThread

    for thread in threading.enumerate():
        if isinstance(thread, _MessagingThread):
            thread.stop()


def _variable(ng, param: Param):
    if param.kind == "choice":
        return ng.p.Choice(list(range(param.n_choices)))
    kind = ng.p.Log if param.log else ng.p.Scalar
    variable = kind(lower=param.low, upper=param.high)
    return variable.set_integer_casting() if param.kind == "int" else variable


def from_registry(
    seed: int | None, n_objectives: int, n_trials: int | None, *, optimizer: str = "NGOpt"
) -> AskTellSampler:
    """The registry's ``ngopt``: ``CONFIGURATION``; ``optimizer``: another optimizer of
    Nevergrad's registry (``nevergrad.optimizers.registry``)."""
    ng = require("nevergrad", optimizer="ngopt", package="Nevergrad")
    if optimizer not in ng.optimizers.registry:
        raise UserError(f"Nevergrad has no optimizer {optimizer!r}")
    return AskTellSampler(partial(NevergradPeer, optimizer=optimizer), seed=seed, n_trials=n_trials)
