"""The Gaussian-process search: the model of a study's trials and the candidate search that
proposes the next trial for given acquisition settings.

``GPSearch`` holds one tuning run's trials (encoded points of ``[-1, 1]^d``, values to
*minimize*; failed trials count as the worst value seen) and a ``hpo._gp.gp.GaussianProcess``
on their power-transformed values (``hpo._gp.gp.power_scores``), refitted (warm-started) on a
schedule and conditioned on every trial. With a ``prior`` (what earlier studies say about the
landscape, ``hpo.transfer.SourcePrior``), the model's mean is the prior, mapped onto the
targets' scale and trusted as far as it ranks the trials so far better than chance and than
the process itself (``prior_scale``), plus the process conditioned on what the prior leaves
unexplained.

``propose(beta, radius, local_share, rng)`` is one acquisition: ``beta`` is the exploration
weight of the lower confidence bound ``mu - beta * sigma``; ``radius`` the scale of the
local candidates around the best point (``x_best + radius * w * N(0, 1)``, with ``w`` the
model's length scales relative to their geometric mean, as in TuRBO); ``local_share`` the
share of local candidates among ``N_CANDIDATES`` (64 per coordinate below that; the others
are uniform in the box). On a categorical coordinate a local candidate keeps the best
point's choice or, with a probability that grows with the radius, draws another. The
proposal is the candidate with the lowest bound, refined in a few shrinking rounds around
it. Candidates are first moved onto the points that will actually run (``snap``: the grid of
integer, step and categorical parameters), and those already evaluated are dropped, so a
discrete space is never searched by re-running a configuration.

Above ``TRUST_REGION_DIM`` coordinates the candidates stay in a trust region, as in TuRBO-1
(Eriksson et al., 2019): a box around the best point with side ``trust_length()`` times the
relative length scales, which doubles after ``TRUST_SUCCESSES`` improving trials in a row,
halves after ``max(4, dim)`` trials without one, and starts again at its initial side once it
falls below its minimum. The side is recomputed from the trials' values in order, so it is
the same for every worker that reads the same study. ``trust_region=True`` or ``False``
forces it on or off at any dimension.

``warp=True`` fits input warping with the model (``hpo._gp.gp``). It is off by default: on
the 59 problems of ``benchmarks/results/gp-modelling`` (the 48 BBOB functions in 2-D and 5-D
on instances 21-23, the 7 tables, 3 electrode problems and kernel ridge; 3 seeds) the
registry's ``gp-search-warped`` was better than ``gp-search`` at the full budget on 28
problems and worse on 27 (Holm p 0.88): no gain for its cost.

Who sets the acquisition is not this module's business: the pre-trained tuner's MDP
(``envs.acquisition_env.AcquisitionEpisode``) maps an agent's action onto it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from hpo._gp.gp import GaussianProcess, power_scores

N_STARTUP = 3  # trials before the model is trusted: the prior's trust needs them too
N_CANDIDATES = 512  # at most: CANDIDATES_PER_COORDINATE per coordinate below that
CANDIDATES_PER_COORDINATE = 64  # 1-D to 7-D searches need fewer
REFINE_ROUNDS = 3
REFINE_POINTS = 32
REFINE_SHRINK = 4.0
FIT_ITERATIONS = 10  # per hyperparameter refit, warm-started; a cold fit takes 50
# TuRBO-1's trust region (its lengths of the unit cube, doubled for ours, [-1, 1]^d)
TRUST_REGION_DIM = 10  # above this many coordinates by default
TRUST_INITIAL, TRUST_MIN, TRUST_MAX = 1.6, 2.0**-6, 3.2
TRUST_SUCCESSES = 3
TRUST_IMPROVEMENT = 1e-3  # relative to the best value: less is not a success


class GPSearch:
    """The trials of one run, their model and the candidate search (see the module docstring)."""

    def __init__(
        self,
        dim: int,
        *,
        snap: Callable[[np.ndarray], np.ndarray] | None = None,
        categorical: np.ndarray | None = None,
        prior: Callable[[np.ndarray], np.ndarray] | None = None,
        warp: bool = False,
        trust_region: bool | None = None,
    ):
        self.dim = int(dim)
        self.trust_region = self.dim > TRUST_REGION_DIM if trust_region is None else bool(trust_region)
        self.snap = snap
        self.n_candidates = min(N_CANDIDATES, CANDIDATES_PER_COORDINATE * self.dim)
        self.points: list[np.ndarray] = []
        self.values: list[float | None] = []
        self.gp = GaussianProcess(self.dim, categorical, warp=warp)
        self.prior = prior
        self._prior_values: list[float] = []
        self._prior_offset = self._prior_slope = 0.0
        self._fitted_at = -1
        self._hyper_fitted_at = -1
        self._targets_at = -1

    # ---- the trials ----------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def best_value(self) -> float | None:
        finite = [v for v in self.values if v is not None]
        return min(finite) if finite else None

    @property
    def best_point(self) -> np.ndarray | None:
        finite = [(v, i) for i, v in enumerate(self.values) if v is not None]
        return self.points[min(finite)[1]] if finite else None

    def add(self, point: np.ndarray, value: float | None) -> None:
        """Add a trial (``value=None``: failed)."""
        self.points.append(np.asarray(point, dtype=np.float64).copy())
        self.values.append(None if value is None or not math.isfinite(value) else float(value))
        if self.prior is not None:
            self._prior_values.append(float(self.prior(self.points[-1][None])[0]))

    # ---- model --------------------------------------------------------------------
    def targets(self) -> np.ndarray:
        """The model's targets, the power-transformed values (computed once per trial count:
        the fit and the callers that describe the model both need them)."""
        if self._targets_at != self.n:
            finite = [v for v in self.values if v is not None]
            worst = max(finite) if finite else 0.0
            self._cached_targets = power_scores(np.array([worst if v is None else v for v in self.values]))
            self._targets_at = self.n
        return self._cached_targets

    def fit(self) -> None:
        """Condition the model on every trial; refit its hyperparameters at every trial up to
        20, then whenever the data grew by a fifth (they move little from one trial to the
        next, and the refit is most of the cost of a proposal)."""
        if self._fitted_at == self.n:
            return
        if self._hyper_fitted_at < 0:
            iterations = 50
        elif self.n < 20 or self.n - self._hyper_fitted_at >= self.n // 5:
            iterations = FIT_ITERATIONS
        else:
            iterations = 0
        targets = self.targets()
        self.gp.fit(np.array(self.points), targets, max_iterations=iterations)
        # The prior moves the mean, not the model's uncertainty: hyperparameters fitted to
        # what the prior leaves unexplained came out with a small signal variance, and the
        # search then stayed in the sources' best region (docs/transfer.md, HPOLib).
        if self.prior is not None:
            prior = np.array(self._prior_values)
            self._prior_offset, self._prior_slope = prior_scale(targets, prior, self.gp.loo_mean())
            if self._prior_slope:
                self.gp.condition(targets - (self._prior_offset + self._prior_slope * prior))
        self._fitted_at = self.n
        if iterations:
            self._hyper_fitted_at = self.n

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model's mean and deviation of the targets at ``points`` (the prior's part
        included)."""
        mean, std = self.gp.predict(points)
        if self._prior_slope:
            mean = mean + self._prior_offset + self._prior_slope * self.prior(points)
        return mean, std

    def _length_weights(self) -> np.ndarray:
        lengths = self.gp.length_scales
        return np.clip(lengths / math.exp(np.mean(np.log(lengths))), 0.1, 10.0)

    def trust_length(self) -> float:
        """The trust region's side (see the module docstring), from the values in order."""
        length, successes, failures, best = TRUST_INITIAL, 0, 0, None
        patience = max(4, self.dim)
        for index, value in enumerate(self.values):
            if index >= N_STARTUP and best is not None:
                improved = value is not None and value < best - TRUST_IMPROVEMENT * abs(best)
                successes, failures = (successes + 1, 0) if improved else (0, failures + 1)
                if successes == TRUST_SUCCESSES:
                    length, successes = min(2.0 * length, TRUST_MAX), 0
                elif failures == patience:
                    length, failures = length / 2.0, 0
                    if length < TRUST_MIN:
                        length = TRUST_INITIAL
            if value is not None and (best is None or value < best):
                best = value
        return length

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The box candidates are drawn from: ``[-1, 1]^d``, or the trust region."""
        low, high = -np.ones(self.dim), np.ones(self.dim)
        if not self.trust_region or self.best_point is None or self.n < N_STARTUP:
            return low, high
        half = self.trust_length() * self._length_weights() / 2.0
        best = self.best_point
        return np.maximum(low, best - half), np.minimum(high, best + half)

    def candidates(
        self, rng: np.random.Generator, radius: float, local_share: float, size: int | None = None
    ) -> np.ndarray:
        size = self.n_candidates if size is None else size
        n_local = int(round(local_share * size))
        best = self.best_point if self.best_point is not None else np.zeros(self.dim)
        low, high = self.bounds()
        local = np.clip(self._around(best, radius, n_local, rng=rng), low, high)
        return np.vstack([local, rng.uniform(low, high, size=(size - n_local, self.dim))])

    def _around(self, center: np.ndarray, scale: float, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` points near ``center``: Gaussian steps of ``scale`` times the relative
        length scales on ordered coordinates; on a categorical one, another choice (drawn
        uniformly) with probability ``scale * weight / 2``, at most 1."""
        weights = self._length_weights()
        points = np.clip(center + scale * weights * rng.normal(size=(count, self.dim)), -1.0, 1.0)
        categorical = np.flatnonzero(self.gp.categorical)
        if len(categorical):
            change = rng.random((count, len(categorical))) < np.minimum(scale * weights[categorical] / 2.0, 1.0)
            redrawn = rng.uniform(-1.0, 1.0, size=change.shape)
            points[:, categorical] = np.where(change, redrawn, center[categorical])
        return points

    def propose(self, beta: float, radius: float, local_share: float, rng: np.random.Generator) -> np.ndarray:
        """The point this acquisition picks: the candidate with the lowest confidence bound
        (``candidates``), refined by ``best_candidate``."""
        self.fit()

        def bound(points: np.ndarray) -> np.ndarray:
            mean, std = self.predict(points)
            return mean - beta * std

        return self.best_candidate(self.candidates(rng, radius, local_share), bound, scale=radius, rng=rng)

    def best_candidate(
        self, batch: np.ndarray, score: Callable[[np.ndarray], np.ndarray], *, scale: float, rng: np.random.Generator
    ) -> np.ndarray:
        """The point of ``batch`` with the lowest ``score``, then refined by ``REFINE_ROUNDS``
        rounds of ``REFINE_POINTS`` candidates around it, the first at ``scale``, each a
        ``REFINE_SHRINK`` times smaller (a candidate set alone would cap how close to a
        minimum the search gets at its own spacing). Candidates are snapped and those already
        evaluated dropped; when none is left, uniform candidates are tried, and only when
        those are all evaluated too is a configuration proposed again."""
        seen = set(_row_keys(np.array(self.points)).tolist())
        best, best_score = None, np.inf
        for round_ in range(REFINE_ROUNDS + 1):
            if round_:
                scale /= REFINE_SHRINK
                batch = self._around(best, scale, REFINE_POINTS, rng=rng)
            batch, fresh = self._fresh(batch, seen)
            if not fresh.any() and best is None:
                # e.g. every local candidate is the best configuration: look anywhere
                batch, fresh = self._fresh(rng.uniform(-1.0, 1.0, size=(self.n_candidates, self.dim)), seen)
            if fresh.any():
                batch = batch[fresh]
            elif best is not None:
                continue
            scores = score(batch)
            index = int(np.argmin(scores))
            if scores[index] < best_score:
                best, best_score = batch[index], scores[index]
        return best

    def _fresh(self, batch: np.ndarray, seen: set) -> tuple[np.ndarray, np.ndarray]:
        """The batch snapped, and which of its points were not evaluated yet."""
        if self.snap is not None:
            batch = self.snap(batch)
        keys = _row_keys(batch).tolist()
        return batch, np.fromiter((key not in seen for key in keys), bool, len(keys))


