"""``SearchCV``: a scikit-learn meta-estimator that tunes an estimator with ``hpo.tune``.

Like ``GridSearchCV``, but the candidates come from a registry optimizer (``tpe``, ``gp``,
``sac-hmr``, ...) over an hpo search space. Each trial is a cross-validation of one
configuration on the same splits; ``cv_results_`` has ``GridSearchCV``'s layout, one row per
trial in the order they ran, so ``pandas.DataFrame(search.cv_results_)`` reads the same.

Pruning: with a trial to report to and an iterative estimator (``partial_fit``, or
``warm_start`` with ``n_estimators``/``max_iter``), a configuration is trained in
``max_iter`` steps, the mean validation score is reported after each, and the trial stops
when the pruner says so (see ``_CVEvaluation``).
"""

from __future__ import annotations

import numbers
import re
import time
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv, cross_validate
from sklearn.utils import _safe_indexing, get_tags, indexable
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from hpo.errors import UserError
from hpo.optimizers import get_optimizer
from hpo.pruners import make_pruner
from hpo.space import as_space
from hpo.storage import open_storage
from hpo.tuning import tune
from hpo.validation import check_choice, check_int, check_real, check_seed

# Parameters that set how long a warm-startable estimator trains, in order of preference.
_BUDGET_PARAMS = ("n_estimators", "max_iter")


def _iterative_mode(estimator) -> str | None:
    """How ``estimator`` trains step by step: ``"partial_fit"``, ``"warm_start"`` or ``None``."""
    if hasattr(estimator, "partial_fit"):
        return "partial_fit"
    if _budget_param(estimator) is not None:
        return "warm_start"
    return None


def _budget_param(estimator) -> str | None:
    """The parameter that sets how long a warm-startable estimator trains, if it has one."""
    params = estimator.get_params(deep=False)
    if "warm_start" not in params:
        return None
    return next((name for name in _BUDGET_PARAMS if isinstance(params.get(name), numbers.Integral)), None)


@dataclass
class _Record:
    """One evaluated configuration: per-split scores and times, and how its trial ended."""

    params: dict[str, Any]
    test_scores: np.ndarray
    train_scores: np.ndarray | None
    fit_time: np.ndarray
    score_time: np.ndarray
    state: str  # COMPLETE, PRUNED or FAIL, as the trial's state in the study
    error: str | None = None  # why no split could be fitted

    def stored(self) -> dict[str, Any]:
        """The record as JSON for the trial's user attribute ``CV_KEY`` (parameters apart:
        the trial has them). NaN scores are stored as ``None``."""

        def listed(values):
            return None if values is None else [None if np.isnan(v) else float(v) for v in np.asarray(values, float)]

        return {
            "test_scores": listed(self.test_scores),
            "train_scores": listed(self.train_scores),
            "fit_time": listed(self.fit_time),
            "score_time": listed(self.score_time),
            "state": self.state,
            "error": self.error,
        }

    @classmethod
    def from_trial(cls, trial: optuna.trial.FrozenTrial, n_splits: int, train: bool) -> _Record | None:
        """The record a trial stored (``None`` if it stored none: it failed before one was
        made). It comes from a storage that others can write: a record of another shape is
        refused with a ``UserError`` naming the trial."""
        stored = trial.user_attrs.get(CV_KEY)
        if stored is None:
            return None

        def scores(name: str, required: bool = True) -> np.ndarray | None:
            values = stored.get(name) if isinstance(stored, Mapping) else None
            if values is None and not required:
                return None
            if not (isinstance(values, list) and len(values) == n_splits):
                raise ValueError(f"{name} is not a list of {n_splits} numbers")
            if not all(v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)) for v in values):
                raise ValueError(f"{name} holds something other than numbers")
            return np.array([np.nan if v is None else float(v) for v in values])

        try:
            record = cls(
                dict(trial.params),
                scores("test_scores"),
                scores("train_scores", required=train),
                scores("fit_time"),
                scores("score_time"),
                stored.get("state"),
                stored.get("error"),
            )
            if record.state not in ("COMPLETE", "PRUNED", "FAIL"):
                raise ValueError(f"state is {record.state!r:.40}")
            if not (record.error is None or isinstance(record.error, str)):
                raise ValueError("error is not text")
        except ValueError as err:
            raise UserError(
                f"trial {trial.number}: its stored cross-validation record {CV_KEY!r} is refused: {err}"
            ) from None
        return record


