"""The pruner registry, and the reporter an objective uses to report intermediate values.

``hpo.tune(..., pruner=NAME)`` and ``hpo tune --pruner NAME`` resolve names here, as
optimizers resolve in ``hpo.optimizers``: each name stands for one explicit Optuna pruner
configuration. An objective that takes a second argument receives a ``Reporter`` (the trial
with ``report``, ``should_prune`` and, for torch objectives, ``report_loss`` and
``check_learning_rate``) and stops by raising ``optuna.TrialPruned``; the trial is then
PRUNED, counts toward the budget, and the samplers see it as Optuna's samplers do (TPE and
GP use a pruned trial's last reported value).

``"sac-hmr"``, ``"sac-no-hmr"`` and ``"extrapolation"`` are the multi-fidelity scheduler
(``hpo.agents.scheduler``, ``docs/multi_fidelity.md``): at each rung (epochs 1, 2, 4, ...) a
policy sees the trial's partial curve among the others and a power-law extrapolation of its
final value, and stops it or lets it continue; the first two are agents pre-trained on
synthetic learning curves, the last the hand-set rule on the same observation.

``"dynamics"`` is Hyperband plus two checks from the training-dynamics theory
(``docs/dynamics.md``): a trial whose training loss diverges, or spikes (a catapult) and does
not come back within ``patience`` reports, is pruned; and a
learning rate above the top of the range measured on the initial model is skipped before
any training (``Reporter.check_learning_rate``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.pruners import BasePruner
from optuna.trial import FrozenTrial, TrialState

from hpo.checkpoints import RESUMED_FROM, START_STEP, checkpoint_dir, checkpoint_path
from hpo.errors import UserError
from hpo.loading import load_callable

LOSS_ATTR = "hpo:losses"
SKIP_ATTR = "hpo:skipped"


@dataclass(frozen=True)
class PrunerEntry:
    name: str
    description: str
    configuration: str
    # A callable, or ``MODULE:FUNCTION`` of one for a pruner that lives in a higher layer (an
    # agent-driven one), loaded when the pruner is built, as the optimizer registry does.
    factory: Callable[[], BasePruner] | str
    # ``MODULE:FUNCTION`` of ``(sources, seed=) -> pruner``: the pruner adapted to source studies
    # (``hpo.tune(transfer_from=)``); ``None``: the same pruner with or without sources.
    transfer_factory: str | None = None


_REGISTRY: dict[str, PrunerEntry] = {}


def register(entry: PrunerEntry) -> None:
    """Add a pruner to the registry (a name may be registered once)."""
    if entry.name in _REGISTRY:
        raise ValueError(f"pruner {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry


def pruners() -> dict[str, str]:
    """Registered pruner names with their one-line descriptions."""
    return {name: entry.description for name, entry in _REGISTRY.items()}


def get_pruner(name: str) -> PrunerEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserError(f"pruner {name!r} is unknown; allowed: {', '.join(_REGISTRY)}") from None


def make_pruner(pruner: str | BasePruner | None) -> BasePruner:
    """The pruner registered under ``pruner`` (``None``: ``"none"``), or an Optuna pruner as is."""
    if pruner is None:
        pruner = "none"
    if isinstance(pruner, BasePruner):
        return pruner
    if not isinstance(pruner, str):
        raise UserError(f"pruner must be a registry name or an optuna pruner, got {type(pruner).__name__}")
    factory = get_pruner(pruner).factory
    if isinstance(factory, str):
        factory = load_callable(factory, "pruner factory")
    return factory()


def make_transfer_pruner(name: str, sources, *, seed: int | None) -> BasePruner:
    """The pruner registered under ``name`` for a study that transfers from ``sources``
    (``hpo.transfer.Source``): its ``transfer_factory``'s, else the plain one."""
    entry = get_pruner(name)
    if entry.transfer_factory is None:
        return make_pruner(name)
    return load_callable(entry.transfer_factory, "pruner transfer factory")(sources, seed=seed)


def model_value(trial: FrozenTrial) -> float | None:
    """The value a model-based optimizer learns from a finished trial: a complete one's value,
    a pruned one's last reported value (where it was judged bad enough to stop, as Optuna's
    TPE and ``CmaEsSampler(consider_pruned_trials=True)`` read it); ``None`` for a failed
    trial, a pruned one without a report, or a value that is not finite."""
    if trial.state == TrialState.COMPLETE:
        value = trial.value
    elif trial.state == TrialState.PRUNED and trial.intermediate_values:
        value = trial.intermediate_values[max(trial.intermediate_values)]
    else:
        return None
    return float(value) if value is not None and math.isfinite(value) else None


