"""A small Gaussian process for the pre-trained tuner's state and proposals.

Matern-5/2 kernel with one length scale per coordinate (ARD), a signal variance and a noise
variance, fitted by maximizing the log marginal likelihood plus weak log-normal priors
(L-BFGS-B with the analytic gradient, warm-started from the previous fit). On a categorical
coordinate the distance is 0 or 1 (same choice or not: choices have no order, as in
Optuna's GPSampler); on the shuffled-level tasks of pre-training this improved the mean
log10 regret after 25 / 50 trials by 0.10 / 0.07 over treating the bins as ordered. Inputs are
encoded points of ``[-1, 1]^d``; outputs go through ``power_scores`` (standardization and a
Yeo-Johnson power transform, as in HEBO), so the fit is unaffected by the objective's scale
and sign, and heavy tails (BBOB values spanning decades) do not swamp it. Normal scores of
the ranks (a copula) were tried first: they lose how much better the best points are, and
the search got less close to minima (docs/pretrained.md).

With ``warp=True`` each ordered coordinate first goes through the cumulative distribution
function of a Kumaraswamy distribution, ``1 - (1 - u^a)^b`` on ``u`` in ``[0, 1]`` (Snoek et
al., 2014, "Input warping for Bayesian optimization of non-stationary functions"; HEBO's
model), whose two shape parameters are fitted with the kernel's: a function that changes
fast near one end of a range (a learning rate on a linear scale, BBOB's ill-conditioned
valleys) becomes stationary enough for one length scale. The shapes have log-normal priors
centred on the identity (``a = b = 1``).

The length-scale prior's median grows as ``sqrt(d)`` (Hvarfner et al., 2024, "Vanilla
Bayesian optimization performs great in high dimensions"), which keeps a 20-parameter
model from chasing noise with its first few points.

NumPy and SciPy only: a fit on 100 points in 20 dimensions takes a few milliseconds, which
keeps the sampler's cost per trial near TPE's (docs/pretrained.md has the numbers).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import minimize

_SQRT5 = math.sqrt(5.0)
_JITTER = 1e-8
_LOG_LENGTH_BOUNDS = (math.log(0.02), math.log(50.0))
_LOG_SIGNAL_BOUNDS = (math.log(0.05), math.log(20.0))
_LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
_LENGTH_PRIOR_STD = 1.0
_SIGNAL_PRIOR_STD = 1.0
_NOISE_PRIOR_MEAN, _NOISE_PRIOR_STD = math.log(1e-3), 2.0
_LOG_WARP_BOUNDS = (math.log(0.1), math.log(10.0))
_WARP_PRIOR_STD = 0.75
_WARP_EDGE = 1e-6  # u is kept inside (0, 1), where the warp's log terms are finite


_POWER_GRID = np.linspace(-4.0, 4.0, 41)


def _yeo_johnson(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The Yeo-Johnson transform of ``x`` (n,) for each exponent of ``lam`` (k,): (k, n)."""
    lam = lam[:, None]
    positive = x >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(np.abs(lam) < 1e-8, np.log1p(np.abs(x)), ((np.abs(x) + 1.0) ** lam - 1.0) / lam)
        neg = np.where(
            np.abs(lam - 2.0) < 1e-8, -np.log1p(np.abs(x)), -((np.abs(x) + 1.0) ** (2.0 - lam) - 1.0) / (2.0 - lam)
        )
    return np.where(positive, pos, neg)


def power_scores(values: np.ndarray) -> np.ndarray:
    """Standardized values through the Yeo-Johnson power transform whose exponent (on a grid
    of ``_POWER_GRID``) maximizes the normal likelihood, standardized again: order and the
    relative size of nearby values are kept (which guides the search near a minimum), while
    heavy tails (BBOB values spanning decades) are pulled in, as HEBO does."""
    y = np.asarray(values, dtype=np.float64)
    spread = y.std()
    if len(y) < 2 or not spread > 0:
        return np.zeros_like(y)
    z = (y - y.mean()) / spread
    transformed = _yeo_johnson(z, _POWER_GRID)
    variances = np.maximum(transformed.var(axis=1), 1e-300)
    log_likelihood = -0.5 * len(z) * np.log(variances) + (_POWER_GRID - 1.0) * np.sum(np.sign(z) * np.log1p(np.abs(z)))
    best = transformed[int(np.argmax(log_likelihood))]
    return (best - best.mean()) / max(best.std(), 1e-12)