CV_KEY = "hpo:cv"


@dataclass
class _CVEvaluation:
    """The objective of a search: cross-validates one configuration on fixed splits.

    Every call appends a ``_Record``. A failing fit scores ``error_score`` (with a
    ``FitFailedWarning``), as in ``GridSearchCV``. An exception that escapes an evaluation
    (with ``error_score="raise"``, a failing fit) is kept in ``error``; later calls fail at
    once and ``SearchCV.fit`` raises it after the study, since ``hpo.tune`` turns exceptions
    into FAIL trials.
    """

    estimator: Any
    X: Any
    y: Any
    splits: list[tuple[np.ndarray, np.ndarray]]
    scorer: Any
    fit_params: dict[str, Any]
    error_score: Any
    return_train_score: bool
    prune: bool
    max_iter: int
    records: list[_Record] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0] if hasattr(self.X, "shape") else len(self.X)

    def __call__(self, params: dict[str, Any], trial=None) -> float:
        """Mean test score of ``params``. With a ``trial`` (``report(value, step)``,
        ``should_prune()``) and pruning on, an iterative estimator is trained step by step and
        ``optuna.TrialPruned`` stops it; otherwise one ``cross_validate``."""
        if self.error is not None:
            raise RuntimeError(f"not evaluated: an earlier trial raised {type(self.error).__name__}")
        estimator = clone(self.estimator).set_params(**params)
        mode = _iterative_mode(estimator) if self.prune and trial is not None else None
        try:
            if mode is None:
                record = self._cross_validate(estimator, params)
            else:
                record = self._train_in_steps(estimator, params, mode, trial=trial)
        except optuna.TrialPruned:
            raise
        except Exception as err:
            self.error = err
            if trial is not None and hasattr(trial, "study"):
                trial.study.stop()  # error_score="raise": no further trial starts
            raise
        self._keep(record, trial)
        return float(np.mean(record.test_scores))

    def _keep(self, record: _Record, trial) -> None:
        self.records.append(record)
        if trial is not None and hasattr(trial, "set_user_attr"):
            trial.set_user_attr(CV_KEY, record.stored())

    def _cross_validate(self, estimator, params: dict[str, Any]) -> _Record:
        try:
            result = cross_validate(
                estimator,
                self.X,
                self.y,
                cv=self.splits,
                scoring=self.scorer,
                params=self.fit_params,
                return_train_score=self.return_train_score,
                error_score=self.error_score,
            )
        except ValueError as err:
            # With a numeric error_score, cross_validate raises only when the fits of every
            # split failed: for a search that is one failed candidate, not the end.
            if self.error_score == "raise":
                raise
            return self._failed(params, err)
        return self._record(
            params,
            result["test_score"],
            result.get("train_score"),
            fit_time=result["fit_time"],
            score_time=result["score_time"],
        )

    def _train_in_steps(self, estimator, params: dict[str, Any], mode: str, trial) -> _Record:
        """Train one copy of ``estimator`` per split in ``max_iter`` steps, report the mean
        test score after each step; a pruned trial is recorded with its last scores."""
        folds = [_Fold(clone(estimator), train, test) for train, test in self.splits]
        schedule = _step_schedule(estimator, mode, self.max_iter)
        classes = np.unique(self.y) if mode == "partial_fit" and is_classifier(estimator) else None
        pruned = False
        try:
            for step, budget in enumerate(schedule):
                for fold in folds:
                    fold.fit_step(self, mode, budget, classes=classes)
                    fold.score(self)
                trial.report(float(np.mean([fold.test_score for fold in folds])), step)
                if trial.should_prune():
                    pruned = True
                    break
        except Exception as err:
            if self.error_score == "raise":
                raise
            return self._failed(params, err)
        if self.return_train_score:
            for fold in folds:
                fold.score(self, train=True)
        record = self._record(
            params,
            np.array([fold.test_score for fold in folds], dtype=float),
            np.array([fold.train_score for fold in folds], dtype=float) if self.return_train_score else None,
            fit_time=np.array([fold.fit_time for fold in folds]),
            score_time=np.array([fold.score_time for fold in folds]),
            pruned=pruned,
        )
        if pruned:
            self._keep(record, trial)
            raise optuna.TrialPruned(f"pruned after step {step} of {len(schedule)}")
        return record

    def _failed(self, params: dict[str, Any], err: Exception) -> _Record:
        """The record of a configuration that no split could fit: ``error_score`` everywhere."""
        reason = _reason(err)
        warnings.warn(f"no split could be fitted with {params}: {reason}", FitFailedWarning, stacklevel=3)
        scores = np.full(len(self.splits), self.error_score, dtype=float)
        times = np.zeros(len(self.splits))
        return _Record(dict(params), scores, scores if self.return_train_score else None, times, times, "FAIL", reason)

    def _record(self, params, test_scores, train_scores, fit_time, score_time, pruned: bool = False) -> _Record:
        if pruned:
            state = "PRUNED"
        else:
            state = "COMPLETE" if np.isfinite(np.mean(test_scores)) else "FAIL"
        return _Record(dict(params), np.asarray(test_scores, dtype=float), train_scores, fit_time, score_time, state)


