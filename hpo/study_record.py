"""The study record: what defines a study's search, and what a worker joining it runs, stored
in the study (user attribute ``hpo:search``) by ``hpo.tune``.

A study resumed by name must go on with the search that filled it: trials scored by another
objective, or sampled from another space, would make its best result and its history wrong
without a word. ``study_record`` describes a search (the space, the objective, the directions,
the optimizer) and how it runs (the seed, the per-trial time limit, and the code ``hpo worker``
processes run: ``worker_objective``); ``check_resume`` compares the search with the one the
study records and refuses a different one, listing the differences and the two ways on, unless
the change is allowed: then the change is recorded in the study (user attribute
``hpo:changes``). An accepted record replaces the stored one. ``hpo.worker`` reads it back
(``read_study_record``).

The objective is described by its name and a digest of its source code's syntax tree, so an
edit of its code counts as a change and an edit of its comments or layout does not. Values
a closure captures, and the code of the functions it calls, are not part of it.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    IntDistribution,
    check_distribution_compatibility,
    distribution_to_json,
    json_to_distribution,
)

from hpo.errors import UserError
from hpo.space import MAX_PARAMETERS, MAX_SPACE_FILE_BYTES, SearchSpace, as_space
from hpo.validation import check_real, check_seed

RECORD_ATTR = "hpo:search"
CHANGES_ATTR = "hpo:changes"


def study_record(
    space: Mapping[str, BaseDistribution],
    objective: Callable[..., Any],
    directions: Sequence[str],
    optimizer: str | optuna.samplers.BaseSampler,
    *,
    seed: int | None = None,
    timeout_per_trial: float | None = None,
    worker_objective: str | None = None,
) -> dict[str, Any]:
    """A JSON-ready record of a study: its search (space, conditions, objective, directions,
    optimizer: ``differences`` compares these) and how it runs (``seed``, ``timeout_per_trial``, ``worker_objective``: a
    built-in task's name or ``MODULE:FUNCTION``, what ``hpo worker`` runs; ``None``: workers
    cannot join)."""
    return {
        "space": {name: distribution_to_json(distribution) for name, distribution in space.items()},
        "conditions": {
            child: {parent: list(values) for parent, values in parents.items()}
            for child, parents in getattr(space, "conditions", {}).items()
        },
        "objective": objective_name(objective),
        "objective_source": source_digest(objective),
        "directions": [str(direction) for direction in directions],
        "optimizer": optimizer if isinstance(optimizer, str) else type(optimizer).__name__,
        "seed": seed,
        "timeout_per_trial": timeout_per_trial,
        "worker_objective": worker_objective,
    }


def read_study_record(study: optuna.Study) -> dict[str, Any]:
    """The study's record, for a worker joining it, checked (``check_record``); a
    ``UserError`` where there is none that names the code to run."""
    record = study.user_attrs.get(RECORD_ATTR)
    if not isinstance(record, Mapping) or not record.get("worker_objective"):
        raise UserError(
            f"study {study.study_name!r} was not created by 'hpo tune' (its {RECORD_ATTR!r} attribute names "
            "no task or objective): workers do not know what to run"
        )
    return check_record(record, study.study_name)


_TEXT_FIELDS = ("objective", "objective_source", "optimizer", "worker_objective")


def check_record(record: Mapping[str, Any], study_name: str) -> dict[str, Any]:
    """``record`` as read from a study's storage, which anyone who can write the storage can
    change: its fields of the types ``study_record`` writes, its space within the limits of a
    space file (``record_space``); else one ``UserError`` naming the study, the attribute and
    the field."""
    where = f"study {study_name!r}: attribute {RECORD_ATTR!r}"
    for field in _TEXT_FIELDS:
        if record.get(field) is not None and not isinstance(record[field], str):
            raise UserError(f"{where}: {field} must be a text, got {type(record[field]).__name__}")
    if not isinstance(record.get("optimizer"), str):
        raise UserError(f"{where}: optimizer must be a text, got {type(record.get('optimizer')).__name__}")
    directions = record.get("directions")
    if directions is not None and (not isinstance(directions, list) or not all(isinstance(d, str) for d in directions)):
        raise UserError(f"{where}: directions must be a list of texts")
    try:
        check_seed(record.get("seed"))
        if record.get("timeout_per_trial") is not None:
            check_real("timeout_per_trial", record["timeout_per_trial"], 0, exclusive_minimum=True)
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    record_space(record, study_name)
    return dict(record)


def record_space(record: Mapping[str, Any], study_name: str) -> SearchSpace:
    """The search space a study record holds (Optuna's JSON form of each distribution, and
    the conditions), through the checks and limits of a space file (``hpo.space.as_space``:
    at most ``MAX_PARAMETERS`` parameters, ``MAX_CHOICES`` choices each, ``MAX_SPACE_FILE_BYTES``
    of text); a ``UserError`` naming the study and the parameter otherwise."""
    where = f"study {study_name!r}: attribute {RECORD_ATTR!r}"
    space, conditions = record.get("space"), record.get("conditions") or {}
    if not isinstance(space, Mapping) or not isinstance(conditions, Mapping):
        raise UserError(f"{where}: space and conditions must be mappings")
    if len(space) > MAX_PARAMETERS:
        raise UserError(f"{where}: {len(space)} parameters; at most {MAX_PARAMETERS} are allowed")
    if not all(isinstance(text, str) for text in space.values()):
        raise UserError(f"{where}: each parameter must be stored as a JSON text")
    if sum(len(text) for text in space.values()) > MAX_SPACE_FILE_BYTES:
        raise UserError(f"{where}: the space's text is longer than {MAX_SPACE_FILE_BYTES} characters")
    unknown = set(conditions) - set(space)
    if unknown:
        raise UserError(f"{where}: conditions on unknown parameters {sorted(map(str, unknown))[:5]}")
    specs: dict[str, Any] = {}
    try:
        for name, text in space.items():
            spec = _spec(name, text)
            specs[name] = spec if name not in conditions else {"distribution": spec, "when": conditions[name]}
        return as_space(specs)
    except UserError as err:
        raise UserError(f"{where}: {err}") from None


_OPTUNA_TYPES = {"FloatDistribution": "float", "IntDistribution": "int", "CategoricalDistribution": "categorical"}


def _spec(name: Any, text: str) -> dict[str, Any]:
    """A distribution stored as Optuna's JSON text, in the space-file form ``as_space`` checks."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError(f"search space parameter {name!r}: not JSON") from None
    kind = _OPTUNA_TYPES.get(data.get("name")) if isinstance(data, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if kind is None or not isinstance(attributes, dict):
        raise UserError(f"search space parameter {name!r}: not one of Optuna's {', '.join(_OPTUNA_TYPES)} in JSON form")
    return {"type": kind, **attributes}


def objective_name(objective: Callable[..., Any]) -> str:
    """``module:qualified name``; a built-in task's objective (a method of its ``Task``) also
    names the task, since every task shares that method."""
    function = getattr(objective, "__func__", objective)
    name = f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', type(objective).__qualname__)}"
    owner_name = getattr(getattr(objective, "__self__", None), "name", None)
    return f"{name}[{owner_name}]" if isinstance(owner_name, str) else name


def source_digest(objective: Callable[..., Any]) -> str | None:
    """A digest of the objective's syntax tree (comments and layout left out); ``None`` where
    Python has no source for it (a built-in, code typed at the prompt)."""
    target = objective if inspect.isroutine(objective) else type(objective)
    try:
        source = textwrap.dedent(inspect.getsource(target))
        tree = ast.dump(ast.parse(source))
    except (OSError, TypeError, SyntaxError):  # no source, or a lambda cut out of an expression
        try:
            tree = inspect.getsource(target)
        except (OSError, TypeError):
            return None
    return hashlib.sha256(tree.encode()).hexdigest()[:16]


def differences(recorded: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """One line per difference between the searches of two records, old value first
    (directions are checked apart: they cannot change)."""
    lines = []
    old_space, new_space = recorded.get("space", {}), wanted["space"]
    for name in sorted(old_space.keys() | new_space.keys()):
        if name not in new_space:
            lines.append(f"parameter {name!r} removed (was {_readable(old_space[name])})")
        elif name not in old_space:
            lines.append(f"parameter {name!r} added ({_readable(new_space[name])})")
        elif json_to_distribution(old_space[name]) != json_to_distribution(new_space[name]):
            lines.append(f"parameter {name!r}: {_readable(old_space[name])} -> {_readable(new_space[name])}")
    old_conditions, new_conditions = recorded.get("conditions", {}), wanted.get("conditions", {})
    for name in sorted(old_conditions.keys() | new_conditions.keys()):
        if old_conditions.get(name) != new_conditions.get(name):
            lines.append(f"parameter {name!r}: active when {old_conditions.get(name)} -> {new_conditions.get(name)}")
    if recorded.get("objective") != wanted["objective"]:
        lines.append(f"objective: {recorded.get('objective')} -> {wanted['objective']}")
    elif recorded.get("objective_source") != wanted["objective_source"]:
        lines.append(f"objective: the code of {wanted['objective']} changed")
    if recorded.get("optimizer") != wanted["optimizer"]:
        lines.append(f"optimizer: {recorded.get('optimizer')} -> {wanted['optimizer']}")
    return lines


def check_resume(
    study: optuna.Study,
    wanted: Mapping[str, Any] | None,
    directions: Sequence[str],
    n_finished: int,
    allow_changed: bool,
) -> None:
    """Refuse to resume ``study`` with another search unless ``allow_changed``, and always
    with changes Optuna cannot hold in one study (directions; a parameter's type, scale or
    choices); then store the record ``wanted`` (``None``: check the directions only). A study
    without a record (made by Optuna itself, or by an older toolkit) adopts it."""
    held = [direction.name.lower() for direction in study.directions]
    if held != list(directions):
        raise UserError(_refusal(study.study_name, [f"directions: {held} -> {list(directions)}"], allowable=False))
    if wanted is None:
        return
    recorded = study.user_attrs.get(RECORD_ATTR)
    if isinstance(recorded, Mapping):
        recorded = check_record(recorded, study.study_name)
    changes = differences(recorded, wanted) if isinstance(recorded, Mapping) else []
    if changes:
        impossible = _incompatible(recorded["space"], wanted["space"])
        if impossible or not allow_changed:
            raise UserError(_refusal(study.study_name, changes, allowable=not impossible))
        log = list(study.user_attrs.get(CHANGES_ATTR, []))
        log.append({"after_finished_trials": n_finished, "changes": changes})
        study.set_user_attr(CHANGES_ATTR, log)
    if recorded != wanted:
        study.set_user_attr(RECORD_ATTR, dict(wanted))


def _incompatible(old_space: Mapping[str, str], new_space: Mapping[str, str]) -> bool:
    """Whether a parameter changes in a way Optuna refuses within one study."""
    for name in old_space.keys() & new_space.keys():
        try:
            check_distribution_compatibility(
                json_to_distribution(old_space[name]), json_to_distribution(new_space[name])
            )
        except ValueError:
            return True
    return False


def _refusal(study_name: str, changes: list[str], allowable: bool) -> str:
    listed = "".join(f"\n  {line}" for line in changes)
    new_name = "give another study name (--study-name NEW, or study_name=)"
    if not allowable:
        return (
            f"study {study_name!r} holds another search:{listed}\nan Optuna study cannot hold this change "
            f"(directions, or a parameter's type, scale or choices): to start a new study, {new_name}"
        )
    return (
        f"study {study_name!r} holds another search:{listed}\nto start a new study, {new_name}; to go on "
        "with this one under the new definition, allow the change (--allow-changed-space, or "
        "allow_changed_space=True; it is recorded in the study)"
    )


def _readable(text: str) -> str:
    distribution = json_to_distribution(text)
    if isinstance(distribution, CategoricalDistribution):
        return f"one of {list(distribution.choices)}"
    kind = "int" if isinstance(distribution, IntDistribution) else "float"
    scale = " log" if distribution.log else ""
    default_step = 1 if kind == "int" else None
    step = "" if distribution.step == default_step else f" step {distribution.step}"
    return f"{kind} in [{distribution.low}, {distribution.high}]{scale}{step}"