def kumaraswamy_warp(x: np.ndarray, log_a: np.ndarray, log_b: np.ndarray, *, gradient: bool = False):
    """Encoded coordinates ``x`` (n, m) of ``[-1, 1]`` through the Kumaraswamy CDF with shapes
    ``exp(log_a)``, ``exp(log_b)`` (m,), mapped back onto ``[-1, 1]``; with ``gradient``,
    also the derivatives of the result with respect to ``log_a`` and ``log_b`` (n, m each)."""
    a, b = np.exp(log_a), np.exp(log_b)
    u = np.clip((x + 1.0) / 2.0, _WARP_EDGE, 1.0 - _WARP_EDGE)
    ua = u**a
    rest = 1.0 - ua
    restb = rest**b
    warped = 1.0 - 2.0 * restb
    if not gradient:
        return warped
    d_log_a = 2.0 * a * b * restb / rest * ua * np.log(u)
    d_log_b = -2.0 * b * restb * np.log(rest)
    return warped, d_log_a, d_log_b


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1.0 where two encoded categorical values are different choices (snapped values of one
    choice agree to rounding error), else 0.0."""
    return (np.abs(a - b) > 1e-9).astype(np.float64)


class GaussianProcess:
    """Fit with ``fit(points, targets)``; then ``predict(points)`` gives mean and standard
    deviation of the latent function at new points, in the units of ``targets``."""

    def __init__(self, dim: int, categorical: np.ndarray | None = None, *, warp: bool = False):
        self.dim = int(dim)
        # A categorical coordinate's distance is 0 or 1 (same choice or not), not the gap
        # between bin centres: its choices have no order (as in Optuna's GPSampler).
        self.categorical = np.zeros(self.dim, bool) if categorical is None else np.asarray(categorical, bool)
        if self.categorical.shape != (self.dim,):
            raise ValueError(f"categorical: expected {self.dim} flags, got shape {self.categorical.shape}")
        self._ordered = ~self.categorical
        self.warp = bool(warp)
        # theta: log length scales (dim), log signal variance, log noise variance, then with
        # warp the log shapes a and b of each ordered coordinate
        self._n_warped = int(self._ordered.sum()) if self.warp else 0
        self.theta = self._prior_mean()
        self.points: np.ndarray | None = None

    # ---- hyperparameters --------------------------------------------------------------
    def _prior_mean(self) -> np.ndarray:
        return np.concatenate(
            [np.full(self.dim, 0.5 * math.log(self.dim)), [0.0, _NOISE_PRIOR_MEAN], np.zeros(2 * self._n_warped)]
        )

    def _prior_stds(self) -> np.ndarray:
        return np.concatenate(
            [
                np.full(self.dim, _LENGTH_PRIOR_STD),
                [_SIGNAL_PRIOR_STD, _NOISE_PRIOR_STD],
                np.full(2 * self._n_warped, _WARP_PRIOR_STD),
            ]
        )

    def _bounds(self) -> list[tuple[float, float]]:
        return (
            [_LOG_LENGTH_BOUNDS] * self.dim
            + [_LOG_SIGNAL_BOUNDS, _LOG_NOISE_BOUNDS]
            + [_LOG_WARP_BOUNDS] * (2 * self._n_warped)
        )

    @property
    def length_scales(self) -> np.ndarray:
        return np.exp(self.theta[: self.dim])

    @property
    def signal_variance(self) -> float:
        return float(math.exp(self.theta[self.dim]))

    @property
    def noise_variance(self) -> float:
        return float(math.exp(self.theta[self.dim + 1]))

    @property
    def warp_shapes(self) -> tuple[np.ndarray, np.ndarray]:
        """The Kumaraswamy shapes ``(a, b)`` of the ordered coordinates (ones without warp)."""
        if not self.warp:
            ones = np.ones(int(self._ordered.sum()))
            return ones, ones.copy()
        m, start = self._n_warped, self.dim + 2
        return np.exp(self.theta[start : start + m]), np.exp(self.theta[start + m : start + 2 * m])

    def _warped(self, points: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """The points with their ordered coordinates warped (the points themselves without warp)."""
        if not self.warp:
            return points
        m, start = self._n_warped, self.dim + 2
        warped = points.copy()
        warped[:, self._ordered] = kumaraswamy_warp(
            points[:, self._ordered], theta[start : start + m], theta[start + m : start + 2 * m]
        )
        return warped

    # ---- kernel ----------------------------------------------------------------------
    def _kernel(self, a: np.ndarray, b: np.ndarray, theta: np.ndarray) -> np.ndarray:
        # In place: each (m, n) temporary is a fresh allocation, and at a few hundred
        # candidates those page faults cost more than the arithmetic (3x in 2-D, measured).
        inverse = np.exp(-theta[: self.dim])
        ordered = self._ordered
        scaled_a, scaled_b = a[:, ordered] * inverse[ordered], b[:, ordered] * inverse[ordered]
        sq = scaled_a @ scaled_b.T
        sq *= -2.0
        sq += (scaled_a * scaled_a).sum(1)[:, None]
        sq += (scaled_b * scaled_b).sum(1)[None, :]
        np.maximum(sq, 0.0, out=sq)
        for k in np.flatnonzero(self.categorical):
            sq += _differ(a[:, k][:, None], b[:, k][None, :]) * inverse[k] ** 2
        r = np.sqrt(sq)
        r *= _SQRT5
        decay = np.negative(r)
        np.exp(decay, out=decay)
        sq *= 5.0 / 3.0
        sq += r
        sq += 1.0
        sq *= decay
        sq *= math.exp(theta[self.dim])
        return sq

    def _objective(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray, diffs: np.ndarray):
        """Negative log marginal likelihood plus negative log prior, and its gradient.
        ``diffs`` holds the squared coordinate distances flattened to ``(n * n, d)``; with
        warp those of the ordered coordinates are recomputed from the warped points."""
        d, n, m = self.dim, len(y), self._n_warped
        if m:
            start = d + 2
            warped, d_log_a, d_log_b = kumaraswamy_warp(
                x[:, self._ordered], theta[start : start + m], theta[start + m :], gradient=True
            )
            gaps = warped[:, None, :] - warped[None, :, :]  # (n, n, m)
            diffs = diffs.copy()
            diffs[:, self._ordered] = (gaps * gaps).reshape(-1, m)
        inverse_sq = np.exp(-2.0 * theta[:d])
        signal, noise = math.exp(theta[d]), math.exp(theta[d + 1])
        sq = (diffs @ inverse_sq).reshape(n, n)
        r = np.sqrt(sq)
        decay = np.exp(-_SQRT5 * r)
        kernel = signal * (1.0 + _SQRT5 * r + 5.0 / 3.0 * sq) * decay
        covariance = kernel + (noise + _JITTER) * np.eye(n)
        try:
            factor = cho_factor(covariance, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        alpha = cho_solve(factor, y, check_finite=False)
        nll = 0.5 * y @ alpha + np.log(np.diag(factor[0])).sum() + 0.5 * n * math.log(2 * math.pi)
        weight = np.outer(alpha, alpha) - cho_solve(factor, np.eye(n), check_finite=False)  # dnll/dK = -weight/2
        # d K / d log l_k = signal * 5/3 (1 + sqrt5 r) exp(-sqrt5 r) * (x_ik - x_jk)^2 / l_k^2
        common = signal * 5.0 / 3.0 * (1.0 + _SQRT5 * r) * decay * weight
        grad = np.empty_like(theta)
        grad[:d] = -0.5 * (common.reshape(-1) @ diffs) * inverse_sq
        grad[d] = -0.5 * np.sum(weight * kernel)
        grad[d + 1] = -0.5 * noise * np.trace(weight)
        if m:
            # d sq_ij / d shape = 2 gap_ij (w'_i - w'_j) / l^2 for the coordinate's shape
            scaled = common[:, :, None] * gaps * inverse_sq[self._ordered]
            for offset, derivative in ((start, d_log_a), (start + m, d_log_b)):
                spread = derivative[:, None, :] - derivative[None, :, :]
                grad[offset : offset + m] = 0.5 * np.einsum("ijk,ijk->k", scaled, spread)
        z = (theta - self._prior_mean()) / self._prior_stds()
        return nll + 0.5 * float(z @ z), grad + z / self._prior_stds()

    # ---- fit and predict -------------------------------------------------------------
    def fit(self, points: np.ndarray, targets: np.ndarray, *, max_iterations: int = 50) -> GaussianProcess:
        x = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        y = np.asarray(targets, dtype=np.float64)
        self.mean = float(y.mean())
        y = y - self.mean
        if len(y) > 1 and max_iterations > 0:
            diffs = (x[:, None, :] - x[None, :, :]) ** 2
            diffs[:, :, self.categorical] = _differ(x[:, None, self.categorical], x[None, :, self.categorical])
            diffs = diffs.reshape(-1, self.dim)
            bounds = self._bounds()
            start = np.clip(self.theta, [b[0] for b in bounds], [b[1] for b in bounds])
            result = minimize(
                self._objective,
                start,
                args=(x, y, diffs),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options=dict(maxiter=max_iterations),
            )
            if np.all(np.isfinite(result.x)):
                self.theta = result.x
        self._warped_points = self._warped(x, self.theta)
        covariance = self._kernel(self._warped_points, self._warped_points, self.theta)
        covariance += (self.noise_variance + _JITTER) * np.eye(len(y))
        self._factor = np.linalg.cholesky(covariance)
        self._alpha = cho_solve((self._factor, True), y)
        self.points = x
        return self

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cross = self._cross(points)
        mean = self.mean + cross @ self._alpha
        solved = solve_triangular(self._factor, cross.T, lower=True, check_finite=False)
        variance = np.maximum(self.signal_variance - np.einsum("ij,ij->j", solved, solved), 1e-12)
        return mean, np.sqrt(variance)

    def predict_mean(self, points: np.ndarray) -> np.ndarray:
        """The mean of ``predict`` alone, without the triangular solve the deviation needs."""
        return self.mean + self._cross(points) @ self._alpha

    def loo_mean(self) -> np.ndarray:
        """The leave-one-out means at the fitted points: each point's prediction by the
        process conditioned on the others (same hyperparameters and constant mean;
        Rasmussen and Williams, eq. 5.12: ``y_i - [K^-1 y]_i / [K^-1]_ii``)."""
        if self.points is None:
            raise RuntimeError("fit the Gaussian process before loo_mean")
        inverse = cho_solve((self._factor, True), np.eye(len(self._alpha)), check_finite=False)
        centered = self._factor @ (self._factor.T @ self._alpha)  # the targets less their mean
        return self.mean + centered - self._alpha / np.diag(inverse)

    def _cross(self, points: np.ndarray) -> np.ndarray:
        if self.points is None:
            raise RuntimeError("fit the Gaussian process before predict")
        query = self._warped(np.asarray(points, dtype=np.float64).reshape(-1, self.dim), self.theta)
        return self._kernel(query, self._warped_points, self.theta)

    def condition(self, targets: np.ndarray) -> GaussianProcess:
        """Condition on other targets at the same points, keeping the hyperparameters."""
        y = np.asarray(targets, dtype=np.float64)
        self.mean = float(y.mean())
        self._alpha = cho_solve((self._factor, True), y - self.mean)
        return self
