"""The pruner registry, the training-loss checks of the dynamics pruner, and the reporter."""

import optuna
import pytest

from hpo.errors import UserError
from hpo.pruners import DynamicsPruner, Reporter, make_pruner, pruners


def _study_with(pruner):
    return optuna.create_study(pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))


def test_every_registry_name_builds_an_optuna_pruner():
    names = set(pruners())
    assert {"none", "median", "percentile", "successive-halving", "hyperband", "wilcoxon", "dynamics"} <= names
    for name in names:
        assert isinstance(make_pruner(name), optuna.pruners.BasePruner)
    assert isinstance(make_pruner(None), optuna.pruners.NopPruner)


def test_unknown_pruner_names_the_value_and_the_choices():
    with pytest.raises(UserError, match=r"pruner 'asha' is unknown; allowed: none, median"):
        make_pruner("asha")


def test_dynamics_pruner_stops_a_catapult_that_does_not_recover():
    study = _study_with(DynamicsPruner())
    reporter = Reporter(study.ask())
    for step, loss in enumerate([1.0, 0.9]):
        reporter.report_loss(loss, step)
        reporter.report(loss, step)
    assert not reporter.should_prune()
    for step, loss in enumerate([2.5, 2.4], start=2):  # a spike above twice the minimum, not coming down
        reporter.report_loss(loss, step)
        reporter.report(loss, step)
    assert reporter.should_prune()


def test_dynamics_pruner_keeps_a_catapult_that_recovers_and_stops_a_divergence():
    study = _study_with(DynamicsPruner())
    recovered = Reporter(study.ask())
    for step, loss in enumerate([1.0, 0.9, 2.5, 0.5, 0.4]):
        recovered.report_loss(loss, step)
    assert not recovered.should_prune()
    diverging = Reporter(study.ask())
    for step, loss in enumerate([1.0, 12.0]):
        diverging.report_loss(loss, step)
    assert diverging.should_prune()


def test_check_learning_rate_skips_only_above_the_top_and_only_for_the_dynamics_pruner():
    reporter = Reporter(_study_with(DynamicsPruner()).ask())
    reporter.check_learning_rate(0.5, max_lr=1.0)  # inside the range: nothing happens
    with pytest.raises(optuna.TrialPruned, match="above the trainable top"):
        reporter.check_learning_rate(3.0, max_lr=1.0)
    assert reporter.should_prune()
    plain = Reporter(_study_with(optuna.pruners.NopPruner()).ask())
    plain.check_learning_rate(3.0, max_lr=1.0)  # other pruners never skip


def test_reporter_is_the_trial_for_define_by_run():
    reporter = Reporter(_study_with(optuna.pruners.NopPruner()).ask())
    value = reporter.suggest_float("x", 0.0, 1.0)
    assert reporter.params == {"x": value}


def test_check_learning_rate_measures_the_range_on_the_model_it_is_given():
    import torch

    from hpo.dynamics import lr_range

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    inputs, targets = torch.randn(32, 4), torch.randn(32, 1)
    top = lr_range(model, inputs, targets).high
    reporter = Reporter(_study_with(DynamicsPruner()).ask())
    reporter.check_learning_rate(0.5 * top, model=model, inputs=inputs, targets=targets)
    with pytest.raises(optuna.TrialPruned, match="above the trainable top"):
        reporter.check_learning_rate(3 * top, model=model, inputs=inputs, targets=targets)
    with pytest.raises(UserError, match="give max_lr, or model, inputs and targets"):
        Reporter(_study_with(DynamicsPruner()).ask()).check_learning_rate(1.0)
