"""Surrogates: CV comparison of four regressors, selection, safe cache, no pickles."""

import numpy as np

from surrogates.dataset import DATA_DIR
from surrogates.models import (
    CANDIDATES,
    SHIPPED_SELECTION,
    Surrogate,
    SurrogateSelection,
    cached_or_new_selection,
    fingerprint,
    select_surrogates,
    training_data,
)
from surrogates.p2d import OBJECTIVE_COLUMNS


def test_four_families_compared():
    assert {"gaussian_process", "kernel_ridge", "gradient_boosting", "mlp"} == set(CANDIDATES)


def test_selection_picks_the_best_cv_score(shipped):
    small = shipped.iloc[:256]
    selection = select_surrogates(small, folds=3, seed=0, candidates=("kernel_ridge", "gradient_boosting"))
    table = selection.table()
    assert len(table) == 2 * len(OBJECTIVE_COLUMNS)
    for objective in OBJECTIVE_COLUMNS:
        rows = table[table["objective"] == objective]
        assert selection.best[objective] == rows.sort_values("r2_mean").iloc[-1]["model"]
        assert rows["r2_mean"].max() > 0.8  # both objectives are learnable from 256 designs


def test_shipped_selection_is_fresh_and_accurate(shipped):
    selection = SurrogateSelection.load(SHIPPED_SELECTION)
    assert selection.data_fingerprint == fingerprint(shipped)
    assert set(selection.table()["model"]) == set(CANDIDATES)
    for objective in OBJECTIVE_COLUMNS:
        assert selection.score(objective, selection.best[objective]) >= 0.98


def test_cached_hyperparameters_reproduce_the_training_data(shipped):
    surrogate = Surrogate.from_dataset(shipped)
    x, y = training_data(shipped)
    relative = np.abs(surrogate.predict(x[:200]) - y[:200]) / y[:200]
    assert np.median(relative) < 0.01


def test_stale_cache_is_ignored(shipped, tmp_path, monkeypatch):
    import surrogates.models as models

    stale = SurrogateSelection.load(SHIPPED_SELECTION)
    stale.data_fingerprint = "not-this-data"
    path = tmp_path / "stale.json"
    stale.save(path)
    fresh_cv = []
    monkeypatch.setattr(models, "select_surrogates", lambda frame, seed: fresh_cv.append(len(frame)) or "fresh")
    # The matching (shipped) cache is used for the shipped data ...
    assert cached_or_new_selection(shipped, cache=path).data_fingerprint == fingerprint(shipped)
    assert fresh_cv == []
    # ... but other data never reuses a selection made on different data.
    assert cached_or_new_selection(shipped.iloc[:40], cache=path) == "fresh"
    assert fresh_cv == [40]


def test_no_pickles_shipped():
    suspicious = [p for p in DATA_DIR.iterdir() if p.suffix in {".pkl", ".pickle", ".joblib", ".npy"}]
    assert suspicious == []
