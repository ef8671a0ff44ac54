"""The optimizer registry: one name, one configured Optuna sampler.

``hpo.tune(..., optimizer=NAME)``, ``hpo tune --optimizer NAME`` and the benchmarks all
resolve names here. An entry is a factory ``(seed, n_objectives, n_trials, **options) ->
BaseSampler`` (``n_trials``: the run's total budget where known, else ``None``), given as a
callable or, for samplers of a higher layer (ours, in ``hpo.samplers``), as the import path
``MODULE:FUNCTION`` so that this core module never imports them, plus a
one-line description, whether it handles several objectives, and the exact Optuna
configuration it stands for (Optuna 5 changed several defaults, so "TPE" alone is
ambiguous). Later parts of the toolkit add their optimizers with ``register``.
"""

from __future__ import annotations

import copy
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState

from hpo.errors import UserError
from hpo.loading import load_callable
from hpo.pruners import model_value
from hpo.validation import check_int

SamplerFactory = Callable[[int | None, int, int | None], optuna.samplers.BaseSampler]


@dataclass(frozen=True)
class OptimizerEntry:
    name: str
    description: str
    configuration: str
    # None: the sampler is built from source studies only (``transfer_factory``).
    factory: SamplerFactory | str | None
    single_objective: bool = True
    multi_objective: bool = False
    options: Mapping[str, object] = field(default_factory=dict)
    # Samplers built from source studies (docs/transfer.md): ``MODULE:FUNCTION`` of a factory
    # ``(sources, space, seed, n_trials) -> BaseSampler``; such a name needs transfer_from.
    transfer_factory: str | None = None

    # Whether the sampler uses the constraint values recorded on each trial
    # (``optuna.trial.Trial.set_constraint``, Optuna's constrained optimization).
    constraints: bool = False

    # The random start-up trials the sampler draws before it models (its factory then takes
    # ``n_startup_trials``); None: it has none to shorten. Finished trials of the study count,
    # so after a portfolio of k configurations a sampler built with ``n_startup_trials=k``
    # models at once.
    startup_trials: int | None = None

    # The pip extra its library comes with (``peers``: the field's optimizers); None: always
    # installed. Suites run such entries only where named, the registry-wide tests leave them
    # to their own tests.
    extra: str | None = None

    @property
    def needs_sources(self) -> bool:
        return self.factory is None

    def build(
        self, seed: int | None, n_objectives: int, n_trials: int | None, **extra: Any
    ) -> optuna.samplers.BaseSampler:
        if self.factory is None:
            raise UserError(
                f"optimizer {self.name!r} needs source studies: pass transfer_from= to hpo.tune "
                "(--transfer-from on the command line)"
            )
        factory = load_callable(self.factory, "optimizer factory") if isinstance(self.factory, str) else self.factory
        return factory(seed, n_objectives, n_trials, **self.options, **extra)


_REGISTRY: dict[str, OptimizerEntry] = {}


