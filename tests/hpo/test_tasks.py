"""``hpo.tasks``: the built-in boosting task reports per step and keeps its value."""

import pytest

import hpo


def test_the_built_in_boosting_task_reports_per_step_and_keeps_its_value():
    from hpo.tasks import get_task

    task = get_task("hgb-breast-cancer")
    config = {
        "learning_rate": 0.1,
        "max_iter": 60,
        "max_leaf_nodes": 8,
        "min_samples_leaf": 10,
        "l2_regularization": 1e-3,
    }
    result = hpo.tune(
        task.objective, task.space, n_trials=1, pruner="median", direction="maximize", initial_configs=[config]
    )
    trial = result.study.trials[0]
    assert len(trial.intermediate_values) == 10  # one report per tenth of max_iter
    assert trial.value == pytest.approx(task.objective(config), abs=1e-12)  # same score as one fit
