"""The Gaussian-process search for two objectives: expected hypervolume improvement.

``ParetoSearch`` holds one ``hpo._gp.search.GPSearch`` per objective over the same trials
(values to *minimize*; a failed trial counts as the worst value seen of each objective) and
proposes the point whose expected hypervolume improvement (EHVI; Emmerich et al., 2006) over
the trials' Pareto front is largest. The improvement is measured on the models' targets
(each objective power-transformed as the single-objective search does): a transform of each
objective that keeps its order keeps the front, and the hypervolume on the targets weighs
both objectives alike whatever their units. The reference point lies a tenth of the
targets' range beyond their worst values (as BoTorch's ``infer_reference_point``).

The expectation is a Monte Carlo mean over ``N_SAMPLES`` draws of the two independent
predictive normals, the same draws for every candidate (common random numbers, so the
comparison between candidates is not noise); the improvement of one outcome over a
two-objective front is exact (``hypervolume_improvement``). Candidates are uniform in the box
and around the front's points, then refined around the best one by the single-objective
search's ``GPSearch.best_candidate``, which never proposes an evaluated configuration again
while others remain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hpo._gp.search import GPSearch

N_SAMPLES = 64
LOCAL_SHARE = 0.5  # of the candidates, drawn around the front's points
RADIUS = 0.2  # their scale, in units of the relative length scales
REFERENCE_MARGIN = 0.1


def pareto_front(values: np.ndarray) -> np.ndarray:
    """The rows of ``values`` (n, 2) that no other row dominates (minimization), sorted by the
    first objective (the second then falls); duplicates kept once."""
    values = np.unique(np.asarray(values, dtype=np.float64), axis=0)  # sorted by the first column
    front, lowest = [], np.inf
    for row in values:
        if row[1] < lowest:
            front.append(row)
            lowest = row[1]
    return np.array(front).reshape(-1, 2)


def hypervolume_improvement(points: np.ndarray, front: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The hypervolume each of ``points`` (..., 2) adds to ``front`` (``pareto_front``'s output,
    every row below ``reference``), within the box below ``reference``. On the strip of the
    first objective between two neighbours of the front, the front dominates everything above
    the left neighbour's second objective: a point adds the part of its own box below that."""
    points = np.asarray(points, dtype=np.float64)
    starts = np.concatenate([[-np.inf], front[:, 0]])
    ends = np.concatenate([front[:, 0], [reference[0]]])
    heights = np.concatenate([[reference[1]], front[:, 1]])
    x, y = points[..., 0, None], points[..., 1, None]
    widths = np.clip(np.minimum(ends, reference[0]) - np.maximum(starts, x), 0.0, None)
    tall = np.clip(np.minimum(heights, reference[1]) - y, 0.0, None)
    return (widths * tall).sum(axis=-1)


class ParetoSearch:
    """The trials of one two-objective run, a model per objective and the EHVI candidate
    search (see the module docstring)."""

    def __init__(
        self,
        dim: int,
        *,
        snap: Callable[[np.ndarray], np.ndarray] | None = None,
        categorical: np.ndarray | None = None,
    ):
        self.models = [GPSearch(dim, snap=snap, categorical=categorical) for _ in range(2)]
        self.dim = self.models[0].dim

    @property
    def n(self) -> int:
        return self.models[0].n

    def add(self, point: np.ndarray, values: Sequence[float] | None) -> None:
        """Add a trial (``values=None``: failed)."""
        for k, model in enumerate(self.models):
            model.add(point, None if values is None else values[k])

    def targets(self) -> np.ndarray:
        """The models' targets, one column per objective (n, 2)."""
        return np.column_stack([model.targets() for model in self.models])

    def front_and_reference(self) -> tuple[np.ndarray, np.ndarray]:
        targets = self.targets()
        failed = np.array([v is None for v in self.models[0].values])
        finite = targets[~failed] if (~failed).any() else targets
        low, high = targets.min(axis=0), targets.max(axis=0)
        reference = high + REFERENCE_MARGIN * np.where(high > low, high - low, 1.0)
        return pareto_front(finite), reference

    def expected_improvement(
        self, points: np.ndarray, front: np.ndarray, reference: np.ndarray, draws: np.ndarray
    ) -> np.ndarray:
        """EHVI of each of ``points`` by the Monte Carlo mean over ``draws`` (N_SAMPLES, 2)
        standard normal pairs."""
        means, stds = zip(*(model.predict(points) for model in self.models))
        mean, std = np.column_stack(means), np.column_stack(stds)
        outcomes = mean[:, None, :] + std[:, None, :] * draws[None, :, :]
        return hypervolume_improvement(outcomes, front, reference).mean(axis=1)

    def propose(self, rng: np.random.Generator) -> np.ndarray:
        for model in self.models:
            model.fit()
        front, reference = self.front_and_reference()
        draws = rng.standard_normal((N_SAMPLES, 2))
        first = self.models[0]
        size = first.n_candidates
        n_local = int(round(LOCAL_SHARE * size))
        centers = self._front_points(front)
        counts = np.bincount(rng.integers(len(centers), size=n_local), minlength=len(centers))
        local = [first._around(center, RADIUS, int(count), rng=rng) for center, count in zip(centers, counts) if count]
        batch = np.vstack([*local, rng.uniform(-1.0, 1.0, size=(size - n_local, self.dim))])

        def loss(points: np.ndarray) -> np.ndarray:
            return -self.expected_improvement(points, front, reference, draws=draws)

        return first.best_candidate(batch, loss, scale=RADIUS, rng=rng)

    def _front_points(self, front: np.ndarray) -> list[np.ndarray]:
        """The encoded points of the trials on the front (the centres of local candidates)."""
        targets = self.targets()
        on_front = [i for i, row in enumerate(targets) if (np.abs(front - row).max(axis=1) < 1e-12).any()]
        points = self.models[0].points
        return [points[i] for i in on_front] or [points[int(np.argmin(targets.sum(axis=1)))]]
