"""Source studies for transfer: loading them and putting them on one scale.

A source is the finished history of an earlier study: a study name in a storage, an
``optuna.Study`` or a data frame of trials (the columns of ``Study.trials_dataframe()``:
``params_NAME``, ``value`` and, optionally, ``state``). ``load_sources`` turns each one into a
``Source`` for the target's search space. The rules:

* **Parameters.** Only the target's parameters are kept; parameters the target does not have
  are dropped. A source must set at least one target parameter (else: no overlap, an error).
  A target parameter that a source trial did not set stays unset in that trial: a portfolio
  configuration then lets the target's optimizer choose it, and the learned tuner places it
  at the centre of its range.
* **Bounds.** A source trial whose value for a shared parameter lies outside the target's
  range (or is not one of its choices) is dropped: it says nothing about the target's space.
* **States.** Only complete trials with a finite value count; failed, pruned, running and
  waiting trials are ignored.
* **Scale and direction.** Each source is normalized on its own: its values become
  quantiles in (0, 1), 0 the best, in the source's own direction (a study's direction; a data
  frame's from ``directions``, else the target's). A maximized source (accuracy) so feeds a
  minimized target (error), and a source whose values diverge for some configurations cannot
  flatten the others, as a min-max scale would.
* **Errors** (``UserError`` naming the source): an unknown study name, a multi-objective
  source, a source with no usable trial (empty, or every trial dropped), no shared parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from scipy.stats import rankdata

from hpo.errors import UserError
from hpo.space import SpaceEncoder, as_space
from hpo.validation import check_choice

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class Source:
    """One source study on the target's space: its usable trials' parameters (target
    parameters only, possibly partial) and their quantile scores (0 the best)."""

    name: str
    params: tuple[dict[str, Any], ...]
    scores: np.ndarray  # (n,), in (0, 1), lower is better
    # The complete trials' intermediate values in step order, lower is better (negated for a
    # maximized study): what the multi-fidelity scheduler meta-trains on. Studies only.
    curves: tuple[np.ndarray, ...] = field(default=(), repr=False)

    def __len__(self) -> int:
        return len(self.params)

    def points(self, encoder: SpaceEncoder) -> np.ndarray:
        """The trials encoded in ``encoder``'s box [-1, 1]^d (n, d); NaN where unset."""
        out = np.full((len(self.params), encoder.dim), np.nan)
        filler = encoder.decode(np.zeros(encoder.dim))  # encode() wants every parameter
        for i, params in enumerate(self.params):
            known = [j for j, name in enumerate(encoder.names) if name in params]
            if known:
                out[i, known] = encoder.encode({**filler, **params})[known]
        return out

    def best(self) -> dict[str, Any]:
        return dict(self.params[int(np.argmin(self.scores))])


def load_sources(
    sources: Sequence[Any],
    space: Mapping[str, Any],
    direction: str = "minimize",
    *,
    storage: Any = None,
    directions: Mapping[str, str] | str | None = None,
) -> list[Source]:
    """The ``sources`` (study names in ``storage``, ``optuna.Study`` objects or data frames)
    as ``Source`` objects for a target study with ``space`` and ``direction``. ``storage``: a
    URL (opened by ``hpo.storage.open_storage``, with its checks) or an Optuna storage.

    ``directions``: the direction of data-frame sources, one for all or per source name
    (``"frame0"``, ``"frame1"``, ... in the order given); a study's own direction always wins.
    """
    space = as_space(space)
    check_choice("direction", direction, DIRECTIONS)
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Sequence) or not sources:
        raise UserError(f"transfer_from must be a non-empty list of studies, names or data frames, got {sources!r}")
    if any(isinstance(source, str) for source in sources):
        from hpo.storage import open_storage  # the checks and one-line errors of every storage URL

        try:
            storage = open_storage(storage, existing=True)  # read only: nothing is created for a wrong name
        except UserError as err:
            raise UserError(f"transfer_from: the sources' {err}") from None
    loaded, frame_index = [], 0
    for source in sources:
        curves = ()
        if isinstance(source, (str, optuna.Study)):
            study = _named_study(source, storage) if isinstance(source, str) else source
            name = source if isinstance(source, str) else study.study_name
            history, curves = _study_trials(study, name), study_curves(study)
        elif _is_frame(source):
            name = f"frame{frame_index}"
            frame_index += 1
            history = _frame_trials(source, name, _frame_direction(name, directions, direction))
        else:
            raise UserError(
                f"transfer_from: {source!r} is neither a study name, an optuna.Study nor a pandas DataFrame"
            )
        loaded.append(replace(_normalized(name, *history, space), curves=curves))
    return loaded


