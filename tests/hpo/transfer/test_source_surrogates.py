"""``hpo.transfer.source_surrogates``: the sources' surrogates, their prior and the sources'
agreement check."""

from __future__ import annotations

import numpy as np
import pytest

from hpo.space import SpaceEncoder
from hpo.transfer import (
    PRIOR_MIN_AGREEMENT,
    SourcePrior,
    SourceSurrogate,
    load_sources,
    prior_agreement,
)
from tests.hpo.transfer.helpers import SPACE, grid_study


def test_a_source_surrogate_follows_its_trials_and_perturbs_with_a_seed():
    from hpo.space import SpaceEncoder

    study = grid_study()
    (source,) = load_sources([study], SPACE)
    encoder = SpaceEncoder(SPACE)
    surrogate = SourceSurrogate.from_source(source, encoder)
    best, worst = (encoder.encode(source.params[i]) for i in (np.argmin(source.scores), np.argmax(source.scores)))
    assert surrogate(best) < 0.25 and surrogate(worst) > 0.6  # the source's best trial scores near 0, its worst near 1
    assert surrogate.lower == source.scores.min()
    a = surrogate.perturbed(np.random.default_rng(3))
    b = surrogate.perturbed(np.random.default_rng(3))
    assert a(best) == b(best) and a.offset is not None and a.lower == surrogate.lower**a.power


def test_a_source_surrogate_evaluates_a_batch_as_its_shifted_warped_model_mean():
    encoder = SpaceEncoder(SPACE)
    (source,) = load_sources([grid_study()], SPACE)
    surrogate = SourceSurrogate.from_source(source, encoder).perturbed(np.random.default_rng(2))
    points = np.random.default_rng(5).uniform(-1, 1, (7, encoder.dim))
    shifted, _ = surrogate.model.predict(points - surrogate.offset)
    assert np.allclose(surrogate.values(points), np.clip(shifted, 0, 1) ** surrogate.power)
    assert np.allclose([surrogate(p) for p in points], surrogate.values(points))  # no rng: no noise


def test_the_source_prior_is_the_mean_of_its_surrogates():
    encoder = SpaceEncoder(SPACE)
    study = grid_study()
    (source,) = load_sources([study], SPACE)
    surrogates = [SourceSurrogate.from_source(source, encoder).perturbed(np.random.default_rng(i)) for i in range(2)]
    points = np.random.default_rng(5).uniform(-1, 1, (7, encoder.dim))
    assert np.allclose(
        SourcePrior(surrogates)(points), (surrogates[0].values(points) + surrogates[1].values(points)) / 2
    )
    with pytest.raises(ValueError, match="at least one surrogate"):
        SourcePrior([])


def test_sources_that_agree_on_the_good_region_pass_the_prior_check_and_others_do_not():
    encoder = SpaceEncoder(SPACE)

    def agreement(centers):
        sources = load_sources([grid_study(center=c, seed=i) for i, c in enumerate(centers)], SPACE)
        return prior_agreement(sources, [SourceSurrogate.from_source(s, encoder) for s in sources], encoder)

    assert agreement([0.3, 0.3, 0.3]) >= PRIOR_MIN_AGREEMENT
    assert agreement([0.1, 0.9, 0.1, 0.9]) < PRIOR_MIN_AGREEMENT  # half of them say the opposite
    assert agreement([0.3]) == -np.inf  # one source: nothing to judge it by