def stepwise_cv_score(estimator, X, y, cv, trial, *, steps: int = 10) -> float:
    """Mean cross-validated score of ``estimator`` on the ``cv`` splits, trained in ``steps``
    steps if it is iterative, reporting to ``trial`` (an ``hpo.tune`` reporter) after each and
    raising ``optuna.TrialPruned`` when the study's pruner says so; with no pruner (or not
    iterative), one ``cross_validate``. The built-in tasks' objectives use it."""
    evaluation = _CVEvaluation(
        estimator=estimator,
        X=X,
        y=y,
        splits=list(cv.split(X, y)),
        scorer=check_scoring(estimator),
        fit_params={},
        error_score="raise",
        return_train_score=False,
        prune=not isinstance(trial.study.pruner, optuna.pruners.NopPruner),
        max_iter=steps,
    )
    return evaluation({}, trial)


@dataclass
class _Fold:
    """One split's copy of the estimator while it trains step by step."""

    estimator: Any
    train_rows: np.ndarray
    test_rows: np.ndarray
    test_score: float = np.nan
    train_score: float = np.nan
    fit_time: float = 0.0
    score_time: float = 0.0

    def fit_step(self, evaluation: _CVEvaluation, mode: str, budget: int | None, classes) -> None:
        X, y = _safe_indexing(evaluation.X, self.train_rows), _safe_indexing(evaluation.y, self.train_rows)
        fit_params = _split_params(evaluation.fit_params, self.train_rows, evaluation.n_samples)
        start = time.perf_counter()
        if mode == "partial_fit":
            extra = {} if classes is None else {"classes": classes}
            self.estimator.partial_fit(X, y, **extra, **fit_params)
        else:
            self.estimator.set_params(warm_start=True, **{_budget_param(self.estimator): budget})
            self.estimator.fit(X, y, **fit_params)
        self.fit_time += time.perf_counter() - start

    def score(self, evaluation: _CVEvaluation, train: bool = False) -> None:
        rows = self.train_rows if train else self.test_rows
        X, y = _safe_indexing(evaluation.X, rows), _safe_indexing(evaluation.y, rows)
        start = time.perf_counter()
        value = float(evaluation.scorer(self.estimator, X, y))
        self.score_time += time.perf_counter() - start
        if train:
            self.train_score = value
        else:
            self.test_score = value


def _step_schedule(estimator, mode: str, max_iter: int) -> list[int | None]:
    """Per step: the value of the budget parameter (warm start: ``n_estimators`` or
    ``max_iter`` grown in equal chunks up to the configured value), or ``None`` for one
    ``partial_fit`` call."""
    if mode == "partial_fit":
        return [None] * max_iter
    total = estimator.get_params(deep=False)[_budget_param(estimator)]
    return sorted({max(1, round(total * (step + 1) / max_iter)) for step in range(max_iter)})


def _split_params(fit_params: dict[str, Any], indices: np.ndarray, n_samples: int) -> dict[str, Any]:
    """Fit parameters of one split: per-sample arrays (``sample_weight``) indexed like X."""
    return {
        key: _safe_indexing(value, indices) if np.ndim(value) > 0 and len(value) == n_samples else value
        for key, value in fit_params.items()
    }


