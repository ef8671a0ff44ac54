"""``benchmarks.multi_fidelity.meta``: pools drawn from real tables, and a scheduler
meta-trained without the left-out dataset's tables, made once."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from benchmarks.multi_fidelity import meta
from benchmarks.multi_fidelity.curve_tables import load_curves


def test_a_pool_is_a_random_subset_of_one_tables_curves():
    names = ("sgd-iris", "mlp-wine")
    curves = meta.table_curves(names)
    tables = {name: load_curves(*name.split("-"))[1] for name in names}
    rng = np.random.default_rng(0)
    sources = set()
    for _ in range(10):
        pool = curves.sample_task(rng)
        assert 20 <= len(pool) <= 64 and all(c.epochs == curves.epochs == 30 for c in pool)
        matches = [name for name, table in tables.items() if all((table == c.values).all(1).any() for c in pool)]
        assert len(matches) == 1  # every curve of the pool comes from one table
        drawn, available = Counter(tuple(c.values) for c in pool), Counter(map(tuple, tables[matches[0]]))
        assert all(count <= available[curve] for curve, count in drawn.items())  # without replacement
        sources.add(matches[0])
    assert sources == set(tables)


def test_the_left_out_dataset_is_never_trained_on_and_the_agent_is_made_once(tmp_path):
    tables = ("sgd-iris", "mlp-iris", "sgd-wine", "mlp-wine")
    path = meta.train_left_out(tmp_path, "iris", tables=tables, steps=300)
    settings = json.loads((path.parent / "checkpoint" / "state.json").read_text())["settings"]
    assert "iris" not in settings["curves"] and "tables sgd-wine, mlp-wine" in settings["curves"]
    assert settings["init"].endswith("sac-hmr-scheduler.zip")
    made = path.stat().st_mtime_ns
    assert meta.train_left_out(tmp_path, "iris", tables=tables, steps=300) == path
    assert path.stat().st_mtime_ns == made