class ReplayCmaEsSampler(optuna.samplers.CmaEsSampler):
    """Optuna's CMA-ES with its state rebuilt at each suggestion by replaying the finished trials,
    generation by generation (parameters, values and the generation number: plain JSON).

    Optuna's sampler keeps the state as a pickle in the trials' system attributes and unpickles it
    from the storage, so a pickle planted by anyone who can write a shared study would run here;
    this one never reads it. ``tell`` is deterministic, so the replay gives the state Optuna would
    have stored (``tests/hpo/test_optimizers.py``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._finished = threading.local()  # the trials of the suggestion under way, per thread

    def _restore_optimizer(self, completed_trials):
        self._finished.trials = completed_trials
        return None  # so Optuna builds a fresh optimizer: _init_optimizer replays the trials into it

    def _init_optimizer(self, trans, direction):
        optimizer = super()._init_optimizer(trans, direction)
        sign = 1.0 if direction == optuna.study.StudyDirection.MINIMIZE else -1.0
        trials = getattr(self._finished, "trials", [])
        while True:
            batch = self._get_solution_trials(trials, optimizer.generation)[: optimizer.population_size]
            if len(batch) < optimizer.population_size:
                return optimizer
            optimizer.tell([(trans.transform(t.params), sign * t.value) for t in batch])


class PrunedAwareGPSampler(optuna.samplers.GPSampler):
    """Optuna's GP sampler that learns from pruned trials too: each pruned trial with a finite
    reported value counts as a complete one valued at its last report, as Optuna's
    ``CmaEsSampler(consider_pruned_trials=True)`` reads them (TPE ranks them below the complete
    ones). Optuna's own counts complete trials only, so with a pruner that stops most trials it
    stayed random search. In a constrained study a pruned trial has no constraint values and
    is left out. It overrides the private ``_intersection_search_space`` and reads trials
    through ``Study._get_trials``, as GPSampler does (checked against Optuna 5.0 and 5.1;
    ``tests/hpo/test_optimizers.py``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._intersection_search_space = optuna.search_space.IntersectionSearchSpace(include_pruned=True)

    def sample_relative(self, study, trial, search_space):
        return super().sample_relative(_PrunedAsComplete(study), trial, search_space)


class _PrunedAsComplete:
    """A view of a study in which pruned trials read as complete (``PrunedAwareGPSampler``)."""

    def __init__(self, study: optuna.Study):
        self._study = study

    def __getattr__(self, name):
        return getattr(self._study, name)

    def _get_trials(self, deepcopy: bool = True, states=None, use_cache: bool = False):
        trials = self._study._get_trials(deepcopy=False, states=None, use_cache=use_cache)
        constrained = any(t.constraints for t in trials if t.state == TrialState.COMPLETE)
        shown = []
        for trial in trials:
            if trial.state == TrialState.PRUNED:
                value = model_value(trial)
                if value is None or (constrained and not trial.constraints):
                    continue
                trial = copy.copy(trial)  # the setters replace the fields: the stored trial is untouched
                trial.state, trial.value = TrialState.COMPLETE, value
            if states is None or trial.state in states:
                shown.append(copy.deepcopy(trial) if deepcopy else trial)
        return shown


def register(entry: OptimizerEntry) -> None:
    """Add an optimizer to the registry (a name may be registered once)."""
    if entry.name in _REGISTRY:
        raise ValueError(f"optimizer {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry


def optimizers() -> dict[str, str]:
    """Registered optimizer names with their one-line descriptions."""
    return {name: entry.description for name, entry in _REGISTRY.items()}


def get_optimizer(name: str) -> OptimizerEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserError(f"optimizer {name!r} is unknown; allowed: {', '.join(_REGISTRY)}") from None


def make_sampler(
    name: str,
    seed: int | None = None,
    n_objectives: int = 1,
    n_trials: int | None = None,
    *,
    constrained: bool = False,
    n_startup_trials: int | None = None,
) -> optuna.samplers.BaseSampler:
    """Build the sampler registered under ``name`` for a study with ``n_objectives`` and a
    budget of ``n_trials`` trials (``None``: unknown; samplers that use the budget, like the
    SAC agents' "fraction of the budget used" input, then assume 100). ``constrained``: the
    trials will carry constraint values (``Trial.set_constraint``), so the sampler must use
    them. ``n_startup_trials``: finished trials before the sampler models, for samplers with
    random start-up trials (``OptimizerEntry.startup_trials``; ignored by the others)."""
    entry = get_optimizer(name)
    if n_objectives == 1 and not entry.single_objective:
        single = [n for n, s in _REGISTRY.items() if s.single_objective]
        raise UserError(
            f"optimizer {name!r} is multi-objective only; for one objective use one of: {', '.join(single)}"
        )
    if n_objectives > 1 and not entry.multi_objective:
        multi = [n for n, s in _REGISTRY.items() if s.multi_objective]
        raise UserError(
            f"optimizer {name!r} handles a single objective; for {n_objectives} objectives "
            f"use one of: {', '.join(multi)}"
        )
    if constrained and not entry.constraints:
        supported = [n for n, s in _REGISTRY.items() if s.constraints]
        raise UserError(f"optimizer {name!r} does not handle constraints; use one of: {', '.join(supported)}")
    extra = {}
    if n_startup_trials is not None and entry.startup_trials is not None:
        extra["n_startup_trials"] = check_int("n_startup_trials", n_startup_trials, 0)
    return entry.build(seed, n_objectives, n_trials, **extra)


def make_transfer_sampler(
    name: str,
    sources: Sequence[Any],
    space: Mapping[str, Any],
    seed: int | None = None,
    n_trials: int | None = None,
    *,
    portfolio_size: int | None = None,
    progress: bool = False,
) -> optuna.samplers.BaseSampler:
    """The sampler registered under ``name`` for a single-objective study that transfers from
    ``sources`` (``hpo.transfer.load_sources``): a transfer sampler (``sac-hmr-transfer``)
    is built from them; any other optimizer runs after the sources' greedy portfolio of
    ``portfolio_size`` configurations (default ``hpo.transfer.DEFAULT_PORTFOLIO_SIZE``) and
    models from the next trial on: the portfolio's trials are its start-up trials.
    ``progress``: a progress bar while a transfer sampler trains."""
    from hpo.transfer import DEFAULT_PORTFOLIO_SIZE, PortfolioSampler, portfolio

    entry = get_optimizer(name)
    size = DEFAULT_PORTFOLIO_SIZE if portfolio_size is None else check_int("portfolio_size", portfolio_size, 1)
    if entry.transfer_factory is not None:
        return load_callable(entry.transfer_factory, "transfer factory")(
            sources, space, seed, n_trials, progress=progress, portfolio_size=size
        )
    configs = portfolio(sources, space, size, seed=seed)
    startup = None if entry.startup_trials is None else min(size, entry.startup_trials)
    return PortfolioSampler(make_sampler(name, seed=seed, n_trials=n_trials, n_startup_trials=startup), configs)


def _quiet(cls, **kwargs):
    """Build a sampler without Optuna's ExperimentalWarning: the registry documents which
    configuration each name stands for, so the warning on every run is only noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return cls(**kwargs)


# Startup trials: Optuna's default of 10 random trials before the model-based samplers
# take over is kept, so results compare with published Optuna baselines.
register(
    OptimizerEntry(
        name="random",
        description="uniform random search",
        configuration="optuna.samplers.RandomSampler(seed=seed)",
        factory=lambda seed, n_obj, n_trials: optuna.samplers.RandomSampler(seed=seed),
        multi_objective=True,
    )
)
register(
    OptimizerEntry(
        name="qmc",
        description="scrambled Sobol quasi-random search",
        configuration="optuna.samplers.QMCSampler(qmc_type='sobol', scramble=True, seed=seed)",
        factory=lambda seed, n_obj, n_trials: _quiet(
            optuna.samplers.QMCSampler,
            qmc_type="sobol",
            scramble=True,
            seed=seed,
            warn_independent_sampling=False,
        ),
        multi_objective=True,
    )
)
register(
    OptimizerEntry(
        name="tpe",
        description="tree-structured Parzen estimator, multivariate (Optuna 5 default)",
        configuration=(
            "optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=10)"
        ),
        factory=lambda seed, n_obj, n_trials, n_startup_trials=10: optuna.samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=n_startup_trials
        ),
        constraints=True,
        startup_trials=10,
    )
)
register(
    OptimizerEntry(
        name="cmaes",
        description="CMA-ES evolution strategy (categoricals sampled independently)",
        configuration=(
            "optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False, consider_pruned_trials=True), "
            "its state rebuilt from the finished trials instead of unpickled from the storage "
            "(hpo.optimizers.ReplayCmaEsSampler)"
        ),
        factory=lambda seed, n_obj, n_trials: _quiet(
            ReplayCmaEsSampler, seed=seed, warn_independent_sampling=False, consider_pruned_trials=True
        ),
    )
)
register(
    OptimizerEntry(
        name="gp",
        description="Gaussian-process Bayesian optimization (Optuna's GPSampler)",
        configuration=(
            "optuna.samplers.GPSampler(seed=seed, n_startup_trials=10), learning from pruned trials at their last "
            "reported value (hpo.optimizers.PrunedAwareGPSampler)"
        ),
        factory=lambda seed, n_obj, n_trials, n_startup_trials=10: PrunedAwareGPSampler(
            seed=seed, n_startup_trials=n_startup_trials, warn_independent_sampling=False
        ),
        multi_objective=True,
        constraints=True,
        startup_trials=10,
    )
)
register(
    OptimizerEntry(
        name="nsga2",
        description="NSGA-II genetic algorithm for several objectives",
        configuration="optuna.samplers.NSGAIISampler(seed=seed, population_size=50)",
        factory=lambda seed, n_obj, n_trials: optuna.samplers.NSGAIISampler(seed=seed),
        constraints=True,
        single_objective=False,
        multi_objective=True,
    )
)
register(
    OptimizerEntry(
        name="motpe",
        description="multi-objective TPE (independent per parameter, Optuna 5's MO default)",
        configuration=(
            "optuna.samplers.TPESampler(seed=seed, multivariate=False, constant_liar=True, n_startup_trials=10)"
        ),
        factory=lambda seed, n_obj, n_trials, n_startup_trials=10: _quiet(
            optuna.samplers.TPESampler, seed=seed, multivariate=False, n_startup_trials=n_startup_trials
        ),
        constraints=True,
        startup_trials=10,
        single_objective=False,
        multi_objective=True,
    )
)


# Our agent-driven samplers (hpo.samplers) import torch and SB3; they are named by import
# path, built on first use, so that ``import hpo`` stays fast. Their defaults are in
# docs/sac-hmr.md and docs/pretrained.md.
register(
    OptimizerEntry(
        name="sac",
        description="soft actor-critic agent proposing trials (SB3 SAC; the HMR ablation)",
        configuration="hpo.SACHMRSampler(seed=seed, hmr=False)",
        factory="hpo.samplers.sac_hmr:from_registry",
        options={"hmr": False},
        startup_trials=10,
    )
)
register(
    OptimizerEntry(
        name="sac-hmr",
        description="soft actor-critic with hierarchical mixture regularization proposing trials",
        configuration="hpo.SACHMRSampler(seed=seed, hmr=True)",
        factory="hpo.samplers.sac_hmr:from_registry",
        options={"hmr": True},
        startup_trials=10,
    )
)
# The pre-trained agents: a shipped policy steers a Gaussian-process search in any space and
# keeps fine-tuning on the study. The last three names are the ablations of
# docs/pretrained.md, registered so that hpo bench can run them.
register(
    OptimizerEntry(
        name="sac-hmr-pretrained",
        description=(
            "SAC-HMR agent pre-trained on synthetic tasks (shipped) steering a Gaussian-process "
            "search, fine-tuned online (docs/pretrained.md)"
        ),
        configuration="hpo.samplers.PretrainedSampler('sac-hmr-pretrained', seed=seed)",
        factory="hpo.samplers.pretrained:from_registry",
        options={"agent": "sac-hmr-pretrained"},
    )
)
# The search those agents steer, on its own: each claim about an agent is made against it.
register(
    OptimizerEntry(
        name="gp-search",
        description=(
            "our Gaussian-process search with fixed acquisition settings, no agent; with "
            "transfer_from: after the sources' portfolio, with their prior (docs/pretrained.md); "
            "on two objectives: expected hypervolume improvement"
        ),
        configuration=(
            "hpo.samplers.PretrainedSampler(None, seed=seed, fixed_action=(0, 0, 0)); with sources: "
            "hpo.samplers.sac_hmr_transfer.gp_search_from_sources(sources, space, seed=seed); "
            "two objectives: hpo.samplers.ehvi.EHVISampler(seed=seed)"
        ),
        factory="hpo.samplers.pretrained:from_registry",
        multi_objective=True,
        options={"agent": None, "fixed_action": (0.0, 0.0, 0.0)},
        transfer_factory="hpo.samplers.sac_hmr_transfer:gp_search_from_sources",
    )
)


def _register_gp_search_ablation(name: str, description: str, *, option: str, value: Any) -> None:
    """``gp-search`` with one option of ``PretrainedSampler`` changed (docs/benchmarks.md)."""
    register(
        OptimizerEntry(
            name=name,
            description=f"{description} (its ablation, docs/benchmarks.md)",
            configuration=(
                f"hpo.samplers.PretrainedSampler(None, seed=seed, fixed_action=(0, 0, 0), {option}={value!r})"
            ),
            factory="hpo.samplers.pretrained:from_registry",
            options={"agent": None, "fixed_action": (0.0, 0.0, 0.0), option: value},
        )
    )


_register_gp_search_ablation(
    "gp-search-warped", "gp-search with input warping fitted with the model", option="warp", value=True
)
_register_gp_search_ablation(
    "gp-search-no-trust-region",
    "gp-search without its trust region above 10 parameters",
    option="trust_region",
    value=False,
)
_register_gp_search_ablation(
    "gp-search-random-start",
    "gp-search with 3 random start-up trials, not a Latin hypercube",
    option="startup",
    value="random",
)
register(
    OptimizerEntry(
        name="sac-pretrained",
        description="ablation: plain SAC pre-trained the same way (no HMR), fine-tuned online",
        configuration="hpo.samplers.PretrainedSampler('sac-pretrained', seed=seed)",
        factory="hpo.samplers.pretrained:from_registry",
        options={"agent": "sac-pretrained"},
    )
)
register(
    OptimizerEntry(
        name="sac-hmr-pretrained-frozen",
        description="ablation: the pre-trained SAC-HMR agent without online fine-tuning",
        configuration="hpo.samplers.PretrainedSampler('sac-hmr-pretrained', seed=seed, fine_tune=False)",
        factory="hpo.samplers.pretrained:from_registry",
        options={"agent": "sac-hmr-pretrained", "fine_tune": False},
    )
)
register(
    OptimizerEntry(
        name="sac-hmr-scratch",
        description="ablation: the pre-trained agent's sampler and network with fresh weights",
        configuration="hpo.samplers.PretrainedSampler(None, seed=seed)",
        factory="hpo.samplers.pretrained:from_registry",
        options={"agent": None},
    )
)
# Transfer from earlier studies (docs/transfer.md): the name alone gives no source studies
# (no factory); hpo.tune(..., transfer_from=...) builds it with
# hpo.samplers.sac_hmr_transfer.from_sources.
register(
    OptimizerEntry(
        name="sac-hmr-transfer",
        description=(
            "the shipped SAC-HMR agent steering a Gaussian-process search, meta-trained on source studies "
            "(transfer_from=), after their greedy portfolio, fine-tuned online (docs/transfer.md)"
        ),
        configuration="hpo.samplers.sac_hmr_transfer.from_sources(sources, space, seed=seed)",
        factory=None,
        transfer_factory="hpo.samplers.sac_hmr_transfer:from_sources",
    )
)


# The field's optimizers, each behind an ask/tell adapter that is an Optuna sampler
# (hpo.samplers._ask_tell; single objective): HEBO, SMAC3, Nevergrad and Syne Tune. Their
# libraries come with the peers extra (sh scripts/install_peers.sh; building one without it is a
# UserError that says so). Each is told the complete trials' values, the pruned trials' last
# intermediate values (skipped without one) and nothing of failed trials; maximized values
# are negated. SMAC3 runs its BlackBoxFacade (a GP): its recommendation for a few tens of
# evaluations of a black box, the budgets these optimizers are compared at; its
# HyperparameterOptimizationFacade (a random forest) targets hundreds of cheap evaluations.
register(
    OptimizerEntry(
        name="hebo",
        description="HEBO: GP with input/output warping, MACE acquisition by NSGA-II (peers extra)",
        configuration=(
            "hebo.optimizers.hebo.HEBO(space, model_name='gp', rand_sample=None (1 + dimensions Sobol points), "
            "acq_cls=MACE, es='nsga2', scramble_seed=seed), suggest(n_suggestions=1); HEBO 0.3.6"
        ),
        factory="hpo.samplers.hebo:from_registry",
        extra="peers",
    )
)
register(
    OptimizerEntry(
        name="smac",
        description="SMAC3 Bayesian optimization, black-box facade: GP and EI (peers extra)",
        configuration=(
            "smac.BlackBoxFacade(Scenario(configspace, deterministic=True, n_trials=n_trials or 100, seed=seed), "
            "initial_design=BlackBoxFacade.get_initial_design(scenario) (Sobol, "
            "n_configs_per_hyperparameter=8, max_ratio=0.25)), ask/tell; SMAC3 2.4.1"
        ),
        factory="hpo.samplers.smac:from_registry",
        extra="peers",
    )
)
register(
    OptimizerEntry(
        name="ngopt",
        description="Nevergrad's NGOpt: picks an optimizer for the budget, dimension and types (peers extra)",
        configuration=(
            "nevergrad.optimizers.NGOpt(parametrization (seeded), budget=n_trials or 100, num_workers=1); "
            "Nevergrad 1.0.12"
        ),
        factory="hpo.samplers.nevergrad:from_registry",
        extra="peers",
    )
)
register(
    OptimizerEntry(
        name="syne-tune-bo",
        description="Syne Tune's Bayesian optimization searcher: BoTorch GP and log EI (peers extra)",
        configuration=(
            "syne_tune...botorch_searcher.BoTorchSearcher(config_space, random_seed=seed) (num_init_random=3, "
            "input_warping=False, num_restarts=20, num_raw_samples=200), rebuilt from the finished trials "
            "at each suggestion; Syne Tune 0.16.0, BoTorch 0.18.1"
        ),
        factory="hpo.samplers.syne_tune:from_registry",
        extra="peers",
    )
)
# Syne Tune's transfer searchers: built from source studies only (transfer_from=), each its own
# method, so neither runs after the sources' portfolio.
register(
    OptimizerEntry(
        name="syne-tune-quantile",
        description=(
            "Syne Tune's quantile-based transfer (copula Thompson sampling of an XGBoost model of "
            "the sources; transfer_from=, peers extra)"
        ),
        configuration=(
            "syne_tune...quantile_based_searcher.QuantileBasedSurrogateSearcher(config_space, "
            "sources as TransferLearningTaskEvaluations (quantile scores), random_seed=seed) "
            "(normalization='gaussian', XGBRegressor(), 100 000 candidates); Syne Tune 0.16.0"
        ),
        factory=None,
        transfer_factory="hpo.samplers.syne_tune:quantile_from_sources",
        extra="peers",
    )
)
register(
    OptimizerEntry(
        name="syne-tune-box",
        description=(
            "syne-tune-bo inside Syne Tune's bounding box of the sources' best configurations "
            "(transfer_from=, peers extra)"
        ),
        configuration=(
            "syne_tune...bounding_box.BoundingBox(config_space, sources as TransferLearningTaskEvaluations, "
            "do_minimize=True, num_hyperparameters_per_task=1)'s box, searched by syne-tune-bo's "
            "BoTorchSearcher; Syne Tune 0.16.0"
        ),
        factory=None,
        transfer_factory="hpo.samplers.syne_tune:box_from_sources",
        extra="peers",
    )
)