def _cv_results(records: list[_Record], n_splits: int, return_train_score: bool) -> dict[str, Any]:
    """``GridSearchCV``'s ``cv_results_`` layout, plus ``state``; pruned and failed trials
    rank after every complete one, as failed candidates do in scikit-learn."""
    results: dict[str, Any] = {}
    for kind in ("fit", "score"):
        times = np.array([getattr(record, f"{kind}_time") for record in records])
        results[f"mean_{kind}_time"] = times.mean(axis=1)
        results[f"std_{kind}_time"] = times.std(axis=1)
    params = [record.params for record in records]
    for name in dict.fromkeys(name for p in params for name in p):  # a conditional one may be absent
        values = [p[name] for p in params if name in p]
        inferred = np.array(values)
        dtype = inferred.dtype if inferred.dtype.kind != "U" and inferred.ndim == 1 else object
        column = np.ma.MaskedArray(np.empty(len(params), dtype=dtype), mask=True)
        for i, p in enumerate(params):  # one by one: tuple values must not broadcast
            if name in p:
                column[i] = p[name]
        results[f"param_{name}"] = column
    results["params"] = params
    splits = {"test": np.array([record.test_scores for record in records])}
    if return_train_score:
        splits["train"] = np.array([record.train_scores for record in records])
    for kind, scores in splits.items():
        for k in range(n_splits):
            results[f"split{k}_{kind}_score"] = scores[:, k]
        results[f"mean_{kind}_score"] = scores.mean(axis=1)
        results[f"std_{kind}_score"] = scores.std(axis=1)
        if kind == "test":
            complete = np.array([record.state == "COMPLETE" for record in records])
            results["rank_test_score"] = _rank(np.where(complete, results["mean_test_score"], np.nan))
    results["state"] = np.array([record.state for record in records], dtype=object)
    return results


def _rank(means: np.ndarray) -> np.ndarray:
    """1 for the best mean; NaN means share the rank after the worst finite one."""
    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    means = np.nan_to_num(means, nan=np.nanmin(means) - 1)
    return rankdata(-means, method="min").astype(np.int32)


def _best_has(attr: str):
    """For ``available_if``: the refit best estimator, or before fit the estimator, has ``attr``."""

    def check(self) -> bool:
        if not self.refit:
            raise AttributeError(f"{attr} needs refit=True: SearchCV was built with refit={self.refit!r}")
        getattr(self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, attr)
        return True

    return check