class DynamicsPruner(BasePruner):
    """Prunes what ``base`` prunes, and a trial whose reported training loss (``Reporter.
    report_loss``) diverged (``hpo.dynamics.diverged``: non-finite, or above
    ``divergence_factor`` times its first value) or sits in a spike that has not come down
    for ``patience`` reports (``hpo.dynamics.catapult_unrecovered``). Trials skipped by
    ``Reporter.check_learning_rate`` are pruned before training."""

    def __init__(self, base: BasePruner | None = None, *, divergence_factor: float = 10.0, patience: int = 2):
        if divergence_factor <= 1:
            raise UserError(f"divergence_factor must be > 1, got {divergence_factor!r}")
        if patience < 1:
            raise UserError(f"patience must be >= 1, got {patience!r}")
        self._base = base if base is not None else optuna.pruners.NopPruner()
        self._divergence_factor = divergence_factor
        self._patience = patience

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        if trial.user_attrs.get(SKIP_ATTR):
            return True
        losses = trial.user_attrs.get(LOSS_ATTR)
        if losses:
            # torch-based diagnostics: loaded only when this pruner meets a loss curve
            from hpo.dynamics import catapult_unrecovered, diverged

            if diverged(losses, factor=self._divergence_factor) or catapult_unrecovered(
                losses, patience=self._patience
            ):
                return True
        return self._base.prune(study, trial)


class Reporter:
    """What an objective of the form ``objective(params, trial)`` receives: the Optuna trial
    (every attribute of ``optuna.Trial`` is available, ``suggest_*`` included) with

    * ``report(value, step)``: an intermediate objective value (e.g. validation error per
      epoch), used by every pruner;
    * ``should_prune()``: whether to stop now (then ``raise optuna.TrialPruned()``);
    * ``report_loss(loss, step)``: the training loss, for ``pruner="dynamics"``;
    * ``check_learning_rate(lr, max_lr)`` or ``check_learning_rate(lr, model=, inputs=,
      targets=)``: for ``pruner="dynamics"``, raises ``optuna.TrialPruned`` when ``lr`` is above
      the top of the range where the initial model trains (``hpo.dynamics.lr_range``);
    * with ``hpo.tune(checkpoint_dir=...)`` (pause and resume, ``hpo.checkpoints``):
      ``checkpoint``, the directory where the objective saves its state after each step;
      ``resumed``, whether this trial resumes a paused one; ``start_step``, the step its
      checkpoint holds (0 for a new trial), from which it trains on.
    """

    def __init__(self, trial: optuna.Trial):
        self._trial = trial
        self._losses: list[float] = list(trial.user_attrs.get(LOSS_ATTR, []))  # a resumption's go on
        self._checkpoint: Path | None = None

    @property
    def trial(self) -> optuna.Trial:
        return self._trial

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)

    def report(self, value: float, step: int) -> None:
        self._trial.report(float(value), int(step))

    @property
    def checkpoint(self) -> Path:
        """This trial's checkpoint directory (created here); a resumption shares the one of
        the trial it resumes. Read from the study once (an objective may ask at every step)."""
        if self._checkpoint is None:
            directory = checkpoint_dir(self._trial.study)
            if directory is None:
                raise UserError(
                    "reporter.checkpoint: this study has no checkpoint directory; pass checkpoint_dir= to hpo.tune"
                )
            self._checkpoint = checkpoint_path(directory, self._trial)
            self._checkpoint.mkdir(parents=True, exist_ok=True)
        return self._checkpoint

    @property
    def resumed(self) -> bool:
        """Whether this trial resumes a paused one: load ``checkpoint`` and train from
        ``start_step + 1``."""
        return RESUMED_FROM in self._trial.user_attrs

    @property
    def start_step(self) -> int:
        return int(self._trial.user_attrs.get(START_STEP, 0))

    def should_prune(self) -> bool:
        return self._trial.should_prune()

    def report_loss(self, loss: float, step: int) -> None:
        """Record the training loss after ``step`` (one value per step, in order)."""
        self._losses.append(float(loss))
        self._trial.set_user_attr(LOSS_ATTR, self._losses)

    def check_learning_rate(
        self, lr: float, max_lr: float | None = None, *, model=None, inputs=None, targets=None, **lr_range_options
    ) -> None:
        """Skip the trial (``optuna.TrialPruned``) when ``lr`` exceeds the top of the range
        where the initial model trains: ``max_lr`` if given, else measured here on ``model``
        with the probe ``inputs`` and ``targets`` by ``hpo.dynamics.lr_range`` (its options,
        e.g. ``batch_size=`` and ``optimizer=``, pass through). Only with the dynamics pruner."""
        if not isinstance(self._trial.study.pruner, DynamicsPruner):
            return
        if max_lr is None:
            if model is None or inputs is None or targets is None:
                raise UserError("check_learning_rate: give max_lr, or model, inputs and targets to measure it")
            from hpo.dynamics import lr_range  # torch: loaded only when a range is measured

            max_lr = lr_range(model, inputs, targets, **lr_range_options).high
        if float(lr) > float(max_lr):
            reason = f"learning rate {lr:.4g} above the trainable top {max_lr:.4g}"
            self._trial.set_user_attr(SKIP_ATTR, reason)
            raise optuna.TrialPruned(reason)