def _named_study(name: str, storage: Any) -> optuna.Study:
    if storage is None:
        raise UserError(f"transfer_from: study {name!r} is named, but no storage was given to load it from")
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise UserError(f"transfer_from: no study named {name!r} in the storage") from None


def study_curves(study: optuna.Study) -> tuple[np.ndarray, ...]:
    """The intermediate values of ``study``'s complete trials (two or more, all finite), in
    step order, lower is better."""
    if len(study.directions) > 1:
        return ()
    sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    curves = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        values = np.array([trial.intermediate_values[s] for s in sorted(trial.intermediate_values)], dtype=float)
        if len(values) >= 2 and np.all(np.isfinite(values)):
            curves.append(sign * values)
    return tuple(curves)


def _study_trials(study: optuna.Study, name: str) -> tuple[list[dict], list[float], str]:
    if len(study.directions) > 1:
        raise UserError(f"transfer_from: study {name!r} has {len(study.directions)} objectives; only one is supported")
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    direction = "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "minimize"
    return [t.params for t in complete], [t.value for t in complete], direction


def _is_frame(source: Any) -> bool:
    return type(source).__name__ == "DataFrame" and hasattr(source, "columns")


def _frame_direction(name: str, directions: Mapping[str, str] | str | None, default: str) -> str:
    chosen = directions.get(name, default) if isinstance(directions, Mapping) else directions or default
    return check_choice(f"directions[{name!r}]", chosen, DIRECTIONS)


def _frame_trials(frame: Any, name: str, direction: str) -> tuple[list[dict], list[float], str]:
    if "value" not in frame.columns:
        if any(str(c).startswith("values_") for c in frame.columns):
            raise UserError(f"transfer_from: data frame {name!r} has several objectives; only one is supported")
        raise UserError(f"transfer_from: data frame {name!r} has no 'value' column")
    columns = [c for c in frame.columns if str(c).startswith("params_")]
    if "state" in frame.columns:
        frame = frame[frame["state"].astype(str).str.upper().isin(["COMPLETE", "TRIALSTATE.COMPLETE"])]
    params, values = [], []
    for _, row in frame.iterrows():
        params.append({c[len("params_") :]: row[c] for c in columns if not _missing(row[c])})
        values.append(row["value"])
    return params, values, direction


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _normalized(
    name: str, params: list[dict], values: list[Any], direction: str, space: Mapping[str, BaseDistribution]
) -> Source:
    shared = {p for trial in params for p in trial} & set(space)
    if params and not shared:
        raise UserError(
            f"transfer_from: source {name!r} shares no parameter with the search space "
            f"(source: {sorted({p for t in params for p in t})}, target: {sorted(space)})"
        )
    kept_params, kept_values = [], []
    for trial, value in zip(params, values):
        if value is None or not math.isfinite(float(value)):
            continue
        restricted = {p: v for p, v in trial.items() if p in space}
        if restricted and all(_inside(space[p], v) for p, v in restricted.items()):
            kept_params.append(restricted)
            kept_values.append(float(value))
    if not kept_params:
        raise UserError(
            f"transfer_from: source {name!r} has no complete trial inside the search space "
            f"({len(params)} complete trial(s) before the bounds check)"
        )
    signed = np.array(kept_values) * (-1.0 if direction == "maximize" else 1.0)
    scores = (rankdata(signed, method="average") - 0.5) / len(signed)
    return Source(name, tuple(kept_params), scores)


def _inside(dist: BaseDistribution, value: Any) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return any(type(c) is type(value) and c == value for c in dist.choices) or value in dist.choices
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    return dist.low <= value <= dist.high


def source_trials(
    sources: Sequence[Source], space: Mapping[str, Any], *, direction: str | optuna.study.StudyDirection
) -> list[optuna.trial.FrozenTrial]:
    """The sources' trials as complete Optuna trials over the numerical parameters of
    ``space`` (those CMA-ES searches; trials that leave one unset are skipped), valued in the
    ``direction`` of the study they warm-start: the quantile score (0 the best) when it
    minimizes, one minus it when it maximizes. ``CmaEsSampler(source_trials=...)`` reads
    source values in its own study's direction, so this is what it takes."""
    if isinstance(direction, optuna.study.StudyDirection):
        direction = direction.name.lower()
    check_choice("direction", direction, DIRECTIONS)
    numerical = {p: d for p, d in as_space(space).items() if not isinstance(d, CategoricalDistribution)}
    trials = []
    for source in sources:
        for params, score in zip(source.params, source.scores):
            if numerical and all(p in params for p in numerical):
                kept = {p: params[p] for p in numerical}
                value = float(score) if direction == "minimize" else 1.0 - float(score)
                trials.append(optuna.trial.create_trial(params=kept, distributions=numerical, value=value))
    return trials