class SearchCV(MetaEstimatorMixin, BaseEstimator):
    """Tune ``estimator`` over ``param_distributions`` by cross-validation with ``hpo.tune``.

    Parameters
    ----------
    estimator:
        A scikit-learn estimator (a ``Pipeline`` too: name parameters ``step__param``).
    param_distributions:
        The search space: ``{name: optuna distribution}`` or the dict form of ``hpo.space``.
    optimizer:
        A registry name (``hpo.optimizers()``) or an Optuna sampler instance.
    pruner:
        A pruner name (``hpo.pruners.pruners()``) or an Optuna pruner; it stops unpromising
        trials of iterative estimators (``partial_fit``, or ``warm_start`` with
        ``n_estimators``/``max_iter``). Any other estimator (a ``Pipeline`` too: it has no
        ``partial_fit``) cannot report a score per step, and a pruner is refused for it.
    n_trials:
        Number of configurations tried (with ``storage``, the study's total: a rerun goes on
        with the rest).
    cv, scoring, error_score, return_train_score:
        As in ``GridSearchCV``; ``scoring`` is one metric (a scorer name or a callable), a
        higher score is better. With ``error_score="raise"`` the first failing fit stops the
        search and is raised.
    refit:
        ``True``: refit the best configuration on the whole data (``best_estimator_``,
        ``predict``...). A callable: ``refit(cv_results_)`` returns the index of the
        configuration to refit (``best_score_`` is then not set), as in ``GridSearchCV``.
        ``False``: no refit.
    random_state:
        Seeds the optimizer: a non-negative integer, ``None``, or a NumPy ``RandomState`` or
        ``Generator`` (one seed is drawn from it per fit).
    max_iter:
        Steps of an iterative estimator when a pruner is used: ``partial_fit`` calls, or
        equal chunks of its own ``n_estimators``/``max_iter`` with warm start.
    show_progress_bar:
        A tqdm bar over trials.
    n_jobs:
        Trials run in parallel threads (as ``OptunaSearchCV``'s ``n_jobs``); the budget
        stays exact.
    timeout:
        Seconds for the search: no trial starts after it (``None``: no limit).
    callbacks:
        ``callback(study, frozen_trial)`` after every trial, as Optuna's; ``study.stop()``
        there ends the search.
    storage, study_name:
        An Optuna storage URL or object and a study name: the search is kept there (for the
        dashboard, or to resume: a rerun of the same search runs only the trials still
        missing and reports them all). A study of that name that holds another search
        (estimator, scoring, splits, data size) is refused.
    verbose:
        0: quiet (Optuna's messages are hidden during ``fit``); 1 or more: Optuna's
        per-trial log.

    Attributes
    ----------
    cv_results_, best_index_, best_params_, best_score_, best_estimator_, refit_time_,
    scorer_, n_splits_, multimetric_:
        As in ``GridSearchCV``, one row of ``cv_results_`` per trial; ``cv_results_["state"]``
        says how the trial ended (``COMPLETE``, ``PRUNED`` with its last step's scores,
        ``FAIL``).
    study_:
        The Optuna study of the search.
    n_trials_:
        Number of finished trials.
    """

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        optimizer="tpe",
        pruner="none",
        n_trials=20,
        cv=5,
        scoring=None,
        refit=True,
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        max_iter=10,
        show_progress_bar=False,
        n_jobs=1,
        timeout=None,
        callbacks=None,
        storage=None,
        study_name=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.optimizer = optimizer
        self.pruner = pruner
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.max_iter = max_iter
        self.show_progress_bar = show_progress_bar
        self.n_jobs = n_jobs
        self.timeout = timeout
        self.callbacks = callbacks
        self.storage = storage
        self.study_name = study_name
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = deepcopy(inner.classifier_tags)
        tags.regressor_tags = deepcopy(inner.regressor_tags)
        tags.target_tags = deepcopy(inner.target_tags)
        tags.input_tags.pairwise = inner.input_tags.pairwise
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    def fit(self, X, y=None, groups=None, **fit_params):
        """Run the search, then refit the chosen configuration on ``X, y`` (``refit``).

        ``groups`` goes to the splitter; ``fit_params`` to every fit of the estimator.
        """
        space, evaluation = self._evaluation(X, y, groups, fit_params=fit_params)
        storage = open_storage(self.storage)
        described = self._description(evaluation)
        with _optuna_verbosity(self.verbose):
            _check_same_search(storage, self.study_name, described)
            result = tune(
                evaluation,  # called as evaluation(params, trial): the trial reports for the pruner
                space,
                optimizer=self.optimizer,
                pruner=self.pruner,
                n_trials=self.n_trials,
                direction="maximize",
                seed=_seed(self.random_state),
                show_progress_bar=self.show_progress_bar,
                catch=(Exception,),  # the evaluation handles the estimator's errors itself (error_score)
                n_jobs=self.n_jobs,
                timeout=self.timeout,
                callbacks=list(self.callbacks or ()),
                storage=storage,
                study_name=self.study_name,
            )
            result.study.set_user_attr(SEARCH_KEY, described)
        if evaluation.error is not None:
            raise evaluation.error
        n_splits = len(evaluation.splits)
        records = [_Record.from_trial(t, n_splits, self.return_train_score) for t in result.study.trials]
        records = [record for record in records if record is not None]
        if not records:
            reasons = {trial.user_attrs.get("error") for trial in result.study.trials}
            raise UserError(f"no configuration was evaluated; the trials failed with: {'; '.join(map(str, reasons))}")
        if all(record.error for record in records):
            raise UserError(
                f"estimator: no configuration could be fitted ({len(records)} tried); "
                f"the first error: {records[0].error}"
            )
        self.study_ = result.study
        self.n_trials_ = len(records)
        self.cv_results_ = _cv_results(records, n_splits, self.return_train_score)
        if callable(self.refit):
            self.best_index_ = _refit_index(self.refit, self.cv_results_)
        else:
            self.best_index_ = int(np.argmin(self.cv_results_["rank_test_score"]))
            self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.scorer_ = evaluation.scorer
        self.n_splits_ = n_splits
        self.multimetric_ = False
        if self.refit:
            start = time.perf_counter()
            best = clone(self.estimator).set_params(**self.best_params_)
            self.best_estimator_ = best.fit(evaluation.X, evaluation.y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
        return self

    def _description(self, evaluation: _CVEvaluation) -> dict[str, Any]:
        """What makes two fits the same search, stored in the study (``SEARCH_KEY``) and
        compared when a study is resumed: the estimator and its parameters, the scoring, the
        splits' sizes and the number of samples."""
        return {
            "estimator": type(self.estimator).__name__,
            "estimator_params": {k: _described(v) for k, v in sorted(self.estimator.get_params(deep=True).items())},
            "scoring": repr(self.scoring),
            "splits": [[len(train), len(test)] for train, test in evaluation.splits],
            "n_samples": evaluation.n_samples,
            "return_train_score": bool(self.return_train_score),
        }

    def _evaluation(self, X, y, groups, fit_params: dict[str, Any]) -> tuple[dict, _CVEvaluation]:
        """Check the arguments and the data; return the search space and the objective."""
        space = self._check_params()
        if y is None and get_tags(self.estimator).target_tags.required:
            raise UserError(f"{type(self.estimator).__name__} requires y to be passed, but the target y is None")
        try:
            X, y, groups = indexable(X, y, groups)
        except ValueError as err:
            raise UserError(f"X, y, groups: {err}") from None
        try:
            splits = list(check_cv(self.cv, y, classifier=is_classifier(self.estimator)).split(X, y, groups))
        except (ValueError, TypeError) as err:
            raise UserError(f"cv={self.cv!r}: {err}") from None
        evaluation = _CVEvaluation(
            estimator=self.estimator,
            X=X,
            y=y,
            splits=splits,
            scorer=check_scoring(self.estimator, self.scoring),
            fit_params=fit_params,
            error_score=self.error_score,
            return_train_score=self.return_train_score,
            prune=not isinstance(make_pruner(self.pruner), optuna.pruners.NopPruner),
            max_iter=self.max_iter,
        )
        return space, evaluation

    def _check_params(self) -> dict:
        """Validate the constructor's arguments (scikit-learn checks them in ``fit``);
        return the search space as Optuna distributions."""
        estimator = self.estimator
        if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
            raise UserError(f"estimator must be a scikit-learn estimator (with fit), got {type(estimator).__name__}")
        if not isinstance(self.param_distributions, Mapping):
            raise UserError(
                "param_distributions must map parameter names to distributions, "
                f"got {type(self.param_distributions).__name__}"
            )
        space = as_space(self.param_distributions)
        known = estimator.get_params(deep=True)
        unknown = [name for name in space if name not in known]
        if unknown:
            raise UserError(
                f"param_distributions: {unknown[0]!r} is not a parameter of {type(estimator).__name__}; "
                f"allowed: {', '.join(sorted(known))}"
            )
        if not isinstance(self.optimizer, optuna.samplers.BaseSampler):
            get_optimizer(self.optimizer)
        pruner = make_pruner(self.pruner)
        if not isinstance(pruner, optuna.pruners.NopPruner) and _iterative_mode(estimator) is None:
            raise UserError(
                f"pruner {self.pruner!r}: {type(estimator).__name__} cannot report a score per training step "
                "(no partial_fit, nor warm_start with n_estimators or max_iter; a Pipeline has neither), so "
                "nothing could be pruned; use pruner='none', or tune an iterative estimator"
            )
        check_int("n_trials", self.n_trials, 1)
        check_int("n_jobs", self.n_jobs, 1)
        check_int("verbose", self.verbose, 0)
        if self.timeout is not None:
            check_real("timeout", self.timeout, 0, exclusive_minimum=True)
        if self.callbacks is not None and (
            isinstance(self.callbacks, (str, bytes)) or not isinstance(self.callbacks, (list, tuple))
        ):
            raise UserError(f"callbacks must be a list of callables or None, got {self.callbacks!r:.80}")
        check_int("max_iter", self.max_iter, 1)
        if not isinstance(self.random_state, (np.random.RandomState, np.random.Generator)):
            check_seed(self.random_state, "random_state")
        if isinstance(self.scoring, str):
            check_choice("scoring", self.scoring, sorted(get_scorer_names()))
        elif not (self.scoring is None or callable(self.scoring)):
            raise UserError(
                f"scoring must be one metric (a scorer name or a callable) or None, got {type(self.scoring).__name__}"
            )
        if self.scoring is None and not hasattr(estimator, "score"):
            raise UserError(f"scoring is None and {type(estimator).__name__} has no score method; give a scoring")
        if not (self.error_score == "raise" or _is_real(self.error_score)):
            raise UserError(f"error_score must be 'raise' or a number, got {self.error_score!r}")
        if not callable(self.refit) and not isinstance(self.refit, (bool, np.bool_)):
            raise UserError(f"refit must be True, False or a callable of cv_results_, got {self.refit!r:.80}")
        for name in ("return_train_score", "show_progress_bar"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise UserError(f"{name} must be True or False, got {value!r}")
        return space

    def _best(self):
        check_is_fitted(self)
        return self.best_estimator_

    @available_if(_best_has("predict"))
    def predict(self, X):
        return self._best().predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        return self._best().predict_proba(X)

    @available_if(_best_has("predict_log_proba"))
    def predict_log_proba(self, X):
        return self._best().predict_log_proba(X)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X):
        return self._best().decision_function(X)

    @available_if(_best_has("score_samples"))
    def score_samples(self, X):
        return self._best().score_samples(X)

    @available_if(_best_has("transform"))
    def transform(self, X):
        return self._best().transform(X)

    @available_if(_best_has("inverse_transform"))
    def inverse_transform(self, X):
        return self._best().inverse_transform(X)

    @available_if(_best_has("fit"))
    def score(self, X, y=None):
        """The search's scorer (``scoring``, or the estimator's ``score``) on ``X, y``."""
        return self.scorer_(self._best(), X, y)

    @property
    def classes_(self):
        _best_has("classes_")(self)
        return self.best_estimator_.classes_

    @property
    def feature_names_in_(self):
        try:
            return self._best().feature_names_in_
        except NotFittedError as err:
            raise AttributeError(f"{type(self).__name__} is not fitted: no feature_names_in_") from err

    @property
    def n_features_in_(self):
        try:
            return self._best().n_features_in_
        except NotFittedError as err:
            raise AttributeError(f"{type(self).__name__} is not fitted: no n_features_in_") from err


def _reason(err: Exception) -> str:
    """One line that says why a fit failed: the last ``SomeError: message`` line of the text
    (``cross_validate`` quotes the estimators' tracebacks), else the first line."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    quoted = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception): ", line)]
    return quoted[-1] if quoted else (lines[0] if lines else type(err).__name__)


SEARCH_KEY = "hpo:searchcv"


def _described(value) -> str:
    """A parameter's value as text that is the same in every process (no memory address)."""
    if isinstance(value, BaseEstimator):
        return type(value).__name__  # its own parameters are listed apart (get_params(deep=True))
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))[:500]


