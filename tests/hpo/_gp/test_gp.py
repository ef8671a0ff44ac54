"""``hpo._gp.gp``: the Gaussian process's likelihood gradient, fit, leave-one-out means,
categorical distance, input warping and the power transform of the values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from hpo._gp.gp import GaussianProcess, kumaraswamy_warp, power_scores


@pytest.mark.parametrize(
    "dim, categorical, warp",
    [(1, False, False), (4, False, False), (12, False, False), (4, True, False), (1, False, True), (4, True, True)],
)
def test_gp_objective_gradient_matches_finite_differences(dim, categorical, warp):
    rng = np.random.default_rng(dim)
    x = rng.uniform(-1, 1, (25, dim))
    mask = np.arange(dim) % 2 == 1 if categorical else None
    if categorical:
        x[:, mask] = np.round(x[:, mask] * 2) / 2  # 5 choices
    y = np.sin(3 * x[:, 0]) + 0.2 * x.sum(1)
    gp = GaussianProcess(dim, mask, warp=warp)
    diffs = (x[:, None] - x[None]) ** 2
    if categorical:
        diffs[:, :, mask] = (x[:, None, mask] != x[None, :, mask]).astype(float)
    diffs = diffs.reshape(-1, dim)
    theta = gp.theta + rng.normal(0, 0.3, len(gp.theta))
    value, gradient = gp._objective(theta, x, y - y.mean(), diffs=diffs)
    numeric = approx_fprime(theta, lambda t: gp._objective(t, x, y - y.mean(), diffs=diffs)[0], 1e-6)
    assert np.allclose(gradient, numeric, rtol=1e-4, atol=1e-4)


def test_gp_fit_interpolates_and_learns_which_coordinate_matters():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 3))
    y = power_scores(np.sin(2.5 * x[:, 0]))  # only the first coordinate matters
    gp = GaussianProcess(3).fit(x, y)
    mean, std = gp.predict(x)
    assert np.max(np.abs(mean - y)) < 0.1 and np.all(std < 0.2)
    far_mean, far_std = gp.predict(np.array([[5.0, 5.0, 5.0]]))
    assert far_std[0] > 0.8 * np.sqrt(gp.signal_variance)  # uncertain away from the data
    lengths = gp.length_scales
    assert lengths[0] < 0.5 * min(lengths[1], lengths[2])


def test_kumaraswamy_warp_keeps_the_ends_and_order_and_its_derivatives_are_right():
    x = np.linspace(-1, 1, 41)[:, None]
    log_a, log_b = np.array([0.7]), np.array([-0.4])
    warped, d_log_a, d_log_b = kumaraswamy_warp(x, log_a, log_b, gradient=True)
    assert warped[0, 0] == pytest.approx(-1, abs=1e-3) and warped[-1, 0] == pytest.approx(1, abs=1e-3)
    assert np.all(np.diff(warped[:, 0]) > 0)
    assert np.allclose(kumaraswamy_warp(x, np.zeros(1), np.zeros(1)), x, atol=1e-5)  # a = b = 1: identity
    step = 1e-6
    assert np.allclose(d_log_a, (kumaraswamy_warp(x, log_a + step, log_b) - warped) / step, atol=1e-4)
    assert np.allclose(d_log_b, (kumaraswamy_warp(x, log_a, log_b + step) - warped) / step, atol=1e-4)


def test_a_warped_input_is_fitted_to_a_function_that_changes_fast_at_one_end():
    # sin(10 u^4): slow for small u, fast near u = 1; the warp that makes it stationary is
    # u -> u^4, Kumaraswamy a = 4, b = 1
    def f(x):
        return np.sin(10 * ((x[:, 0] + 1) / 2) ** 4)

    test = np.linspace(-1, 1, 200)[:, None]
    errors = {False: [], True: []}
    for seed in range(5):
        x = np.random.default_rng(seed).uniform(-1, 1, (30, 1))
        for warp in (False, True):
            gp = GaussianProcess(1, warp=warp).fit(x, f(x))
            errors[warp].append(np.sqrt(np.mean((gp.predict(test)[0] - f(test)) ** 2)))
            a, b = gp.warp_shapes
            if warp:
                assert 3.0 < a[0] < 5.0 and 0.5 < b[0] < 1.2
            else:
                assert a[0] == b[0] == 1.0
    better = np.array(errors[True]) < np.array(errors[False])
    assert better.sum() >= 4 and np.mean(np.log(errors[True])) < np.mean(np.log(errors[False])) - 0.5


def test_gp_leave_one_out_means_are_the_predictions_of_the_process_without_each_point():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (12, 2))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2
    gp = GaussianProcess(2).fit(x, y)
    loo = gp.loo_mean()
    covariance = gp._factor @ gp._factor.T  # the kernel plus noise at the points
    for i in range(len(y)):
        rest = np.arange(len(y)) != i
        weights = np.linalg.solve(covariance[np.ix_(rest, rest)], covariance[rest, i])
        assert gp.mean + weights @ (y[rest] - gp.mean) == pytest.approx(loo[i])
    assert not np.allclose(loo, y)  # not the fitted values, which interpolate


def test_gp_categorical_choices_have_no_order():
    # one categorical coordinate of 5 choices; the value depends on the choice, not its position
    rng = np.random.default_rng(4)
    choices = np.linspace(-0.8, 0.8, 5)
    effect = {c: e for c, e in zip(choices, [0.0, 2.0, -1.0, 2.0, 0.5])}
    x = np.column_stack([rng.uniform(-1, 1, 40), rng.choice(choices[:4], 40)])  # choice 0.8 never seen
    y = np.array([np.sin(2 * a) + effect[c] for a, c in x])
    gp = GaussianProcess(2, np.array([False, True])).fit(x, y)
    kernel = gp._kernel(np.array([[0.0, -0.8], [0.0, 0.0], [0.0, 0.8]]), np.array([[0.0, -0.4]]), gp.theta)
    assert np.isclose(kernel[0, 0], kernel[1, 0]) and np.isclose(kernel[0, 0], kernel[2, 0])  # all "other"
    mean, _ = gp.predict(np.array([[0.3, -0.4], [0.3, 0.0]]))
    assert mean[0] > mean[1] + 2.0  # choices 1 and 2 told apart, though neighbours as bins
    unseen, _ = gp.predict(np.array([[0.3, 0.8]]))
    assert abs(unseen[0] - np.mean(list(effect.values())[:4]) - np.sin(0.6)) < 1.5
    with pytest.raises(ValueError, match="categorical: expected 2 flags"):
        GaussianProcess(2, np.array([True]))


def test_power_scores_keep_the_order_ignore_scale_and_pull_in_tails():
    rng = np.random.default_rng(3)
    values = rng.lognormal(0.0, 3.0, 60)  # heavy right tail, as BBOB values are
    scores = power_scores(values)
    assert np.array_equal(np.argsort(scores), np.argsort(values))
    assert abs(scores.mean()) < 1e-9 and abs(scores.std() - 1.0) < 1e-9
    assert np.allclose(power_scores(1e6 * values - 3.0), scores)  # any scale and offset
    plain = (values - values.mean()) / values.std()
    good = values < np.median(values)  # the better half, where a minimizer searches
    assert np.ptp(scores[good]) > 10 * np.ptp(plain[good])  # no longer squashed by the tail
    assert np.array_equal(power_scores(np.full(5, 2.0)), np.zeros(5))
