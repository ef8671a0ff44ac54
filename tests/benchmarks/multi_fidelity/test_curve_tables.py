"""``benchmarks.multi_fidelity.curve_tables``: tables of per-epoch validation errors, built
once (resumable, the same bytes on a rebuild) and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.multi_fidelity import curve_tables
from hpo.errors import UserError


def test_tables_are_built_once_read_back_and_repeat_byte_for_byte(tmp_path):
    built = curve_tables.build_tables(
        ["sgd", "mlp"], ["iris"], configs=6, epochs=4, directory=tmp_path, progress=lambda _: None
    )
    assert built == 2
    manifest = json.loads((tmp_path / curve_tables.MANIFEST).read_text())
    assert set(manifest) == {"sgd/iris", "mlp/iris"} and manifest["mlp/iris"]["train_samples"] == 105
    for model in ("sgd", "mlp"):
        configs, errors = curve_tables.load_curves(model, "iris", tmp_path)
        assert errors.shape == (6, 4) and np.all((errors >= 0) & (errors <= 1))
        assert configs == [
            {k: float(v) for k, v in c.items()} for c in curve_tables.configurations(model, 6)
        ]  # the Sobol configurations, in order
        for param in curve_tables.MODELS[model].space:
            assert all(param.low <= c[param.name] <= param.high for c in configs)
    first = curve_tables.table_path("mlp", "iris", tmp_path).read_bytes()
    # resumable: existing tables are skipped; a rebuild elsewhere gives the same bytes
    assert (
        curve_tables.build_tables(
            ["sgd", "mlp"], ["iris"], configs=6, epochs=4, directory=tmp_path, progress=lambda _: None
        )
        == 0
    )
    curve_tables.build_tables(
        ["mlp"], ["iris"], configs=6, epochs=4, directory=tmp_path / "again", progress=lambda _: None
    )
    assert curve_tables.table_path("mlp", "iris", tmp_path / "again").read_bytes() == first


def test_training_lowers_the_error_of_a_reasonable_configuration():
    data = curve_tables.split("breast_cancer")
    params = {"width": 32, "depth": 1, "alpha": 1e-4, "learning_rate_init": 1e-3, "batch_size": 32}
    errors = curve_tables.curve("mlp", params, data, epochs=8)
    assert errors[-1] < errors[0] and errors[-1] < 0.1


def test_a_missing_table_and_bad_options_are_refused(tmp_path):
    with pytest.raises(UserError, match="no learning-curve table"):
        curve_tables.load_curves("sgd", "iris", tmp_path)
    with pytest.raises(SystemExit):
        curve_tables.main(["--configs", "1", "--out", str(tmp_path)])