def _check_same_search(storage, study_name: str | None, described: Mapping[str, Any]) -> None:
    """Refuse to resume a study that holds another search (``SearchCV._description``)."""
    if storage is None or study_name is None:
        return
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        return
    held = study.user_attrs.get(SEARCH_KEY)
    if held is None:
        if study.trials:
            raise UserError(f"study {study_name!r} holds trials of something other than a SearchCV; use another name")
        return
    if not isinstance(held, Mapping):
        raise UserError(f"study {study_name!r}: its stored search {SEARCH_KEY!r} is not a mapping; use another name")
    changed = sorted(key for key in described.keys() | held.keys() if held.get(key) != described.get(key))
    if changed:
        raise UserError(
            f"study {study_name!r} holds another search ({', '.join(changed)} differ); resume it with the same "
            "estimator, scoring, cv and data, or use another study_name"
        )


@contextmanager
def _optuna_verbosity(verbose: int):
    """Optuna's log level for the block: warnings only at ``verbose=0``, else its per-trial
    info; restored after."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING if verbose == 0 else optuna.logging.INFO)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def _seed(random_state) -> int | None:
    """A seed for ``hpo.tune`` from ``random_state`` (scikit-learn's forms)."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return random_state


def _refit_index(refit, cv_results: dict[str, Any]) -> int:
    """``refit(cv_results_)``: the index of the configuration to refit, checked."""
    index = refit(cv_results)
    n = len(cv_results["params"])
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < n:
        raise UserError(
            f"refit: the callable returned {index!r:.80}; allowed: an index of cv_results_ from 0 to {n - 1}"
        )
    return int(index)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