def prior_scale(targets: np.ndarray, prior: np.ndarray, model: np.ndarray) -> tuple[float, float]:
    """``(offset, slope)`` mapping prior values onto the targets: the scale
    ``std(targets) / std(prior)`` times the prior's trust, the product of two weights.

    * How much better than chance the prior orders the trials: its Kendall rank correlation
      with the targets less one standard deviation of it under chance,
      ``sqrt(2 (2n + 5) / (9 n (n - 1)))``, rescaled so that a perfect order counts fully (at
      5 trials the correlation must pass 0.41 to count, at 25 trials 0.14). A prior that
      orders the trials no better than chance, or the wrong way round, is not used; the
      rank correlation, not Pearson's, so one outlying trial cannot make or break it.
    * How often it orders them better than the study's own model does (``model``: the
      model's leave-one-out means at the trials), over bootstrap resamples of the trials:
      RGPE's weight (Feurer et al., 2018). As the study's own trials explain more, the
      prior's part falls."""
    n, spread = len(targets), float(np.std(prior))
    if n < N_STARTUP or not spread > 0:
        return 0.0, 0.0
    wrong = _misordered(targets, prior)
    tau = 1.0 - 2.0 * float(wrong[np.triu_indices(n, 1)].mean())
    chance = math.sqrt(2.0 * (2 * n + 5) / (9.0 * n * (n - 1)))
    better_than_chance = max(tau - chance, 0.0) / (1.0 - chance) if chance < 1.0 else 0.0
    if better_than_chance == 0.0:
        return 0.0, 0.0
    better_than_model = _share_fewer(wrong, _misordered(targets, model), np.random.default_rng(n))
    slope = better_than_chance * better_than_model * float(np.std(targets)) / spread
    return float(np.mean(targets)) - slope * float(np.mean(prior)), slope