def _quiet(cls, **kwargs):
    # The registry documents the configuration; Optuna's ExperimentalWarning is only noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return cls(**kwargs)


# Optuna's defaults where they exist, written out, so the configuration is explicit.
register(
    PrunerEntry(
        name="none",
        description="no pruning: every trial runs to the end",
        configuration="optuna.pruners.NopPruner()",
        factory=optuna.pruners.NopPruner,
    )
)
register(
    PrunerEntry(
        name="median",
        description="stop a trial whose intermediate value is worse than the median of earlier trials at that step",
        configuration="optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0, interval_steps=1)",
        factory=lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0, interval_steps=1),
    )
)
register(
    PrunerEntry(
        name="percentile",
        description="stop a trial worse than the 25th percentile of earlier trials at that step",
        configuration="optuna.pruners.PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=0)",
        factory=lambda: optuna.pruners.PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=0),
    )
)
register(
    PrunerEntry(
        name="successive-halving",
        description="asynchronous successive halving (ASHA): keep the best 1/4 at each rung",
        configuration="optuna.pruners.SuccessiveHalvingPruner(min_resource='auto', reduction_factor=4)",
        factory=lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource="auto", reduction_factor=4),
    )
)
register(
    PrunerEntry(
        name="hyperband",
        description="Hyperband: successive halving over several brackets of minimum resource",
        configuration="optuna.pruners.HyperbandPruner(min_resource=1, max_resource='auto', reduction_factor=3)",
        factory=lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource="auto", reduction_factor=3),
    )
)
register(
    PrunerEntry(
        name="wilcoxon",
        description="Wilcoxon signed-rank test against the best trial over reported instances (e.g. CV folds)",
        configuration="optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)",
        factory=lambda: _quiet(optuna.pruners.WilcoxonPruner, p_threshold=0.1, n_startup_steps=2),
    )
)
register(
    PrunerEntry(
        name="dynamics",
        description="Hyperband plus training-dynamics checks: divergence, unrecovered catapults, too-large rates",
        configuration=(
            "hpo.pruners.DynamicsPruner(optuna.pruners.HyperbandPruner(min_resource=1, max_resource='auto', "
            "reduction_factor=3), divergence_factor=10.0, patience=2)"
        ),
        factory=lambda: DynamicsPruner(
            optuna.pruners.HyperbandPruner(min_resource=1, max_resource="auto", reduction_factor=3)
        ),
    )
)
for _name, _policy, _description in (
    ("sac-hmr", "sac_hmr", "SAC-HMR scheduler pre-trained on synthetic learning curves: stop or continue at each rung"),
    ("sac-no-hmr", "sac", "the same scheduler trained with plain SAC (the HMR ablation)"),
    (
        "extrapolation",
        "extrapolation",
        "stop at a rung when the power-law extrapolated final value, less its uncertainty, cannot beat the incumbent",
    ),
):
    register(
        PrunerEntry(
            name=_name,
            description=_description,
            configuration=f"hpo.agents.scheduler.{_policy}(max_resource='auto', budget=None)",
            factory=f"hpo.agents.scheduler:{_policy}",
            # with transfer_from: meta-trained on the source studies' intermediate values
            transfer_factory="hpo.agents.scheduler_training:meta_trained" if _name == "sac-hmr" else None,
        )
    )
