"""``envs.learning_curves``: each family's shape, warm-up plateaus, divergence, crossings
within a task, seeding and bad parameters."""

from __future__ import annotations

import numpy as np
import pytest

from envs.learning_curves import _TYPICAL_RATE, FAMILIES, CurveDistribution, shape


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_starts_at_one_falls_and_flattens(family):
    t = np.arange(1, 51)
    values = shape(family, t, _TYPICAL_RATE[family], power=1.5)
    assert values[0] == pytest.approx(1.0)
    assert np.all(np.diff(values) <= 1e-12) and values[-1] < 0.1
    # most of the fall happens early: the second half falls less than the first
    assert values[0] - values[24] > values[24] - values[49]
    faster = shape(family, t, 2 * _TYPICAL_RATE[family], power=1.5)
    assert np.all(faster[1:] < values[1:])


def test_an_unknown_family_is_refused():
    with pytest.raises(ValueError, match="family 'linear' is unknown; allowed: pow"):
        shape("linear", np.arange(1, 5), 1.0)


def _curves(seed, **options):
    distribution = CurveDistribution(**options)
    rng = np.random.default_rng(seed)
    return [curve for _ in range(20) for curve in distribution.sample_task(rng)]


def test_tasks_hold_errors_in_the_unit_interval_and_repeat_with_the_seed():
    curves = _curves(0)
    assert all(c.values.shape == (50,) and np.all((c.values >= 0) & (c.values <= 1)) for c in curves)
    assert [c.final for c in curves] == [c.final for c in _curves(0)]
    assert [c.final for c in curves] != [c.final for c in _curves(1)]
    sizes = {len(CurveDistribution(pool_size=(5, 8)).sample_task(np.random.default_rng(s))) for s in range(30)}
    assert sizes <= set(range(5, 9)) and len(sizes) > 1
    assert {c.family for c in curves} == set(FAMILIES)


def test_warm_up_curves_stay_flat_and_diverging_curves_climb():
    curves = _curves(2, max_noise=0.0, max_warmup_share=0.9, max_divergence_share=0.9)
    warm = [c for c in curves if c.warmup and not c.diverges_at]
    diverging = [c for c in curves if c.diverges_at and c.diverges_at < 45]
    assert len(warm) > 10 and len(diverging) > 10
    for curve in warm:
        assert np.allclose(curve.values[: curve.warmup + 1], curve.values[0])  # flat up to the warm-up's end
        assert curve.final < curve.values[0]
    for curve in diverging:
        climb = curve.values[curve.diverges_at - 1 :]
        assert np.all(np.diff(climb) >= -1e-12) and curve.final > curve.values[curve.diverges_at - 1]


def test_curves_of_a_task_cross():
    # the order after 5 epochs is not the final order for a fair share of pairs, as in real pools
    shares = []
    for seed in range(10):
        task = CurveDistribution().sample_task(np.random.default_rng(seed))
        early, final = np.array([c.values[4] for c in task]), np.array([c.final for c in task])
        pairs = [(i, j) for i in range(len(task)) for j in range(i + 1, len(task))]
        shares.append(np.mean([(early[i] < early[j]) != (final[i] < final[j]) for i, j in pairs]))
    assert 0.05 < np.mean(shares) < 0.5


@pytest.mark.parametrize(
    "options, message", [({"epochs": 1}, "epochs must be >= 2"), ({"pool_size": (1, 5)}, "pool_size")]
)
def test_bad_distribution_parameters_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        CurveDistribution(**options)