def _misordered(targets: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Per pair of trials: 1 where the predictions order them the other way round from the
    targets, 0.5 where one ties and the other does not, else 0 (the diagonal too)."""
    agree = np.sign(targets[:, None] - targets[None, :]) * np.sign(predictions[:, None] - predictions[None, :])
    tied = (targets[:, None] == targets[None, :]) & (predictions[:, None] == predictions[None, :])
    return np.where(agree < 0, 1.0, np.where((agree == 0) & ~tied, 0.5, 0.0))


def _share_fewer(first: np.ndarray, second: np.ndarray, rng: np.random.Generator, resamples: int = 256) -> float:
    """The share of bootstrap resamples of the trials on which the pairs misordered by
    ``first`` weigh less than those by ``second`` (ties count half)."""
    n = len(first)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    a = ((counts @ first) * counts).sum(axis=1)  # sums of halves: exact in any order
    b = ((counts @ second) * counts).sum(axis=1)
    return float(np.mean((a < b) + 0.5 * (a == b)))


def _row_keys(points: np.ndarray) -> np.ndarray:
    """One comparable value per row. Snapped points of one configuration agree to rounding
    error, not always bit for bit, so rows are rounded first (and -0.0 made 0.0)."""
    rows = np.ascontiguousarray(np.round(points, 9) + 0.0)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
